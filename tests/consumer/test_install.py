"""The operator command installed as Python tools are installed: from a git clone of HEAD into a
clean virtual environment, outside the repository, with the dependencies the distribution declares
(from their hashed lock, requirements/ops.txt, as the README says) and nothing else.

PyPI is the only network this needs (pip's cache makes a second run fast); no AWS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert result.returncode == 0, f"{' '.join(command)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A clone of HEAD and a clean venv with the command installed from it: (venv bin, work dir, env)."""
    work = tmp_path_factory.mktemp("install")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_", "VIRTUAL_ENV"))}
    head = run(["git", "rev-parse", "HEAD"], ROOT, env).stdout.strip()
    clone = work / "clone"
    run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], work, env)
    run(["git", "-C", str(clone), "checkout", "--quiet", head], work, env)
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], work, env)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # The README's hash-checked install: the locked dependencies, then the project without resolving any.
    # (requirements/build.txt: the build backend, also hashed, so the build downloads nothing unchecked.)
    locks = ["-r", str(clone / "requirements" / "ops.txt"), "-r", str(clone / "requirements" / "build.txt")]
    run([*pip, "--require-hashes", *locks], work, env)
    run([*pip, "--no-deps", "--no-build-isolation", str(clone)], work, env)
    return venv / "bin", work, env


def test_the_installed_command_prints_the_version_the_module_declares(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    bin_dir, work, env = installed
    version = (ROOT / "VERSION").read_text().strip()
    assert run([str(bin_dir / "stream-pipeline"), "--version"], work, env).stdout == f"stream-pipeline {version}\n"


def test_the_installed_command_has_its_help_and_every_command(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    text = run([str(bin_dir / "stream-pipeline"), "--help"], work, env).stdout
    for command in ("doctor", "redrive", "alert-test", "plan", "dashboard", "report", "load"):
        assert command in text
    for command in ("doctor", "redrive", "plan", "load", "dashboard"):
        run([str(bin_dir / "stream-pipeline"), command, "--help"], work, env)


def test_the_installed_command_runs_with_the_dependencies_it_declares(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    """pip check: what the distribution declares is installed; plan runs offline, and the modules
    the heavier commands import lazily (matplotlib for the drawings, aws-kinesis-agg for
    `load --aggregate`) import."""
    bin_dir, work, env = installed
    run([str(bin_dir / "python"), "-m", "pip", "check"], work, env)
    plan = run([str(bin_dir / "stream-pipeline"), "plan", "--avg-rps", "1000", "--keys", "1000", "--json"], work, env)
    assert json.loads(plan.stdout)["shard_count"] == 2
    probe = "import matplotlib.pyplot, aws_kinesis_agg.aggregator, stream_pipeline.handler, stream_pipeline_ops.render"
    run([str(bin_dir / "python"), "-c", probe], work, env)


def test_the_local_harness_is_not_installed(installed: tuple[Path, Path, dict[str, str]]) -> None:
    """Three packages, one job each: the harness runs from a checkout only, so the distribution
    carries the command and the Lambda package, not the harness."""
    bin_dir, work, env = installed
    found = subprocess.run(
        [str(bin_dir / "python"), "-c", "import stream_pipeline_local"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert found.returncode != 0
    assert "No module named 'stream_pipeline_local'" in found.stderr
    assert not (bin_dir / "stream-pipeline-local").exists()
