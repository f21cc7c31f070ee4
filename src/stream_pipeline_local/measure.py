"""Drive a race through a deployed Kinesis pipeline and account for every record.

Used by the integration tier's smoke test (a small race) and by ``make bench`` (P5, the full race):
records in must equal records in the sink plus records in the on-failure queue, and the report
says how far behind the consumer ran (ProcessingLatency from the handler's EMF lines: arrival in
the stream to processed) and how long after the last put the last record landed.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import boto3.session

from stream_pipeline_ops import load
from stream_pipeline_ops.stack import kinesis_stream_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@dataclass(frozen=True)
class RaceReport:
    racers: int
    seconds: int
    records_in: int
    """User records (the racers' messages), whether or not they travelled in aggregates."""
    kinesis_records: int
    in_sink: int
    in_failure_queue: int
    throttled: int
    achieved_rate: float
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    latency_samples: int
    drain_after_last_put_s: float
    invocations: int
    invocation_seconds: float
    """The sum of the invocations' durations (REPORT lines): how long the consumer was busy."""

    @property
    def balanced(self) -> bool:
        return self.records_in == self.in_sink + self.in_failure_queue

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "balanced": self.balanced}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def default_client(service: str) -> Any:
    """A client from the usual AWS variables (endpoint, region, credentials)."""
    return boto3.session.Session().client(service)  # type: ignore[call-overload]  # service is a runtime name


def sink_count(dynamodb: Any, table: str, race_id: int) -> int:
    total = 0
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"RACE#{race_id}"}},
        "ProjectionExpression": "message_count",
        "ConsistentRead": True,
    }
    while True:
        page = dynamodb.query(**kwargs)
        total += sum(int(item["message_count"]["N"]) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def queued_records(sqs: Any, queue_url: str, wait_s: int = 0, kinesis: Any = None) -> int:
    """Records named by the on-failure messages; the messages are consumed. Their batch sizes count
    Kinesis records; with ``kinesis`` (an aggregated race) each range is read back from the stream and
    its user records counted, so the balance is in what the producer put: user records."""
    count = 0
    while True:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)
        messages = response.get("Messages", [])
        if not messages:
            return count
        for message in messages:
            info = json.loads(message["Body"])["KinesisBatchInfo"]
            count += int(info["batchSize"]) if kinesis is None else user_records_in(kinesis, info)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def user_records_in(kinesis: Any, info: dict[str, Any]) -> int:
    """The user records of one failed batch: its Kinesis records, from its start sequence number to its
    end, each a KPL aggregate (its user records) or a plain record (one)."""
    from stream_pipeline import kpl  # noqa: PLC0415 - only an aggregated race needs the decoder

    stream = kinesis_stream_name(str(info["streamArn"]))
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=info["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]  # fmt: skip
    end, wanted, count = int(info["endSequenceNumber"]), int(info["batchSize"]), 0
    while iterator and wanted > 0:
        page = kinesis.get_records(ShardIterator=iterator, Limit=wanted)
        for record in page["Records"]:
            if int(record["SequenceNumber"]) > end:
                return count
            data = record["Data"]
            count += len(kpl.deaggregate(data)) if data.startswith(kpl.MAGIC) else 1
            wanted -= 1
        if not page["Records"]:
            return count
        iterator = page.get("NextShardIterator")
    return count


def log_lines(logs: Any, group: str, since_ms: int, pattern: str) -> Iterator[str]:
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms, "filterPattern": pattern}
    while True:
        page = logs.filter_log_events(**kwargs)
        yield from (event["message"] for event in page["events"])
        if "nextToken" not in page:
            return
        kwargs["nextToken"] = page["nextToken"]


def latency_samples(logs: Any, group: str, since_ms: int) -> list[float]:
    samples: list[float] = []
    for line in log_lines(logs, group, since_ms, "ProcessingLatency"):
        if line.startswith("{"):
            value = json.loads(line).get("ProcessingLatency", [])
            samples.extend(value if isinstance(value, list) else [value])
    return samples


def invocation_durations_ms(logs: Any, group: str, since_ms: int) -> list[float]:
    """The Duration of every REPORT line (one per invocation)."""
    return [
        float(line.split("\tDuration: ", 1)[1].split(" ms", 1)[0])
        for line in log_lines(logs, group, since_ms, "REPORT")
        if line.startswith("REPORT") and "\tDuration: " in line
    ]


def drive(
    outputs: dict[str, Any],
    *,
    racers: int,
    seconds: int,
    race_id: int,
    client: Callable[[str], Any] = default_client,
    drain_timeout_s: float = 300,
    out: Any = None,
    aggregate: bool = False,
) -> RaceReport:
    """Race ``racers`` for ``seconds`` into the stack's stream and wait until every record is accounted
    for; ``aggregate`` packs the messages into KPL aggregates (`stream-pipeline load --aggregate`), and
    the accounting stays in user records (the racers' messages)."""
    kinesis, dynamodb, sqs, logs = (client(service) for service in ("kinesis", "dynamodb", "sqs", "logs"))
    reader = kinesis if aggregate else None  # to count a failed aggregate's user records
    started_ms = int(time.time() * 1000)
    summary = load.run(
        load.KinesisTarget(str(outputs["stream_name"]), client=kinesis, aggregate=aggregate),
        racers=racers,
        seconds=seconds,
        race_id=race_id,
        **({"out": out} if out is not None else {}),
    )
    queued = 0
    deadline = time.monotonic() + drain_timeout_s
    in_sink = sink_count(dynamodb, str(outputs["sink_table_name"]), race_id)
    while in_sink + queued < summary.acknowledged and time.monotonic() < deadline:
        time.sleep(0.5)
        queued += queued_records(sqs, str(outputs["on_failure_queue_url"]), kinesis=reader)
        in_sink = sink_count(dynamodb, str(outputs["sink_table_name"]), race_id)
    drained = time.time() - summary.last_ack_epoch
    queued += queued_records(sqs, str(outputs["on_failure_queue_url"]), wait_s=1, kinesis=reader)
    time.sleep(1)  # the last EMF lines reach the log group after the last write
    samples = latency_samples(logs, str(outputs["log_group_name"]), started_ms)
    durations = invocation_durations_ms(logs, str(outputs["log_group_name"]), started_ms)
    return RaceReport(
        racers=racers,
        seconds=seconds,
        records_in=summary.acknowledged,
        kinesis_records=summary.kinesis_records,
        in_sink=in_sink,
        in_failure_queue=queued,
        throttled=summary.throttled,
        achieved_rate=summary.achieved_rate,
        latency_p50_ms=percentile(samples, 0.50),
        latency_p99_ms=percentile(samples, 0.99),
        latency_max_ms=max(samples, default=math.nan),
        latency_samples=len(samples),
        drain_after_last_put_s=drained,
        invocations=len(durations),
        invocation_seconds=sum(durations) / 1000,
    )
