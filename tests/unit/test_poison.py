"""Every kind of poison record, at the start, middle and end of a batch.

The checkpoint must be exactly the first bad record; the records before it are in
the sink and the records after it are not.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from support import (
    SINK,
    FakeContext,
    PipelineFactory,
    change_batch,
    ddb_record,
    expected_standings,
    kinesis_record,
    race_batch,
    scan,
    standings_in,
    telemetry,
)


def _b64(payload: bytes) -> str:
    return base64.b64encode(payload).decode()


KINESIS_POISON: dict[str, Any] = {
    "bad base64": lambda: kinesis_record(data="not*base64!"),
    "not JSON": lambda: kinesis_record(data=_b64(b"{racer: 1")),
    "not UTF-8": lambda: kinesis_record(data=_b64(b"\xff\xfe\x00")),
    "JSON but not an object": lambda: kinesis_record(data=_b64(b"[1, 2, 3]")),
    "unknown event": lambda: kinesis_record({**telemetry(1, 1), "event": "crash"}),
    "missing racerId": lambda: kinesis_record({k: v for k, v in telemetry(1, 1).items() if k != "racerId"}),
    "cadence is text": lambda: kinesis_record({**telemetry(1, 1), "cadence": "fast"}),
    "cadence is boolean": lambda: kinesis_record({**telemetry(1, 1), "cadence": True}),
    "negative second": lambda: kinesis_record({**telemetry(1, 1), "second": -1}),
    "oversized": lambda: kinesis_record({**telemetry(1, 1), "name": "x" * 70_000}),
    "wrong source for the processor": lambda: ddb_record("INSERT", "k", new={"id": {"S": "k"}}, sequence=1),
    "no sequence number": lambda: {"eventSource": "aws:kinesis", "kinesis": {"data": "e30="}},
}

DYNAMODB_POISON: dict[str, Any] = {
    "unknown eventName": lambda: ddb_record("UPSERT", "k", new={"id": {"S": "k"}}, sequence=9_000_001),
    "malformed image": lambda: ddb_record("INSERT", "k", new={"id": {"Q": "k"}}, sequence=9_000_002),
    "missing keys": lambda: {**ddb_record("INSERT", "k", sequence=9_000_003), "dynamodb": {"SequenceNumber": "9"}},
    "oversized": lambda: ddb_record("INSERT", "k", new={"id": {"S": "k"}}, sequence=9_000_004, size=70_000),
    "wrong source for the processor": lambda: kinesis_record(telemetry(1, 1)),
    "unknown eventSource": lambda: {"eventSource": "aws:sqs", "dynamodb": {"SequenceNumber": "9000005"}},
}

POSITIONS = {"start": 0, "middle": 5, "end": 10}


def _failure_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def _sequence(record: dict[str, Any]) -> str:
    body = record.get("kinesis") or record.get("dynamodb") or {}
    return body.get("sequenceNumber") or body.get("SequenceNumber") or ""


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", KINESIS_POISON)
def test_kinesis_poison_stops_the_batch_at_the_bad_record(
    make_pipeline: PipelineFactory, dynamodb: Any, kind: str, position: str
) -> None:
    good = race_batch(racers=5, seconds=2)  # 10 records
    at = POSITIONS[position]
    batch = [*good[:at], KINESIS_POISON[kind](), *good[at:]]

    pipeline = make_pipeline(RECORD_PROCESSOR="alleycat")
    outcome = pipeline.run(batch, FakeContext().get_remaining_time_in_millis)

    assert _failure_ids(outcome.response()) == [_sequence(r) for r in batch[at:]]
    assert outcome.processed == at
    assert outcome.first_failure_reason
    assert standings_in(dynamodb, SINK) == expected_standings(good[:at])


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", DYNAMODB_POISON)
def test_dynamodb_poison_stops_the_batch_at_the_bad_record(
    make_pipeline: PipelineFactory, dynamodb: Any, kind: str, position: str
) -> None:
    good = change_batch(items=4)[:10]
    at = POSITIONS[position]
    batch = [*good[:at], DYNAMODB_POISON[kind](), *good[at:]]

    outcome = make_pipeline(RECORD_PROCESSOR="audit").run(batch, FakeContext().get_remaining_time_in_millis)

    assert _failure_ids(outcome.response()) == [_sequence(r) for r in batch[at:]]
    written = {item["sequence_number"]["S"] for item in scan(dynamodb, SINK)}
    assert written == {_sequence(r) for r in good[:at]}


def test_poison_reasons_name_the_problem_without_the_payload(make_pipeline: PipelineFactory) -> None:
    secret = "s3cr3t-payload-" * 10_000
    record = kinesis_record({**telemetry(1, 1), "name": secret})
    outcome = make_pipeline().run([record], FakeContext().get_remaining_time_in_millis)
    assert "larger than 65536" in outcome.first_failure_reason
    assert "s3cr3t" not in outcome.first_failure_reason


def test_record_without_a_sequence_number_fails_the_whole_batch(make_pipeline: PipelineFactory) -> None:
    """An empty itemIdentifier makes Lambda treat the batch as failed: retried, then sent on."""
    good = race_batch(racers=1, seconds=1)
    outcome = make_pipeline().run([{"eventSource": "aws:kinesis"}, *good], FakeContext().get_remaining_time_in_millis)
    assert _failure_ids(outcome.response()) == ["", _sequence(good[0])]


def test_schema_errors_name_the_field(make_pipeline: PipelineFactory) -> None:
    record = kinesis_record({**telemetry(1, 1), "resistance": 5000})
    outcome = make_pipeline().run([record], FakeContext().get_remaining_time_in_millis)
    assert outcome.first_failure_reason == "resistance must be a number between 0 and 1000"


def test_json_payload_is_not_mistaken_for_base64_garbage(make_pipeline: PipelineFactory) -> None:
    """Powertools' lenient decoding would drop the '*'; ours rejects the record."""
    data = _b64(json.dumps(telemetry(1, 1)).encode())
    corrupt = data[:10] + "*" + data[10:]
    outcome = make_pipeline().run([kinesis_record(data=corrupt)], FakeContext().get_remaining_time_in_millis)
    assert outcome.first_failure_reason == "data is not valid base64"
