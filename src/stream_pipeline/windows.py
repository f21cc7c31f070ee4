"""Tumbling windows: state carried from invocation to invocation, and one result per window.

With ``TumblingWindowInSeconds`` on the event source mapping, Lambda adds to each event the
``window`` (``start``, ``end``), the ``state`` the previous invocation of this window returned,
``shardId``, ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly``, and expects
``{"state": {...}, "batchItemFailures": [...]}`` back: "If the response does not contain a
state property, Lambda considers this a failed invocation"; "your state can be a maximum of 1 MB
per shard"; a failed final invocation suspends the shard until one succeeds (Lambda developer
guide, "tumbling windows").

**The contract.** A window processor has ``parse(record)`` (as every processor: validation, raising
:class:`PoisonRecord`), ``fold(state, record, value)``, which folds one user record into the
window's state (a JSON object, changed in place), and ``finish(state, window, sink)``, which
writes the window's result on the final invocation and raises when it cannot. The pipeline does
the rest:

* **Nothing folded twice.** The state keeps, under :data:`BOOKKEEPING`, the extended sequence
  number (sequence, sub-sequence) of the last user record folded; a retried or replayed record
  at or before it is skipped. (A state is per shard, so one marker suffices.)
* **Failures follow the same rules as without windows.** Records are parsed in order up to the
  first poison record; that record and every later one are reported in ``batchItemFailures``,
  and the state returned holds exactly the records before it, so the retry that starts at the
  failed record continues from there. A final invocation with a failed record does not finish the
  window (its records are not all in); it reports like any other.
* **State under 1 MB, or a clear failure.** The state is measured as the compact JSON Lambda
  receives. If folding a record would take it over :data:`STATE_LIMIT_BYTES`, that record and
  the later ones are reported with the reason ``window state would exceed ...``, and the state
  of the records before it is returned.
* **The final write, idempotent.** If ``finish`` raises (the sink refused, or the deadline came),
  the response has no ``state``: the invocation fails and Lambda retries it with the same state.
  ``finish`` must therefore be idempotent; the built-in one replaces its own part of each result
  item (below), so a retried window writes the same items again.

**The built-in processor, ``alleycat-window``:** per racer and window the message count, mean and
maximum cadence and resistance (and output), and one leaderboard item per window, the ten racers
with the highest mean output. A window's racers are spread over the stream's shards (each racer
is one partition key), and a window that Lambda terminates early continues with a fresh state: so
every result item keeps one *part* per (shard, segment), a segment being what one state held, and
its totals are recomputed from all its parts on each write. A part is written whole and replaces
itself, never adds, so a retry or a second delivery of the same window changes nothing.

LocalStack's event source mapping (2026.3) accepts ``TumblingWindowInSeconds`` but its stream
poller never reads it (no ``window`` or ``state`` in its events), so windows are tested in-process
with AWS's sample time-window events (tests/fixtures).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Protocol

from stream_pipeline.limits import check_text
from stream_pipeline.poison import PoisonRecord
from stream_pipeline.processors.alleycat import AlleycatProcessor, Telemetry
from stream_pipeline.processors.base import is_window_processor

__all__ = ["AlleycatWindowProcessor", "CustomWindowProcessor", "Window", "WindowProcessor", "fold_batch",
           "is_window_processor", "state_size"]  # fmt: skip
from stream_pipeline.sink import ConditionFailed, Key

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from stream_pipeline.records import StreamRecord
    from stream_pipeline.sink import Item, Sink

STATE_LIMIT_BYTES: Final = 1_000_000
"""Lambda's limit is "1 MB per shard"; measured as compact UTF-8 JSON, with 1 MB read as 10**6."""
BOOKKEEPING: Final = "_stream_pipeline"
"""The pipeline's own key in the state: the last user record folded, the segment, the window."""
LEADERS: Final = 10
MAX_CONDITION_RETRIES: Final = 5


class WindowEventError(ValueError):
    """The event's window fields are malformed."""


