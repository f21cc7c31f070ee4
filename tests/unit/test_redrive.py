"""stream-pipeline redrive's bookkeeping, on moto: dry run first, exactly once, nothing lost or doubled."""

from __future__ import annotations

import base64
import io
import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from stream_pipeline_ops import redrive
from support import api_calls, create_sink_table, ddb_record, telemetry

if TYPE_CHECKING:
    from pathlib import Path

STREAM = "alleycat"
LEDGER = "alleycat-sink"


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_sink_table(dynamodb, LEDGER)
        boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="alleycat-failures")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="alleycat-failures-archive")
        yield


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]


def stream_arn() -> str:
    return str(client("kinesis").describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"])


def target(destination: str) -> redrive.Target:
    return redrive.Target(
        function_name=STREAM,
        source_arn=stream_arn(),
        destination_arn=destination,
        environment={"RECORD_PROCESSOR": "alleycat", "SINK_TABLE_NAME": LEDGER},
        ledger_table=LEDGER,
    )


QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:alleycat-failures"
BUCKET_ARN = "arn:aws:s3:::alleycat-failures-archive"


def put_batch(messages: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    kinesis = client("kinesis")
    return [kinesis.put_record(StreamName=STREAM, PartitionKey=key, Data=data) for key, data in messages]


def failure_info(puts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "shardId": puts[0]["ShardId"],
        "startSequenceNumber": puts[0]["SequenceNumber"],
        "endSequenceNumber": puts[-1]["SequenceNumber"],
        "batchSize": len(puts),
        "streamArn": stream_arn(),
    }


def queue_failure(info: dict[str, Any]) -> None:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName="alleycat-failures")["QueueUrl"]
    body = {"requestContext": {"condition": "RetryAttemptsExhausted"}, "KinesisBatchInfo": info, "version": "1.0"}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def queued() -> int:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName="alleycat-failures")["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def all_records() -> list[dict[str, Any]]:
    kinesis = client("kinesis")
    shard = kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]


def good(racer: int, second: int) -> tuple[str, bytes]:
    return str(racer), json.dumps(telemetry(racer, second)).encode()


POISON = ("9", b"\xff not json")


def test_a_dry_run_says_what_would_pass_and_changes_nothing(aws: None) -> None:
    puts = put_batch([good(1, 1), good(2, 1), POISON, good(3, 1)])
    queue_failure(failure_info(puts))
    summary = redrive.redrive(client, target(QUEUE_ARN), redrive.Options())
    assert (summary.failures, summary.fetched, summary.would_pass, summary.still_failing) == (1, 4, 3, 1)
    assert summary.reasons == {"data is not JSON": 1}
    assert (summary.reput, summary.closed) == (0, 0)
    assert len(all_records()) == 4
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName="alleycat-failures")["QueueUrl"]
    assert len(sqs.receive_message(QueueUrl=url).get("Messages", [])) == 1, "left visible, as it was found"
    assert client("dynamodb").scan(TableName=LEDGER)["Items"] == []


def test_apply_puts_back_exactly_once_and_closes_only_when_everything_is_settled(aws: None, tmp_path: Path) -> None:
    puts = put_batch([good(1, 1), good(2, 1), POISON, good(3, 1)])
    queue_failure(failure_info(puts))
    # hide_s=0: the messages come back at once, as they would 15 minutes later
    apply = redrive.Options(apply=True, discard_log=tmp_path / "discarded.jsonl", hide_s=0)

    first = redrive.redrive(client, target(QUEUE_ARN), apply)
    assert (first.reput, first.still_failing, first.closed) == (3, 1, 0), "the poison record keeps the failure open"
    records = all_records()
    assert len(records) == 7
    again = records[4:]
    assert [(r["PartitionKey"], r["Data"]) for r in again] == [good(1, 1), good(2, 1), good(3, 1)]

    second = redrive.redrive(client, target(QUEUE_ARN), apply)
    assert (second.reput, second.already_done, second.closed) == (0, 3, 0), "nothing is put twice"
    assert len(all_records()) == 7

    discard = redrive.Options(
        apply=True, discard=frozenset({puts[2]["SequenceNumber"]}), reason="not JSON, from a broken device",
        discard_log=tmp_path / "discarded.jsonl", hide_s=0,
    )  # fmt: skip
    third = redrive.redrive(client, target(QUEUE_ARN), discard)
    assert (third.discarded, third.already_done, third.closed) == (1, 3, 1)
    assert queued() == 0
    (logged,) = [json.loads(line) for line in (tmp_path / "discarded.jsonl").read_text().splitlines()]
    assert logged["sequence"] == puts[2]["SequenceNumber"]
    assert logged["reason"] == "not JSON, from a broken device"
    # in = re-put + discarded: 4 failed records, 3 back in the stream, 1 given up on purpose
    assert len(all_records()) - 4 + third.discarded == 4


