"""The consumer function on moto, for redrive's unit tests: moto would run Invoke in Docker, so a
``before-call`` hook on each Lambda client answers it with the real handler, in-process, against
moto's sink, as Lambda would: the function's environment as deployed (read from moto each time, so
that a configuration change is a deployment), the handler's own log lines and EMF line as the
invocation's log tail (``LogType=Tail``), a ``FunctionError`` when the handler raises. The call goes
through botocore up to the hook, so ``aws_calls.recording`` sees it.

    function = InProcessFunction(stack)
    redrive.redrive(function.client, target, options)
    function.events  # every event it was invoked with
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from support import FakeContext, fresh_handler

if TYPE_CHECKING:
    from collections.abc import Iterator

    from moto_stack import MotoStack

TAIL_BYTES = 4096


@dataclass
class Answered:
    status_code: int = 200  # what botocore reads of the HTTP response


@dataclass
class InProcessFunction:
    stack: MotoStack
    error: Exception | None = None  # raised instead of answering (a throttle, a timeout)
    events: list[dict[str, Any]] = field(default_factory=list)
    tails: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # the invocations' request ids

    def __post_init__(self) -> None:
        # The function's own clients, made now: a recording opened later (aws_calls) sees the
        # command's calls only, not the function's reads of its configuration and writes to its sink.
        self._lambda = self.stack.client("lambda")
        self._sink = self.stack.client("dynamodb")

    def client(self, service: str) -> Any:
        """The stack's clients; Lambda's answers Invoke in-process."""
        made = self.stack.client(service)
        if service == "lambda":
            made.meta.events.register("before-call.lambda.Invoke", self._invoke)
        return made

    def _invoke(self, params: dict[str, Any], **_: Any) -> tuple[Answered, dict[str, Any]]:
        if self.error is not None:
            raise self.error
        event = json.loads(params["body"])
        self.events.append(event)
        configuration = self._lambda.get_function_configuration(FunctionName=self.stack.name)
        request = str(uuid.uuid4())
        self.requests.append(request)
        output = io.StringIO()
        answered: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        variables = {
            **configuration["Environment"]["Variables"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration["MemorySize"]),  # Lambda sets it from MemorySize
        }
        with deployed(variables), contextlib.redirect_stdout(output):
            handler = fresh_handler()
            handler.pipeline._client_factory = lambda: self._sink
            context = FakeContext(
                function_name=self.stack.name, invoked_function_arn=self.stack.function_arn, aws_request_id=request
            )
            try:
                body: Any = handler.lambda_handler(event, context)
            except Exception as exc:
                answered["FunctionError"] = "Unhandled"
                body = {"errorType": type(exc).__name__, "errorMessage": "the handler raised"}
        log = f"START RequestId: {request} Version: $LATEST\n{output.getvalue()}END RequestId: {request}\n"
        self.tails.append(log)
        if params.get("headers", {}).get("X-Amz-Log-Type") == "Tail":
            answered["LogResult"] = base64.b64encode(log.encode()[-TAIL_BYTES:]).decode()
        answered["Payload"] = io.BytesIO(json.dumps(body).encode())
        answered["ResponseMetadata"] = {"RequestId": request, "HTTPStatusCode": 200}
        return Answered(), answered


@contextlib.contextmanager
def deployed(variables: dict[str, str]) -> Iterator[None]:
    """The function's environment variables for the handler's cold start, restored afterwards."""
    names = [*variables, "POWERTOOLS_SERVICE_NAME"]
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def as_mapping_delivers(stack: MotoStack, raws: list[dict[str, Any]], shard: str) -> dict[str, Any]:
    """The event Lambda's event source mapping would send for these GetRecords records (Lambda's
    documented Kinesis event: the test's own builder, independent of redrive's)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": raw["PartitionKey"],
                    "sequenceNumber": raw["SequenceNumber"],
                    "data": base64.b64encode(raw["Data"]).decode(),
                    "approximateArrivalTimestamp": raw["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{raw['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::123456789012:role/{stack.name}-{stack.region}",
                "awsRegion": stack.region,
                "eventSourceARN": stack.stream_arn,
            }
            for raw in raws
        ]
    }


# ------------------------------------------------------------------------------------ the failure paths
NOW = "2026-11-23T08:00:00.000Z"
POISON = ("9", b"\xff not json")


def good(racer: int, second: int = 1, race: int = 42) -> tuple[str, bytes]:
    from support import telemetry

    return str(racer), json.dumps(telemetry(racer, second, race=race)).encode()


def put(stack: MotoStack, messages: list[tuple[str, bytes]], stream: str | None = None) -> list[dict[str, Any]]:
    kinesis = stack.client("kinesis")
    return [kinesis.put_record(StreamName=stream or stack.name, PartitionKey=k, Data=d) for k, d in messages]


