"""The load generator: Alleycat-shaped messages, racer partition keys, no dropped message."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import boto3
import pytest
from moto import mock_aws

import moto_stack
from stream_pipeline_ops import cli, load


def test_messages_have_the_simulator_shape_ranges_and_a_final_event() -> None:
    seconds = list(load.race(racers=20, seconds=30, race_id=5, seed=1))
    assert len(seconds) == 30
    assert all(len(messages) == 20 for _, messages in seconds)
    for second, messages in seconds:
        for racer_id, message in messages:
            assert set(message) == {"event", "deviceTimestamp", "second", "raceId", "name", "racerId", "classId",
                                    "cadence", "resistance"}  # fmt: skip
            assert message["racerId"] == racer_id
            assert message["second"] == second
            assert 30 <= message["cadence"] <= 90
            assert 33 <= message["resistance"] <= 86
            assert message["event"] == ("final" if second == 30 else "update")


def test_each_racer_follows_a_seeded_trend() -> None:
    first = [[m for _, m in messages] for _, messages in load.race(5, 10, race_id=1, seed=42)]
    again = [[m for _, m in messages] for _, messages in load.race(5, 10, race_id=1, seed=42)]
    other = [[m for _, m in messages] for _, messages in load.race(5, 10, race_id=1, seed=43)]

    def readings(seconds: list[list[dict[str, Any]]]) -> list[tuple[int, int]]:
        return [(m["cadence"], m["resistance"]) for messages in seconds for m in messages]

    assert readings(first) == readings(again)
    assert readings(first) != readings(other)


class ThrottlingKinesis:
    """Rejects a share of entries with ProvisionedThroughputExceededException, like a full shard."""

    def __init__(self, reject_first_attempts: int) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.reject = reject_first_attempts
        self.accepted: list[dict[str, Any]] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.calls.append(Records)
        results = []
        failed = 0
        for index, record in enumerate(Records):
            if len(self.calls) <= self.reject and index % 3 == 0:
                failed += 1
                results.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"})
            else:
                self.accepted.append(record)
                results.append({"SequenceNumber": str(len(self.accepted)), "ShardId": "shardId-000000000000"})
        return {"FailedRecordCount": failed, "Records": results}


def test_throttled_entries_are_retried_until_accepted_and_counted() -> None:
    fake = ThrottlingKinesis(reject_first_attempts=2)
    target = load.KinesisTarget("alleycat", client=fake)
    summary = load.Summary(target="alleycat", racers=600, seconds=1)
    (_, messages), *_ = load.race(600, 1, race_id=1, seed=1)
    target.send(messages, summary, sleep=lambda _: None)
    assert summary.records_sent == 600
    assert summary.acknowledged == 600
    assert summary.failed_after_retries == 0
    assert summary.throttled > 0
    assert summary.retried == summary.throttled
    assert sorted(int(json.loads(r["Data"])["racerId"]) for r in fake.accepted) == list(range(1, 601))
    assert all(len(call) <= 500 for call in fake.calls)
    assert all(r["PartitionKey"] == str(json.loads(r["Data"])["racerId"]) for r in fake.accepted)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_a_race_lands_in_a_kinesis_stream(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load.time, "sleep", lambda _: None)
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="alleycat", ShardCount=1)
    out = io.StringIO()
    summary = load.run(load.KinesisTarget("alleycat"), racers=7, seconds=3, race_id=9, out=out)
    shard = kinesis.list_shards(StreamName="alleycat")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="alleycat", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    assert len(records) == summary.acknowledged == 21
    finals = [json.loads(r["Data"]) for r in records if json.loads(r["Data"])["event"] == "final"]
    assert len(finals) == 7
    assert "acknowledged 21" in out.getvalue()  # not a terminal: plain lines, ending with the total


def test_a_race_writes_racer_items_to_a_source_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load.time, "sleep", lambda _: None)
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    summary = load.run(load.TableTarget("orders"), racers=30, seconds=2, race_id=3, out=io.StringIO())
    assert summary.acknowledged == 60
    items = dynamodb.scan(TableName="orders")["Items"]
    assert len(items) == 30
    assert {i["event"]["S"] for i in items} == {"final"}


def test_the_command_refuses_more_than_a_thousand_racers(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["load", "--racers", "1001", "--stream", "s"]) == cli.EXIT_STACK
    assert "--racers must be from 1 to 1000" in capsys.readouterr().err


def test_load_without_a_stack_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    """The bug this replaces: `make load` after `make up EXAMPLE=dynamodb-streams` was a KeyError."""
    assert cli.main(["load", "--seconds", "1"]) == cli.EXIT_STACK
    err = capsys.readouterr().err
    assert "Nothing to load" in err
    assert "Traceback" not in err


def test_load_targets_the_source_table_of_a_dynamodb_stack(
    aws: None, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make up EXAMPLE=dynamodb-streams` then `make load`: the outputs name a table, and the race goes there."""
    monkeypatch.setattr(load.time, "sleep", lambda _: None)
    stack = moto_stack.build("orders", source_type="dynamodb", destination="s3")  # its consumer reads the table
    outputs = stack.write_outputs(tmp_path / "stack.json")
    assert cli.main(["load", "--outputs", str(outputs), "--racers", "3", "--seconds", "1", "--json"]) == 0
    assert len(stack.client("dynamodb").scan(TableName="orders")["Items"]) == 3


