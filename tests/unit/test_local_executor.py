"""The local executor's worker processes: warm reuse, timeouts, isolation, logs (no LocalStack needed)."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from stream_pipeline_executor.process import WorkerProcess, runtime_version
from support import lambda_runtime_dir, load_event

ROOT = Path(__file__).resolve().parents[2]

HANDLERS = """
import os, sys, time

COUNT = 0

def count(event, context):
    global COUNT
    COUNT += 1
    print("invocation", COUNT, "pid", os.getpid())
    print("to stderr", file=sys.stderr)
    return {"count": COUNT, "pid": os.getpid(), "remaining": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id}

def slow(event, context):
    print("going to sleep")
    time.sleep(event["seconds"])
    return "woke up"

def fail(event, context):
    raise ValueError("bad record 42")
"""


@pytest.fixture
def task(tmp_path: Path) -> Path:
    directory = tmp_path / "task"
    directory.mkdir()
    (directory / "handlers.py").write_text(HANDLERS)
    (directory / "needs_powertools.py").write_text("import aws_lambda_powertools\n\ndef handle(e, c):\n    return 1\n")
    return directory


def worker(task: Path, handler: str, timeout_s: float = 5.0, runtime: Path | None = None) -> WorkerProcess:
    return WorkerProcess(
        python=sys.executable,
        task_dir=task,
        runtime_dir=runtime or task,
        handler=handler,
        env={"AWS_LAMBDA_FUNCTION_NAME": "f", "PATH": "/usr/bin:/bin"},
        timeout_s=timeout_s,
    )


def test_one_warm_process_serves_every_invocation(task: Path) -> None:
    process = worker(task, "handlers.count")
    try:
        first = process.invoke("r1", "arn:aws:lambda:us-east-1:000000000000:function:f", "{}")
        second = process.invoke("r2", "arn:aws:lambda:us-east-1:000000000000:function:f", "{}")
    finally:
        process.stop()
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert (one["count"], two["count"]) == (1, 2)
    assert one["pid"] == two["pid"]
    assert process.starts == 1
    assert first.cold_start
    assert not second.cold_start
    assert 0 < two["remaining"] <= 5000
    assert two["request_id"] == "r2"


def test_logs_hold_the_handlers_output_between_start_and_report(task: Path) -> None:
    process = worker(task, "handlers.count")
    try:
        first = process.invoke("r1", "arn", "{}")
        second = process.invoke("r2", "arn", "{}")
    finally:
        process.stop()
    assert first.logs.startswith("START RequestId: r1 Version: $LATEST\n")
    assert "invocation 1 pid" in first.logs
    assert "to stderr" in first.logs
    assert "END RequestId: r1\nREPORT RequestId: r1\tDuration:" in first.logs
    assert "Init Duration" in first.logs
    assert "invocation 1" not in second.logs
    assert "invocation 2 pid" in second.logs
    assert "Init Duration" not in second.logs


def test_a_timeout_is_reported_as_lambda_does_and_the_next_invoke_starts_afresh(task: Path) -> None:
    process = worker(task, "handlers.slow", timeout_s=1.0)
    try:
        timed_out = process.invoke("r1", "arn", json.dumps({"seconds": 30}))
        after = process.invoke("r2", "arn", json.dumps({"seconds": 0}))
    finally:
        process.stop()
    assert timed_out.timed_out
    assert not timed_out.ok
    error = json.loads(timed_out.payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("r1 Task timed out after 1.00 seconds")
    assert "going to sleep" in timed_out.logs
    assert after.ok
    assert json.loads(after.payload) == "woke up"
    assert after.cold_start
    assert process.starts == 2


def test_an_unhandled_exception_is_an_error_result_with_its_traceback_in_the_log(task: Path) -> None:
    process = worker(task, "handlers.fail")
    try:
        outcome = process.invoke("r1", "arn", "{}")
    finally:
        process.stop()
    error = json.loads(outcome.payload)
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == ("ValueError", "bad record 42", "r1")
    assert "[ERROR] ValueError: bad record 42" in outcome.logs
    assert "Traceback" in outcome.logs


def test_a_dependency_missing_from_the_package_fails_as_in_aws(task: Path) -> None:
    """aws_lambda_powertools is installed in this venv, but not in the task or runtime folder."""
    process = worker(task, "needs_powertools.handle")
    try:
        outcome = process.invoke("r1", "arn", "{}")
    finally:
        process.stop()
    error = json.loads(outcome.payload)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert (
        "Unable to import module 'needs_powertools': No module named 'aws_lambda_powertools'" in error["errorMessage"]
    )


def test_the_real_zip_runs_in_a_worker(tmp_path: Path) -> None:
    zip_path = ROOT / "modules" / "consumer" / "package" / "lambda.zip"
    task = tmp_path / "code"
    zipfile.ZipFile(zip_path).extractall(task)
    runtime = lambda_runtime_dir(tmp_path / "runtime")
    process = worker(task, "stream_pipeline.handler.lambda_handler", runtime=runtime)
    try:
        outcome = process.invoke("r1", "arn", json.dumps(load_event("kinesis_event.json")))
    finally:
        process.stop()
    assert outcome.ok, outcome.logs
    assert json.loads(outcome.payload) == {"batchItemFailures": []}
    assert '"RecordsProcessed"' in outcome.logs


@pytest.mark.parametrize("runtime", ["nodejs20.x", "java21", "provided.al2023", None])
def test_non_python_runtimes_are_refused_with_a_reason(runtime: str | None) -> None:
    with pytest.raises(ValueError, match="runs Python functions only"):
        runtime_version(runtime)


def test_python_runtimes_map_to_their_version() -> None:
    assert runtime_version("python3.13") == "3.13"
