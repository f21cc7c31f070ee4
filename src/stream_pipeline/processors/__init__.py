"""Record processors: the per-record parsing and the batch's effect on the sink.

A processor has two steps, both called by :mod:`stream_pipeline.pipeline`:

* ``parse(record)`` turns one :class:`~stream_pipeline.records.StreamRecord` into
  the processor's own value, or raises :class:`~stream_pipeline.records.PoisonRecord`.
  The pipeline stops at the first record that fails to parse.
* ``apply(parsed, sink, pool)`` applies the parsed prefix of the batch and returns
  the batch index of the first record whose effect could not be applied, if any.

``RECORD_PROCESSOR`` selects one: ``alleycat``, ``archive`` (every raw record kept), ``audit``, or
``package.module:function``
for a per-record function of your own (see :class:`PerRecordProcessor`). For tumbling windows,
``alleycat-window`` or ``package.module:object`` with ``fold`` and ``finish`` select a window
processor (:mod:`stream_pipeline.windows`): ``parse``, then ``fold`` into the window's state, and
``finish`` on the window's final invocation, instead of ``apply``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline.limits import bounded
from stream_pipeline.processors.alleycat import AlleycatProcessor
from stream_pipeline.processors.audit import AuditProcessor
from stream_pipeline.processors.base import ApplyResult, Processor, is_window_processor
from stream_pipeline.records import PoisonRecord, SourceType, StreamRecord, from_raw

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from stream_pipeline.config import Settings
    from stream_pipeline.sink import Sink
    from stream_pipeline.windows import WindowProcessor

__all__ = ["ApplyResult", "PerRecordProcessor", "Processor", "build", "check", "load_plugin", "parse_record"]

RecordFunction = Callable[[StreamRecord], None]
REASON_LENGTH: Final = 200


class PerRecordProcessor:
    """Adapts a team's own ``function(record) -> None`` into a processor.

    The function is called once per record, in order; an exception stops the batch
    at that record, which is reported failed with every later one. The function
    should be idempotent: Lambda delivers at least once. The reason logged is the
    exception's type, or the text of a :class:`~stream_pipeline.records.PoisonRecord`
    (which the function raises with a reason that carries no payload).
    """

    def __init__(self, function: RecordFunction, name: str) -> None:
        self.function = function
        self.name = name

    def parse(self, record: StreamRecord) -> StreamRecord:
        return record

    def apply(
        self,
        parsed: Sequence[tuple[StreamRecord, StreamRecord]],
        sink: Sink | None,  # noqa: ARG002 - the protocol's signature; a plug-in brings its own clients
        pool: Executor,  # noqa: ARG002 - records are applied in order, one at a time
    ) -> ApplyResult:
        for record, _ in parsed:
            try:
                self.function(record)
            except PoisonRecord as exc:  # the function's own reason, payload-free by contract
                return ApplyResult(failed_index=record.index, reason=f"{self.name}: {bounded(str(exc), REASON_LENGTH)}")
            except Exception as exc:  # a plug-in's failure is a record failure, never a crash
                # Only the type: the text of an arbitrary exception can quote the record (botocore's
                # ParamValidationError does, for every value it refuses).
                return ApplyResult(failed_index=record.index, reason=f"{self.name} raised {type(exc).__name__}")
        return ApplyResult()


def load_plugin(spec: str) -> Any:
    """Import ``package.module:name``: a function (per record) or an object with ``fold`` and
    ``finish`` (tumbling windows); raise ImportError/TypeError naming RECORD_PROCESSOR."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"RECORD_PROCESSOR={spec!r}: cannot import {module_name!r} ({exc})") from exc
    target = getattr(module, attr, None)
    if not callable(target) and not is_window_processor(target):
        raise TypeError(
            f"RECORD_PROCESSOR={spec!r}: {module_name} has no callable {attr!r} (nor an object with fold and finish)"
        )
    return target


def build(settings: Settings, source: SourceType) -> Processor[Any] | WindowProcessor[Any]:
    """The processor for a batch from ``source`` (the configured one, or the source's default)."""
    name = settings.record_processor or ("alleycat" if source is SourceType.KINESIS else "audit")
    if name == "alleycat":
        return AlleycatProcessor(max_record_bytes=settings.max_record_bytes)
    # stream_pipeline.windows is imported only by those who use windows: a cold start without them
    # does not compile it (make bench, P4).
    if name == "alleycat-window":
        from stream_pipeline.windows import AlleycatWindowProcessor  # noqa: PLC0415

        return AlleycatWindowProcessor(max_record_bytes=settings.max_record_bytes)
    if name == "archive":
        from stream_pipeline.processors.archive import ArchiveProcessor  # noqa: PLC0415 - used by few

        return ArchiveProcessor(max_record_bytes=settings.max_record_bytes, ttl_days=settings.audit_ttl_days)
    if name == "audit":
        return AuditProcessor(max_record_bytes=settings.max_record_bytes, ttl_days=settings.audit_ttl_days)
    target = load_plugin(name)
    if is_window_processor(target):
        from stream_pipeline.windows import CustomWindowProcessor  # noqa: PLC0415

        return CustomWindowProcessor(target, name=name)
    return PerRecordProcessor(target, name=name)


def parse_record(
    processor: Processor[Any] | WindowProcessor[Any], record: StreamRecord
) -> list[tuple[StreamRecord, Any]]:
    """A Kinesis or DynamoDB Streams record's user records, each with the processor's value.

    A plain record is its own single user record. For a KPL aggregate, a user record that fails
    makes the whole aggregate the failed record (its reason names the user record): nothing of it
    is returned, so nothing of it is applied, and the aggregate reaches the on-failure destination
    whole. Lambda's partial batch response can only name the aggregate's sequence number anyway.
    """
    users = record.user_records
    if users is None:
        return [(record, processor.parse(record))]
    parsed = []
    for user in users:
        try:
            parsed.append((user, processor.parse(user)))
        except PoisonRecord as exc:
            raise PoisonRecord(f"user record {user.sub_sequence_number} of a KPL aggregate: {exc}") from None
    return parsed


def check(processor: Processor[Any] | WindowProcessor[Any], raw: Any) -> None:
    """The handler's verdict on one raw stream record, without the sink: returns when the record
    would pass parsing, raises :class:`PoisonRecord` with the reason the handler logs otherwise.

    This is the call for ``stream-pipeline redrive``'s checker: unlike ``parse(from_raw(0, raw))``
    it also deaggregates KPL aggregates and checks every user record, as the handler does.
    """
    parse_record(processor, from_raw(0, raw))
