"""Redrive end to end on LocalStack, for both failure destinations.

A processor that rejects good records (MAX_RECORD_BYTES set below their size: the stand-in for a
processor that rejects a new field) sends them to the failure path; after the fixed processor is
deployed (the setting restored), ``redrive --apply`` brings them through, the sink equals the
reference, a second ``--apply`` changes nothing, and in = sink + discarded.

* kinesis-alleycat: SQS destination, records fetched back from the stream by sequence range.
* dynamodb-streams: S3 archive destination (LocalStack writes the records into the object),
  records redriven through the function.
"""

from __future__ import annotations

import base64
import json
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from stack_support import Stack, client, empty_failure_path, wait_for
from stream_pipeline_ops import redrive
from support import expected_standings, scan, standings_in, telemetry

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def rejecting(function: str) -> Iterator[None]:
    """Deploy a processor that rejects every record (MAX_RECORD_BYTES=8), then the fixed one."""
    lam = client("lambda")
    env = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]

    def deploy(variables: dict[str, str]) -> None:
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
        wait_for(lambda: lam.get_function_configuration(FunctionName=function).get("LastUpdateStatus"),
                 lambda s: s == "Successful")  # fmt: skip

    deploy({**env, "MAX_RECORD_BYTES": "8"})
    try:
        yield
    finally:
        deploy(env)


def apply(function: str) -> redrive.Summary:
    target = redrive.discover(client, function, None)
    return redrive.redrive(client, target, redrive.Options(apply=True, hide_s=5))


def failed_records(stack: Stack) -> int:
    """How many records the failure path names (dry run: changes nothing)."""
    target = redrive.discover(client, stack.outputs["function_name"], None)
    return redrive.redrive(client, target, redrive.Options(check=False)).fetched


def test_kinesis_failures_in_the_queue_are_redriven_from_the_stream(kinesis_stack: Stack) -> None:
    function, stream = kinesis_stack.outputs["function_name"], kinesis_stack.outputs["stream_name"]
    sink = kinesis_stack.outputs["sink_table_name"]
    race = 808
    empty_failure_path(kinesis_stack)
    messages = [(racer, telemetry(racer, second, race=race)) for second in (1, 2) for racer in range(1, 6)]
    with rejecting(function):
        kinesis = client("kinesis")
        sent = [kinesis.put_record(StreamName=stream, PartitionKey=str(k), Data=_json(m)) for k, m in messages]
        assert wait_for(lambda: failed_records(kinesis_stack), lambda n: n >= len(sent), timeout=120, every=3) == len(
            sent
        )

    first = apply(function)
    assert (first.reput, first.still_failing, first.expired, first.in_doubt) == (len(sent), 0, 0, 0)
    assert first.closed == first.failures

    expected = expected_standings([_event(m) for _, m in messages])
    in_sink = wait_for(lambda: standings_in(client("dynamodb"), sink, race=race), lambda s: s == expected, timeout=60)
    assert in_sink == expected, "the sink equals the reference"

    second = apply(function)
    assert (second.failures, second.reput) == (0, 0), "a second redrive changes nothing"
    applied = sum(entry["message_count"] for entry in in_sink.values())
    assert applied + first.discarded == len(sent), "records in = sink + discarded"


def test_dynamodb_failures_in_the_archive_are_redriven_through_the_function(dynamodb_stack: Stack) -> None:
    function = dynamodb_stack.outputs["function_name"]
    table, sink = dynamodb_stack.outputs["source_table_name"], dynamodb_stack.outputs["sink_table_name"]
    keys = [f"redrive-{n}" for n in range(4)]
    empty_failure_path(dynamodb_stack)
    dynamodb = client("dynamodb")
    with rejecting(function):
        time.sleep(1)
        for key in keys:
            dynamodb.put_item(TableName=table, Item={"id": {"S": key}, "total": {"N": "7"}})
        assert wait_for(lambda: failed_records(dynamodb_stack), lambda n: n >= len(keys), timeout=120, every=3) == len(
            keys
        )
        assert not _audited(scan(dynamodb, sink), keys), "the rejecting processor wrote nothing"

    first = apply(function)
    assert (first.reput, first.still_failing, first.in_doubt) == (len(keys), 0, 0)
    assert first.closed == first.failures
    audited = wait_for(lambda: _audited(scan(dynamodb, sink), keys), lambda found: len(found) == len(keys))
    assert sorted(audited) == sorted(keys), "every change is in the audit table, once"

    second = apply(function)
    assert (second.failures, second.reput) == (0, 0), "a second redrive changes nothing"
    assert len(_audited(scan(dynamodb, sink), keys)) + first.discarded == len(keys), "in = sink + discarded"
    remaining = client("s3").list_objects_v2(Bucket=dynamodb_stack.outputs["on_failure_bucket_name"], Prefix="aws/")
    assert remaining.get("KeyCount", 0) == 0, "closed failures are moved under redriven/"


def _json(message: Any) -> bytes:
    return json.dumps(message).encode()


def _event(message: Any) -> dict[str, Any]:
    return {"kinesis": {"data": base64.b64encode(_json(message)).decode()}}


def _audited(items: list[dict[str, Any]], keys: list[str]) -> list[str]:
    wanted = {f'{{"id":"{key}"}}': key for key in keys}
    return [wanted[i["pk"]["S"]] for i in items if i["pk"]["S"] in wanted and i["event_name"]["S"] == "INSERT"]
