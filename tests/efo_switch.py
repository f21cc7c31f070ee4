"""A consumer switched from the stream's shared throughput to enhanced fan-out while records are put,
on LocalStack: every record put before, during and after the switch reaches the sink.

The switch replaces the consumer's event source mapping (its event_source_arn, the stream's ARN or
the fan-out consumer's, forces a new one), and a new mapping starts where its starting position
says: at LATEST, after the records its predecessor had not read yet and every record put during the
switch. The module refuses that plan (modules/consumer, ``terraform_data.mapping_read_path``); this
runs it for real: the plan of the switch at LATEST is refused with the error naming the inputs as
written, and the switch with the position the error asks for loses nothing. LocalStack's mappings do
not honour AT_TIMESTAMP, so the switch here starts at TRIM_HORIZON, which the error offers when
processing a record twice is harmless: the archive processor writes one item per record, keyed on its
sequence number, so the records the new mapping reads again are the same items, and the test counts
distinct sequence numbers.

The stack is a small root of its own (tests/terraform/fixtures/efo_switch) under its own name, in the
tier's workspace: it touches none of the shared stacks. The tier's conftest runs :func:`run` in a
thread from the start of the tier, once the shared stacks are up, beside the other tests (its waits
are LocalStack's); tests/integration/test_efo_switch.py waits for it. Its thread's name starts with
the drills' prefix, so the recordings of tests/aws_calls.py leave its calls out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from stack_support import WORKSPACE, client, wait_for
from stream_pipeline_local.common import ROOT, STATE
from stream_pipeline_local.terraform import OVERRIDE, init, terraform_env

if TYPE_CHECKING:
    from pathlib import Path

FIXTURE = ROOT / "tests" / "terraform" / "fixtures" / "efo_switch"
NAME = "it-efoswitch"
THREAD = "drill-efo-switch"  # aws_calls.BACKGROUND's prefix: not one of the tests' own calls
PUT_EVERY_S = 0.1
AFTER_S = 10.0  # records keep coming after the switch's apply, as they would
ARCHIVED_WITHIN_S = 150.0


@dataclass
class Outcome:
    refusal: str = ""  # the output of the refused plan
    put: dict[int, float] = field(default_factory=dict)  # sequence number: when it was put
    archived: set[int] = field(default_factory=set)
    switch_started: float = 0.0
    switch_applied: float = 0.0
    event_source_arn: str = ""  # what the consumer's mapping reads after the switch
    stream_arn: str = ""

    @property
    def missing(self) -> list[int]:
        return sorted(set(self.put) - self.archived)

    @property
    def put_during_switch(self) -> int:
        return sum(1 for at in self.put.values() if self.switch_started <= at <= self.switch_applied)


class SwitchStack:
    """tests/terraform/fixtures/efo_switch applied on LocalStack under ``name``, in ``workspace``."""

    def __init__(self, name: str = NAME, workspace: str = WORKSPACE, directory: Path = FIXTURE) -> None:
        self.name, self.workspace, self.directory = name, workspace, directory
        self.outputs: dict[str, str] = {}

    def terraform(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["terraform", f"-chdir={self.directory}", *args, "-no-color"]
        result = subprocess.run(command, env=terraform_env(self.workspace), check=False, capture_output=True, text=True)
        STATE.mkdir(exist_ok=True)
        with (STATE / "terraform.log").open("a") as log:
            where = f"{self.directory.relative_to(ROOT)}, workspace {self.workspace}"
            log.write(f"$ terraform {' '.join(args)}  ({where})\n")
            log.write(result.stdout + result.stderr)
        if check and result.returncode != 0:
            raise AssertionError(f"terraform {args[0]} failed:\n{(result.stdout + result.stderr)[-4000:]}")
        return result

    def variables(self, *, enhanced_fan_out: bool, starting_position: str) -> list[str]:
        values = {"name": self.name, "enhanced_fan_out": str(enhanced_fan_out).lower()}
        values["starting_position"] = starting_position
        return [arg for key, value in values.items() for arg in ("-var", f"{key}={value}")]

    def apply(self, *, enhanced_fan_out: bool, starting_position: str = "LATEST") -> None:
        self.terraform("apply", "-auto-approve", "-input=false", *self.variables(enhanced_fan_out=enhanced_fan_out,
                                                                  starting_position=starting_position))  # fmt: skip
        shown = self.terraform("output", "-json").stdout
        self.outputs = {key: value["value"] for key, value in json.loads(shown).items()}

    def refused_plan(self, *, enhanced_fan_out: bool, starting_position: str) -> str:
        """The output of a plan that must fail (AssertionError when it does not)."""
        result = self.terraform("plan", "-input=false", *self.variables(enhanced_fan_out=enhanced_fan_out,
                                                         starting_position=starting_position), check=False)  # fmt: skip
        assert result.returncode != 0, f"the plan was not refused:\n{result.stdout[-3000:]}"
        return result.stdout + result.stderr

    def __enter__(self) -> Self:
        shutil.copyfile(OVERRIDE, self.directory / "provider_override.tf")
        init(self.directory, self.workspace)
        # A state left by an earlier run describes resources of a LocalStack that is gone or still has
        # them: destroy what it still names, then start from nothing.
        state = self.directory / "terraform.tfstate.d" / self.workspace
        if state.exists():
            self.destroy(check=False)
            shutil.rmtree(state)
        return self

    def destroy(self, *, check: bool = True) -> None:
        shared = self.variables(enhanced_fan_out=False, starting_position="LATEST")
        self.terraform("destroy", "-auto-approve", "-input=false", *shared, check=check)

    def __exit__(self, *_: object) -> None:
        try:
            self.destroy()
        finally:
            (self.directory / "provider_override.tf").unlink(missing_ok=True)


class Producer(threading.Thread):
    """Puts a record every ``every`` seconds until stopped, each with a key of its own, and keeps its
    sequence number and when it was put."""

    def __init__(self, stream: str, every: float = PUT_EVERY_S) -> None:
        super().__init__(name=f"{THREAD}-producer", daemon=True)
        self.stream, self.every = stream, every
        self.put: dict[int, float] = {}
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        kinesis, n = client("kinesis"), 0
        try:
            while not self.stopping.is_set():
                n += 1
                response = kinesis.put_record(StreamName=self.stream, Data=b"switch %d" % n, PartitionKey=f"switch-{n}")
                self.put[int(response["SequenceNumber"])] = time.monotonic()
                self.stopping.wait(self.every)
        except BaseException as exc:  # re-raised by stop(), in the caller's thread
            self.error = exc

    def stop(self) -> dict[int, float]:
        self.stopping.set()
        self.join(timeout=30)
        if self.error is not None:
            raise self.error
        return self.put


def archived(table: str) -> set[int]:
    """The sequence numbers of the records in the archive (its sort key: the padded sequence number,
    ``#`` and the sub-sequence number)."""
    dynamodb, found = client("dynamodb"), set()
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="sk"):
        found |= {int(item["sk"]["S"].split("#", 1)[0]) for item in page["Items"]}
    return found