def test_a_record_claimed_but_never_confirmed_is_in_doubt_and_not_put_again(aws: None) -> None:
    puts = put_batch([good(1, 1), good(2, 1)])
    info = failure_info(puts)
    queue_failure(info)
    ledger = redrive.Ledger(client("dynamodb"), LEDGER, stream_arn())
    assert ledger.claim(info["shardId"], puts[0]["SequenceNumber"])  # a run that died between claim and put
    summary = redrive.redrive(client, target(QUEUE_ARN), redrive.Options(apply=True))
    assert (summary.in_doubt, summary.reput, summary.closed) == (1, 1, 0)
    assert len(all_records()) == 3


def test_records_gone_from_the_stream_are_expired_and_the_failure_is_kept(aws: None) -> None:
    puts = put_batch([good(1, 1)])
    info = {**failure_info(puts), "batchSize": 3}  # two of its records are no longer in the stream
    queue_failure(info)
    summary = redrive.redrive(client, target(QUEUE_ARN), redrive.Options(apply=True))
    assert summary.expired == 2
    assert summary.closed == 0
    assert queued() == 1


def test_the_archive_holds_the_records_and_is_moved_when_done(aws: None) -> None:
    """An S3 on-failure destination keeps the records themselves: no stream read needed."""
    s3 = client("s3")
    arn = stream_arn()
    events = [
        {"eventSource": "aws:kinesis", "eventSourceARN": arn, "eventID": f"shardId-000000000000:{n}",
         "kinesis": {"partitionKey": key, "sequenceNumber": str(n), "data": base64.b64encode(data).decode(),
                     "approximateArrivalTimestamp": 1_763_885_700.0}}
        for n, (key, data) in enumerate([good(4, 1), good(5, 1)], start=100)
    ]  # fmt: skip
    info = {"shardId": "shardId-000000000000", "startSequenceNumber": "100", "endSequenceNumber": "101",
            "batchSize": 2, "streamArn": arn}  # fmt: skip
    key = "aws/lambda/6d9a3b1e/shardId-000000000000/2026/11/23/2026-11-23T08.00.00-abc"
    document = {"KinesisBatchInfo": info, "payload": {"Records": events}}
    s3.put_object(Bucket="alleycat-failures-archive", Key=key, Body=io.BytesIO(json.dumps(document).encode()))

    summary = redrive.redrive(client, target(BUCKET_ARN), redrive.Options(apply=True))
    assert (summary.fetched, summary.reput, summary.closed) == (2, 2, 1)
    assert [(r["PartitionKey"], r["Data"]) for r in all_records()] == [good(4, 1), good(5, 1)]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="alleycat-failures-archive")["Contents"]]
    assert keys == [f"redriven/{key}"]


