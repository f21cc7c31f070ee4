"""The archive processor (Kinesis): every user record, as it came, one sink item each.

A second consumer of the race's stream (examples/kinesis-fan-out) keeps the raw messages while
the first builds the leaderboard. For each user record (a plain record, or each record of a KPL
aggregate) the sink gets one item:

* ``pk``: ``archive#`` and the record's partition key, so the writes spread as the producers'
  keys do (one racer's messages together, in order);
* ``sk``: the sequence number, zero-padded, ``#`` and the sub-sequence number (0 for a plain
  record): the KCL's extended sequence number, unique per user record and sorted as the shard was;
* ``data``: the payload's bytes (binary, unparsed: the archive keeps what the producer sent,
  JSON or not), ``shard_id``, ``arrival`` (epoch seconds) and ``expires_at`` for DynamoDB's TTL:
  ``AUDIT_TTL_DAYS`` after the record's arrival, and never less than half of it after the write
  (:func:`stream_pipeline.limits.expires_at`), so a record replayed or redriven after the TTL
  (failures wait up to 90 days) is not written already expired.

The key and the content come from the record alone, so a redelivered recent record writes the very
same item again: nothing doubled, nothing changed, and plain ``BatchWriteItem`` puts of 25 suffice.
A payload larger than a DynamoDB item can hold is a poison record (it reaches the failure path),
never a crash.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from stream_pipeline.limits import MAX_ITEM_BYTES, check_text, expires_at
from stream_pipeline.processors.base import ApplyResult, put_items
from stream_pipeline.records import PoisonRecord, SourceType, StreamRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Executor

    from stream_pipeline.sink import Item, Sink

SECONDS_PER_DAY: Final = 86_400
SEQUENCE_WIDTH: Final = 56
"""Kinesis sequence numbers have up to 56 digits (LocalStack's too): padded to 56 they sort."""
PARTITION_KEY_LENGTH: Final = 256  # Kinesis's own limit
ITEM_OVERHEAD_BYTES: Final = 1024
"""Room in the 400 KB item for the key and the other attributes beside the payload."""


class ArchiveProcessor:
    name = "archive"

    def __init__(self, max_record_bytes: int, ttl_days: int, clock: Callable[[], float] = time.time) -> None:
        self.max_record_bytes = max_record_bytes
        self.ttl_seconds = ttl_days * SECONDS_PER_DAY
        self._clock = clock

    def parse(self, record: StreamRecord) -> Item:
        if record.source is not SourceType.KINESIS:
            raise PoisonRecord("the archive processor takes Kinesis records only")
        data = record.payload(self.max_record_bytes)
        if len(data) > MAX_ITEM_BYTES - ITEM_OVERHEAD_BYTES:
            raise PoisonRecord(f"payload is {len(data)} bytes, more than a DynamoDB item can archive")
        key = check_text(record.partition_key, "partitionKey", PARTITION_KEY_LENGTH)
        sequence = record.sequence_number
        if not sequence.isdigit() or len(sequence) > SEQUENCE_WIDTH:
            raise PoisonRecord("sequenceNumber is not a Kinesis sequence number")
        arrival = record.arrival_epoch_s
        item: Item = {
            "pk": {"S": f"archive#{key}"},
            "sk": {"S": f"{sequence.zfill(SEQUENCE_WIDTH)}#{record.sub_sequence_number:010d}"},
            "data": {"B": data},
            "shard_id": {"S": check_text(record.shard_id or "-", "eventID", 128)},
        }
        if arrival is not None:
            item["arrival"] = {"N": f"{arrival:.3f}"}
        item["expires_at"] = {"N": str(expires_at(arrival, self._clock(), self.ttl_seconds))}
        return item

    def apply(self, parsed: Sequence[tuple[StreamRecord, Item]], sink: Sink | None, pool: Executor) -> ApplyResult:
        """Write the items 25 at a time in parallel; report the first record not written (the user
        records of one aggregate share its index: the aggregate is then the failed record)."""
        return put_items(parsed, sink, pool, "the archived record")
