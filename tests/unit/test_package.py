"""The deployable zip: deterministic, small, and complete on its own (only what the runtime adds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support import kinesis_record, lambda_runtime_dir

ROOT = Path(__file__).resolve().parents[2]
ZIP = ROOT / "modules" / "consumer" / "package" / "lambda.zip"


@pytest.fixture(scope="module")
def package() -> Path:
    if not ZIP.exists():
        pytest.fail("modules/consumer/package/lambda.zip is missing: it is committed; run `make package` to rebuild it")
    return ZIP


def test_zip_holds_the_handler_and_runtime_dependencies_only(package: Path) -> None:
    names = zipfile.ZipFile(package).namelist()
    assert "stream_pipeline/handler.py" in names
    assert "stream_pipeline/py.typed" in names
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    for excluded in ("boto3/", "botocore/", "tests/", "moto/", "bench/", "scripts/"):
        assert not any(n.startswith(excluded) for n in names), excluded
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert package.stat().st_size < 1024 * 1024


def test_zip_entries_are_sorted_with_fixed_timestamps(package: Path) -> None:
    infos = zipfile.ZipFile(package).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_the_committed_zip_is_what_the_sources_build(tmp_path: Path, package: Path) -> None:
    """The zip is committed so that the module plans from a git source with no build step; a fresh
    build must give the very same bytes, so it can never go stale."""
    out = tmp_path / "again.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package.py"), "--out", str(out), "--build-dir", str(tmp_path / "b")],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == package.read_bytes(), (
        "modules/consumer/package/lambda.zip is stale: run `make package` and commit the zip"
    )


def test_the_zip_runs_with_nothing_but_the_runtime(tmp_path: Path, package: Path) -> None:
    """Unzip it and run the handler with only the stdlib, boto3 and its dependencies on the path,
    as the python3.13 runtime provides them: a dependency missing from the zip fails here."""
    task = tmp_path / "task"
    zipfile.ZipFile(package).extractall(task)
    runtime = lambda_runtime_dir(tmp_path / "runtime")
    event = {"Records": [json.loads((ROOT / "tests/fixtures/kinesis_event.json").read_text())["Records"][0]]}
    script = f"""
import json, sys
sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]
import stream_pipeline.handler as h
assert h.__file__.startswith({str(task)!r}), h.__file__
class Ctx:
    function_name = "f"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    def get_remaining_time_in_millis(self): return 30000
print("RESULT", json.dumps(h.lambda_handler({json.dumps(event)!r} and json.loads({json.dumps(event)!r}), Ctx())))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SINK_", "RECORD_"))}
    result = subprocess.run([sys.executable, "-S", "-c", script], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert 'RESULT {"batchItemFailures": []}' in result.stdout
    assert '"RecordsProcessed"' in result.stdout


def test_a_teams_processor_added_to_the_package_runs_with_nothing_but_the_runtime(tmp_path: Path) -> None:
    """examples/custom-processor: `package.py --add` ships my_team next to stream_pipeline, and
    RECORD_PROCESSOR=my_team.orders:handle processes good orders and fails the bad one, in order."""
    out = tmp_path / "custom.zip"
    team = ROOT / "examples" / "custom-processor" / "processors" / "my_team"
    build = [
        sys.executable,
        str(ROOT / "scripts" / "package.py"),
        "--out",
        str(out),
        "--build-dir",
        str(tmp_path / "b"),
    ]
    subprocess.run([*build, "--add", str(team)], check=True, capture_output=True)
    names = zipfile.ZipFile(out).namelist()
    assert {"my_team/orders.py", "stream_pipeline/handler.py"} <= set(names)

    refused = subprocess.run(
        [*build, "--add", str(ROOT / "src" / "stream_pipeline")], capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "already has 'stream_pipeline'" in refused.stderr

    task = tmp_path / "task"
    zipfile.ZipFile(out).extractall(task)
    runtime = lambda_runtime_dir(tmp_path / "runtime")
    orders = [{"order_id": "o-1", "total": 12.5}, {"order_id": "o-2", "total": -1}, {"order_id": "o-3", "total": 3}]
    event = {"Records": [kinesis_record(order) for order in orders]}
    script = f"""
import json, sys
sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]
import stream_pipeline.handler as h
class Ctx:
    function_name = "f"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    def get_remaining_time_in_millis(self): return 30000
print("RESULT", json.dumps(h.lambda_handler(json.loads({json.dumps(event)!r}), Ctx())))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SINK_", "ORDERS_"))}
    env["RECORD_PROCESSOR"] = "my_team.orders:handle"
    result = subprocess.run([sys.executable, "-S", "-c", script], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    failed = [r["kinesis"]["sequenceNumber"] for r in event["Records"][1:]]
    assert f"RESULT {json.dumps({'batchItemFailures': [{'itemIdentifier': s} for s in failed]})}" in result.stdout
    # The processor's own PoisonRecord reason, which carries no payload (any other exception: its type).
    assert "my_team.orders:handle: an order needs a non-negative total" in result.stdout


def test_the_release_records_its_package_hash_and_the_readme_pins_it(package: Path) -> None:
    """The CHANGELOG names the committed zip's filebase64sha256: under [Unreleased] once the package
    has changed since the newest release (a released section is history, never rewritten), else in
    that release; the README, the Python package and the CHANGELOG agree on the version."""
    import base64
    import hashlib
    import re

    from stream_pipeline import __version__

    changelog = (ROOT / "CHANGELOG.md").read_text()
    unreleased = re.search(r"^## \[Unreleased\][^\n]*\n(.*?)(?=^## \[)", changelog, re.MULTILINE | re.DOTALL)
    release = re.search(r"^## \[(\d+\.\d+\.\d+)\][^\n]*\n(.*?)(?=^## \[)", changelog, re.MULTILINE | re.DOTALL)
    assert release, "the CHANGELOG has no release section"
    version, notes = release.groups()
    digest = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    if unreleased and "filebase64sha256" in unreleased.group(1):
        assert digest in unreleased.group(1), (
            f"CHANGELOG [Unreleased] must give the package's filebase64sha256 {digest}"
        )
    else:
        assert digest in notes, (
            f"CHANGELOG {version} must give the package's filebase64sha256 {digest} "
            "(or [Unreleased], once the package has changed since the release)"
        )
    assert version == __version__
    assert re.search(r"\?ref=[0-9a-f]{40}\"", (ROOT / "README.md").read_text()), (
        "the README pins a commit (tests/consumer)"
    )
