"""One stream record, whichever source delivered it.

Kinesis and DynamoDB Streams records are told apart per record by
``eventSource``. Decoding is strict: anything that can never succeed raises
:class:`PoisonRecord`, whose reason is safe to log (it never carries the payload).

DynamoDB images are read with Powertools' deserializer, the one its event data class
uses (it keeps numbers exact), without the data class: importing the data_classes
package costs about 10 ms of every cold start (make bench, P4). Kinesis fields are read
straight from the dict, which is what the data class does too, minus a wrapper object
per record. Base64 is decoded
here in strict mode because Powertools' ``data_as_bytes`` silently drops
characters outside the alphabet, which would turn a corrupt record into a
different, "valid" one.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

from stream_pipeline import kpl
from stream_pipeline.limits import check_attributes
from stream_pipeline.poison import PoisonRecord

__all__ = ["NUMBERS", "PoisonRecord", "SourceType", "StreamRecord", "check_images", "from_raw", "sequence_of"]

EVENT_NAMES: Final = ("INSERT", "MODIFY", "REMOVE")
TTL_PRINCIPAL: Final = "dynamodb.amazonaws.com"
_raw_decode: Final = json.JSONDecoder().raw_decode
_deserialize: Final = TypeDeserializer().deserialize


class SourceType(StrEnum):
    KINESIS = "kinesis"
    DYNAMODB = "dynamodb"


@dataclass(slots=True)
class StreamRecord:
    """A record of the batch with the fields every processor needs.

    ``sequence_number`` is the ``itemIdentifier`` Lambda expects in a partial
    batch response. ``shard_id`` is set for Kinesis (from ``eventID``). Treat it as
    read-only; it is not frozen because a frozen dataclass is built through
    ``object.__setattr__``, which costs a measurable share of P1 (``make bench``).

    **KPL aggregates.** A Kinesis record that is a KPL aggregate (:mod:`stream_pipeline.kpl`) has
    its ``user_records``; processors only ever see those, each with its own ``partition_key``,
    ``payload`` and ``sub_sequence_number`` (its position in the aggregate), and the aggregate's
    ``index``, ``sequence_number`` and arrival time. ``(sequence_number, sub_sequence_number)``
    is the KCL's extended sequence number: the idempotency key of a user record. A plain record
    is its own single user record, with ``sub_sequence_number`` 0.
    """

    index: int
    source: SourceType
    sequence_number: str
    shard_id: str
    arrival_epoch_s: float | None
    size_bytes: int
    raw: dict[str, Any]
    sub_sequence_number: int = 0
    user_records: list[StreamRecord] | None = None
    """On the Kinesis record of a KPL aggregate: its user records, in order. None for a plain record."""
    user: kpl.UserRecord | None = None
    """On a user record of an aggregate: its partition key, explicit hash key and data."""

    @property
    def aggregated(self) -> bool:
        """True for a user record that came out of a KPL aggregate."""
        return self.user is not None

    # --- Kinesis ---------------------------------------------------------
    @property
    def partition_key(self) -> str:
        if self.user is not None:
            return self.user.partition_key
        return str(self.raw["kinesis"].get("partitionKey", ""))

    def payload(self, max_bytes: int) -> bytes:
        """The Kinesis data (a user record's own, for a user record of an aggregate), strictly
        base64-decoded and size-checked."""
        if self.source is not SourceType.KINESIS:
            raise PoisonRecord(f"a {self.source} record has no Kinesis payload")
        if self.user is not None:
            if len(self.user.data) > max_bytes:
                raise PoisonRecord(f"payload is {len(self.user.data)} bytes, larger than {max_bytes}")
            return self.user.data
        if self.user_records is not None:
            raise PoisonRecord("a KPL aggregate has no payload of its own: its user_records have the payloads")
        data = self.raw["kinesis"].get("data")
        if not isinstance(data, str):
            raise PoisonRecord("kinesis.data is missing")
        # base64 is 4/3 of the payload: reject before decoding a huge blob.
        if len(data) > (max_bytes * 4) // 3 + 4:
            raise PoisonRecord(f"payload is larger than {max_bytes} bytes")
        try:  # strict_mode validates in C; base64.b64decode(validate=True) runs a regex per record
            decoded = binascii.a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError):
            raise PoisonRecord("data is not valid base64") from None
        if len(decoded) > max_bytes:
            raise PoisonRecord(f"payload is {len(decoded)} bytes, larger than {max_bytes}")
        return decoded

    def json(self, max_bytes: int) -> Any:
        """The Kinesis payload parsed as JSON."""
        try:  # decoding first skips json's own encoding detection (which would take UTF-16)
            text = self.payload(max_bytes).decode()
        except UnicodeDecodeError:
            raise PoisonRecord("data is not JSON") from None
        try:
            # raw_decode is json's C scanner without json.loads' two whitespace regexes: about
            # 1 µs less per record (make bench, P1). A text it does not take whole (leading
            # whitespace, say) goes to json.loads, so exactly what json.loads accepts is accepted.
            value, end = _raw_decode(text)
            if end == len(text):
                return value
        except ValueError:
            pass
        except RecursionError:
            raise PoisonRecord("data is JSON nested too deeply to decode") from None
        try:
            return json.loads(text)
        except ValueError:  # JSONDecodeError, or an integer of more than 4,300 digits
            raise PoisonRecord("data is not JSON") from None
        except RecursionError:
            raise PoisonRecord("data is JSON nested too deeply to decode") from None

    # --- DynamoDB Streams ---------------------------------------------------
    @property
    def event_name(self) -> str | None:
        """INSERT, MODIFY or REMOVE for DynamoDB; None for Kinesis."""
        if self.source is not SourceType.DYNAMODB:
            return None
        return self.raw.get("eventName")

    @property
    def ttl_expired(self) -> bool:
        """True for a REMOVE that DynamoDB's Time to Live made: its ``userIdentity`` is the service
        (``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``, Streams API ``Record``)."""
        if self.source is not SourceType.DYNAMODB or self.raw.get("eventName") != "REMOVE":
            return False
        identity = self.raw.get("userIdentity")
        return (
            type(identity) is dict
            and identity.get("type") == "Service"
            and identity.get("principalId") == TTL_PRINCIPAL
        )

    def images(self) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
        """Keys, new image and old image as plain Python values (numbers are exact Decimals)."""
        if self.source is not SourceType.DYNAMODB:
            raise PoisonRecord(f"a {self.source} record has no DynamoDB images")
        body: Any = self.raw.get("dynamodb")
        check_images(body)  # before deserialising: no RecursionError, no Inexact
        try:
            keys, new, old = (
                {name: _deserialize(value) for name, value in image.items()} if image is not None else None
                for image in (body.get("Keys"), body.get("NewImage"), body.get("OldImage"))
            )
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
            raise PoisonRecord(f"images are not valid DynamoDB JSON ({type(exc).__name__})") from None
        if not keys:
            raise PoisonRecord("dynamodb.Keys is missing")
        return keys, new, old


_KINESIS: Final = SourceType.KINESIS
NUMBERS: Final = (int, float)
"""JSON numbers as the decoder returns them (``type(x) in NUMBERS`` keeps bool out)."""
MAX_SEQUENCE_DIGITS: Final = 128
MAX_SHARD_ID_LENGTH: Final = 128
MAX_EPOCH_S: Final = 2**36
"""Arrival and creation times are seconds since 1970; beyond about the year 4147 one is not a time."""


def check_images(body: Any, max_depth: int = 32) -> int:
    """Validate a DynamoDB Streams record's ``Keys``, ``NewImage`` and ``OldImage`` for what
    DynamoDB can store (see :mod:`stream_pipeline.limits`); return their size in bytes.
    ``max_depth`` is DynamoDB's nesting limit, less the levels a processor wraps them in."""
    if type(body) is not dict:
        raise PoisonRecord("dynamodb section is missing")
    size = 0
    for part in ("Keys", "NewImage", "OldImage"):
        if part in body:
            size += check_attributes(body[part], f"dynamodb.{part}", max_depth)
    return size


def from_raw(index: int, raw: Any, max_user_records: int | None = None) -> StreamRecord:
    """Build a :class:`StreamRecord`; raise :class:`PoisonRecord` if the envelope is unusable, or if
    it is a KPL aggregate of more than ``max_user_records`` user records (counted before any of
    them is built: :func:`stream_pipeline.kpl.count_user_records`).

    A record whose sequence number cannot be read raises with ``sequence_number``
    unknown; the pipeline reports it with an empty ``itemIdentifier``, which Lambda
    treats as a failure of the whole batch (retries, then the on-failure destination).
    """
    if not isinstance(raw, dict):
        raise PoisonRecord("record is not an object")
    source = raw.get("eventSource")
    if source == "aws:kinesis":
        body = raw.get("kinesis")
        sequence = body.get("sequenceNumber") if type(body) is dict else None
        if type(sequence) is not str:
            raise PoisonRecord("kinesis.sequenceNumber is missing")
        # Sequence numbers are compared as integers and stored; Kinesis's are 1-128 decimal digits.
        if not (sequence.isascii() and sequence.isdigit() and len(sequence) <= MAX_SEQUENCE_DIGITS):
            raise PoisonRecord("kinesis.sequenceNumber is not a decimal number")
        arrival = body.get("approximateArrivalTimestamp")  # type: ignore[union-attr]
        data = body.get("data")  # type: ignore[union-attr]
        event_id = raw.get("eventID") or ""
        shard = event_id.partition(":")[0] if type(event_id) is str and ":" in event_id else ""
        if not (shard.isascii() and len(shard) <= MAX_SHARD_ID_LENGTH):
            raise PoisonRecord(f"eventID does not start with a shard id (ASCII, at most {MAX_SHARD_ID_LENGTH})")
        record = StreamRecord(
            index,
            _KINESIS,
            sequence,
            shard,
            # a chained comparison: also false for NaN and the infinities
            float(arrival) if type(arrival) in NUMBERS and 0 <= arrival < MAX_EPOCH_S else None,
            # the decoded length, exactly (base64 padding: one "=" per missing byte)
            (len(data) * 3) // 4 - (data[-1] == "=") - (data[-2] == "=") if type(data) is str and len(data) > 1 else 0,
            raw,
        )
        if type(data) is str and data.startswith(kpl.BASE64_PREFIX):
            record.user_records = _user_records(record, data, max_user_records)
        return record
    if source == "aws:dynamodb":
        body = raw.get("dynamodb")
        if not isinstance(body, dict) or not isinstance(body.get("SequenceNumber"), str):
            raise PoisonRecord("dynamodb.SequenceNumber is missing")
        created: Any = body.get("ApproximateCreationDateTime")
        size = body.get("SizeBytes", 0)
        # A SizeBytes that is not a whole number used to count as 0 and let any image past
        # MAX_RECORD_BYTES; the audit processor also measures the images themselves.
        if type(size) is not int or size < 0:
            raise PoisonRecord("dynamodb.SizeBytes must be a non-negative integer")
        return StreamRecord(
            index=index,
            source=SourceType.DYNAMODB,
            sequence_number=body["SequenceNumber"],
            shard_id="",
            arrival_epoch_s=float(created) if type(created) in NUMBERS and 0 <= created < MAX_EPOCH_S else None,
            size_bytes=size,
            raw=raw,
        )
    raise PoisonRecord("unsupported eventSource (neither aws:kinesis nor aws:dynamodb)")


def _user_records(aggregate: StreamRecord, data: str, max_user_records: int | None) -> list[StreamRecord] | None:
    """The user records of a Kinesis record whose data starts like a KPL aggregate; None when it is
    not one after all (the payload decides later whether it is valid)."""
    try:
        blob = binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if not blob.startswith(kpl.MAGIC):
        return None
    index, sequence, shard, arrival, raw = (
        aggregate.index,
        aggregate.sequence_number,
        aggregate.shard_id,
        aggregate.arrival_epoch_s,
        aggregate.raw,
    )
    return [
        StreamRecord(index, _KINESIS, sequence, shard, arrival, len(user.data), raw, sub, None, user)
        for sub, user in enumerate(kpl.deaggregate(blob, max_user_records))
    ]


def sequence_of(raw: Any) -> str:
    """Best-effort sequence number of a raw record, for reporting; ``""`` when unknown."""
    if isinstance(raw, dict):
        for section, field in (("kinesis", "sequenceNumber"), ("dynamodb", "SequenceNumber")):
            body = raw.get(section)
            if isinstance(body, dict) and isinstance(body.get(field), str):
                return str(body[field])
    return ""
