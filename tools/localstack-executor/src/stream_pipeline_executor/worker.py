"""The child side of a local execution environment: one warm Python process per environment.

Started as ``python -I -S worker.py TASK_DIR RUNTIME_DIR HANDLER REQUEST_FD RESPONSE_FD``, so
that only the standard library, the runtime directory (boto3, as the Lambda runtime provides it)
and the unzipped package are importable: a dependency missing from the zip fails here exactly as
it would in AWS. Standard library only.

The handler module is imported once (the init phase, a cold start). Each request is one JSON line
on REQUEST_FD; the answer is one JSON line on RESPONSE_FD. The handler's own stdout and stderr go
to this process's stdout, which the parent collects as the invocation's logs; after every
invocation a marker line tells the parent that the output of that invocation is complete.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

MARKER = "\x1e__stream_pipeline_invocation_done__"


class Context:
    """The Lambda context object, with the fields and method handlers use."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["request_id"]
        self.invoked_function_arn: str = request["function_arn"]
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms: float = request["deadline_epoch_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def error_of(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def load_handler(spec: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


def main() -> int:
    task_dir, runtime_dir, handler_spec, request_fd, response_fd = sys.argv[1:6]
    sys.path[:0] = [task_dir, runtime_dir]
    os.chdir(task_dir)
    requests = os.fdopen(int(request_fd), "r", encoding="utf-8")
    responses = os.fdopen(int(response_fd), "w", encoding="utf-8")

    init_error: dict[str, Any] | None = None
    try:
        handler = load_handler(handler_spec)
    except ImportError as exc:
        module_name = handler_spec.rpartition(".")[0]
        init_error = error_of(exc, "Runtime.ImportModuleError")
        init_error["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
    except Exception as exc:  # any other init failure, as Lambda reports it
        init_error = error_of(exc, "Runtime.HandlerNotFound" if isinstance(exc, AttributeError) else None)
    if init_error is not None:
        print(f"[ERROR] {init_error['errorType']}: {init_error['errorMessage']}", flush=True)

    for line in requests:
        request = json.loads(line)
        if init_error is not None:
            answer: dict[str, Any] = {"ok": False, "error": init_error}
        else:
            try:
                result = handler(json.loads(request["payload"]), Context(request))
                answer = {"ok": True, "result": json.dumps(result)}
            except Exception as exc:  # an unhandled exception is the invocation's error result
                error = error_of(exc)
                print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
                print("".join(traceback.format_exception(exc)), end="", flush=True)
                answer = {"ok": False, "error": {**error, "requestId": request["request_id"]}}
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, f"{MARKER}\n".encode())
        responses.write(json.dumps(answer) + "\n")
        responses.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
