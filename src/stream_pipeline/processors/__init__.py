"""Record processors: the per-record parsing and the batch's effect on the sink.

A processor has two steps, both called by :mod:`stream_pipeline.pipeline`:

* ``parse(record)`` turns one user record (a :class:`~stream_pipeline.records.StreamRecord`) into
  the processor's own value, or raises :class:`~stream_pipeline.records.PoisonRecord`.
  The pipeline stops at the first user record that fails to parse.
* ``apply(parsed, sink, pool)`` applies a run of parsed user records and returns an
  :class:`ApplyResult`: the :class:`~stream_pipeline.poison.Failure` of the first whose effect could
  not be applied, if any.

``RECORD_PROCESSOR`` selects one: ``alleycat``, ``archive`` (every raw record kept), ``audit``, or
``package.module:function`` for a per-record function of your own (``custom.py``). For tumbling
windows, ``alleycat-window`` (``alleycat_window.py``) or ``package.module:object`` with ``fold`` and
``finish`` select a window processor (:mod:`stream_pipeline.windows`): ``parse``, then ``fold`` into
the window's state, and ``finish`` for each segment of the window, instead of ``apply``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from stream_pipeline.processors.alleycat import AlleycatProcessor
from stream_pipeline.processors.audit import AuditProcessor
from stream_pipeline.processors.base import ApplyResult, Processor, is_window_processor
from stream_pipeline.processors.custom import CustomWindowProcessor, PerRecordProcessor, load_plugin
from stream_pipeline.records import PoisonRecord, SourceType, StreamRecord, from_raw

if TYPE_CHECKING:
    from collections.abc import Callable

    from stream_pipeline.config import Settings
    from stream_pipeline.windows import WindowProcessor

__all__ = ["ApplyResult", "PerRecordProcessor", "Processor", "build", "check", "load_plugin", "parse_record"]


def build(
    settings: Settings, source: SourceType, clock: Callable[[], float] = time.time
) -> Processor[Any] | WindowProcessor[Any]:
    """The processor for a batch from ``source`` (the configured one, or the source's default);
    ``clock`` is the time the archive and audit items' expiry counts from."""
    name = settings.record_processor or ("alleycat" if source is SourceType.KINESIS else "audit")
    if name == "alleycat":
        return AlleycatProcessor(max_record_bytes=settings.max_record_bytes)
    # The window processor is imported only by those who use windows: a cold start without them
    # does not compile it (make bench, P4).
    if name == "alleycat-window":
        from stream_pipeline.processors.alleycat_window import AlleycatWindowProcessor  # noqa: PLC0415

        return AlleycatWindowProcessor(max_record_bytes=settings.max_record_bytes)
    if name == "archive":
        from stream_pipeline.processors.archive import ArchiveProcessor  # noqa: PLC0415 - used by few

        return ArchiveProcessor(max_record_bytes=settings.max_record_bytes, ttl_days=settings.audit_ttl_days,
                                clock=clock)  # fmt: skip
    if name == "audit":
        return AuditProcessor(max_record_bytes=settings.max_record_bytes, ttl_days=settings.audit_ttl_days, clock=clock)
    target = load_plugin(name)
    if is_window_processor(target):
        return CustomWindowProcessor(target, name=name)
    return PerRecordProcessor(target, name=name)


def parse_user_record(processor: Processor[Any] | WindowProcessor[Any], user: StreamRecord) -> Any:
    """``processor.parse(user)``; a poison user record of a KPL aggregate says which one it is."""
    if user.user is None:
        return processor.parse(user)
    try:
        return processor.parse(user)
    except PoisonRecord as exc:
        raise PoisonRecord(f"user record {user.sub_sequence_number} of a KPL aggregate: {exc}") from None


def parse_record(
    processor: Processor[Any] | WindowProcessor[Any], record: StreamRecord
) -> list[tuple[StreamRecord, Any]]:
    """A Kinesis or DynamoDB Streams record's user records, each with the processor's value; raises
    :class:`PoisonRecord` at the first that fails (a plain record is its own single user record).

    The handler applies the user records of an aggregate before its first poison one and then
    reports the aggregate (``pipeline.py``); this all-or-nothing form is the verdict on the record."""
    return [(user, parse_user_record(processor, user)) for user in record.user_records or (record,)]


def check(processor: Processor[Any] | WindowProcessor[Any], raw: Any, max_user_records: int | None = None) -> None:
    """The handler's verdict on one raw stream record, without the sink: returns when the record
    would pass parsing, raises :class:`PoisonRecord` with the reason the handler logs otherwise.

    This is the call for ``stream-pipeline redrive``'s checker: unlike ``parse(from_raw(0, raw))``
    it also deaggregates KPL aggregates and checks every user record, as the handler does. Pass the
    function's ``max_user_records`` (``load_settings`` with ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` set
    to its memory: ``Settings.max_user_records``) for the handler's verdict on an aggregate too large
    for that memory; without it the count is not checked.
    """
    parse_record(processor, from_raw(0, raw, max_user_records))
