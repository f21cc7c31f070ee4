"""The archive processor: the fan-out example's second consumer keeps every raw user record.

The sink is moto's DynamoDB; aggregates come from aws-kinesis-agg's aggregator (the real format).
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Any

import pytest

from stream_pipeline.config import load_settings
from stream_pipeline.pipeline import Pipeline
from support import SINK, aggregate, kinesis_record, race_batch, scan

if TYPE_CHECKING:
    from collections.abc import Callable


def archived(dynamodb: Any) -> list[tuple[str, str, bytes]]:
    return [(i["pk"]["S"], i["sk"]["S"], bytes(i["data"]["B"])) for i in scan(dynamodb, SINK)]


def test_every_record_is_archived_as_it_came_and_a_redelivery_doubles_nothing(
    make_pipeline: Callable[..., Pipeline], dynamodb: Any
) -> None:
    batch = race_batch(racers=5, seconds=3)
    batch.append(kinesis_record(data=base64.b64encode(b"\x00\xffnot json").decode(), partition_key="raw"))
    pipeline = make_pipeline(RECORD_PROCESSOR="archive")
    assert pipeline.run(batch, lambda: 30_000).failures == []
    first = archived(dynamodb)
    assert len(first) == len(batch) == 16
    assert sorted(data for _, _, data in first) == sorted(base64.b64decode(r["kinesis"]["data"]) for r in batch)
    assert (
        "archive#raw",
        f"{batch[-1]['kinesis']['sequenceNumber'].zfill(56)}#0000000000",
        b"\x00\xffnot json",
    ) in first
    assert pipeline.run(batch, lambda: 30_000).failures == []  # Lambda delivers at least once
    assert archived(dynamodb) == first


def test_a_kpl_aggregate_is_archived_as_its_user_records(make_pipeline: Callable[..., Pipeline], dynamodb: Any) -> None:
    users = [(f"racer-{n % 3}", f"message {n}".encode()) for n in range(7)]
    ((key, blob),) = aggregate(users)
    record = kinesis_record(data=base64.b64encode(blob).decode(), partition_key=key)
    assert make_pipeline(RECORD_PROCESSOR="archive").run([record], lambda: 30_000).failures == []
    found = archived(dynamodb)
    sequence = record["kinesis"]["sequenceNumber"].zfill(56)
    assert sorted(found) == sorted(
        (f"archive#{k}", f"{sequence}#{sub:010d}", data) for sub, (k, data) in enumerate(users)
    )


def test_a_record_too_big_for_an_item_is_the_failed_record(
    make_pipeline: Callable[..., Pipeline], dynamodb: Any, caplog: Any
) -> None:
    """A 500 KB payload (Kinesis takes it; a DynamoDB item cannot) is blamed, not its batch: the
    records before it are archived, the partial batch response starts at it (Kinesis keeps order, so
    the later ones come back too), and the log line says why without the payload."""
    small = [kinesis_record(data=base64.b64encode(b"ok").decode(), partition_key=str(n)) for n in range(3)]
    big = kinesis_record(data=base64.b64encode(b"x" * 500_000).decode(), partition_key="big")
    after = kinesis_record(data=base64.b64encode(b"late").decode(), partition_key="after")
    pipeline = make_pipeline(RECORD_PROCESSOR="archive", MAX_RECORD_BYTES="1048576")
    outcome = pipeline.run([*small, big, after], lambda: 30_000)
    assert [f["itemIdentifier"] for f in outcome.failures] == [r["kinesis"]["sequenceNumber"] for r in (big, after)]
    assert sorted(pk for pk, _, _ in archived(dynamodb)) == ["archive#0", "archive#1", "archive#2"]
    (line,) = [r for r in caplog.records if r.getMessage() == "record failed"]
    assert line.reason == "payload is 500000 bytes, more than a DynamoDB item can archive"
    assert line.sequence_number == big["kinesis"]["sequenceNumber"]
    assert "xxxx" not in caplog.text


NOW = 1_800_000_000.0
DAY = 86_400


@pytest.mark.parametrize("age_days", [100, 0])
def test_an_archived_record_expires_from_when_it_is_written_not_from_its_arrival(dynamodb: Any, age_days: int) -> None:
    """A record redriven 100 days after it was produced (the failure path keeps it 90) is archived
    to live at least half of AUDIT_TTL_DAYS from now: before, it was written already expired, and
    DynamoDB deleted it. A recent record expires AUDIT_TTL_DAYS after its arrival, so that its
    redelivery writes the very same item."""
    settings = load_settings({"SINK_TABLE_NAME": SINK, "RECORD_PROCESSOR": "archive"})
    pipeline = Pipeline(settings, logging.getLogger("test"), client_factory=lambda: dynamodb, clock=lambda: NOW)
    arrival = NOW - age_days * DAY
    record = kinesis_record(data=base64.b64encode(b"late").decode(), arrival=arrival)
    assert pipeline.run([record], lambda: 30_000).failures == []
    (item,) = scan(dynamodb, SINK)
    assert int(item["expires_at"]["N"]) == max(int(arrival) + 30 * DAY, int(NOW) + 15 * DAY)
    assert int(item["expires_at"]["N"]) >= int(NOW) + 15 * DAY
    assert item["arrival"] == {"N": f"{arrival:.3f}"}  # the record's own time is kept beside it
