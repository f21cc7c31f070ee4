"""Reading a failure-path item, trusting nothing it says.

A queue message or archive object is one of ours only when it is a Lambda invocation record of
this stack's source type, names this stack's own stream and function, a shard id, a sequence range
of decimal numbers with start <= end and a batchSize of 1 to 10,000 (an archive's records must
match it). Anything else is :class:`Foreign`: reported, left where it was, and the run goes on.
An item only says *which* records failed: their bytes come from the stack's own stream
(:mod:`stream_pipeline_ops.redrive.stream`), which an archive's copy must match.

The validation is hand-written rather than a schema library's: it is a dozen fields, the ops
package would otherwise gain a dependency for it, and each rule's message names what was wrong.
"""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.stack import stream_of

if TYPE_CHECKING:
    from stream_pipeline_ops.redrive.target import Target

__all__ = ["BatchInfo", "Failure", "Foreign", "NotOurs", "parse_invocation", "quoted", "sequence_of", "shown"]

MAX_BATCH: Final = 10_000  # Lambda's largest batch for a stream event source
MAX_BODY_BYTES: Final = 1024 * 1024  # SQS's largest message
SHARD_ID: Final = re.compile(r"shardId-[0-9A-Za-z_.-]{1,80}")
SEQUENCE: Final = re.compile(r"0|[1-9][0-9]{0,128}")  # Kinesis and DynamoDB Streams: up to 129 digits
PARTITION_KEY_LIMIT: Final = 256


class NotOurs(Exception):
    """A failure-path item that is not one of this stack's failures; the message says why."""


@dataclass(frozen=True)
class BatchInfo:
    shard: str
    start: str
    end: str
    size: int
    failed_at: str | None  # the invocation record's timestamp

    def holds(self, sequence: str) -> bool:
        return SEQUENCE.fullmatch(sequence) is not None and int(self.start) <= int(sequence) <= int(self.end)


@dataclass
class Failure:
    """One batch in the failure path that is this stack's."""

    origin: str  # "queue" or "archive"
    ident: str  # the queue MessageId, or the object key
    handle: str  # the receipt handle, or the object key
    info: BatchInfo
    archived: list[dict[str, Any]] | None = None  # the archive's copies of the records; the queue has none
    sent_at: str | None = None  # the SQS SentTimestamp


@dataclass(frozen=True)
class Foreign:
    """A failure-path item that is not this stack's: what it was and why it was left alone."""

    origin: str
    ident: str
    reason: str


def quoted(value: object) -> str:
    """A value from the failure path as JSON (quoted, escaped), bounded: for a reason."""
    return shown(json.dumps(value, ensure_ascii=False, default=repr), 160)


def iso(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)  # 3.11+ reads a trailing Z
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="milliseconds")


