"""One version, visible everywhere: the repository's VERSION file is the one source, and every place
that shows the version reads it or agrees with it: the package metadata (setuptools reads the file),
``stream_pipeline.__version__`` (and the Lambda zip's copy), ``stream-pipeline --version``, the
module's ``stream_pipeline`` output, the alarm runbook links and the CHANGELOG's latest entry."""

from __future__ import annotations

import re
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import stream_pipeline
import stream_pipeline_ops
from stream_pipeline_ops import cli

ROOT = Path(__file__).resolve().parents[2]
VERSION_FILE = ROOT / "VERSION"
SEMVER = re.compile(r"\d+\.\d+\.\d+")
# What a Terraform file may say for the version: the file itself, read where the module lies (from a
# git source and from a `//modules/x` subdirectory alike), or a literal (which must then agree).
READS_THE_FILE = re.compile(r'trimspace\(file\("\$\{path\.module\}/([^"]+)"\)\)')


def version() -> str:
    assert VERSION_FILE.is_file(), "the repository has no VERSION file: the version's one source"
    text = VERSION_FILE.read_text()
    assert SEMVER.fullmatch(text.strip()), f"VERSION holds {text!r}, not MAJOR.MINOR.PATCH"
    assert text == text.strip() + "\n", "VERSION is one line, the version and a newline"
    return text.strip()


def terraform_value(module_dir: Path, expression: str) -> str:
    """The version a Terraform attribute gives: the file it reads, or its literal."""
    reads = READS_THE_FILE.fullmatch(expression)
    if reads:
        return (module_dir / reads.group(1)).resolve().read_text().strip()
    literal = re.fullmatch(r'"([^"$]*)"', expression)
    assert literal, f"cannot tell the version {expression!r} gives: read the VERSION file with trimspace(file(...))"
    return literal.group(1)


def attribute(text: str, name: str, where: str) -> str:
    found = re.findall(rf"^\s*{name}\s*=\s*(.+?)\s*$", text, re.MULTILINE)
    assert len(found) == 1, f"{where}: expected one `{name} = ...` line, found {found}"
    return found[0]


def test_the_package_metadata_takes_its_version_from_the_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"], "pyproject.toml must not repeat the version: it reads VERSION"
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"file": "VERSION"}
    assert metadata.version("stream-pipeline") == version(), (
        "the installed package's metadata is stale: run `make venv` (the venv is rebuilt when VERSION changes)"
    )


def test_both_python_packages_say_the_files_version() -> None:
    assert stream_pipeline.__version__ == version()
    assert stream_pipeline_ops.__version__ == version()


def test_the_lambda_zip_carries_the_version() -> None:
    """The function has no package metadata: its package carries the file beside its code."""
    zipped = zipfile.ZipFile(ROOT / "modules" / "consumer" / "package" / "lambda.zip")
    assert zipped.read("stream_pipeline/VERSION").decode().strip() == version()


def test_the_command_prints_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"stream-pipeline {version()}\n"


def test_the_modules_output_and_the_runbook_links_say_the_files_version() -> None:
    outputs = (ROOT / "outputs.tf").read_text()
    block = re.search(r'^output "stream_pipeline" \{\n(.*?)^\}', outputs, re.MULTILINE | re.DOTALL)
    assert block, "outputs.tf has no stream_pipeline output"
    assert terraform_value(ROOT, attribute(block.group(1), "version", "outputs.tf")) == version()
    alarms_dir = ROOT / "modules" / "alarms"
    alarms = (alarms_dir / "main.tf").read_text()
    assert terraform_value(alarms_dir, attribute(alarms, "module_version", "modules/alarms/main.tf")) == version()
    runbook = attribute(alarms, "runbook_url", "modules/alarms/main.tf")
    assert "/blob/v${local.module_version}/docs/RUNBOOK.md" in runbook, runbook


def test_a_literal_that_disagrees_is_caught() -> None:
    """The check above can fail: a stale literal gives its own value, not the file's."""
    assert terraform_value(ROOT, '"0.2.0"') == "0.2.0"
    assert terraform_value(ROOT, 'trimspace(file("${path.module}/VERSION"))') == version()
    with pytest.raises(AssertionError, match="cannot tell the version"):
        terraform_value(ROOT, "var.version")


def test_the_changelogs_latest_entry_is_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    latest = re.search(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
    assert latest, "the CHANGELOG has no entry"
    assert latest.group(1) == version(), (
        f"the CHANGELOG's latest entry is [{latest.group(1)}], the VERSION file says {version()}: "
        f"name the entry `## [{version()}] - Unreleased` (a date once released)"
    )
