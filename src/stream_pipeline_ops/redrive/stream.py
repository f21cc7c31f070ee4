"""The stream is the source of truth: a failure only says *which* records failed; their bytes come
from the stack's own stream.

:func:`fetch` reads a batch's range (GetShardIterator AT_SEQUENCE_NUMBER at its first sequence
number, then GetRecords to its last, at most ``batchSize`` records) and returns the records in the
shape Lambda delivers them. A range whose first record the shard never held (its oldest record is
older than the range) is *foreign*; records older than the shard's oldest are *expired*: retention
trimmed them (a shard is trimmed from its oldest end, so they are the range's first ones).

:func:`reconcile` holds an archive object's copies against the stream's records: a copy whose bytes
differ, or that names a sequence number the stream holds no record at while it still holds the
range, makes the object foreign (forged), and nothing of it is delivered. Copies of expired records
are returned apart: only ``--from-archive`` delivers them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError, ParamValidationError

from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.redrive.reading import BatchInfo, Failure, NotOurs, sequence_of
from stream_pipeline_ops.redrive.target import RedriveError, Target
from stream_pipeline_ops.stack import kinesis_stream_name

if TYPE_CHECKING:
    from collections.abc import Callable

# Kinesis answers a sequence number it does not hold (trimmed, or never there) with one of these
# (LocalStack: ResourceNotFoundException); DynamoDB Streams with TrimmedDataAccessException, or
# ResourceNotFoundException for a shard gone. LocalStack's DynamoDB Streams passes its Kinesis
# backend's ResourceNotFoundException on inside an InternalError (HTTP 500): that one is read as
# what it wraps, and no other 500 is.
NOT_HELD: Final = (
    "TrimmedDataAccessException",
    "ExpiredIteratorException",
    "InvalidArgumentException",
    "ResourceNotFoundException",
)
WRAPPED_NOT_HELD: Final = "An error occurred (ResourceNotFoundException)"
PAGE_LIMIT: Final = {True: 10_000, False: 1_000}  # GetRecords' largest Limit: Kinesis, DynamoDB Streams
EMPTY_PAGES: Final = 20  # GetRecords may answer empty pages before a shard's records: read on this many


def not_held(exc: ClientError) -> bool:
    """The shard does not hold that sequence number (or is gone): not an error of the stream's."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code"), str(error.get("Message", ""))
    return code in NOT_HELD or (
        code == "InternalError"
        and message.startswith("exception while calling dynamodbstreams")
        and WRAPPED_NOT_HELD in message
    )


@dataclass
class Fetched:
    records: list[dict[str, Any]]  # the stream's records of the batch, in Lambda's event shape, in order
    missing: int  # records of the batch the stream no longer holds: the range's first ones


def fetch(client: Callable[[str], Any], target: Target, info: BatchInfo) -> Fetched:
    """The batch's records from the stack's own stream. NotOurs when the range is not one the shard
    held: more records than its batchSize, other records than it says, or a first sequence number
    the shard never held."""
    reader = _Reader(client, target, info.shard)
    start, end = int(info.start), int(info.end)
    found = reader.read(reader.at(info.start), end, info.size)
    if not found or reader.sequence(found[0]) != start:
        oldest, horizon = reader.oldest()
        if oldest is not None and oldest <= start:
            raise NotOurs(
                f"names sequence number {shown(info.start, 60)}, which shard {info.shard} never held (it holds "
                "records from an older one on): not a batch of this stream"
            )
        if not found and oldest is not None and oldest <= end:
            found = reader.read(horizon, end, info.size)  # the range's retained tail
    if len(found) > info.size:
        raise NotOurs(f"its range holds more than its batchSize of {info.size:,} records")
    complete = bool(found) and reader.sequence(found[0]) == start
    if complete and len(found) != info.size:
        raise NotOurs(f"its range holds {len(found):,} records, not its batchSize of {info.size:,}")
    if found and reader.sequence(found[-1]) != end:
        raise NotOurs("its range does not end where its records end")
    return Fetched([reader.event(raw) for raw in found], info.size - len(found))