def loads(text: bytes | str) -> Any:
    """JSON, or NotOurs: not JSON, not UTF-8, nested too deep, or a number too long to convert."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and the 4,300-digit int limit are ValueErrors
        raise NotOurs(f"not a JSON invocation record ({type(exc).__name__})") from None


def parse_invocation(document: Any, target: Target) -> BatchInfo:
    """The batch a Lambda invocation record names, once every identifier in it is checked."""
    if not isinstance(document, dict):
        raise NotOurs(f"not a JSON object but a JSON {type(document).__name__}")
    if document.get("Type") == "Notification" and "Message" in document:
        raise NotOurs("an SNS notification, not a Lambda invocation record")
    mine, other = (
        ("KinesisBatchInfo", "DDBStreamBatchInfo") if target.kinesis else ("DDBStreamBatchInfo", "KinesisBatchInfo")
    )
    if other in document:
        raise NotOurs(f"a {other}, but this stack's source is {target.source}")
    info = document.get(mine)
    if not isinstance(info, dict):
        raise NotOurs(f"no {mine}: not a Lambda invocation record of this stack")
    if not isinstance(info.get("streamArn"), str) or stream_of(info["streamArn"]) != target.stream_arn:
        raise NotOurs(f"names stream {quoted(info.get('streamArn'))}, not this stack's {target.stream_arn}")
    context = document.get("requestContext")
    function = context.get("functionArn") if isinstance(context, dict) else None
    if function is not None and (not isinstance(function, str) or not _same_function(function, target.function_arn)):
        raise NotOurs(f"names function {quoted(function)}, not this stack's {target.function_name}")
    stamp = document.get("timestamp")
    failed_at = iso(stamp)
    if stamp is not None and failed_at is None:
        raise NotOurs(f"timestamp {quoted(stamp)} is not a time")
    return _batch(info, failed_at)


def _batch(info: dict[str, Any], failed_at: str | None) -> BatchInfo:
    shard, start, end, size = (
        info.get(k) for k in ("shardId", "startSequenceNumber", "endSequenceNumber", "batchSize")
    )
    if not isinstance(shard, str) or not SHARD_ID.fullmatch(shard):
        raise NotOurs(f"shardId {quoted(shard)} is not a shard id")
    if not isinstance(start, str) or not SEQUENCE.fullmatch(start):
        raise NotOurs(f"startSequenceNumber {quoted(start)} is not a sequence number")
    if not isinstance(end, str) or not SEQUENCE.fullmatch(end):
        raise NotOurs(f"endSequenceNumber {quoted(end)} is not a sequence number")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
        raise NotOurs(f"batchSize {quoted(size)} is not a batch size (1 to {MAX_BATCH:,})")
    if int(start) > int(end):
        raise NotOurs("its sequence range ends before it starts")
    return BatchInfo(shard=shard, start=start, end=end, size=size, failed_at=failed_at)


def _same_function(arn: str, ours: str) -> bool:
    """``arn`` is our function, unqualified or with a version or alias."""
    return arn == ours or (arn.startswith(ours + ":") and ":" not in arn[len(ours) + 1 :])


def sequence_of(record: dict[str, Any]) -> str:
    body = record.get("kinesis") or record.get("dynamodb") or {}
    value = body.get("sequenceNumber") if "kinesis" in record else body.get("SequenceNumber")
    return value if isinstance(value, str) else ""


def check_archived(records: Any, info: BatchInfo, target: Target) -> list[dict[str, Any]]:
    """The archived records, once each is checked against the batch and the stack."""
    if not isinstance(records, list):
        raise NotOurs("its payload holds no Records list")
    if len(records) != info.size:  # Lambda archives the whole batch: batchSize is its record count
        raise NotOurs(f"it holds {len(records):,} records for a batchSize of {info.size:,}")
    seen: set[str] = set()
    for n, record in enumerate(records):
        if not isinstance(record, dict):
            raise NotOurs(f"record {n} is not an object")
        source = record.get("eventSourceARN", target.stream_arn)
        if not isinstance(source, str) or stream_of(source) != target.stream_arn:
            raise NotOurs(f"record {n} is from {quoted(record.get('eventSourceARN'))}, not this stack's stream")
        if not isinstance(record.get("eventID", ""), str):
            raise NotOurs(f"record {n}'s eventID is not text")
        body = record.get("kinesis" if target.kinesis else "dynamodb")
        if not isinstance(body, dict):
            raise NotOurs(f"record {n} has no {'kinesis' if target.kinesis else 'dynamodb'} section")
        sequence = sequence_of(record)
        if not info.holds(sequence) or sequence in seen:
            raise NotOurs(f"record {n}'s sequence number {quoted(sequence)} is not one of the batch's")
        seen.add(sequence)
        if target.kinesis:
            _check_kinesis_body(body, n)
    return records


def _check_kinesis_body(body: dict[str, Any], n: int) -> None:
    key, data = body.get("partitionKey"), body.get("data")
    if not isinstance(key, str) or not 1 <= len(key) <= PARTITION_KEY_LIMIT:
        raise NotOurs(f"record {n}'s partitionKey is not a partition key")
    if not isinstance(data, str):
        raise NotOurs(f"record {n}'s data is not base64 text")
    try:
        binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):
        raise NotOurs(f"record {n}'s data is not base64") from None


def queue_item(message: dict[str, Any], target: Target) -> Failure | Foreign:
    """A received SQS message: one of this stack's failures, or foreign."""
    ident = str(message["MessageId"])
    body = message.get("Body", "")
    try:
        info = parse_invocation(_message_document(body), target)
    except NotOurs as exc:
        return Foreign("queue", ident, str(exc))
    sent = message.get("Attributes", {}).get("SentTimestamp")
    sent_at = (
        datetime.fromtimestamp(int(sent) / 1000, tz=UTC).isoformat(timespec="milliseconds")
        if isinstance(sent, str) and sent.isdigit() and len(sent) < 16
        else None
    )
    return Failure("queue", ident, message["ReceiptHandle"], info, sent_at=sent_at)


def _message_document(body: str) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise NotOurs(f"a {len(body):,}-character body, larger than any invocation record")
    return loads(body)


def archive_item(key: str, data: bytes, target: Target) -> Failure | Foreign:
    """An archive object's bytes (already read with a size bound): one of this stack's failures, with
    the archive's copies of its records, or foreign."""
    try:
        document = loads(data)
        info = parse_invocation(document, target)
        payload = document.get("payload")
        archived = check_archived(payload.get("Records") if isinstance(payload, dict) else None, info, target)
    except NotOurs as exc:
        return Foreign("archive", key, str(exc))
    return Failure("archive", key, key, info, archived)
