"""One stream record, whichever source delivered it.

Kinesis and DynamoDB Streams records are told apart per record by
``eventSource``. Decoding is strict: anything that can never succeed raises
:class:`PoisonRecord`, whose reason is safe to log (it never carries the payload).

DynamoDB images are read with Powertools' event data class (its deserializer keeps
numbers exact). Kinesis fields are read straight from the dict, which is what the
data class does too, minus a wrapper object per record. Base64 is decoded
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

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

EVENT_NAMES: Final = ("INSERT", "MODIFY", "REMOVE")


class SourceType(StrEnum):
    KINESIS = "kinesis"
    DYNAMODB = "dynamodb"


class PoisonRecord(Exception):
    """A record that can never be processed; retrying it cannot help.

    The message is a short, payload-free reason, e.g. ``"data is not valid base64"``.
    """


@dataclass(slots=True)
class StreamRecord:
    """A record of the batch with the fields every processor needs.

    ``sequence_number`` is the ``itemIdentifier`` Lambda expects in a partial
    batch response. ``shard_id`` is set for Kinesis (from ``eventID``). Treat it as
    read-only; it is not frozen because a frozen dataclass is built through
    ``object.__setattr__``, which costs a measurable share of P1 (``make bench``).
    """

    index: int
    source: SourceType
    sequence_number: str
    shard_id: str
    arrival_epoch_s: float | None
    size_bytes: int
    raw: dict[str, Any]

    # --- Kinesis ---------------------------------------------------------
    @property
    def partition_key(self) -> str:
        return str(self.raw["kinesis"].get("partitionKey", ""))

    def payload(self, max_bytes: int) -> bytes:
        """The Kinesis data, strictly base64-decoded and size-checked."""
        if self.source is not SourceType.KINESIS:
            raise PoisonRecord(f"a {self.source} record has no Kinesis payload")
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
        try:  # decoding first skips json's own encoding detection
            return json.loads(self.payload(max_bytes).decode())
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PoisonRecord("data is not JSON") from None

    # --- DynamoDB Streams ---------------------------------------------------
    @property
    def event_name(self) -> str | None:
        """INSERT, MODIFY or REMOVE for DynamoDB; None for Kinesis."""
        if self.source is not SourceType.DYNAMODB:
            return None
        return self.raw.get("eventName")

    def images(self) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
        """Keys, new image and old image as plain Python values (numbers are exact Decimals)."""
        if self.source is not SourceType.DYNAMODB:
            raise PoisonRecord(f"a {self.source} record has no DynamoDB images")
        body = DynamoDBRecord(self.raw).dynamodb
        if body is None:
            raise PoisonRecord("dynamodb section is missing")
        try:
            keys = body.keys
            new = body.new_image if "NewImage" in self.raw["dynamodb"] else None
            old = body.old_image if "OldImage" in self.raw["dynamodb"] else None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise PoisonRecord(f"images are not valid DynamoDB JSON ({type(exc).__name__})") from None
        if not keys:
            raise PoisonRecord("dynamodb.Keys is missing")
        return dict(keys), (dict(new) if new is not None else None), (dict(old) if old is not None else None)


_KINESIS: Final = SourceType.KINESIS
NUMBERS: Final = (int, float)
"""JSON numbers as the decoder returns them (``type(x) in NUMBERS`` keeps bool out)."""


def from_raw(index: int, raw: Any) -> StreamRecord:
    """Build a :class:`StreamRecord`; raise :class:`PoisonRecord` if the envelope is unusable.

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
        arrival = body.get("approximateArrivalTimestamp")  # type: ignore[union-attr]
        data = body.get("data")  # type: ignore[union-attr]
        event_id = raw.get("eventID") or ""
        return StreamRecord(
            index,
            _KINESIS,
            sequence,
            event_id.partition(":")[0] if ":" in event_id else "",
            float(arrival) if type(arrival) in NUMBERS else None,
            (len(data) * 3) // 4 if type(data) is str else 0,
            raw,
        )
    if source == "aws:dynamodb":
        body = raw.get("dynamodb")
        if not isinstance(body, dict) or not isinstance(body.get("SequenceNumber"), str):
            raise PoisonRecord("dynamodb.SequenceNumber is missing")
        created = body.get("ApproximateCreationDateTime")
        size = body.get("SizeBytes")
        return StreamRecord(
            index=index,
            source=SourceType.DYNAMODB,
            sequence_number=body["SequenceNumber"],
            shard_id="",
            arrival_epoch_s=float(created) if isinstance(created, int | float) else None,
            size_bytes=int(size) if isinstance(size, int) else 0,
            raw=raw,
        )
    raise PoisonRecord(f"unsupported eventSource {str(source)[:40]!r}")


def sequence_of(raw: Any) -> str:
    """Best-effort sequence number of a raw record, for reporting; ``""`` when unknown."""
    if isinstance(raw, dict):
        for section, field in (("kinesis", "sequenceNumber"), ("dynamodb", "SequenceNumber")):
            body = raw.get(section)
            if isinstance(body, dict) and isinstance(body.get(field), str):
                return str(body[field])
    return ""