class _Reader:
    """GetShardIterator and GetRecords on one shard of the stack's own stream."""

    def __init__(self, client: Callable[[str], Any], target: Target, shard: str) -> None:
        self.target = target
        self.shard = shard
        self.api = client("kinesis") if target.kinesis else client("dynamodbstreams")

    def sequence(self, raw: dict[str, Any]) -> int:
        """A GetRecords record's sequence number (the stream's own answer, so a number)."""
        return int(raw["SequenceNumber"] if self.target.kinesis else raw["dynamodb"]["SequenceNumber"])

    def iterator(self, kind: str, sequence: str | None = None) -> str | None:
        """A shard iterator; None when the shard does not hold that sequence number (or is gone)."""
        at = {} if sequence is None else {"SequenceNumber": sequence}
        try:
            if self.target.kinesis:
                name = kinesis_stream_name(self.target.stream_arn)
                if sequence is not None:
                    at = {"StartingSequenceNumber": sequence}
                answer = self.api.get_shard_iterator(StreamName=name, ShardId=self.shard, ShardIteratorType=kind, **at)
            else:
                answer = self.api.get_shard_iterator(
                    StreamArn=self.target.stream_arn, ShardId=self.shard, ShardIteratorType=kind, **at
                )
        except ClientError as exc:
            if not_held(exc):
                return None
            raise self._error(exc) from None
        except ParamValidationError:  # e.g. a DynamoDB shard id or sequence number shorter than any there is
            raise NotOurs(
                f"names shard {shown(self.shard, 90)} at sequence number {shown(sequence, 60)}, which "
                f"{'Kinesis' if self.target.kinesis else 'DynamoDB Streams'} does not take for one of its own"
            ) from None
        return str(answer["ShardIterator"])

    def at(self, sequence: str) -> str | None:
        return self.iterator("AT_SEQUENCE_NUMBER", sequence)

    def oldest(self) -> tuple[int | None, str | None]:
        """The shard's oldest record's sequence number (None: the shard is gone or empty), and an
        iterator at it."""
        horizon = self.iterator("TRIM_HORIZON")
        iterator = horizon
        for _ in range(EMPTY_PAGES):
            if iterator is None:
                return None, None
            page = self._page(iterator, 1)
            if page is None:
                return None, None
            if page.get("Records"):
                return self.sequence(page["Records"][0]), self.iterator("TRIM_HORIZON")
            if not page.get("MillisBehindLatest"):
                return None, None  # at the tip: the shard holds nothing
            iterator = page.get("NextShardIterator")
        return None, None

    def read(self, iterator: str | None, end: int, size: int) -> list[dict[str, Any]]:
        """The records from the iterator on, through ``end``, at most ``size`` + 1 of them (one more
        than the batch holds tells a range that does not fit)."""
        found: list[dict[str, Any]] = []
        empty = 0
        while iterator is not None and empty < EMPTY_PAGES:
            page = self._page(iterator, min(size + 1 - len(found), PAGE_LIMIT[self.target.kinesis]))
            if page is None:
                break
            raws = page.get("Records", [])
            within = [raw for raw in raws if self.sequence(raw) <= end]
            found += within
            iterator = page.get("NextShardIterator")
            if len(within) < len(raws) or len(found) > size:
                break
            if not raws:
                empty += 1
                if not page.get("MillisBehindLatest"):
                    break  # at the tip of the shard: nothing more to read
        return found

    def _page(self, iterator: str, limit: int) -> dict[str, Any] | None:
        try:
            page: dict[str, Any] = self.api.get_records(ShardIterator=iterator, Limit=max(limit, 1))
        except ClientError as exc:
            if not_held(exc):
                return None
            raise self._error(exc) from None
        return page

    def _error(self, exc: ClientError) -> RedriveError:
        message = shown(exc.response["Error"].get("Message", exc), 300)
        return RedriveError(f"Cannot read shard {self.shard} of {self.target.stream_arn}: {message}")

    def event(self, raw: dict[str, Any]) -> dict[str, Any]:
        return kinesis_event(raw, self.target, self.shard) if self.target.kinesis else change_event(raw, self.target)


