"""The alleycat processor: aggregation, write counts, redelivery and concurrent writers."""

from __future__ import annotations

from typing import Any

import pytest

from stream_pipeline.processors.alleycat import output_of
from support import (
    SINK,
    FakeContext,
    PipelineFactory,
    api_calls,
    expected_standings,
    kinesis_record,
    load_event,
    race_batch,
    scan,
    standings_in,
    telemetry,
)


def run(pipeline: Any, batch: list[dict[str, Any]]) -> Any:
    return pipeline.run(batch, FakeContext().get_remaining_time_in_millis)


def test_output_formula_matches_the_alleycat_app() -> None:
    assert output_of(71, 52) == round(((71 + 35) * (52 + 65)) / 100, 4) == 124.02
    assert output_of(30.5, 33.25) == 64.3538  # 65.5 * 98.25 / 100 = 64.35375


def test_fixture_event_lands_in_the_sink(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    outcome = run(make_pipeline(), load_event("kinesis_event.json")["Records"])
    assert outcome.response() == {"batchItemFailures": []}
    (item,) = scan(dynamodb, SINK)
    assert item["pk"] == {"S": "RACE#42"}
    assert item["sk"] == {"S": "RACER#17"}
    assert item["best_output"] == {"N": "124.02"}
    assert item["message_count"] == {"N": "1"}
    assert item["finished"] == {"BOOL": False}


def test_best_output_count_last_second_and_final(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = race_batch(racers=7, seconds=6)
    outcome = run(make_pipeline(), batch)
    assert outcome.failed == 0
    assert outcome.processed == 42
    standings = standings_in(dynamodb, SINK)
    assert standings == expected_standings(batch)
    assert all(entry["message_count"] == 6 and entry["last_second"] == 6 for entry in standings.values())
    assert all("final_output" in entry for entry in standings.values())


def test_several_races_keep_separate_standings(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = race_batch(racers=3, seconds=2, race=1) + race_batch(racers=3, seconds=3, race=2)
    run(make_pipeline(), batch)
    assert standings_in(dynamodb, SINK) == expected_standings(batch)
    assert len(scan(dynamodb, SINK)) == 6


def test_batches_accumulate_across_invocations(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    first = race_batch(racers=4, seconds=3)
    second = race_batch(racers=4, seconds=2, start_second=4)
    pipeline = make_pipeline()
    run(pipeline, first)
    run(pipeline, second)
    assert standings_in(dynamodb, SINK) == expected_standings(first + second)


def test_one_write_per_racer_not_per_record(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = race_batch(racers=50, seconds=10)  # 500 records
    pipeline = make_pipeline()
    with api_calls() as log:
        outcome = run(pipeline, batch)
    assert outcome.processed == 500
    writes = log.count("dynamodb", "PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems")
    assert 0 < writes <= 50
    assert outcome.sink.write_requests == writes


def test_redelivered_batch_leaves_the_table_identical(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    batch = race_batch(racers=10, seconds=5)
    pipeline = make_pipeline()
    run(pipeline, batch)
    before = scan(dynamodb, SINK)
    with api_calls() as log:
        outcome = run(pipeline, batch)
    assert scan(dynamodb, SINK) == before
    assert outcome.duplicates == 50
    assert log.count("dynamodb", "PutItem") == 0


def test_redelivery_of_a_suffix_after_a_partial_apply(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    """Lambda may retry from the checkpoint with a batch that overlaps what was applied."""
    batch = race_batch(racers=5, seconds=6)
    pipeline = make_pipeline()
    run(pipeline, batch[:17])
    run(pipeline, batch[9:23])  # overlaps the first delivery, ends mid-way
    run(pipeline, batch[23:])
    run(pipeline, batch)  # and the whole thing once more
    assert standings_in(dynamodb, SINK) == expected_standings(batch)


def test_resharded_racer_continues_on_the_child_shard(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    """After a split the same racer arrives from another shard, whose sequence numbers are unrelated."""
    parent = kinesis_record(telemetry(1, 1), shard="shardId-000000000000", sequence="900")
    child = kinesis_record(telemetry(1, 2), shard="shardId-000000000001", sequence="100")
    pipeline = make_pipeline()
    run(pipeline, [parent])
    run(pipeline, [child])
    assert standings_in(dynamodb, SINK) == expected_standings([parent, child])


class RacingClient:
    """Before our first PutItem lands, another delivery of the same batch writes first."""

    def __init__(self, real: Any, rival: Any, batch: list[dict[str, Any]]) -> None:
        self.real, self.rival, self.batch = real, rival, batch
        self.raced = False
        self.conflicts = 0

    def put_item(self, **kwargs: Any) -> Any:
        if not self.raced:
            self.raced = True
            run(self.rival, self.batch)
        try:
            return self.real.put_item(**kwargs)
        except self.real.exceptions.ConditionalCheckFailedException:
            self.conflicts += 1
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_concurrent_delivery_of_the_same_records_counts_them_once(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    batch = race_batch(racers=1, seconds=4)
    rival = make_pipeline()
    client = RacingClient(dynamodb, rival, batch)
    outcome = run(make_pipeline(client=client, SINK_WRITE_CONCURRENCY="1"), batch)
    assert client.conflicts == 1
    assert outcome.failed == 0
    assert outcome.duplicates == 4
    assert standings_in(dynamodb, SINK) == expected_standings(batch)


def test_without_a_sink_records_are_still_validated(make_pipeline: PipelineFactory) -> None:
    batch = race_batch(racers=3, seconds=2)
    pipeline = make_pipeline(sink=False)
    with api_calls() as log:
        outcome = run(pipeline, [*batch, kinesis_record(data="%%%")])
    assert outcome.processed == 6
    assert outcome.failed == 1
    assert log.calls == {}


@pytest.mark.parametrize("racer_id", ["A-17", 17])
def test_identifiers_may_be_strings_or_integers(
    make_pipeline: PipelineFactory, dynamodb: Any, racer_id: str | int
) -> None:
    run(make_pipeline(), [kinesis_record({**telemetry(1, 1), "racerId": racer_id})])
    (item,) = scan(dynamodb, SINK)
    assert item["sk"] == {"S": f"RACER#{racer_id}"}
