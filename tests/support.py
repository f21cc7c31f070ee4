"""Builders, a fake Lambda context, an independent oracle and spies shared by the test tiers."""

from __future__ import annotations

import base64
import importlib
import itertools
import json
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types import ModuleType

    from stream_pipeline.pipeline import Pipeline

PipelineFactory = Callable[..., "Pipeline"]

SINK = "stream-pipeline-sink"
FIXTURES = Path(__file__).parent / "fixtures"
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/alleycat"
DDB_STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-23T00:00:00.000"
BASE_EPOCH = 1_763_885_700.0


def load_event(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


_imports = itertools.count()


def fresh_handler() -> ModuleType:
    """Import the handler anew, as a cold start does. Call it inside the test, not in a fixture:
    pytest's capsys only captures during the test call, and the logger binds stdout when created.

    Each import gets its own service name, hence its own Powertools logger, bound to
    the stdout that pytest captures now (a reused logger would keep an older stream).
    """
    os.environ["POWERTOOLS_SERVICE_NAME"] = f"alleycat-test-{next(_imports)}"
    sys.modules.pop("stream_pipeline.handler", None)
    return importlib.import_module("stream_pipeline.handler")


@dataclass
class FakeContext:
    """The parts of the Lambda context that the handler and Powertools read."""

    function_name: str = "stream-pipeline-consumer"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stream-pipeline-consumer"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/stream-pipeline-consumer"
    log_stream_name: str = "2026/11/23/[$LATEST]abc"
    remaining_ms: float = 30_000.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_ms)


def telemetry(
    racer: int,
    second: int,
    *,
    race: int = 42,
    event: str = "update",
    cadence: float | None = None,
    resistance: float | None = None,
) -> dict[str, Any]:
    rng = random.Random(racer * 1_000 + second)
    return {
        "event": event,
        "deviceTimestamp": int(BASE_EPOCH * 1000) + second * 1000,
        "second": second,
        "raceId": race,
        "name": f"Racer {racer}",
        "racerId": racer,
        "classId": 1,
        "cadence": rng.randint(30, 90) if cadence is None else cadence,
        "resistance": rng.randint(33, 86) if resistance is None else resistance,
    }


_sequence = itertools.count(1)


def next_sequence() -> str:
    """Kinesis-like 56-digit sequence numbers, increasing within a test run."""
    return str(49590338271490256608559692538361571095921575989136588898 + next(_sequence) * 1000)


def kinesis_record(
    message: Any = None,
    *,
    data: str | None = None,
    sequence: str | None = None,
    shard: str = "shardId-000000000000",
    arrival: float = BASE_EPOCH,
    partition_key: str = "1",
) -> dict[str, Any]:
    sequence = sequence or next_sequence()
    if data is None:
        data = base64.b64encode(json.dumps(message).encode()).decode()
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": data,
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
        "awsRegion": "us-east-1",
        "eventSourceARN": KINESIS_ARN,
    }


def race_batch(racers: int, seconds: int, *, race: int = 42, start_second: int = 1) -> list[dict[str, Any]]:
    """Interleaved telemetry: second by second, every racer once; ``final`` at the last second."""
    records = []
    last = start_second + seconds - 1
    for second in range(start_second, last + 1):
        for racer in range(1, racers + 1):
            event = "final" if second == last else "update"
            message = telemetry(racer, second, race=race, event=event)
            records.append(kinesis_record(message, partition_key=str(racer), arrival=BASE_EPOCH + second))
    return records


def aggregate(entries: list[tuple[str, bytes]], max_bytes: int = 51_200) -> list[tuple[str, bytes]]:
    """KPL aggregates of (partition key, data) user records, in order, made by aws-kinesis-agg's
    aggregator (the oracle: the real format); each aggregate is (its partition key, its bytes).
    ``max_bytes`` is the KPL's default AggregationMaxSize."""
    from aws_kinesis_agg.aggregator import RecordAggregator

    aggregator = RecordAggregator(max_size=max_bytes)
    done = [full for key, data in entries if (full := aggregator.add_user_record(key, data)) is not None]
    if (last := aggregator.clear_and_get()) is not None:
        done.append(last)
    return [(str(a.get_partition_key()), a.get_contents()[2]) for a in done]


def aggregated_race_batch(
    racers: int, seconds: int, *, per_aggregate: int, race: int = 42, start_second: int = 1
) -> list[dict[str, Any]]:
    """``race_batch``'s telemetry, ``per_aggregate`` user records to a Kinesis record (the last one
    may carry fewer), each aggregate made by aws-kinesis-agg's aggregator."""
    users = [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"]))
             for r in race_batch(racers, seconds, race=race, start_second=start_second)]  # fmt: skip
    records = []
    for start in range(0, len(users), per_aggregate):
        ((key, blob),) = aggregate(users[start : start + per_aggregate], max_bytes=1024 * 1024)
        second = start // racers + start_second
        records.append(kinesis_record(data=base64.b64encode(blob).decode(), partition_key=key,
                                      arrival=BASE_EPOCH + second))  # fmt: skip
    return records