def invocation(stack: MotoStack, puts: list[dict[str, Any]], **info: Any) -> dict[str, Any]:
    """Lambda's invocation record for a failed batch (what the on-failure queue receives)."""
    batch = {
        "shardId": puts[0]["ShardId"],
        "startSequenceNumber": puts[0]["SequenceNumber"],
        "endSequenceNumber": puts[-1]["SequenceNumber"],
        "approximateArrivalOfFirstRecord": NOW,
        "approximateArrivalOfLastRecord": NOW,
        "batchSize": len(puts),
        "streamArn": stack.stream_arn,
        **info,
    }
    return {
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4a7e-af9c-0c604cde93a5",
            "functionArn": stack.function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 4,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": NOW,
        "KinesisBatchInfo": batch,
    }


def enqueue(stack: MotoStack, body: dict[str, Any] | str) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return str(stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=text)["MessageId"])


def queue(stack: MotoStack) -> tuple[int, int]:
    """(visible, hidden) messages of the on-failure queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = stack.client("sqs").get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=names)["Attributes"]
    return int(found[names[0]]), int(found[names[1]])


def stream_records(stack: MotoStack, stream: str | None = None) -> list[dict[str, Any]]:
    """Every record of every shard of the stream (GetRecords), in shard order."""
    kinesis = stack.client("kinesis")
    name = stream or stack.name
    found: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )
        found += kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    return found


def in_stream(stack: MotoStack, stream: str | None = None) -> list[tuple[str, bytes]]:
    return [(r["PartitionKey"], r["Data"]) for r in stream_records(stack, stream)]


def delivered(function: InProcessFunction) -> list[tuple[str, bytes]]:
    """(partition key, bytes) of every record the function was invoked with, in order."""
    return [
        (r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"]))
        for event in function.events
        for r in event["Records"]
    ]


def delivered_sequences(function: InProcessFunction) -> list[str]:
    return [
        r["kinesis"]["sequenceNumber"] if "kinesis" in r else r["dynamodb"]["SequenceNumber"]
        for event in function.events
        for r in event["Records"]
    ]


def ledger_items(stack: MotoStack, prefix: str = "") -> list[dict[str, Any]]:
    items = stack.client("dynamodb").scan(TableName=stack.ledger, ConsistentRead=True)["Items"]
    return sorted((i for i in items if i["pk"]["S"].startswith(prefix)), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def archived(stack: MotoStack, messages: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Put the messages into the stream, and return the invocation record Lambda archives when their
    batch fails: the records as the mapping delivered them (the stream's own sequence numbers and bytes)."""
    puts = put(stack, messages)
    raws = [r for r in stream_records(stack) if r["SequenceNumber"] in {p["SequenceNumber"] for p in puts}]
    document = invocation(stack, puts)
    return {**document, "payload": as_mapping_delivers(stack, raws, puts[0]["ShardId"])}


def archive(stack: MotoStack, key: str, document: dict[str, Any] | bytes, **extra: Any) -> None:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=io.BytesIO(body), **extra)


def keys(stack: MotoStack) -> list[str]:
    return sorted(o["Key"] for o in stack.client("s3").list_objects_v2(Bucket=stack.bucket).get("Contents", []))


def changes(stack: MotoStack, count: int) -> list[dict[str, Any]]:
    """``count`` items put into the DynamoDB source table, and their stream records as Lambda delivers
    them (GetRecords' own answer: sequence numbers, times as epoch seconds, the stream's ARN)."""
    dynamodb, streams = stack.client("dynamodb"), stack.client("dynamodbstreams")
    for n in range(count):
        dynamodb.put_item(TableName=stack.name, Item={"id": {"S": f"k{n}"}, "total": {"N": str(n)}})
    shard = streams.describe_stream(StreamArn=stack.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stack.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    raws = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"][-count:]
    records = []
    for raw in raws:
        body = {
            **raw["dynamodb"],
            "ApproximateCreationDateTime": raw["dynamodb"]["ApproximateCreationDateTime"].timestamp(),
        }
        records.append({**raw, "dynamodb": body, "eventSourceARN": stack.stream_arn, "shard": shard})
    return records


def ddb_archived(stack: MotoStack, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The invocation record Lambda archives for a failed batch of these DynamoDB stream records."""
    shard = records[0]["shard"]
    plain = [{k: v for k, v in r.items() if k != "shard"} for r in records]
    info = {"shardId": shard, "startSequenceNumber": plain[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": plain[-1]["dynamodb"]["SequenceNumber"], "batchSize": len(plain),
            "streamArn": stack.stream_arn}  # fmt: skip
    return {"requestContext": {"functionArn": stack.function_arn}, "timestamp": NOW, "DDBStreamBatchInfo": info,
            "payload": {"Records": plain}}  # fmt: skip
