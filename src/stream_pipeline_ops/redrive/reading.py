"""Reading the failure path, trusting nothing it says.

A queue message or archive object is one of ours only when it is a Lambda invocation record of
this stack's source type, names this stack's own stream and function, a shard id, a sequence range
of decimal numbers with start <= end and a batchSize of 1 to 10,000 (an archive's records must
match it). Anything else is :class:`Foreign`: reported, made visible again at once, left where it
was, and the run goes on. Records are then read only from the stack's own stream, at most
``batchSize`` of them and none past the end sequence; a range holding more records than its
batchSize says is foreign too.

The validation is hand-written rather than a schema library's: it is a dozen fields, the ops
package would otherwise gain a dependency for it, and each rule's message names what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Self

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline_ops.redrive.target import RedriveError, Target
from stream_pipeline_ops.stack import kinesis_stream_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ARCHIVE_PREFIX: Final = "aws/lambda/"
DONE_PREFIX: Final = "redriven/"
MAX_BATCH: Final = 10_000  # Lambda's largest batch for a stream event source
MAX_BODY_BYTES: Final = 1024 * 1024  # SQS's largest message
MAX_ARCHIVE_BYTES: Final = 8 * 1024 * 1024  # an invocation record holds at most a 6 MB payload, plus its envelope
SHARD_ID: Final = re.compile(r"shardId-[0-9A-Za-z_.-]{1,80}")
SEQUENCE: Final = re.compile(r"0|[1-9][0-9]{0,128}")  # Kinesis and DynamoDB Streams: up to 129 digits
PARTITION_KEY_LIMIT: Final = 256
HOLD_S: Final = 30  # --apply keeps a message hidden this long while it works on it, renewed
DRY_RUN_STALE_PAGES: Final = 3
RECEIVE_WAIT_S = 1  # a short long-poll: SQS asks every server, so an empty answer means an empty queue
EXPIRED_ERRORS: Final = (
    "TrimmedDataAccessException",
    "ExpiredIteratorException",
    "InvalidArgumentException",
    "ResourceNotFoundException",
)
READ_PAGE_LIMIT: Final = 1000


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
    records: list[dict[str, Any]] | None = None  # the archive carries them; the queue does not
    sent_at: str | None = None  # the SQS SentTimestamp


@dataclass(frozen=True)
class Foreign:
    """A failure-path item that is not this stack's: what it was and why it was left alone."""

    origin: str
    ident: str
    reason: str


def shown(value: object, limit: int = 100) -> str:
    """A value from the failure path made safe to print: printable characters only, bounded."""
    text = value if isinstance(value, str) else json.dumps(value, default=repr)[:limit]
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[: limit * 2])
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    if info.get("streamArn") != target.stream_arn:
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
    if not records or len(records) > info.size:
        raise NotOurs(f"it holds {len(records):,} records for a batchSize of {info.size:,}")
    seen: set[str] = set()
    for n, record in enumerate(records):
        if not isinstance(record, dict):
            raise NotOurs(f"record {n} is not an object")
        if record.get("eventSourceARN", target.stream_arn) != target.stream_arn:
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


# ------------------------------------------------------------------------------------ the queue
class Holder:
    """Keeps the messages an ``--apply`` run has received hidden while it works on them: hidden
    ``hold_s`` at receipt, renewed every third of that by a heartbeat thread, so a killed run leaves
    each hidden at most ``hold_s``. Leaving the context makes every message still held visible."""

    def __init__(self, sqs: Any, url: str, hold_s: int) -> None:
        self.sqs = sqs
        self.url = url
        self.hold_s = hold_s
        self.held: dict[str, str] = {}  # MessageId -> receipt handle
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="redrive-heartbeat", daemon=True)
        self.renewals = 0

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join()
        self._visibility(list(self.held.items()), 0)  # what was not closed is visible again at once
        self.held.clear()

    def hold(self, ident: str, handle: str) -> None:
        with self.lock:
            self.held[ident] = handle

    def release(self, ident: str) -> None:
        with self.lock:
            handle = self.held.pop(ident, None)
        if handle is not None:
            self._visibility([(ident, handle)], 0)

    def delete(self, ident: str) -> None:
        """Delete a held message; if SQS refuses, it stays held, so leaving makes it visible again."""
        with self.lock:
            handle = self.held.get(ident)
        if handle is not None:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=handle)
            with self.lock:
                self.held.pop(ident, None)

    def _beat(self) -> None:
        while not self.stopped.wait(max(self.hold_s / 3, 0.2)):
            with self.lock:
                held = list(self.held.items())
            try:
                self._visibility(held, self.hold_s)
            except (ClientError, BotoCoreError):
                continue  # the next beat tries again; the receipt's own timeout is the bound either way
            self.renewals += 1

    def _visibility(self, held: list[tuple[str, str]], seconds: int) -> None:
        for start in range(0, len(held), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                for n, (_ident, handle) in enumerate(held[start : start + 10])
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)


