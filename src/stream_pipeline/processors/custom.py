"""A team's own processor, named by ``RECORD_PROCESSOR=package.module:name``: a per-record function,
or an object with ``fold`` and ``finish`` for tumbling windows. Both bring their own clients: the
pipeline's sink is ours."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline.limits import bounded
from stream_pipeline.poison import Failure, PoisonRecord
from stream_pipeline.processors.base import ApplyResult, is_window_processor

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Executor

    from stream_pipeline.records import StreamRecord
    from stream_pipeline.sink import Sink
    from stream_pipeline.windows import Window

REASON_LENGTH: Final = 200


class PerRecordProcessor:
    """Adapts a team's own ``function(record) -> None`` into a processor.

    The function is called once per user record, in order; an exception stops the batch at that
    record, which is reported failed with every later one (inside a KPL aggregate, the user records
    before it were applied: the aggregate is reported, and the retry calls the function again for
    them). The function should be idempotent: Lambda delivers at least once, and
    ``(record.sequence_number, record.sub_sequence_number)`` is the key to make it so. The reason
    logged is the exception's type, or the text of a :class:`~stream_pipeline.records.PoisonRecord`
    (which the function raises with a reason that carries no payload).
    """

    def __init__(self, function: Callable[[StreamRecord], None], name: str) -> None:
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
                return ApplyResult(Failure.at(record, f"{self.name}: {bounded(str(exc), REASON_LENGTH)}"))
            except Exception as exc:  # a plug-in's failure is a record failure, never a crash
                # Only the type: the text of an arbitrary exception can quote the record (botocore's
                # ParamValidationError does, for every value it refuses).
                return ApplyResult(Failure.at(record, f"{self.name} raised {type(exc).__name__}"))
        return ApplyResult()


class CustomWindowProcessor:
    """A team's window processor (``RECORD_PROCESSOR=package.module:object`` where the object has
    ``fold(state, record)`` and ``finish(state, window)``, and may have ``parse(record)``).
    ``finish`` is called once per segment: a window ended early (by Lambda, or here before its state
    passes 1 MB) has several, each with ``window.terminated_early`` set but the last."""

    def __init__(self, target: Any, name: str) -> None:
        self.target = target
        self.name = name

    def parse(self, record: StreamRecord) -> Any:
        parse = getattr(self.target, "parse", None)
        return parse(record) if callable(parse) else record

    def fold(self, state: dict[str, Any], record: StreamRecord, value: Any) -> None:  # noqa: ARG002 - the record is the value
        self.target.fold(state, record)

    def finish(self, state: dict[str, Any], window: Window, sink: Sink | None) -> None:  # noqa: ARG002 - plug-ins bring their own
        self.target.finish(state, window)


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