# ------------------------------------------------------------------ KPL aggregation and metrics
def _read_stream(kinesis: Any, stream: str) -> dict[str, list[dict[str, Any]]]:
    """Every record of every shard, as Lambda would deliver it (base64 data, eventID with the shard)."""
    import base64

    from support import kinesis_record

    by_shard: dict[str, list[dict[str, Any]]] = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        shard_id = shard["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
        records = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
        by_shard[shard_id] = [
            kinesis_record(
                data=base64.b64encode(r["Data"]).decode(),
                sequence=r["SequenceNumber"],
                shard=shard_id,
                partition_key=r["PartitionKey"],
            )
            for r in records
        ]
    return by_shard


def test_an_aggregated_race_keeps_each_racer_on_one_shard_and_the_consumer_gets_it_all(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`load --aggregate` into two shards: the real KPL format (aws-kinesis-agg's deaggregator reads
    it), every message once, each racer's messages on one shard in order, fewer Kinesis records than
    messages, and our consumer makes exactly the standings of the race from what the stream holds."""
    import base64

    from stream_pipeline.config import load_settings
    from stream_pipeline.pipeline import Pipeline
    from support import create_sink_table, expected_standings, standings_in, user_records

    monkeypatch.setattr(load.time, "sleep", lambda _: None)
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="alleycat", ShardCount=2)
    target = load.KinesisTarget("alleycat", aggregate=True, buffer_ms=100)
    summary = load.run(target, racers=40, seconds=5, race_id=9, out=io.StringIO())

    by_shard = _read_stream(kinesis, "alleycat")
    assert all(len(records) > 0 for records in by_shard.values()), "both shards get racers"
    kinesis_records = [r for records in by_shard.values() for r in records]
    assert summary.kinesis_records == len(kinesis_records) < summary.acknowledged == 200
    assert all(len(base64.b64decode(r["kinesis"]["data"])) <= load.AGGREGATE_BYTES for r in kinesis_records)
    seen: dict[int, tuple[str, list[int]]] = {}
    for shard, records in by_shard.items():
        for user in user_records(records):
            message = json.loads(base64.b64decode(user["kinesis"]["data"]))
            racer_shard, seconds = seen.setdefault(message["racerId"], (shard, []))
            assert racer_shard == shard, f"racer {message['racerId']} on two shards"
            seconds.append(message["second"])
    assert sorted(seen) == list(range(1, 41))
    assert all(seconds == [1, 2, 3, 4, 5] for _, seconds in seen.values())

    dynamodb = boto3.client("dynamodb")
    create_sink_table(dynamodb, "sink-table")
    pipeline = Pipeline(load_settings({"SINK_TABLE_NAME": "sink-table"}), logging.getLogger("t"))
    for records in by_shard.values():
        assert pipeline.run(records, lambda: 30_000).failed == 0
    assert standings_in(dynamodb, "sink-table") == expected_standings(user_records(kinesis_records))


class RecordingKinesis(ThrottlingKinesis):
    """ThrottlingKinesis with one shard to predict, recording each PutRecords request."""

    def list_shards(self, **_: Any) -> dict[str, Any]:
        return {"Shards": [{"ShardId": "shardId-000000000000", "SequenceNumberRange": {"StartingSequenceNumber": "1"},
                            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)}}]}  # fmt: skip


def test_aggregates_stay_within_a_kinesis_record_and_requests_within_5_mib() -> None:
    fake = RecordingKinesis(reject_first_attempts=0)
    target = load.KinesisTarget("alleycat", client=fake, aggregate=True)
    summary = load.Summary(target="alleycat", racers=30, seconds=1)
    big = "x" * 200_000  # 30 messages of about 200 KB: 6 MB in all
    target.send([(r, {"racerId": r, "pad": big}) for r in range(30)], summary, sleep=lambda _: None)
    target.flush(summary)
    assert summary.acknowledged == 30
    sizes = [len(r["Data"]) + len(r["PartitionKey"]) for call in fake.calls for r in call]
    assert max(sizes) <= 1024 * 1024
    assert all(sum(len(r["Data"]) + len(r["PartitionKey"]) for r in call) <= 5 * 1024 * 1024 for call in fake.calls)
    assert 6 <= len(sizes) <= 8  # five messages to an aggregate of 1 MiB


def test_an_aggregate_waits_for_the_buffering_time_and_no_longer() -> None:
    now = [100.0]
    fake = RecordingKinesis(reject_first_attempts=0)
    target = load.KinesisTarget("alleycat", client=fake, aggregate=True, buffer_ms=250, clock=lambda: now[0])
    summary = load.Summary(target="alleycat", racers=3, seconds=1)
    target.send([(r, {"racerId": r}) for r in range(3)], summary, sleep=lambda _: None)
    assert fake.calls == []
    assert target.next_deadline() == pytest.approx(100.25)
    now[0] = 100.2
    target.flush(summary, force=False)
    assert fake.calls == []
    now[0] = 100.25
    target.flush(summary, force=False)
    ((record,),) = fake.calls
    assert summary.acknowledged == 3
    assert summary.kinesis_records == 1
    assert record["ExplicitHashKey"] == str(load.hash_key(record["PartitionKey"]))


class FakeCloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def put_metric_data(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def _metrics(watch: FakeCloudWatch) -> dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, float]]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, float]] = {}
    for call in watch.calls:
        assert call["Namespace"] == "KinesisProducerLibrary"
        for datum in call["MetricData"]:
            dims = tuple((d["Name"], d["Value"]) for d in datum["Dimensions"])
            stats = found.setdefault((datum["MetricName"], dims), {"SampleCount": 0.0, "Sum": 0.0})
            stats["SampleCount"] += datum["StatisticValues"]["SampleCount"]
            stats["Sum"] += datum["StatisticValues"]["Sum"]
    return found


@pytest.mark.parametrize("aggregate", [False, True])
def test_producer_metrics_have_the_kpl_names_and_add_up(aggregate: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Throttled entries are retried: ErrorsByCode counts them by code, RetriesPerRecord says how often,
    UserRecordsPut and KinesisRecordsPut count what landed, at global and stream granularity."""
    monkeypatch.setattr(load.time, "sleep", lambda _: None)
    fake = RecordingKinesis(reject_first_attempts=2)
    watch = FakeCloudWatch()
    metrics = load.ProducerMetrics("alleycat", client=watch)
    target = load.KinesisTarget("alleycat", client=fake, aggregate=aggregate, metrics=metrics)
    summary = load.run(target, racers=600, seconds=2, race_id=1, out=io.StringIO())
    assert summary.acknowledged == 1200
    found = _metrics(watch)
    stream = (("StreamName", "alleycat"),)
    for level in ((), stream):
        assert found[("UserRecordsPut", level)]["Sum"] == 1200
        assert found[("KinesisRecordsPut", level)]["Sum"] == summary.kinesis_records
        assert found[("ErrorsByCode", (*level, ("ErrorCode", "ProvisionedThroughputExceededException")))]["Sum"] > 0
        assert found[("AllErrors", level)]["Sum"] == sum(summary.errors.values())
        assert found[("RetriesPerRecord", level)]["SampleCount"] == 1200
        assert found[("RetriesPerRecord", level)]["Sum"] == summary.retried
        assert found[("UserRecordsPerKinesisRecord", level)]["Sum"] == 1200
        assert found[("BufferingTime", level)]["SampleCount"] == 1200
        assert ("RequestTime", level) in found
    if aggregate:
        assert summary.kinesis_records < 20
    else:
        assert summary.kinesis_records == 1200
    assert summary.metric_calls == len(watch.calls) <= 3  # statistic sets per minute: a call or two


def test_the_command_aggregates_and_publishes_producer_metrics_unless_told_not_to(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from support import api_calls

    monkeypatch.setattr(load.time, "sleep", lambda _: None)
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="alleycat", ShardCount=1)
    with api_calls() as log:
        assert cli.main(["load", "--stream", "alleycat", "--racers", "50", "--seconds", "2", "--aggregate",
                         "--buffer-ms", "50", "--json"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert (summary["acknowledged"], summary["aggregated"]) == (100, True)
    assert summary["kinesis_records"] == log.count("kinesis", "PutRecords") == 2  # one aggregate a second
    # One statistic set per minute: one call, or two when the 2 s run crosses a minute boundary.
    assert summary["metric_calls"] == log.count("cloudwatch", "PutMetricData") in (1, 2)
    names = {
        m["MetricName"] for m in boto3.client("cloudwatch").list_metrics(Namespace="KinesisProducerLibrary")["Metrics"]
    }
    assert {"UserRecordsPut", "KinesisRecordsPut", "BufferingTime", "UserRecordsPerKinesisRecord"} <= names

    with api_calls() as log:
        assert (
            cli.main(["load", "--stream", "alleycat", "--racers", "5", "--seconds", "1", "--no-producer-metrics"]) == 0
        )
    assert log.count("cloudwatch") == 0
    assert "5 records sent to alleycat" in capsys.readouterr().out


def test_the_command_refuses_a_bad_buffering_time_and_aggregates_for_a_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["load", "--stream", "s", "--buffer-ms", "-1"]) == cli.EXIT_STACK
    assert "--buffer-ms must be from 0 to 60000" in capsys.readouterr().err
    assert cli.main(["load", "--table", "t", "--aggregate"]) == cli.EXIT_STACK
    assert "--aggregate packs messages into Kinesis records" in capsys.readouterr().err


class SlowKinesis:
    """moto's Kinesis behind an endpoint that answers each PutRecords ``delay_s`` late: waiting (an
    emulator that slows down), or ``busy`` burning this process's CPU for as long (a producer whose
    own CPU is the limit)."""

    def __init__(self, delay_s: float, *, busy: bool = False, endpoint: str = "http://127.0.0.1:4566") -> None:
        self.real = boto3.client("kinesis")
        self.delay_s, self.busy = delay_s, busy
        self.meta = type("Meta", (), {"endpoint_url": endpoint})()

    def put_records(self, **kwargs: Any) -> Any:
        import time

        if self.busy:
            until = time.process_time() + self.delay_s
            while time.process_time() < until:
                pass
        else:
            time.sleep(self.delay_s)
        return self.real.put_records(**kwargs)


def test_a_race_the_endpoint_keeps_waiting_is_judged_short_and_the_emulator_named(aws: None) -> None:
    """1,000 racers need two PutRecords a second; at 0.7 s each the race cannot keep its rate, and
    the time went to waiting for the endpoint: on a loopback endpoint, that is the emulator."""
    boto3.client("kinesis").create_stream(StreamName="alleycat", ShardCount=2)
    summary = load.run(load.KinesisTarget("alleycat", client=SlowKinesis(0.7)), racers=1000, seconds=2,
                       out=io.StringIO())  # fmt: skip
    assert summary.acknowledged == 2000
    assert summary.achieved_rate < 0.8 * 1000
    assert summary.put_calls == 4
    verdict = load.judgement(summary)
    assert verdict.startswith("short of the target: ")
    assert "The emulator, not the pipeline, held it back" in verdict
    assert "http://127.0.0.1:4566" in verdict

    summary.endpoint = "https://kinesis.us-east-1.amazonaws.com"  # the same race against AWS
    assert "The endpoint held it back" in load.judgement(summary)


def test_a_race_short_of_its_rate_by_the_producers_own_cpu_or_the_machine_says_which() -> None:
    """The rule on the measured shares (a busy producer cannot be timed reliably on a shared machine):
    our CPU over half the race is our own limit; neither it nor the endpoint over half, the machine's."""
    race = load.Summary(target="alleycat", racers=1000, seconds=60, acknowledged=60_000, duration_s=100.0,
                        put_calls=120, put_s=20.0, endpoint="http://127.0.0.1:4576")  # fmt: skip
    race.producer_cpu_s = 70.0
    assert "This producer's own CPU held it back: this producer used 70.0 s of CPU" in load.judgement(race)
    race.producer_cpu_s = 10.0
    verdict = load.judgement(race)
    assert "The machine held it back: waiting for the endpoint took 20.0 s and this producer's CPU 10.0 s" in verdict
    assert "other processes on the cores (LocalStack's among them)" in verdict
    assert load.judgement(load.Summary(target="t", racers=1000, seconds=60, acknowledged=60_000,
                                       duration_s=61.0)).startswith("on target: 984 records/s")  # fmt: skip


def test_a_race_that_keeps_its_rate_is_on_target_and_the_command_prints_the_judgement(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("kinesis").create_stream(StreamName="alleycat", ShardCount=1)
    assert cli.main(["load", "--stream", "alleycat", "--racers", "20", "--seconds", "2",
                     "--no-producer-metrics"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "rate: on target: " in out
    assert "of the 20/s asked" in out