def test_dynamodb_records_are_redriven_through_the_function(aws: None) -> None:
    """DynamoDB Streams cannot be written to: the records go to the function; its reported failures stay."""
    records = [ddb_record("INSERT", f"k{n}", new={"id": {"S": f"k{n}"}}, sequence=500 + n) for n in range(3)]
    invoked: list[dict[str, Any]] = []

    class FakeLambda:
        def invoke(self, FunctionName: str, Payload: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
            event = json.loads(Payload)
            invoked.append(event)
            body = {"batchItemFailures": [{"itemIdentifier": event["Records"][-1]["dynamodb"]["SequenceNumber"]}]}
            return {"Payload": io.BytesIO(json.dumps(body).encode()), "ResponseMetadata": {"RequestId": "r-1"}}

    def clients(service: str) -> Any:
        return FakeLambda() if service == "lambda" else client(service)

    ddb_target = redrive.Target(
        function_name="orders", source_arn="arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x",
        destination_arn=BUCKET_ARN, environment={"RECORD_PROCESSOR": "audit"}, ledger_table=LEDGER,
    )  # fmt: skip
    info = {"shardId": "shardId-1", "startSequenceNumber": "500", "endSequenceNumber": "502", "batchSize": 3,
            "streamArn": ddb_target.source_arn}  # fmt: skip
    document = {"DDBStreamBatchInfo": info, "payload": {"Records": records}}
    client("s3").put_object(
        Bucket="alleycat-failures-archive", Key="aws/lambda/u/shardId-1/x", Body=json.dumps(document)
    )

    summary = redrive.redrive(clients, ddb_target, redrive.Options(apply=True))
    assert [len(event["Records"]) for event in invoked] == [3]
    assert (summary.reput, summary.closed) == (2, 0), "the record the function failed again keeps the failure"
    ledger = redrive.Ledger(client("dynamodb"), LEDGER, ddb_target.source_arn)
    assert [ledger.status("shardId-1", str(500 + n)) for n in range(3)] == ["done", "done", None]


def test_apply_without_a_ledger_and_discard_without_a_reason_are_refused(aws: None) -> None:
    no_ledger = redrive.Target(STREAM, stream_arn(), QUEUE_ARN, {}, None)
    with pytest.raises(redrive.RedriveError, match="needs a ledger table"):
        redrive.redrive(client, no_ledger, redrive.Options(apply=True))
    with pytest.raises(redrive.RedriveError, match="needs --reason"):
        redrive.redrive(client, target(QUEUE_ARN), redrive.Options(discard=frozenset({"1"})))


def test_a_message_that_is_not_a_lambda_failure_record_is_kept_and_counted(aws: None) -> None:
    queue_failure({"shardId": "shardId-000000000000"})  # no sequence range
    summary = redrive.redrive(client, target(QUEUE_ARN), redrive.Options(apply=True))
    assert (summary.unreadable, summary.closed) == (1, 0)
    assert queued() == 1


def test_the_ledger_is_read_with_one_batch_get_per_hundred_records(aws: None) -> None:
    puts = put_batch([good(racer, 1) for racer in range(1, 251)])
    queue_failure(failure_info(puts))
    ledger = redrive.Ledger(client("dynamodb"), LEDGER, stream_arn())
    shard = puts[0]["ShardId"]
    assert ledger.claim(shard, puts[7]["SequenceNumber"], "done")
    assert ledger.claim(shard, puts[201]["SequenceNumber"], "discarded", "a reason")
    with api_calls() as log:
        summary = redrive.redrive(client, target(QUEUE_ARN), redrive.Options())
    assert (summary.fetched, summary.already_done, summary.would_pass) == (250, 2, 248)
    assert log.count("dynamodb", "BatchGetItem") == 3
    assert log.count("dynamodb", "GetItem") == 0


class UnprocessedHalf:
    """A DynamoDB client whose BatchGetItem answers the first half of the keys and returns the rest as
    UnprocessedKeys, `times` times in a row (a throttled table); everything else goes to moto."""

    def __init__(self, real: Any, times: int) -> None:
        self.real = real
        self.times = times
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls += 1
        ((table, request),) = RequestItems.items()
        if self.calls > self.times:
            return self.real.batch_get_item(RequestItems=RequestItems)
        half = len(request["Keys"]) // 2
        answered: dict[str, Any] = {"Responses": {table: []}}
        if half:
            answered = self.real.batch_get_item(RequestItems={table: {**request, "Keys": request["Keys"][:half]}})
        return {**answered, "UnprocessedKeys": {table: {**request, "Keys": request["Keys"][half:]}}}


def test_unprocessed_ledger_keys_are_asked_again_and_a_table_that_never_answers_is_a_clear_error(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redrive.time, "sleep", lambda _s: None)
    stream = stream_arn()
    writer = redrive.Ledger(client("dynamodb"), LEDGER, stream)
    for n in range(40):
        assert writer.claim("shardId-1", str(1000 + n), "done")
    sequences = [str(1000 + n) for n in range(60)]

    flaky = UnprocessedHalf(client("dynamodb"), times=3)
    statuses = redrive.Ledger(flaky, LEDGER, stream).statuses("shardId-1", sequences)
    assert statuses == {str(1000 + n): "done" for n in range(40)}
    assert flaky.calls == 4

    stuck = UnprocessedHalf(client("dynamodb"), times=100)
    with pytest.raises(redrive.RedriveError, match=r"kept \d+ keys unprocessed after 8 tries"):
        redrive.Ledger(stuck, LEDGER, stream).statuses("shardId-1", sequences)
