"""Tumbling windows: the window of an invocation, its state, and folding user records into it.

With ``TumblingWindowInSeconds`` on the event source mapping, Lambda adds to each event the
``window`` (``start``, ``end``), the ``state`` the previous invocation of this window returned,
``shardId``, ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly``, and expects
``{"state": {...}, "batchItemFailures": [...]}`` back: "If the response does not contain a
state property, Lambda considers this a failed invocation"; "your state can be a maximum of 1 MB
per shard. If it exceeds that size, Lambda terminates the window early"; a window terminated early
continues "with a fresh state"; a failed final invocation suspends the shard until one succeeds
(Lambda developer guide, "tumbling windows").

**The contract.** A window processor (``processors/alleycat_window.py``, or a team's own) has
``parse(record)`` (as every processor: validation, raising :class:`PoisonRecord`),
``fold(state, record, value)``, which folds one user record into the window's state (a JSON
object, changed in place), and ``finish(state, window, sink)``, which writes the result of one
*segment* of the window (what one state held) and raises when it cannot. The pipeline does the rest:

* **Nothing folded twice.** The state keeps, under :data:`BOOKKEEPING`, the extended sequence
  number (sequence, sub-sequence) of the last user record folded; a retried or replayed record
  at or before it is skipped. (A state is per shard, so one marker suffices.)
* **Failures follow the same rules as without windows.** Records are parsed in order up to the
  first poison record (in a KPL aggregate, the first poison *user* record: those before it are
  folded); that record and every later one are reported in ``batchItemFailures``, and the state
  returned holds exactly the user records before it, so the retry that starts at the failed record
  continues from there. A final invocation with a failed record does not finish the window (its
  records are not all in); it reports like any other.
* **A state that would pass 1 MB ends the segment early, as Lambda does.** The state is measured
  as compact JSON with non-ASCII characters escaped, the larger of the ways it can travel. If
  folding a user record would take it over :data:`STATE_LIMIT_BYTES`, the state of the records
  before it is finished right away, as a window terminated early (``finish`` with
  ``terminated_early``), and the record starts a new segment with a fresh state. Nothing goes to
  the failure path for size; only a user record that does not fit even a fresh state is a poison
  record. If that early ``finish`` fails, the record is reported (the state before it returned),
  and the retry finishes the same segment again.
* **The incoming state is checked** before anything reads it: a JSON object of at most
  :data:`MAX_STATE_DEPTH` levels and 1 MB, with well-formed bookkeeping, or the invocation fails as a
  whole with the reason (no ``RecursionError`` from a state nested 5,000 deep).
* **The final write, idempotent.** If ``finish`` raises (the sink refused, or the deadline came),
  the response has no ``state``: the invocation fails and Lambda retries it with the same state.
  ``finish`` must therefore be idempotent, and a segment finished early is finished again when the
  invocation that ended it is retried; the built-in one writes nothing when its part of an item is
  already there, so a retry changes nothing in the sink.

LocalStack's event source mapping (2026.3) accepts ``TumblingWindowInSeconds`` but its stream
poller never reads it (no ``window`` or ``state`` in its events), so windows are tested in-process
with AWS's sample time-window events (tests/fixtures).
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from stream_pipeline.limits import check_text
from stream_pipeline.poison import Failure, PoisonRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from stream_pipeline.records import StreamRecord
    from stream_pipeline.sink import Sink

__all__ = ["BOOKKEEPING", "STATE_LIMIT_BYTES", "Folded", "Window", "WindowEventError", "WindowProcessor", "fold",
           "state_size"]  # fmt: skip

STATE_LIMIT_BYTES: Final = 1_000_000
"""Lambda's limit is "1 MB per shard"; measured as compact UTF-8 JSON, with 1 MB read as 10**6."""
BOOKKEEPING: Final = "_stream_pipeline"
"""The pipeline's own key in the state: the last user record folded, and the segment."""
MAX_STATE_DEPTH: Final = 64
"""Levels of objects and arrays an incoming state may have: the built-in state has 3, AWS's samples
1; a deeper one is not a state we returned."""
NOT_JSON: Final = "the window state is not JSON (a processor put a value JSON cannot carry)"
MAX_SEGMENT_LENGTH: Final = 300
MAX_SEQUENCE_DIGITS: Final = 128


class WindowEventError(ValueError):
    """The event's window fields, or its state, are malformed: the invocation fails as a whole."""


