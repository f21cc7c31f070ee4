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

from stream_pipeline.limits import bounded

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
    """The sink could not take the write before the deadline (or refused it for good).

    The message is an AWS error code and a fixed text, never the service's message, which can
    quote the values of the request."""


class SinkRefused(SinkUnavailable):
    """DynamoDB refused the request for good (not throttling); the message is the error code."""


ITEM_ERRORS: Final = frozenset({"ValidationException"})
"""Refusals that may concern one item of a BatchWriteItem rather than the table: the batch is then
written item by item, so that exactly the item at fault fails."""


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
                    raise SinkRefused(
                        f"{bounded(str(code), 64) or 'ClientError'} (DynamoDB refused the request)"
                    ) from None
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

    def put_batch(self, items: Sequence[Item]) -> dict[Key, str]:
        """BatchWriteItem of idempotent puts (at most 25).

        Unprocessed items are retried with backoff until the deadline. Returns the keys that could
        not be written, each with a payload-free reason (empty when all were), so that the caller
        reports exactly those records as failed. When DynamoDB refuses the batch because of an
        item (a ``ValidationException``), or the request cannot even be built (botocore raises
        before sending), the items are put one by one and only the ones refused come back.
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
        except SinkRefused as exc:
            if not any(code in str(exc) for code in ITEM_ERRORS):
                return dict.fromkeys((_key(p["PutRequest"]["Item"]) for p in pending), str(exc))
            return self._put_each([p["PutRequest"]["Item"] for p in pending])
        except SinkUnavailable as exc:
            return dict.fromkeys((_key(p["PutRequest"]["Item"]) for p in pending), str(exc))
        except Exception:  # e.g. botocore's ParamValidationError or a UnicodeEncodeError: find the item
            return self._put_each([p["PutRequest"]["Item"] for p in pending])
        return {}

    def _put_each(self, items: Sequence[Item]) -> dict[Key, str]:
        failed: dict[Key, str] = {}
        for item in items:
            try:
                self._call(self.client.put_item, write=True, TableName=self.table_name, Item=item)
                self.stats.items_written += 1
            except SinkUnavailable as exc:
                failed[_key(item)] = str(exc)
            except Exception as exc:  # the value is not logged: only the type of the error
                failed[_key(item)] = f"the item could not be sent to DynamoDB ({type(exc).__name__})"
        return failed


def _key(item: Item) -> Key:
    return (str(item["pk"]["S"]), str(item["sk"]["S"]))


def chunks[T](values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
