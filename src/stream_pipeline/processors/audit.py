"""The audit processor (DynamoDB Streams): every change becomes one change item.

For each INSERT, MODIFY or REMOVE the sink gets one item:

* ``pk``: the source item's key, as compact JSON with sorted names (``{"id":"101"}``);
* ``sk``: the change's creation time and zero-padded sequence number, so that one
  item's history sorts in order (``2026-11-23T08:15:00.000000Z#000…111``);
* ``event_name``, ``keys``, ``new_image`` and ``old_image`` (as stored: the typed
  attribute maps pass through, so sets and exact numbers survive), ``expires_at``
  for DynamoDB's TTL.

Binary values are the one exception to "pass through": the stream event carries
``B``/``BS`` as base64 *text*, and boto3 base64-encodes whatever it is given for a
binary attribute, so passing the text on would store the text's bytes (``AAEC``)
instead of the source's bytes (``00 01 02``). :func:`with_binary_bytes` decodes
them, at any depth of maps and lists, so the audit item holds what the source held.

Every attribute is derived from the record alone, so a redelivered record writes the
very same item again: no duplicates, and plain (idempotent) ``BatchWriteItem`` puts
of 25 at a time suffice.
"""

from __future__ import annotations

import binascii
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline.processors.base import ApplyResult
from stream_pipeline.records import EVENT_NAMES, PoisonRecord, SourceType, StreamRecord
from stream_pipeline.sink import BATCH_WRITE_LIMIT, chunks

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Executor

    from stream_pipeline.sink import Item, Key, Sink

SECONDS_PER_DAY: Final = 86_400
SEQUENCE_WIDTH: Final = 40
"""DynamoDB Streams sequence numbers have 21 to 40 digits; zero-padding to 40 keeps them sortable.
Longer ones (LocalStack's are 56 digits) are kept as they are, since every record of one stream
has the same length there."""
MAX_SEQUENCE_DIGITS: Final = 128


def with_binary_bytes(value: Any) -> Any:
    """One typed attribute value with its ``B``/``BS`` base64 text decoded to bytes, recursively."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((kind, inner),) = value.items()
    try:
        if kind == "B":
            return {"B": binascii.a2b_base64(inner, strict_mode=True)}
        if kind == "BS":
            return {"BS": [binascii.a2b_base64(member, strict_mode=True) for member in inner]}
    except (binascii.Error, TypeError, ValueError):
        raise PoisonRecord("a binary attribute is not valid base64") from None
    if kind == "M" and isinstance(inner, dict):
        return {"M": binary_map(inner)}
    if kind == "L" and isinstance(inner, list):
        return {"L": [with_binary_bytes(member) for member in inner]}
    return value


def binary_map(attributes: dict[str, Any]) -> dict[str, Any]:
    """A typed attribute map (an image or a key) with every binary value as bytes."""
    return {name: with_binary_bytes(value) for name, value in attributes.items()}


def key_string(keys: dict[str, Any]) -> str:
    """A stable, unambiguous text form of a DynamoDB key (names sorted, values as text)."""
    return json.dumps({name: str(value) for name, value in keys.items()}, sort_keys=True, separators=(",", ":"))


class AuditProcessor:
    name = "audit"

    def __init__(self, max_record_bytes: int, ttl_days: int) -> None:
        self.max_record_bytes = max_record_bytes
        self.ttl_seconds = ttl_days * SECONDS_PER_DAY

    def parse(self, record: StreamRecord) -> Item:
        if record.source is not SourceType.DYNAMODB:
            raise PoisonRecord("the audit processor takes DynamoDB Streams records only")
        event_name = record.event_name
        if event_name not in EVENT_NAMES:
            raise PoisonRecord(f"unknown eventName {str(event_name)[:20]!r}")
        if record.size_bytes > self.max_record_bytes:
            raise PoisonRecord(f"record is {record.size_bytes} bytes, larger than {self.max_record_bytes}")
        keys, _, _ = record.images()  # validates every image, raising PoisonRecord
        created = record.arrival_epoch_s
        if created is None:
            raise PoisonRecord("dynamodb.ApproximateCreationDateTime is missing")
        if not record.sequence_number.isdigit() or len(record.sequence_number) > MAX_SEQUENCE_DIGITS:
            raise PoisonRecord("dynamodb.SequenceNumber is not a decimal number")
        stamp = datetime.fromtimestamp(created, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = record.raw["dynamodb"]
        item: Item = {
            "pk": {"S": key_string(keys)},
            "sk": {"S": f"{stamp}#{record.sequence_number.zfill(SEQUENCE_WIDTH)}"},
            "event_name": {"S": event_name},
            "event_id": {"S": str(record.raw.get("eventID", ""))},
            "sequence_number": {"S": record.sequence_number},
            "source_arn": {"S": str(record.raw.get("eventSourceARN", ""))},
            "created_at": {"S": stamp},
            "keys": {"M": binary_map(body["Keys"])},
            "expires_at": {"N": str(int(created) + self.ttl_seconds)},
        }
        for source_field, sink_field in (("NewImage", "new_image"), ("OldImage", "old_image")):
            if source_field in body:
                item[sink_field] = {"M": binary_map(body[source_field])}
        return item

    def apply(self, parsed: Sequence[tuple[StreamRecord, Item]], sink: Sink | None, pool: Executor) -> ApplyResult:
        if sink is None or not parsed:
            return ApplyResult()
        index_of: dict[Key, int] = {(item["pk"]["S"], item["sk"]["S"]): record.index for record, item in parsed}
        batches = [[item for _, item in chunk] for chunk in chunks(parsed, BATCH_WRITE_LIMIT)]
        unwritten = [key for keys in pool.map(sink.put_batch, batches) for key in keys]
        if not unwritten:
            return ApplyResult()
        return ApplyResult(
            failed_index=min(index_of[key] for key in unwritten),
            reason=f"sink did not take {len(unwritten)} change item(s): throttled until the deadline, or refused",
        )