@dataclass
class QueueRead:
    failures: list[Failure]
    foreign: list[Foreign]
    queued: int  # approximately how many messages the queue held when the run began


def read_queue(sqs: Any, url: str, target: Target, *, holder: Holder | None, limit: int) -> QueueRead:
    """Every message once. A dry run (``holder`` None) receives with VisibilityTimeout 0, hiding
    nothing, so SQS may show it the same messages again: it stops when it has seen as many as the
    queue held, or after a few pages with nothing new. ``--apply`` hides each message it receives
    (``holder``) and stops at an empty page, or after a few pages of messages it has seen (foreign
    ones, made visible again at once)."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    queued = sum(int(attributes.get(name, 0)) for name in names)
    read = QueueRead([], [], queued)
    seen: set[str] = set()
    stale = 0
    while len(seen) < limit and stale < DRY_RUN_STALE_PAGES:
        page = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=RECEIVE_WAIT_S,
            VisibilityTimeout=holder.hold_s if holder else 0, MessageSystemAttributeNames=["SentTimestamp"],
        )  # fmt: skip
        messages = page.get("Messages", [])
        if not messages:
            break
        fresh = [m for m in messages if m["MessageId"] not in seen]
        for message in messages:
            if holder and message["MessageId"] in seen:  # a foreign one again: visible again at once
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        for message in fresh:
            seen.add(message["MessageId"])
            if holder:
                holder.hold(message["MessageId"], message["ReceiptHandle"])
            item = queue_item(message, target)
            if isinstance(item, Foreign):
                read.foreign.append(item)
                if holder:
                    holder.release(message["MessageId"])
            else:
                read.failures.append(item)
        stale = 0 if fresh else stale + 1
        if not holder and len(seen) >= queued:
            break
    return read


def queue_item(message: dict[str, Any], target: Target) -> Failure | Foreign:
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


# ------------------------------------------------------------------------------------ the archive
def read_archive(s3: Any, bucket: str, target: Target, *, limit: int) -> Iterator[Failure | Foreign]:
    """The archived invocation records under ``aws/lambda/``, each read with a size bound."""
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ARCHIVE_PREFIX):
        for listed in page.get("Contents", []):
            yield archive_item(s3, bucket, listed, target)
            count += 1
            if count >= limit:
                return


def archive_item(s3: Any, bucket: str, listed: dict[str, Any], target: Target) -> Failure | Foreign:
    key = str(listed["Key"])
    try:
        document = _archived_document(s3, bucket, key, int(listed.get("Size", 0)))
        info = parse_invocation(document, target)
        payload = document.get("payload")
        records = check_archived(payload.get("Records") if isinstance(payload, dict) else None, info, target)
    except NotOurs as exc:
        return Foreign("archive", key, str(exc))
    return Failure("archive", key, key, info, records)


def _archived_document(s3: Any, bucket: str, key: str, size: int) -> Any:
    """The object's JSON, read with a size bound (the listing's size, then the bytes actually read)."""
    if size > MAX_ARCHIVE_BYTES:
        raise NotOurs(f"{size:,} bytes, larger than any invocation record")
    body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_ARCHIVE_BYTES}")["Body"]
    data = body.read(MAX_ARCHIVE_BYTES + 1)
    if len(data) > MAX_ARCHIVE_BYTES:
        raise NotOurs(f"more than {MAX_ARCHIVE_BYTES:,} bytes, larger than any invocation record")
    return loads(data)


# ------------------------------------------------------------------------------------ the stream
@dataclass
class Fetched:
    records: list[dict[str, Any]]
    missing: int  # records of the batch the stream no longer holds


def fetch_from_stream(client: Callable[[str], Any], target: Target, info: BatchInfo) -> Fetched:
    """The batch's records from the stack's own stream, in Lambda's event shape: at most batchSize of
    them, none past the end sequence. NotOurs when the range holds more records than its batchSize,
    or does not end where its records end."""
    api = client("kinesis") if target.kinesis else client("dynamodbstreams")
    iterator = _iterator(api, target, info)
    found = _read_range(api, target, info, iterator) if iterator else []

    def sequence(raw: dict[str, Any]) -> int:
        return raw_sequence(raw, target)

    if len(found) > info.size:
        raise NotOurs(f"its range holds more than its batchSize of {info.size:,} records")
    trimmed = not found or sequence(found[0]) != int(info.start)  # retention trims a shard from its oldest end
    if not trimmed and len(found) != info.size:
        raise NotOurs(f"its range holds {len(found):,} records, not its batchSize of {info.size:,}")
    if found and sequence(found[-1]) != int(info.end):
        raise NotOurs("its range does not end where its records end")
    if target.kinesis:
        records = [as_event_record(raw, target, info.shard) for raw in found]
    else:
        records = [as_change_record(raw, target) for raw in found]
    return Fetched(records, info.size - len(found) if trimmed else 0)


def raw_sequence(raw: dict[str, Any], target: Target) -> int:
    """A GetRecords record's sequence number (the stream's own answer, so a number)."""
    return int(raw["SequenceNumber"] if target.kinesis else raw["dynamodb"]["SequenceNumber"])


def _iterator(api: Any, target: Target, info: BatchInfo) -> str | None:
    """An iterator at the batch's first sequence number; None when the shard no longer holds it."""
    try:
        if target.kinesis:
            answer = api.get_shard_iterator(
                StreamName=kinesis_stream_name(target.stream_arn), ShardId=info.shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=info.start,
            )  # fmt: skip
        else:
            answer = api.get_shard_iterator(
                StreamArn=target.stream_arn, ShardId=info.shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=info.start,
            )  # fmt: skip
    except ClientError as exc:
        if exc.response["Error"]["Code"] in EXPIRED_ERRORS:
            return None
        raise RedriveError(f"Cannot read shard {info.shard}: {exc.response['Error'].get('Message', exc)}") from None
    return str(answer["ShardIterator"])


