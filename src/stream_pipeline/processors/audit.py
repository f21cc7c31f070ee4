"""The audit processor (DynamoDB Streams): every change becomes one change item.

For each INSERT, MODIFY or REMOVE the sink gets one item:

* ``pk``: the source item's key, as compact JSON with sorted names (``{"id":"101"}``);
* ``sk``: the change's creation time and zero-padded sequence number, so that one
  item's history sorts in order (``2026-11-23T08:15:00.000000Z#000…111``);
* ``event_name``, ``keys``, ``new_image`` and ``old_image`` (as stored: the typed
  attribute maps pass through, so sets and exact numbers survive), ``expires_at``
  for DynamoDB's TTL, ``AUDIT_TTL_DAYS`` after the change's creation and never less than half of
  it after the write (:func:`stream_pipeline.limits.expires_at`: a redelivered change writes the
  same item, and one replayed or redriven after the TTL is not written already expired);
* ``user_identity`` when the change has one: who made it. DynamoDB's Time to Live deletes with
  ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``, and such an item also has
  ``deleted_by_ttl`` true, so an expiry is told from a user's delete.

Binary values are the one exception to "pass through": the stream event carries
``B``/``BS`` as base64 *text*, and boto3 base64-encodes whatever it is given for a
binary attribute, so passing the text on would store the text's bytes (``AAEC``)
instead of the source's bytes (``00 01 02``). :func:`with_binary_bytes` decodes
them, at any depth of maps and lists, so the audit item holds what the source held.

The key and the content are derived from the record alone, so a redelivered record writes the
same item again (only its expiry moves on): no duplicates, and plain (idempotent)
``BatchWriteItem`` puts of 25 at a time suffice.
"""

from __future__ import annotations

import binascii
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline.limits import MAX_ITEM_BYTES, MAX_NESTING, check_text, expires_at
from stream_pipeline.processors.base import ApplyResult, put_items
from stream_pipeline.records import EVENT_NAMES, PoisonRecord, SourceType, StreamRecord, check_images

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Executor

    from stream_pipeline.sink import Item, Sink

SECONDS_PER_DAY: Final = 86_400
SEQUENCE_WIDTH: Final = 40
"""DynamoDB Streams sequence numbers have 21 to 40 digits; zero-padding to 40 keeps them sortable.
Longer ones (LocalStack's are 56 digits) are kept as they are, since every record of one stream
has the same length there."""
MAX_SEQUENCE_DIGITS: Final = 128
MAX_TEXT_LENGTH: Final = 2048
"""eventID (32 hex digits in AWS) and eventSourceARN (about 150 characters) are stored as they are."""
MAX_IDENTITY_LENGTH: Final = 256
ITEM_OVERHEAD_BYTES: Final = 4096
"""Room in the 400 KB item for what the change item adds to the images: keys, names, time stamps."""


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


def _identity(identity: Any) -> dict[str, Any]:
    """The stream record's ``userIdentity`` (Streams API ``Identity``: ``type``, ``principalId``)."""
    if type(identity) is not dict:
        raise PoisonRecord("userIdentity is not an object with type and principalId")
    kept: dict[str, Any] = {}
    for name in ("type", "principalId"):
        if name in identity:
            kept[name] = {"S": check_text(identity[name], f"userIdentity.{name}", MAX_IDENTITY_LENGTH)}
    return kept


def key_string(keys: dict[str, Any]) -> str:
    """A stable, unambiguous text form of a DynamoDB key (names sorted, values as text)."""
    return json.dumps({name: str(value) for name, value in keys.items()}, sort_keys=True, separators=(",", ":"))


class AuditProcessor:
    name = "audit"

    def __init__(self, max_record_bytes: int, ttl_days: int, clock: Callable[[], float] = time.time) -> None:
        self.max_record_bytes = max_record_bytes
        self.ttl_seconds = ttl_days * SECONDS_PER_DAY
        self._clock = clock

    def parse(self, record: StreamRecord) -> Item:
        """The change item, or :class:`PoisonRecord`: every value the item will carry is checked
        here for what DynamoDB stores (:mod:`stream_pipeline.limits`), so the sink never refuses
        one and ``stream-pipeline redrive`` gives the handler's verdict."""
        if record.source is not SourceType.DYNAMODB:
            raise PoisonRecord("the audit processor takes DynamoDB Streams records only")
        event_name = record.event_name
        if event_name not in EVENT_NAMES:
            raise PoisonRecord("unknown eventName (not INSERT, MODIFY or REMOVE)")
        self._check_size_and_sequence(record)
        body = record.raw["dynamodb"]
        keys, _, _ = record.images()
        created = record.arrival_epoch_s
        if created is None:
            raise PoisonRecord("dynamodb.ApproximateCreationDateTime is missing or not a time")
        stamp = datetime.fromtimestamp(created, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        item: Item = {
            "pk": {"S": key_string(keys)},
            "sk": {"S": f"{stamp}#{record.sequence_number.zfill(SEQUENCE_WIDTH)}"},
            "event_name": {"S": event_name},
            "event_id": {"S": check_text(record.raw.get("eventID", ""), "eventID", MAX_TEXT_LENGTH)},
            "sequence_number": {"S": record.sequence_number},
            "source_arn": {"S": check_text(record.raw.get("eventSourceARN", ""), "eventSourceARN", MAX_TEXT_LENGTH)},
            "created_at": {"S": stamp},
            "keys": {"M": binary_map(body["Keys"])},
            "expires_at": {"N": str(expires_at(created, self._clock(), self.ttl_seconds))},
        }
        identity = record.raw.get("userIdentity")
        if identity is not None:  # who deleted: DynamoDB's TTL says so here; a user's delete has none
            item["user_identity"] = {"M": _identity(identity)}
        if record.ttl_expired:
            item["deleted_by_ttl"] = {"BOOL": True}
        for source_field, sink_field in (("NewImage", "new_image"), ("OldImage", "old_image")):
            if source_field in body:
                item[sink_field] = {"M": binary_map(body[source_field])}
        return item

    def _check_size_and_sequence(self, record: StreamRecord) -> None:
        if record.size_bytes > self.max_record_bytes:
            raise PoisonRecord(f"record is {record.size_bytes} bytes, larger than {self.max_record_bytes}")
        if not record.sequence_number.isascii() or not record.sequence_number.isdigit():
            raise PoisonRecord("dynamodb.SequenceNumber is not a decimal number")
        if len(record.sequence_number) > MAX_SEQUENCE_DIGITS:
            raise PoisonRecord(f"dynamodb.SequenceNumber is longer than {MAX_SEQUENCE_DIGITS} digits")
        # SizeBytes is the record's own claim: the images are measured too. The item wraps each
        # image in one map (new_image, old_image), so an image may nest one level less than DynamoDB's 32.
        measured = check_images(record.raw["dynamodb"], max_depth=MAX_NESTING - 1)
        if measured > self.max_record_bytes:
            raise PoisonRecord(f"images are {measured} bytes, larger than {self.max_record_bytes}")
        if measured > MAX_ITEM_BYTES - ITEM_OVERHEAD_BYTES:
            raise PoisonRecord(f"images are {measured} bytes: the change item would exceed DynamoDB's 400 KB")

    def apply(self, parsed: Sequence[tuple[StreamRecord, Item]], sink: Sink | None, pool: Executor) -> ApplyResult:
        """Write the change items 25 at a time in parallel; report the first record not written."""
        return put_items(parsed, sink, pool, "the change item")
