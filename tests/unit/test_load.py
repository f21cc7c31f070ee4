"""The load generator: Alleycat-shaped messages, racer partition keys, no dropped message."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

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
    dynamodb_source = boto3.client("dynamodb")
    dynamodb_source.create_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    outputs = tmp_path / "stack.json"
    outputs.write_text(json.dumps({"example": "dynamodb-streams", "source_table_name": "orders", "function_name": "f"}))
    assert cli.main(["load", "--outputs", str(outputs), "--racers", "3", "--seconds", "1", "--json"]) == 0
    assert len(dynamodb_source.scan(TableName="orders")["Items"]) == 3
