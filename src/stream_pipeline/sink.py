"""The DynamoDB sink: retries throttling with backoff, but never past the deadline.

Every call goes through :meth:`Sink._call`, which retries throttling and transient
server errors with full-jitter exponential backoff for as long as the invocation's
remaining time allows. When time runs out it raises :class:`SinkUnavailable`, and
the caller reports the affected records as failed: they are retried by the event
source mapping and, at worst, land in the on-failure destination. Nothing is dropped.

The client is the low-level ``dynamodb`` client (not the resource API): it is
faster to import and lets us pass attribute values through unchanged.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

RETRYABLE: Final = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
BATCH_WRITE_LIMIT: Final = 25
BATCH_GET_LIMIT: Final = 100

Item = dict[str, "AttributeValueTypeDef"]
Key = tuple[str, str]


class SinkUnavailable(Exception):
    """The sink could not take the write before the deadline (or refused it for good)."""


class ConditionFailed(Exception):
    """A conditional write lost: the item changed since it was read."""


@dataclass(slots=True)
class SinkStats:
    """Per-invocation counters, emitted as metrics and used by the tests and benchmarks."""

    write_requests: int = 0
    """Write API calls (PutItem, UpdateItem, BatchWriteItem), retries included."""
    items_written: int = 0
    throttles: int = 0


@dataclass(slots=True)
class Sink:
    """A DynamoDB table with ``pk``/``sk`` string keys."""

    client: DynamoDBClient
    table_name: str
    time_left_ms: Callable[[], float] = field(default=lambda: 60_000.0)
    sleep: Callable[[float], None] = time.sleep
    base_delay_s: float = 0.05
    max_delay_s: float = 2.0
    stats: SinkStats = field(default_factory=SinkStats)
    _rng: random.Random = field(default_factory=random.Random)

    def reset(self, time_left_ms: Callable[[], float]) -> None:
        """Start a new invocation with its own deadline and counters."""
        self.time_left_ms = time_left_ms
        self.stats = SinkStats()

    def _backoff(self, attempt: int) -> None:
        delay = self._rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))
        if self.time_left_ms() <= delay * 1000:
            raise SinkUnavailable("throttled until the deadline")
        self.sleep(delay)

    def _call(self, fn: Callable[..., Any], *, write: bool, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            if self.time_left_ms() <= 0:
                raise SinkUnavailable("no time left before the deadline")
            if write:
                self.stats.write_requests += 1
            try:
                return fn(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    raise ConditionFailed(code) from None
                if code not in RETRYABLE:
                    raise SinkUnavailable(f"{code or 'ClientError'}: {exc}") from None
                self.stats.throttles += 1
                self._backoff(attempt)
                attempt += 1

    # ---------------------------------------------------------------- reads
    def get_many(self, keys: Sequence[Key]) -> dict[Key, Item]:
        """Strongly consistent BatchGetItem; unprocessed keys are retried until the deadline."""
        found: dict[Key, Item] = {}
        for chunk in chunks(list(dict.fromkeys(keys)), BATCH_GET_LIMIT):
            pending: list[Mapping[str, Any]] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in chunk]
            attempt = 0
            while pending:
                response = self._call(
                    self.client.batch_get_item,
                    write=False,
                    RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}},
                )
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[(item["pk"]["S"], item["sk"]["S"])] = item
                pending = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                if pending:
                    self.stats.throttles += 1
                    self._backoff(attempt)
                    attempt += 1
        return found

    def get(self, key: Key) -> Item | None:
        response = self._call(
            self.client.get_item,
            write=False,
            TableName=self.table_name,
            Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}},
            ConsistentRead=True,
        )
        item: Item | None = response.get("Item")
        return item

    # ---------------------------------------------------------------- writes
    def put_if_version(self, item: Item, previous_version: str | None) -> None:
        """Put ``item`` only if the stored item still has ``previous_version`` (None: absent).

        Raises :class:`ConditionFailed` when another writer (or an earlier delivery)
        got there first; the caller re-reads and decides again.
        """
        if previous_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :previous",
                "ExpressionAttributeValues": {":previous": {"S": previous_version}},
            }
        self._call(self.client.put_item, write=True, TableName=self.table_name, Item=item, **condition)
        self.stats.items_written += 1

    def put_batch(self, items: Sequence[Item]) -> list[Key]:
        """BatchWriteItem of idempotent puts (at most 25).

        Unprocessed items are retried with backoff until the deadline. Returns the
        keys that could not be written (empty when all were), so that the caller
        reports exactly those records as failed.
        """
        pending: list[Any] = [{"PutRequest": {"Item": item}} for item in items]
        attempt = 0
        try:
            while pending:
                response = self._call(self.client.batch_write_item, write=True, RequestItems={self.table_name: pending})
                unprocessed = response.get("UnprocessedItems", {}).get(self.table_name, [])
                self.stats.items_written += len(pending) - len(unprocessed)
                pending = list(unprocessed)
                if pending:
                    self.stats.throttles += 1
                    self._backoff(attempt)
                    attempt += 1
        except SinkUnavailable:
            return [(p["PutRequest"]["Item"]["pk"]["S"], p["PutRequest"]["Item"]["sk"]["S"]) for p in pending]
        return []


def chunks[T](values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
