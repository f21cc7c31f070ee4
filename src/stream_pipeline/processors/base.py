"""The processor protocol and its result (kept apart so that processors can import it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Executor

    from stream_pipeline.records import StreamRecord
    from stream_pipeline.sink import Sink


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What ``apply`` achieved: everything, or everything before ``failed_index``."""

    failed_index: int | None = None
    reason: str = ""
    duplicates: int = 0
    """Records skipped because an earlier delivery had already applied them."""


class Processor[T](Protocol):
    name: str

    def parse(self, record: StreamRecord) -> T: ...

    def apply(self, parsed: Sequence[tuple[StreamRecord, T]], sink: Sink | None, pool: Executor) -> ApplyResult: ...


def is_window_processor(processor: object) -> bool:
    """A processor for tumbling windows has ``fold`` and ``finish`` (see :mod:`stream_pipeline.windows`)."""
    return callable(getattr(processor, "fold", None)) and callable(getattr(processor, "finish", None))