@dataclass(frozen=True, slots=True)
class Window:
    """The tumbling window of one invocation, as Lambda describes it."""

    start: str
    end: str
    shard_id: str
    final: bool
    terminated_early: bool

    @classmethod
    def from_event(cls, event: dict[str, Any], state: Any) -> Window:
        """The window of ``event``; raise WindowEventError when it, or its ``state``, is malformed."""
        if type(state) is not dict:
            raise WindowEventError("the event's state is not an object")
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
    try:
        return len(json.dumps(state, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError):
        raise PoisonRecord("the window state is not JSON (a processor put a value JSON cannot carry)") from None


@dataclass(slots=True)
class Folded:
    """The result of folding a batch's parsed prefix into the state."""

    state: dict[str, Any]
    failed_at: int | None = None
    reason: str = ""
    skipped: int = 0


def _position(record: StreamRecord) -> list[Any]:
    return [record.sequence_number, record.sub_sequence_number]


def _after(record: StreamRecord, applied: Any) -> bool:
    """True when ``record`` comes after the last folded position (``[sequence, sub]`` or None)."""
    if not (type(applied) is list and len(applied) == 2):  # [sequence, sub-sequence]
        return True
    sequence, sub = applied
    return (int(record.sequence_number), record.sub_sequence_number) > (int(sequence), int(sub))


def _fold_prefix(
    processor: WindowProcessor[Any], incoming: dict[str, Any], parsed: Sequence[tuple[StreamRecord, Any]], stop: int
) -> tuple[dict[str, Any], int]:
    """A copy of ``incoming`` with the user records of the stream records before index ``stop``
    folded in, each once; returns (state, user records skipped as already folded)."""
    state = copy.deepcopy(incoming)
    book = state.setdefault(BOOKKEEPING, {})
    skipped = 0
    for record, value in parsed:
        if record.index >= stop:
            break
        if not _after(record, book.get("applied")):
            skipped += 1
            continue
        processor.fold(state, record, value)
        book["applied"] = _position(record)
        book.setdefault("segment", f"{record.sequence_number}.{record.sub_sequence_number}")
    return state, skipped


def fold_batch(
    processor: WindowProcessor[Any],
    incoming: dict[str, Any],
    parsed: Sequence[tuple[StreamRecord, Any]],
    stop: int,
) -> Folded:
    """Fold the parsed prefix (stream records before ``stop``) into a copy of the incoming state,
    cut before the first record whose fold fails or would take the state over the limit."""
    try:
        state, skipped = _fold_prefix(processor, incoming, parsed, stop)
        if state_size(state) <= STATE_LIMIT_BYTES:
            return Folded(state, skipped=skipped)
        reason = f"the window state would exceed {STATE_LIMIT_BYTES:,} bytes (Lambda keeps at most 1 MB per shard)"
    except PoisonRecord as exc:
        reason = str(exc)
    except Exception as exc:  # a bug in a fold: that record fails, not the invocation
        reason = f"unexpected {type(exc).__name__} while folding into the window state"
    # The first stream record that breaks it: the smallest k for which the prefix up to and
    # including indexes[k] does not fold or fit (a binary search: log2(n) folds, on failure only).
    indexes = sorted({record.index for record, _ in parsed if record.index < stop})
    low, high = 0, len(indexes) - 1
    while low < high:
        middle = (low + high) // 2
        if _works(processor, incoming, parsed, indexes[middle] + 1):
            low = middle + 1
        else:
            high = middle
    cut = indexes[low] if indexes else stop
    state, skipped = _fold_prefix(processor, incoming, parsed, cut)
    return Folded(state, failed_at=cut, reason=reason, skipped=skipped)


def _works(
    processor: WindowProcessor[Any], incoming: dict[str, Any], parsed: Sequence[tuple[StreamRecord, Any]], stop: int
) -> bool:
    try:
        state, _ = _fold_prefix(processor, incoming, parsed, stop)
        return state_size(state) <= STATE_LIMIT_BYTES
    except Exception:  # any failure means this prefix does not work
        return False


# ------------------------------------------------------------------------ the built-in processor
STATS: Final = ("count", "cadence_sum", "cadence_max", "resistance_sum", "resistance_max", "output_sum", "output_max")


class AlleycatWindowProcessor:
    """Per racer and window: message count, mean and maximum cadence, resistance and output; and a
    leaderboard item per window. State: ``racers`` maps ``race:racer`` to ``[name, count, sums
    and maxima...]``. Measured: 1,000 racers take 55 KB with the race's names, 302 KB with the
    longest names the parser allows (256 characters): well inside the 1 MB."""

    name = "alleycat-window"

    def __init__(self, max_record_bytes: int) -> None:
        self._parser = AlleycatProcessor(max_record_bytes)

    def parse(self, record: StreamRecord) -> Telemetry:
        return self._parser.parse(record)

    def fold(self, state: dict[str, Any], record: StreamRecord, value: Telemetry) -> None:  # noqa: ARG002 - the protocol's signature
        racers = state.setdefault("racers", {})
        key = f"{value.race_id}:{value.racer_id}"
        output = value.output
        entry = racers.get(key)
        if entry is None:
            racers[key] = [
                value.name,
                1,
                value.cadence,
                value.cadence,
                value.resistance,
                value.resistance,
                output,
                output,
            ]
            return
        entry[0] = value.name
        entry[1] += 1
        entry[2] += value.cadence
        entry[3] = max(entry[3], value.cadence)
        entry[4] += value.resistance
        entry[5] = max(entry[5], value.resistance)
        entry[6] += output
        entry[7] = max(entry[7], output)

    def finish(self, state: dict[str, Any], window: Window, sink: Sink | None) -> None:
        if sink is None:
            return
        book = state.get(BOOKKEEPING, {})
        part = f"{window.shard_id}#{book.get('segment', 'empty')}"
        parts: dict[Key, dict[str, Any]] = {}
        names: dict[Key, str] = {}
        for key, entry in state.get("racers", {}).items():
            race, _, racer = key.partition(":")
            item_key = (f"RACEWINDOW#{race}#{window.start}", f"RACER#{racer}")
            parts[item_key] = dict(zip(STATS, entry[1:], strict=True))
            names[item_key] = entry[0]
        stored = sink.get_many(list(parts))
        for item_key, stats in parts.items():
            racer_item = partial(_racer_item, item_key, names[item_key], window)
            _merge_write(sink, item_key, stored.get(item_key), part, stats, build=racer_item)
        for race, leaders in _leaders_by_race(parts, names).items():
            board_key = (f"RACEWINDOW#{race}#{window.start}", "LEADERBOARD")
            board_item = partial(_board_item, board_key, window)
            _merge_write(sink, board_key, sink.get(board_key), part, {"leaders": leaders}, build=board_item)


def _leaders_by_race(parts: dict[Key, dict[str, Any]], names: dict[Key, str]) -> dict[str, list[dict[str, Any]]]:
    """This part's ten best racers of each race (by mean output), with what merging needs."""
    by_race: dict[str, list[dict[str, Any]]] = {}
    for (pk, sk), stats in parts.items():
        race = pk.split("#")[1]
        by_race.setdefault(race, []).append(
            {
                "racer_id": sk.removeprefix("RACER#"),
                "name": names[(pk, sk)],
                "output_sum": stats["output_sum"],
                "count": stats["count"],
            }
        )
    return {race: sorted(rows, key=lambda r: -r["output_sum"] / r["count"])[:LEADERS] for race, rows in by_race.items()}


def _merge_write(
    sink: Sink,
    key: Key,
    item: Item | None,
    part: str,
    value: dict[str, Any],
    *,
    build: Callable[[dict[str, dict[str, Any]]], Item],
) -> None:
    """Replace ``part`` in the item's parts (all others kept), recompute the item, write it on the
    version read; on a lost race re-read and do it again."""
    for _ in range(MAX_CONDITION_RETRIES):
        parts = json.loads(item["parts"]["S"]) if item is not None else {}
        parts[part] = value
        previous = str(item["version"]["S"]) if item is not None else None
        new = build(parts)
        new["parts"] = {"S": json.dumps(parts, sort_keys=True, separators=(",", ":"))}
        new["version"] = {"S": str(int(previous or "0") + 1)}
        try:
            sink.put_if_version(new, previous)
        except ConditionFailed:
            item = sink.get(key)
        else:
            return
    raise ConditionFailed("the window item kept changing under a conditional write")


def _number(value: float) -> AttributeValueTypeDef:
    return {"N": str(Decimal(repr(round(value, 4))))}


def _racer_item(key: Key, name: str, window: Window, parts: dict[str, dict[str, Any]]) -> Item:
    rows = list(parts.values())
    count = sum(r["count"] for r in rows)
    race_window, racer = key
    return {
        "pk": {"S": race_window},
        "sk": {"S": racer},
        "race_id": {"S": race_window.split("#")[1]},
        "racer_id": {"S": racer.removeprefix("RACER#")},
        "name": {"S": name},
        "window_start": {"S": window.start},
        "window_end": {"S": window.end},
        "message_count": {"N": str(count)},
        "cadence_mean": _number(sum(r["cadence_sum"] for r in rows) / count),
        "cadence_max": _number(max(r["cadence_max"] for r in rows)),
        "resistance_mean": _number(sum(r["resistance_sum"] for r in rows) / count),
        "resistance_max": _number(max(r["resistance_max"] for r in rows)),
        "output_mean": _number(sum(r["output_sum"] for r in rows) / count),
        "output_max": _number(max(r["output_max"] for r in rows)),
    }


def _board_item(key: Key, window: Window, parts: dict[str, dict[str, Any]]) -> Item:
    totals: dict[str, dict[str, Any]] = {}
    for part in parts.values():
        for row in part["leaders"]:
            entry = totals.setdefault(row["racer_id"], {"name": row["name"], "output_sum": 0.0, "count": 0})
            entry["output_sum"] += row["output_sum"]
            entry["count"] += row["count"]
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1]["output_sum"] / kv[1]["count"], kv[0]))[:LEADERS]
    return {
        "pk": {"S": key[0]},
        "sk": {"S": key[1]},
        "window_start": {"S": window.start},
        "window_end": {"S": window.end},
        "leaders": {
            "L": [
                {
                    "M": {
                        "rank": {"N": str(rank)},
                        "racer_id": {"S": racer},
                        "name": {"S": entry["name"]},
                        "output_mean": _number(entry["output_sum"] / entry["count"]),
                        "message_count": {"N": str(entry["count"])},
                    }
                }
                for rank, (racer, entry) in enumerate(ranked, start=1)
            ]
        },
    }


class CustomWindowProcessor:
    """A team's window processor (``RECORD_PROCESSOR=package.module:object`` where the object has
    ``fold(state, record)`` and ``finish(state, window)``, and may have ``parse(record)``). It
    brings its own clients, so ``finish`` gets no sink."""

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
