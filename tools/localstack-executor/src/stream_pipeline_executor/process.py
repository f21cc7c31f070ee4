"""The parent side of a local execution environment: start, invoke with a timeout, stop.

One :class:`WorkerProcess` is one execution environment, as in Lambda: it is started once (the
cold start) and then reused by every invocation routed to it. An invocation that runs past the
function's timeout is reported the way Lambda reports it (``Sandbox.Timedout``, "Task timed out
after N seconds"), and the process is killed; the next invocation starts a new one.

Standard library only, so that it is tested in the project's own virtual environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from stream_pipeline_executor.worker import MARKER

WORKER = Path(__file__).with_name("worker.py")


def runtime_version(runtime: str | None) -> str:
    """``python3.13`` -> ``3.13``; any other runtime is refused with a message that says why."""
    if not runtime or not runtime.startswith("python3."):
        raise ValueError(
            f"The local-python executor runs Python functions only; runtime {runtime!r} needs LocalStack's "
            "Docker executor (start LocalStack with a Docker engine and without LAMBDA_RUNTIME_EXECUTOR)."
        )
    return runtime.removeprefix("python")


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    payload: bytes
    logs: str
    timed_out: bool = False
    cold_start: bool = False


class WorkerProcess:
    def __init__(
        self,
        *,
        python: str,
        task_dir: Path,
        runtime_dir: Path,
        handler: str,
        env: dict[str, str],
        timeout_s: float,
        memory_mb: int = 128,
        version: str = "$LATEST",
    ) -> None:
        self.python = python
        self.task_dir = task_dir
        self.runtime_dir = runtime_dir
        self.handler = handler
        self.env = env
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.version = version
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: IO[str] | None = None
        self._responses: IO[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self.starts = 0
        self._init_ms = 0.0
        self._fresh = False
        self._pump_thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        started = time.perf_counter()
        self._process = subprocess.Popen(  # noqa: S603 - our own worker, with a fixed argument list
            [
                self.python, "-I", "-S", "-u", str(WORKER), str(self.task_dir), str(self.runtime_dir),
                self.handler, str(request_read), str(response_write),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(request_read, response_write),
            env=self.env,
            cwd=self.task_dir,
        )  # fmt: skip
        os.close(request_read)
        os.close(response_write)
        self._requests = os.fdopen(request_write, "w", encoding="utf-8")
        self._responses = os.fdopen(response_read, "r", encoding="utf-8")
        self._lines = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, args=(self._process.stdout, self._lines), daemon=True)
        self._pump_thread.start()
        self._init_ms = (time.perf_counter() - started) * 1000
        self.starts += 1
        self._fresh = True

    @staticmethod
    def _pump(stream: IO[bytes] | None, lines: queue.Queue[str | None]) -> None:
        assert stream is not None
        for raw in stream:
            lines.put(raw.decode("utf-8", errors="replace"))
        lines.put(None)

    def _collect(self, wait_s: float) -> list[str]:
        """The output lines of the current invocation, up to the marker (or the process's end)."""
        collected: list[str] = []
        deadline = time.monotonic() + wait_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return collected
            if line is None or line.rstrip("\n") == MARKER:
                return collected
            collected.append(line)

    def invoke(self, request_id: str, function_arn: str, payload: str) -> Outcome:
        with self._lock:
            if not self.alive:
                self.start()
            cold, self._fresh = self._fresh, False
            assert self._requests is not None
            assert self._responses is not None
            started = time.time()
            deadline_ms = (started + self.timeout_s) * 1000
            request = {
                "request_id": request_id,
                "function_arn": function_arn,
                "payload": payload,
                "deadline_epoch_ms": deadline_ms,
            }
            header = f"START RequestId: {request_id} Version: {self.version}\n"
            try:
                self._requests.write(json.dumps(request) + "\n")
                self._requests.flush()
            except BrokenPipeError:
                return self._crashed(request_id, header, started, cold)
            ready, _, _ = select.select([self._responses], [], [], self.timeout_s)
            if not ready:
                return self._timed_out(request_id, header, started, cold)
            line = self._responses.readline()
            if not line:
                return self._crashed(request_id, header, started, cold)
            answer: dict[str, Any] = json.loads(line)
            output = self._collect(wait_s=5.0)
            logs = header + "".join(output) + self._footer(request_id, started, cold)
            if answer["ok"]:
                return Outcome(ok=True, payload=answer["result"].encode(), logs=logs, cold_start=cold)
            return Outcome(ok=False, payload=json.dumps(answer["error"]).encode(), logs=logs, cold_start=cold)

    def _footer(self, request_id: str, started: float, cold: bool) -> str:
        duration = (time.time() - started) * 1000
        init = f"\tInit Duration: {self._init_ms:.2f} ms" if cold else ""
        return (
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
            f"Memory Size: {self.memory_mb} MB{init}\n"
        )

    def _timed_out(self, request_id: str, header: str, started: float, cold: bool) -> Outcome:
        self.stop()
        output = self._collect(wait_s=1.0)
        stamp = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{stamp} {request_id} Task timed out after {self.timeout_s:.2f} seconds"
        logs = header + "".join(output) + self._footer(request_id, started, cold) + message + "\n"
        error = {"errorType": "Sandbox.Timedout", "errorMessage": message}
        return Outcome(ok=False, payload=json.dumps(error).encode(), logs=logs, timed_out=True, cold_start=cold)

    def _crashed(self, request_id: str, header: str, started: float, cold: bool) -> Outcome:
        self.stop()
        output = self._collect(wait_s=1.0)
        message = f"RequestId: {request_id} Error: Runtime exited without providing a reason"
        error = {"errorType": "Runtime.ExitError", "errorMessage": message}
        logs = header + "".join(output) + self._footer(request_id, started, cold) + message + "\n"
        return Outcome(ok=False, payload=json.dumps(error).encode(), logs=logs, cold_start=cold)

    def stop(self) -> None:
        process, self._process = self._process, None
        for stream in (self._requests, self._responses):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._requests = self._responses = None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