def _read_range(api: Any, target: Target, info: BatchInfo, iterator: str | None) -> list[dict[str, Any]]:
    """The records from the iterator on, through the end sequence, at most batchSize + 1 of them (one
    more than the batch holds tells a range that does not fit)."""
    end = int(info.end)
    found: list[dict[str, Any]] = []
    for _ in range(info.size // 100 + 20):  # bounded: empty pages are few within a retained range
        wanted = min(info.size + 1 - len(found), MAX_BATCH if target.kinesis else READ_PAGE_LIMIT)
        try:
            page = api.get_records(ShardIterator=iterator, Limit=wanted)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in EXPIRED_ERRORS:
                break
            raise RedriveError(f"Cannot read shard {info.shard}: {exc.response['Error'].get('Message', exc)}") from None
        raws = page.get("Records", [])
        within = [
            r for r in raws if int(r["SequenceNumber"] if target.kinesis else r["dynamodb"]["SequenceNumber"]) <= end
        ]
        found += within
        iterator = page.get("NextShardIterator")
        if len(within) < len(raws) or len(found) > info.size or not iterator:
            break
        if not raws and not page.get("MillisBehindLatest"):
            break  # at the tip of the shard: nothing more to read
    return found


def as_event_record(raw: dict[str, Any], target: Target, shard: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda delivers it (and the handler reads)."""
    arrival = raw.get("ApproximateArrivalTimestamp")
    return {
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventName": "aws:kinesis:record",
        "eventSourceARN": target.stream_arn,
        "eventID": f"{shard}:{raw['SequenceNumber']}",
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": raw["PartitionKey"],
            "sequenceNumber": raw["SequenceNumber"],
            "data": base64.b64encode(raw["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if isinstance(arrival, datetime) else arrival,
        },
    }


def as_change_record(raw: dict[str, Any], target: Target) -> dict[str, Any]:
    """A DynamoDB Streams GetRecords record in the shape Lambda delivers it: times as epoch seconds,
    binary values as base64 (boto3 gives datetime and bytes, which an event cannot carry)."""
    return {**_plain_json(raw), "eventSourceARN": target.stream_arn}


def _plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value
