"""The distribution declares what the operator command needs to run, once, and locks it with hashes
at the versions the tests run; the Lambda zip still carries only what the function needs
(tests/unit/test_package.py runs the zip alone)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def pins(lock: Path) -> dict[str, str]:
    """name -> version of a pip lock file (its `name==version \\` lines)."""
    found = re.findall(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", lock.read_text(), re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in found}


def declared(requirements: list[str]) -> dict[str, str]:
    return {
        re.sub(r"\[.*\]", "", name).lower().replace("_", "-"): version
        for name, version in (pin.split("==") for pin in requirements)
    }


def test_the_command_s_imports_are_declared_dependencies() -> None:
    """What `pip install .` must bring for `stream-pipeline` to start and every command to run: boto3
    (every command), rich (the tables), matplotlib (dashboard, report), aws-kinesis-agg (load
    --aggregate), Powertools (the Lambda package the redrive checks records with)."""
    dependencies = declared(PROJECT["project"]["dependencies"])
    assert set(dependencies) == {"boto3", "rich", "matplotlib", "aws-kinesis-agg", "aws-lambda-powertools"}
    assert PROJECT["project"]["scripts"] == {"stream-pipeline": "stream_pipeline_ops.cli:main"}


def test_the_dev_extra_does_not_repeat_a_dependency() -> None:
    repeated = set(declared(PROJECT["project"]["dependencies"])) & set(
        declared(PROJECT["project"]["optional-dependencies"]["dev"])
    )
    assert not repeated, f"declared twice: {sorted(repeated)}"


def test_the_operator_lock_holds_each_dependency_at_the_version_the_tests_run() -> None:
    ops, dev = pins(ROOT / "requirements" / "ops.txt"), pins(ROOT / "requirements" / "dev.txt")
    for name, version in declared(PROJECT["project"]["dependencies"]).items():
        assert ops.get(name) == version, f"requirements/ops.txt: {name} is {ops.get(name)}, pyproject says {version}"
    different = {name: (version, dev.get(name)) for name, version in ops.items() if dev.get(name) != version}
    assert not different, f"requirements/ops.txt differs from the dev lock the tests run: {different}"
