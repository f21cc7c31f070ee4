"""How a record fails: the exception for a record that can never succeed, and the point where a
batch stopped.

Its own module so that :mod:`stream_pipeline.records`, :mod:`stream_pipeline.limits`,
:mod:`stream_pipeline.kpl`, the processors and the window folding can all use them without
importing one another in a circle; ``stream_pipeline.records.PoisonRecord`` is the name
processors use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Positioned(Protocol):
    """Where a record is in its batch: a :class:`~stream_pipeline.records.StreamRecord` is one."""

    @property
    def index(self) -> int: ...

    @property
    def sub_sequence_number(self) -> int: ...


class PoisonRecord(Exception):
    """A record that can never be processed; retrying it cannot help.

    The message is a short, payload-free reason, e.g. ``"data is not valid base64"``.
    """


@dataclass(frozen=True, slots=True, order=True)
class Failure:
    """Where a batch stopped, and why: the one failure point of parsing, applying and folding.

    ``index`` is the batch index of the stream record reported first (it and every later record
    go into ``batchItemFailures``). ``sub`` is, inside a KPL aggregate, the first user record that
    was not done: user records ``0..sub-1`` were applied (or folded) and are skipped on the retry
    by their extended sequence numbers. A plain record, or an aggregate that failed as a whole,
    has ``sub`` 0. Failures order by position, so the earliest of several is ``min(...)``; the
    reason is a payload-free sentence.
    """

    index: int
    sub: int = 0
    reason: str = field(default="", compare=False)

    @classmethod
    def at(cls, record: Positioned, reason: str) -> Failure:
        """The failure of ``record`` (a plain record, or a user record of an aggregate)."""
        return cls(record.index, record.sub_sequence_number, reason)

    def before(self, record: Positioned) -> bool:
        """True when ``record`` comes before this failure (it was done)."""
        return (record.index, record.sub_sequence_number) < (self.index, self.sub)
