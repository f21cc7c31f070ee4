"""The processor protocol and its result (kept apart so that processors can import it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from stream_pipeline.poison import Failure
from stream_pipeline.sink import BATCH_WRITE_LIMIT, chunks

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Executor

    from stream_pipeline.records import StreamRecord
    from stream_pipeline.sink import Item, Key, Sink


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What ``apply`` achieved: everything, or everything before ``failure`` (the first user record
    whose effect could not be applied, and why)."""

    failure: Failure | None = None
    duplicates: int = 0
    """Records skipped because an earlier delivery had already applied them."""


class Processor[T](Protocol):
    name: str

    def parse(self, record: StreamRecord) -> T: ...

    def apply(self, parsed: Sequence[tuple[StreamRecord, T]], sink: Sink | None, pool: Executor) -> ApplyResult: ...


def put_items(parsed: Sequence[tuple[StreamRecord, Item]], sink: Sink | None, pool: Executor, what: str) -> ApplyResult:
    """Write one item per record, 25 at a time in parallel; report the first record not written.

    For processors whose items come from the record alone (``audit``, ``archive``): a redelivery
    writes the same items, so plain ``BatchWriteItem`` puts suffice. ``Sink.put_batch`` never
    raises: a batch that DynamoDB (or botocore) refuses because of one item is written item by item,
    so the record at fault is the failure, not the first record of its batch. ``what`` names the
    item in the reason ("the change item")."""
    if sink is None or not parsed:
        return ApplyResult()
    record_of: dict[Key, StreamRecord] = {(item["pk"]["S"], item["sk"]["S"]): record for record, item in parsed}
    batches = [[item for _, item in chunk] for chunk in chunks(parsed, BATCH_WRITE_LIMIT)]
    unwritten = {key: reason for failed in pool.map(sink.put_batch, batches) for key, reason in failed.items()}
    if not unwritten:
        return ApplyResult()
    first = min(unwritten, key=lambda key: (record_of[key].index, record_of[key].sub_sequence_number))
    reason = f"sink did not take {what}: {unwritten[first]} ({len(unwritten)} item(s) not written)"
    return ApplyResult(Failure.at(record_of[first], reason))


def is_window_processor(processor: object) -> bool:
    """A processor for tumbling windows has ``fold`` and ``finish`` (see :mod:`stream_pipeline.windows`)."""
    return callable(getattr(processor, "fold", None)) and callable(getattr(processor, "finish", None))