def user_records(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The oracle's deaggregation (aws-kinesis-agg's deaggregator): Lambda-shaped user records, whose
    ``kinesis.data`` is base64, so ``decode`` and ``expected_standings`` read them as plain records."""
    from aws_kinesis_agg.deaggregator import deaggregate_records

    return list(deaggregate_records(batch))


def ddb_record(
    event_name: str,
    key: str,
    *,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    sequence: int,
    created: float = BASE_EPOCH,
    size: int = 100,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": {"id": {"S": key}},
        "SequenceNumber": str(sequence),
        "SizeBytes": size,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = new
    if old is not None:
        body["OldImage"] = old
    return {
        "eventID": f"event-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": DDB_STREAM_ARN,
    }


def change_batch(items: int, *, start_sequence: int = 1000) -> list[dict[str, Any]]:
    """INSERT, MODIFY, REMOVE for each of ``items`` source items."""
    records = []
    sequence = start_sequence
    for n in range(items):
        key = f"item-{n}"
        v1 = {"id": {"S": key}, "total": {"N": f"{n}.25"}}
        v2 = {"id": {"S": key}, "total": {"N": f"{n}.50"}}
        for name, new, old in (("INSERT", v1, None), ("MODIFY", v2, v1), ("REMOVE", None, v2)):
            sequence += 1
            records.append(ddb_record(name, key, new=new, old=old, sequence=sequence, created=BASE_EPOCH + sequence))
    return records


# --------------------------------------------------------------------- oracle
def decode(record: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


def expected_standings(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """What the sink must hold after ``records`` were applied once, computed independently."""
    standings: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        message = decode(record)
        output = Decimal(repr(round(((message["cadence"] + 35) * (message["resistance"] + 65)) / 100, 4)))
        key = (f"RACE#{message['raceId']}", f"RACER#{message['racerId']}")
        entry = standings.setdefault(key, {"best_output": output, "message_count": 0})
        entry["best_output"] = max(entry["best_output"], output)
        entry["message_count"] += 1
        entry["last_second"] = message["second"]
        if message["event"] == "final":
            entry["final_output"] = output
    return standings


def create_sink_table(client: Any, name: str) -> None:
    """A table shaped like the module's sink (pk/sk strings, on-demand); the ledger lives there too."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )


def standings_in(client: Any, table: str, race: int | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """The race standings in the sink, of one race or all (the redrive ledger shares the table
    under REDRIVE# keys)."""
    result = {}
    for item in scan(client, table):
        pk = item["pk"]["S"]
        if not pk.startswith("RACE#") or (race is not None and pk != f"RACE#{race}"):
            continue
        entry = {
            "best_output": Decimal(item["best_output"]["N"]),
            "message_count": int(item["message_count"]["N"]),
            "last_second": int(item["last_second"]["N"]),
        }
        if "final_output" in item:
            entry["final_output"] = Decimal(item["final_output"]["N"])
        result[(item["pk"]["S"], item["sk"]["S"])] = entry
    return result


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ---------------------------------------------------------------------- spies
@dataclass
class CallLog:
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count(self, service: str, *operations: str) -> int:
        return sum(n for (svc, op), n in self.calls.items() if svc == service and (not operations or op in operations))

    def services(self) -> set[str]:
        return {service for service, _ in self.calls}


@contextmanager
def api_calls() -> Iterator[CallLog]:
    """Record every AWS API call any botocore client makes (service, operation)."""
    log = CallLog()
    original = BaseClient._make_api_call

    def spy(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        log.calls[(self.meta.service_model.service_name, operation_name)] += 1
        return original(self, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", spy):
        yield log


def throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}},
        operation,
    )


class FlakyClient:
    """Wraps a real (moto) DynamoDB client and throttles a share of the calls.

    ``PutItem`` raises ProvisionedThroughputExceededException; ``BatchWriteItem``
    writes only half of the request and returns the rest as ``UnprocessedItems``.
    """

    def __init__(self, real: Any, share: float, seed: int = 7, on_sleep: Callable[[], None] | None = None) -> None:
        self.real = real
        self.share = share
        self.rng = random.Random(seed)
        self.throttles = 0
        self.on_sleep = on_sleep

    def _throttle(self) -> bool:
        hit = self.rng.random() < self.share
        self.throttles += hit
        return hit

    def put_item(self, **kwargs: Any) -> Any:
        if self._throttle():
            raise throttled("PutItem")
        return self.real.put_item(**kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        if not self._throttle():
            return self.real.batch_write_item(**kwargs)
        ((table, requests),) = kwargs["RequestItems"].items()
        keep, rest = requests[: len(requests) // 2], requests[len(requests) // 2 :]
        if keep:
            self.real.batch_write_item(RequestItems={table: keep})
        return {"UnprocessedItems": {table: rest}}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class FakeClock:
    """Remaining time that only moves when the code under test sleeps."""

    def __init__(self, remaining_ms: float) -> None:
        self.remaining_ms = remaining_ms
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.remaining_ms -= seconds * 1000

    def remaining(self) -> float:
        return self.remaining_ms


def lambda_runtime_dir(target: Path) -> Path:
    """A folder with what the python3.13 Lambda runtime provides besides the standard library:
    boto3 and its dependencies (linked from this venv). Nothing else, so a dependency missing from
    the zip fails to import, as it would in AWS."""
    import boto3
    import botocore
    import jmespath

    target.mkdir(parents=True, exist_ok=True)
    for module in (boto3, botocore, jmespath):
        (target / module.__name__).symlink_to(Path(module.__file__ or "").parent)
    site = Path(botocore.__file__ or "").parent.parent
    for name in ("s3transfer", "dateutil", "urllib3", "six.py"):
        (target / name).symlink_to(site / name)
    return target