@dataclass(frozen=True, slots=True)
class Window:
    """The tumbling window of one invocation, as Lambda describes it."""

    start: str
    end: str
    shard_id: str
    final: bool
    terminated_early: bool

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Window:
        """The window of ``event``; raise WindowEventError when it is malformed."""
        window = event.get("window")
        if type(window) is not dict:
            raise WindowEventError("the event's window is not an object with start and end")
        try:
            start = check_text(window.get("start"), "window.start", 64)
            end = check_text(window.get("end"), "window.end", 64)
            shard = check_text(event.get("shardId", ""), "shardId", 128)
        except PoisonRecord as exc:
            raise WindowEventError(str(exc)) from None
        final, early = event.get("isFinalInvokeForWindow", False), event.get("isWindowTerminatedEarly", False)
        if type(final) is not bool or type(early) is not bool:
            raise WindowEventError("isFinalInvokeForWindow and isWindowTerminatedEarly must be true or false")
        return cls(start, end, shard, final, early)


class WindowProcessor[T](Protocol):
    """What a processor implements to work on tumbling windows (see the module docstring)."""

    name: str

    def parse(self, record: StreamRecord) -> T: ...

    def fold(self, state: dict[str, Any], record: StreamRecord, value: T) -> None: ...

    def finish(self, state: dict[str, Any], window: Window, sink: Sink | None) -> None: ...


def state_size(state: dict[str, Any]) -> int:
    """The state's size as Lambda receives it: compact JSON, UTF-8. Raises PoisonRecord when the
    processor put something in it that JSON cannot carry."""
    size = _size(state)
    if size is None:
        raise PoisonRecord(NOT_JSON)
    return size