def run(stack: SwitchStack | None = None, *, starting_position: str = "TRIM_HORIZON", refusal: bool = True) -> Outcome:
    """Apply the stack with the consumer on the shared throughput, start putting records, check that
    the plan of the switch at LATEST is refused (``refusal``), switch it to enhanced fan-out with
    ``starting_position``, keep putting a while, and wait for the archive to hold every record put
    (or ``ARCHIVED_WITHIN_S``). Returns what it saw; the stack is destroyed either way."""
    outcome = Outcome()
    with stack or SwitchStack() as switching:
        switching.apply(enhanced_fan_out=False)
        stream, table = switching.outputs["stream_name"], switching.outputs["sink_table_name"]
        outcome.stream_arn = switching.outputs["event_source_arn"]
        # The first mapping is polling before the switch: a record put now is archived.
        put = client("kinesis").put_record(StreamName=stream, Data=b"first", PartitionKey="first")
        first = int(put["SequenceNumber"])
        assert first in wait_for(lambda: archived(table), lambda found: first in found, timeout=ARCHIVED_WITHIN_S), (
            "the first mapping never archived a record"
        )
        producer = Producer(stream)
        producer.start()
        try:
            if refusal:
                outcome.refusal = switching.refused_plan(enhanced_fan_out=True, starting_position="LATEST")
            outcome.switch_started = time.monotonic()
            switching.apply(enhanced_fan_out=True, starting_position=starting_position)
            outcome.switch_applied = time.monotonic()
            time.sleep(AFTER_S)
        finally:
            outcome.put = {first: 0.0, **producer.stop()}
        outcome.event_source_arn = switching.outputs["event_source_arn"]
        outcome.archived = wait_for(lambda: archived(table), lambda found: set(outcome.put) <= found,
                                    timeout=ARCHIVED_WITHIN_S, every=2)  # fmt: skip
    return outcome
