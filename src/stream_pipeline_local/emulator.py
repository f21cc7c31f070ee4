"""Process control: start LocalStack (healthy, on loopback only), reuse it, stop it; clients for it."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3.session

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

from stream_pipeline_local.common import (
    ENDPOINT,
    HOST,
    LOCAL_WORKSPACES,
    PORT,
    REGION,
    ROOT,
    STATE,
    LocalStackError,
    say,
)
from stream_pipeline_local.install import install

_STARTED: dict[int, subprocess.Popen[bytes]] = {}


# ---------------------------------------------------------------- run
def healthy(timeout: float = 1.0) -> bool:
    connection = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        connection.request("GET", "/_localstack/health")
        response = connection.getresponse()
        body = response.read()
    except OSError:
        return False
    finally:
        connection.close()
    return response.status == 200 and b"services" in body


def port_taken() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, PORT)) == 0


def pid() -> int | None:
    try:
        value = int((STATE / "localstack.pid").read_text())
        os.kill(value, 0)
    except (OSError, ValueError):
        return None
    return value


def node_options(preload: Path, existing: str = "") -> str:
    """NODE_OPTIONS that load ``preload`` first (quoted: Node reads a quoted path with spaces), then the caller's."""
    if '"' in str(preload):
        raise LocalStackError(f"The path {preload} holds a double quote, which NODE_OPTIONS cannot carry.")
    return f'--require "{preload}" {existing}'.strip()


def start() -> None:
    if pid() is not None and healthy():
        say(f"LocalStack is already running on {ENDPOINT} (pid {pid()})")
        return
    if port_taken():
        raise LocalStackError(
            f"Port {PORT} on {HOST} is taken by another process, not by this project's LocalStack. "
            f"Stop it, or run on another port: LOCALSTACK_PORT=4567 make up"
        )
    paths = install()
    forget_local_state()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK_"))},
        # Loopback only, for everything LocalStack starts (README "What listens where"; checked by
        # `stream-pipeline-local listeners` and tests/integration/test_listeners.py). The gateway: the
        # default twisted server ignores the host of GATEWAY_LISTEN (TCP4ServerEndpoint(reactor, port),
        # "TODO: interface = host?"); hypercorn binds exactly GATEWAY_LISTEN.
        "GATEWAY_LISTEN": f"{HOST}:{PORT}",
        "GATEWAY_SERVER": "hypercorn",
        # kinesis-mock (node) has no host option: our preload binds its servers to 127.0.0.1. LocalStack
        # starts node through ShellCommandThread, which passes its own environment on.
        "NODE_OPTIONS": node_options(paths["node_loopback"], os.environ.get("NODE_OPTIONS", "")),
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(paths["filesystem"]),
        "PERSISTENCE": "0",
        "DISABLE_EVENTS": "1",
        "DNS_ADDRESS": "0",  # no DNS server: nothing here resolves through LocalStack
        # Kinesis emulator: no artificial 500 ms per call, and no snapshot of every stream to disk
        # every 5 s (its cost grows with the stream; measured with `make bench`, docs/BENCHMARKS.md).
        "KINESIS_LATENCY": "0",
        "KINESIS_PERSISTENCE": "0",
        # SQS publishes ApproximateNumberOfMessagesVisible/NotVisible to CloudWatch every 5 s instead of
        # LocalStack's 60 s, so the failure-path alarms at a 10 s period (the alarm drills') see the
        # queue as it is: with 60 s, most 10 s periods hold no datapoint at all.
        "SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL": "5",
        "LAMBDA_RUNTIME_EXECUTOR": "local-python",
        "STREAM_PIPELINE_RUNTIME_DIR": str(paths["runtime"]),
        "PYTHONPATH": str(STATE / "plugins"),
    }
    with (STATE / "localstack.log").open("ab") as log:
        process = subprocess.Popen(
            [str(paths["venv"] / "bin" / "python"), "-m", "localstack.runtime.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _STARTED[process.pid] = process  # keep the handle: stop() reaps it, and no "still running" warning
    (STATE / "localstack.pid").write_text(str(process.pid))
    say(f"Starting LocalStack on {ENDPOINT} (pid {process.pid}, log .localstack/localstack.log)")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStackError(f"LocalStack exited with {process.returncode}; see .localstack/localstack.log")
        if healthy():
            say("LocalStack is healthy")
            return
        time.sleep(0.5)
    raise LocalStackError("LocalStack did not become healthy within 90 s; see .localstack/localstack.log")


@contextmanager
def running() -> Iterator[None]:
    """LocalStack for the duration of the block: reuse a running one, or start one and stop it after
    (unless KEEP_LOCALSTACK is set)."""
    started_here = pid() is None or not healthy()
    STATE.mkdir(exist_ok=True)
    start()
    try:
        yield
    finally:
        if started_here and not os.environ.get("KEEP_LOCALSTACK"):
            stop()


def forget_local_state() -> None:
    """A fresh LocalStack holds nothing (PERSISTENCE=0), so the state of the LocalStack-only
    workspaces describes resources that no longer exist: drop it before starting."""
    for workspace in LOCAL_WORKSPACES:
        for state in (ROOT / "examples").glob(f"*/terraform.tfstate.d/{workspace}"):
            shutil.rmtree(state)


def stop() -> None:
    running = pid()
    started_here = _STARTED.pop(running, None) if running is not None else None
    if running is None:
        say("LocalStack is not running")
        (STATE / "localstack.pid").unlink(missing_ok=True)
        return
    os.killpg(running, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and pid() is not None:
        time.sleep(0.2)
    if pid() is not None:
        os.killpg(running, signal.SIGKILL)
    if started_here is not None:
        started_here.wait(timeout=10)
    (STATE / "localstack.pid").unlink(missing_ok=True)
    say(f"LocalStack stopped (pid {running})")


def client(service: str) -> Any:
    """A boto3 client for this LocalStack (fake credentials; LocalStack accepts any)."""
    return boto3.session.Session().client(  # type: ignore[call-overload]  # service is a runtime name
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - LocalStack's fake credentials
    )