def _size(state: dict[str, Any]) -> int | None:
    """Compact JSON with non-ASCII characters escaped (``\\ud83d\\ude80``: 12 bytes for an emoji,
    4 in UTF-8): the larger of the ways the state can travel, so that Lambda never sees more."""
    try:
        return len(json.dumps(state, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError, RecursionError):
        return None


def check_state(state: Any) -> dict[str, Any]:
    """The incoming state (``{}`` when the event has none), checked iteratively before anything
    copies or reads it: a JSON object, nested at most :data:`MAX_STATE_DEPTH` levels, at most
    :data:`STATE_LIMIT_BYTES`, and our bookkeeping in the shape we write it. Raises
    :class:`WindowEventError` with the reason otherwise."""
    if state is None:
        return {}
    if type(state) is not dict:
        raise WindowEventError("the event's state is not an object")
    _check_values(state)
    size = _size(state)
    if size is None or size > STATE_LIMIT_BYTES:
        raise WindowEventError(f"the event's state is larger than {STATE_LIMIT_BYTES:,} bytes")
    _check_bookkeeping(state.get(BOOKKEEPING, {}))
    return state


def _check_values(state: dict[str, Any]) -> None:
    """Every value of the state is JSON, at most :data:`MAX_STATE_DEPTH` levels deep (an explicit
    stack: no recursion, whatever the depth)."""
    pending: list[tuple[Any, int]] = [(state, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_STATE_DEPTH:
            raise WindowEventError(f"the event's state is nested deeper than {MAX_STATE_DEPTH} levels")
        if type(value) is dict:
            if not all(type(key) is str for key in value):
                raise WindowEventError("the event's state has a key that is not a string")
            pending.extend((member, depth + 1) for member in value.values())
        elif type(value) is list:
            pending.extend((member, depth + 1) for member in value)
        elif type(value) is float and not math.isfinite(value):
            raise WindowEventError("the event's state holds a number JSON cannot carry (NaN or infinite)")
        elif value is not None and type(value) not in (str, int, float, bool):
            raise WindowEventError("the event's state holds a value that is not JSON")


def _check_bookkeeping(book: Any) -> None:
    if type(book) is not dict:
        raise WindowEventError(f"the event's state has a malformed {BOOKKEEPING} (not an object)")
    applied = book.get("applied")
    if applied is not None and not (
        type(applied) is list
        and len(applied) == 2
        and type(applied[0]) is str
        and applied[0].isascii()
        and applied[0].isdigit()
        and len(applied[0]) <= MAX_SEQUENCE_DIGITS
        and type(applied[1]) is int
        and applied[1] >= 0
    ):
        raise WindowEventError(f"the event's state has a malformed {BOOKKEEPING}.applied")
    segment = book.get("segment")
    if segment is not None and not (type(segment) is str and len(segment) <= MAX_SEGMENT_LENGTH):
        raise WindowEventError(f"the event's state has a malformed {BOOKKEEPING}.segment")


# ---------------------------------------------------------------------------------- folding
@dataclass(slots=True)
class Folded:
    """The result of folding user records into the state."""

    state: dict[str, Any]
    failure: Failure | None = None
    skipped: int = 0
    """User records skipped as already folded (a redelivery)."""
    segments_finished: int = 0
    """Segments finished early because the next record would have taken the state over 1 MB."""


def _after(record: StreamRecord, applied: Any) -> bool:
    """True when ``record`` comes after the last folded position (``[sequence, sub]`` or None)."""
    if applied is None:
        return True
    sequence, sub = applied
    return (int(record.sequence_number), record.sub_sequence_number) > (int(sequence), sub)


def _fold_range(
    processor: WindowProcessor[Any],
    base: dict[str, Any],
    chunk: Sequence[tuple[StreamRecord, Any]],
    start: int,
    stop: int,
) -> tuple[dict[str, Any], int, Failure | None]:
    """A copy of ``base`` with ``chunk[start:stop]`` folded in, each user record once: (state, user
    records skipped as already folded, the failure of the first fold that raised). On a failure the
    state holds exactly the records before it (folded again from ``base``: a fold that raised may
    have changed the state half-way)."""
    state = copy.deepcopy(base)
    book = state.setdefault(BOOKKEEPING, {})
    skipped = 0
    for position in range(start, stop):
        record, value = chunk[position]
        if not _after(record, book.get("applied")):
            skipped += 1
            continue
        try:
            processor.fold(state, record, value)
        except PoisonRecord as exc:
            failure = Failure.at(record, str(exc))
        except Exception as exc:  # a bug in a fold: that record fails, not the invocation
            failure = Failure.at(record, f"unexpected {type(exc).__name__} while folding into the window state")
        else:
            book["applied"] = [record.sequence_number, record.sub_sequence_number]
            book.setdefault("segment", f"{record.sequence_number}.{record.sub_sequence_number}")
            continue
        state, skipped, _ = _fold_range(processor, base, chunk, start, position)
        return state, skipped, failure
    return state, skipped, None


def _fits(state: dict[str, Any]) -> bool:
    size = _size(state)
    return size is not None and size <= STATE_LIMIT_BYTES


def _only_bookkeeping(state: dict[str, Any]) -> bool:
    return all(key == BOOKKEEPING for key in state)


def fold(
    processor: WindowProcessor[Any],
    state: dict[str, Any],
    chunk: Sequence[tuple[StreamRecord, Any]],
    finish_early: Callable[[dict[str, Any]], None],
) -> Folded:
    """Fold ``chunk`` (parsed user records, in order) into a copy of ``state``.

    Stops at the first fold that raises. When the state would pass :data:`STATE_LIMIT_BYTES`, the
    state before the user record that takes it there goes to ``finish_early`` (the segment ends, as
    Lambda ends a window early) and that record starts a fresh segment; the search for it is a
    binary search over re-folds of the prefix, paid only when the limit is reached."""
    result = Folded(state)
    base, start = state, 0
    while True:
        folded, skipped, failure = _fold_range(processor, base, chunk, start, len(chunk))
        if _fits(folded):
            result.state, result.failure, result.skipped = folded, failure, result.skipped + skipped
            return result
        stop = len(chunk) if failure is None else next(i for i, (r, _) in enumerate(chunk) if not failure.before(r))
        if stop == start:  # only a state that came in too large (check_state refuses those)
            result.state, result.failure = folded, failure
            return result
        # the first user record whose fold does not fit (or is not JSON): the smallest `low` for
        # which chunk[start:low + 1] does not fit; chunk[start:stop] as a whole does not
        low, high = start, stop - 1
        while low < high:
            middle = (low + high) // 2
            if _fits(_fold_range(processor, base, chunk, start, middle + 1)[0]):
                low = middle + 1
            else:
                high = middle
        record = chunk[low][0]
        before, skipped, _ = _fold_range(processor, base, chunk, start, low)
        result.state, result.skipped = before, result.skipped + skipped
        if _size(_fold_range(processor, base, chunk, start, low + 1)[0]) is None:
            result.failure = Failure.at(record, NOT_JSON)
            return result
        applied = before.get(BOOKKEEPING, {}).get("applied")
        fresh = {BOOKKEEPING: {"applied": applied}} if applied is not None else {}
        if _only_bookkeeping(before) or not _fits(_fold_range(processor, fresh, chunk, low, low + 1)[0]):
            # a poison record ends no segment: the state stays as it was before it
            result.failure = Failure.at(
                record, f"the window state would exceed {STATE_LIMIT_BYTES:,} bytes with this user record alone"
            )
            return result
        try:
            finish_early(before)
        except Exception as exc:  # the segment's result did not land: this record waits, the state before it kept
            result.failure = Failure.at(record, f"the window's result could not be written ({type(exc).__name__})")
            return result
        result.segments_finished += 1
        base, start = fresh, low