def kinesis_event(raw: dict[str, Any], target: Target, shard: str) -> dict[str, Any]:
    """A Kinesis GetRecords record as Lambda delivers it: every field Lambda sends, the original
    sequence number and bytes (a KPL aggregate as the aggregate)."""
    arrival = raw.get("ApproximateArrivalTimestamp")
    body: dict[str, Any] = {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": raw["PartitionKey"],
        "sequenceNumber": raw["SequenceNumber"],
        "data": base64.b64encode(raw["Data"]).decode(),
        "approximateArrivalTimestamp": arrival.timestamp() if isinstance(arrival, datetime) else arrival,
    }
    if raw.get("EncryptionType") == "KMS":
        body["encryptionType"] = "KMS"
    return {
        "kinesis": body,
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{raw['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": target.role_arn,
        "awsRegion": target.region,
        "eventSourceARN": target.stream_arn,
    }


def change_event(raw: dict[str, Any], target: Target) -> dict[str, Any]:
    """A DynamoDB Streams GetRecords record as Lambda delivers it: times as epoch seconds, binary
    values as base64 (boto3 gives datetime and bytes, which an event cannot carry), the stream's ARN."""
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


# ------------------------------------------------------------------------------------ the archive's copies
def reconcile(failure: Failure, fetched: Fetched, target: Target) -> list[dict[str, Any]]:
    """An archive object's copies held against the stream's records; returns the copies of the
    records the stream no longer holds (for --from-archive). NotOurs when a copy is not the stream's."""
    archived = failure.archived or []
    held = {sequence_of(record): record for record in fetched.records}
    first_held = int(sequence_of(fetched.records[0])) if fetched.records else None
    copies: list[dict[str, Any]] = []
    for n, copy in enumerate(archived):
        sequence = sequence_of(copy)
        if sequence in held:
            if content(copy, target) != content(held[sequence], target):
                raise NotOurs(
                    f"record {n} (sequence number {shown(sequence, 60)}) differs from the stream's record at that "
                    "sequence number: a forged copy"
                )
        elif fetched.missing and (first_held is None or int(sequence) < first_held):
            copies.append(copy)
        else:
            raise NotOurs(
                f"record {n} names sequence number {shown(sequence, 60)}, at which the stream holds no record: "
                "not a batch of this stream"
            )
    if extra := sorted(set(held) - {sequence_of(copy) for copy in archived}, key=int):
        raise NotOurs(f"the stream holds record {extra[0]} of its range, which it does not list: not Lambda's batch")
    return copies


def content(record: dict[str, Any], target: Target) -> bytes:
    """What must be equal in an archived copy and the stream's record: a Kinesis record's partition
    key and bytes, a DynamoDB record's change (event name, keys, images)."""
    if target.kinesis:
        body = record.get("kinesis", {})
        try:
            data = binascii.a2b_base64(str(body.get("data", "")), strict_mode=True)
        except (binascii.Error, ValueError):
            data = b"\x00not base64"
        return json.dumps([body.get("partitionKey")]).encode() + b"\n" + data
    body = record.get("dynamodb", {})
    change = {
        "eventName": record.get("eventName"),
        **{part: body.get(part) for part in ("Keys", "NewImage", "OldImage", "SequenceNumber")},
    }
    return json.dumps(change, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest(record: dict[str, Any]) -> tuple[str, int]:
    """The sha256 (hex) and length of what a record carries: a Kinesis record's data, a DynamoDB
    record's change: what --from-archive prints, and the discard log keeps."""
    data = record.get("kinesis", {}).get("data")
    if isinstance(data, str):
        try:
            raw = binascii.a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError):
            raw = data.encode()
    else:
        raw = json.dumps(record.get("dynamodb", {}), sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest(), len(raw)
