"""A consumer that has fallen behind, on LocalStack, for the doctor's lag finding
(tests/integration/test_doctor_lag.py), made at the tier's start in a background thread so that its
wait costs the tier no wall time.

Records are put into a stream of its own while nothing reads it; ``BEHIND_S`` later, a consumer (the
committed Lambda zip, the archive processor, a sink table of its own) is attached at TRIM_HORIZON, as a
consumer that stopped and came back finds its backlog. It processes records that arrived more than
``BEHIND_S`` ago: its ProcessingLatency (arrival to processed) says so, and LocalStack publishes no
IteratorAge for the mapping. Nothing of the tier's shared stacks is touched; everything is deleted after.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from stack_support import client, put, wait_for
from stream_pipeline_local.common import ROOT
from support import create_sink_table, telemetry

if TYPE_CHECKING:
    from collections.abc import Iterator

NAME: Final = "it-lagging"
"""Unique in the tier: LocalStack matches metric dimensions with LIKE '%service=NAME%'."""
BEHIND_S: Final = 40
"""More than the doctor's 30 s lag warning."""
RECORDS: Final = 20
ZIP: Final = ROOT / "modules" / "consumer" / "package" / "lambda.zip"


@dataclass(frozen=True)
class Behind:
    function_name: str
    records: int
    behind_s: float
    """How long the oldest record had waited when the consumer was attached."""


def archived(table: str) -> int:
    return int(client("dynamodb").scan(TableName=table, Select="COUNT")["Count"])


def fall_behind() -> Behind:
    kinesis, dynamodb, lam = client("kinesis"), client("dynamodb"), client("lambda")
    kinesis.create_stream(StreamName=NAME, ShardCount=1)
    create_sink_table(dynamodb, f"{NAME}-sink")
    kinesis.get_waiter("stream_exists").wait(StreamName=NAME, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    put(NAME, [(f"lag-{n}", telemetry(n, 1, race=4444)) for n in range(RECORDS)])
    first_put = time.monotonic()
    lam.create_function(
        FunctionName=NAME,
        Runtime="python3.13",
        Role="arn:aws:iam::000000000000:role/it-lagging",
        Handler="stream_pipeline.handler.lambda_handler",
        Code={"ZipFile": ZIP.read_bytes()},
        Timeout=30,
        MemorySize=256,
        Environment={
            "Variables": {
                "SINK_TABLE_NAME": f"{NAME}-sink",
                "RECORD_PROCESSOR": "archive",
                "POWERTOOLS_SERVICE_NAME": NAME,
            }
        },
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=NAME, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    time.sleep(max(0.0, BEHIND_S - (time.monotonic() - first_put)))
    stream_arn = kinesis.describe_stream_summary(StreamName=NAME)["StreamDescriptionSummary"]["StreamARN"]
    behind = time.monotonic() - first_put
    lam.create_event_source_mapping(
        FunctionName=NAME, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=100
    )
    wait_for(lambda: archived(f"{NAME}-sink"), lambda n: n >= RECORDS, timeout=180, every=2)
    return Behind(NAME, RECORDS, behind)


def remove() -> None:
    lam = client("lambda")
    for mapping in lam.list_event_source_mappings(FunctionName=NAME).get("EventSourceMappings", []):
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    for call in (
        lambda: lam.delete_function(FunctionName=NAME),
        lambda: client("kinesis").delete_stream(StreamName=NAME, EnforceConsumerDeletion=True),
        lambda: client("dynamodb").delete_table(TableName=f"{NAME}-sink"),
    ):
        with contextlib.suppress(Exception):  # already gone, or never made: nothing to remove
            call()


@contextmanager
def started() -> Iterator[Future[Behind]]:
    """The consumer falling behind, in a thread of its own; removed when the block ends."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lag-backlog") as pool:
        future = pool.submit(fall_behind)
        try:
            yield future
        finally:
            future.exception()  # wait for it before removing what it made
            remove()
