"""A throttled sink: retried with backoff inside the remaining time, never dropped when time runs out."""

from __future__ import annotations

from typing import Any

import pytest

from stream_pipeline.sink import Sink, SinkUnavailable
from support import (
    SINK,
    FakeClock,
    FlakyClient,
    PipelineFactory,
    change_batch,
    decode,
    expected_standings,
    race_batch,
    scan,
    standings_in,
    throttled,
)


def test_throttled_alleycat_writes_are_retried_until_they_land(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = race_batch(racers=30, seconds=4)
    clock = FakeClock(remaining_ms=30_000)
    client = FlakyClient(dynamodb, share=0.4)
    outcome = make_pipeline(client=client, sleep=clock.sleep).run(batch, clock.remaining)
    assert client.throttles > 5
    assert outcome.failed == 0
    assert outcome.sink.throttles == client.throttles
    assert clock.slept > 0
    assert standings_in(dynamodb, SINK) == expected_standings(batch)


def test_unprocessed_audit_items_are_retried_until_they_land(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = change_batch(items=30)
    clock = FakeClock(remaining_ms=30_000)
    client = FlakyClient(dynamodb, share=0.5)
    outcome = make_pipeline(client=client, sleep=clock.sleep).run(batch, clock.remaining)
    assert client.throttles > 2
    assert outcome.failed == 0
    assert len(scan(dynamodb, SINK)) == 90


@pytest.mark.parametrize("share", [1.0, 0.9])
def test_when_time_runs_out_alleycat_records_are_reported_not_dropped(
    make_pipeline: PipelineFactory, dynamodb: Any, share: float
) -> None:
    batch = race_batch(racers=20, seconds=3)
    clock = FakeClock(remaining_ms=1_800)  # 0.3 s after the safety margin
    client = FlakyClient(dynamodb, share=share, seed=3)
    outcome = make_pipeline(client=client, sleep=clock.sleep, SINK_WRITE_CONCURRENCY="1").run(batch, clock.remaining)

    assert outcome.failed > 0
    failed = {f["itemIdentifier"] for f in outcome.failures}
    # The failures are a suffix of the batch: Lambda resumes exactly at the first one.
    assert [r["kinesis"]["sequenceNumber"] for r in batch[outcome.processed :]] == [
        f["itemIdentifier"] for f in outcome.failures
    ]
    # Nothing is lost: every racer's standing covers at least all of its records before the checkpoint.
    applied = [r for r in batch if r["kinesis"]["sequenceNumber"] not in failed]
    stored = standings_in(dynamodb, SINK)
    for key, entry in expected_standings(applied).items():
        assert key in stored
        assert stored[key]["message_count"] >= entry["message_count"]
    # Redelivering the failed suffix (with plenty of time) completes the race exactly once.
    make_pipeline().run(batch[outcome.processed :], lambda: 30_000)
    assert standings_in(dynamodb, SINK) == expected_standings(batch)


def test_when_time_runs_out_audit_records_are_reported_not_dropped(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    batch = change_batch(items=20)
    clock = FakeClock(remaining_ms=2_500)
    client = FlakyClient(dynamodb, share=1.0)
    outcome = make_pipeline(client=client, sleep=clock.sleep).run(batch, clock.remaining)
    assert outcome.failed > 0
    written = {i["sequence_number"]["S"] for i in scan(dynamodb, SINK)}
    failed = [f["itemIdentifier"] for f in outcome.failures]
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in batch[outcome.processed :]]
    assert {r["dynamodb"]["SequenceNumber"] for r in batch[: outcome.processed]} <= written
    make_pipeline().run(batch[outcome.processed :], lambda: 30_000)
    assert len(scan(dynamodb, SINK)) == 60


class AlwaysThrottled:
    def put_item(self, **_: Any) -> Any:
        raise throttled("PutItem")


def test_backoff_grows_and_stops_at_the_deadline() -> None:
    clock = FakeClock(remaining_ms=5_000)
    sink = Sink(client=AlwaysThrottled(), table_name=SINK, sleep=clock.sleep)  # type: ignore[arg-type]
    sink.reset(clock.remaining)
    with pytest.raises(SinkUnavailable, match="deadline"):
        sink.put_if_version({"pk": {"S": "a"}, "sk": {"S": "b"}}, None)
    assert sink.stats.throttles == sink.stats.write_requests >= 4
    assert clock.remaining_ms > 0  # it gave up before, not after, the deadline


def test_non_retryable_errors_fail_fast(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = race_batch(racers=2, seconds=1)
    dynamodb.delete_table(TableName=SINK)
    outcome = make_pipeline().run(batch, lambda: 30_000)
    assert outcome.failed == 2
    assert "ResourceNotFoundException" in outcome.first_failure_reason
    assert decode(batch[0])["racerId"] == 1
