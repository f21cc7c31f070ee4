"""The ``alleycat-window`` processor (Kinesis, tumbling windows): per racer and window the message
count, mean and maximum cadence, resistance and output, and a leaderboard item per race and window,
the ten racers with the highest mean output (see :mod:`stream_pipeline.windows` for the contract).

**State.** ``racers`` maps ``race:racer`` to ``[name, count, sums and maxima...]``. Measured: 1,000
racers take 55 KB with the race's names, 302 KB with the longest names the parser allows (256
characters): well inside the 1 MB; a larger state ends its segment early (windows.py).

**Racer items, one part per segment.** A window's racers are spread over the stream's shards (each
racer is one partition key), and a window ended early continues with a fresh state, so each racer's
item keeps one *part* per (shard, segment), a segment being what one state held, and its totals are
recomputed from all its parts on each write. A part is written whole and replaces itself, never
adds; a part already stored as it is is not written again, so a retried final invocation (or a
second delivery of the same window) changes nothing, not even the item's ``version``.

**The leaderboard, bounded.** It holds the ten leaders and nothing else: no part per shard (with
13 shards of 256-emoji names those passed DynamoDB's 400 KB). Each finish ranks this segment's
racers together with the leaders already stored, every one by its exact totals across all its parts
(its own racer item, just written, or read back for a stored leader), and keeps the ten best. At
most ten rows of a 128-character racer id and a 256-character name, stored as UTF-8 strings: about
17 KB at most, whatever the shards, segments or names. A board that would not change is not written.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from stream_pipeline.processors.alleycat import AlleycatProcessor, Telemetry
from stream_pipeline.sink import ConditionFailed
from stream_pipeline.windows import BOOKKEEPING

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from stream_pipeline.records import StreamRecord
    from stream_pipeline.sink import Item, Key, Sink
    from stream_pipeline.windows import Window

STATS: Final = ("count", "cadence_sum", "cadence_max", "resistance_sum", "resistance_max", "output_sum", "output_max")
LEADERS: Final = 10
MAX_CONDITION_RETRIES: Final = 5
BOARD: Final = "LEADERBOARD"


class Standing(NamedTuple):
    """A racer's totals over every part of its window item: what the leaderboard ranks."""

    name: str
    output_sum: float
    messages: int

    @property
    def mean(self) -> float:
        return self.output_sum / self.messages


class AlleycatWindowProcessor:
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
        by_race: dict[str, dict[str, Standing]] = {}
        for item_key, stats in parts.items():
            racer_item = partial(_racer_item, item_key, names[item_key], window)
            now = _merge_write(sink, item_key, stored.get(item_key), part, stats, build=racer_item)
            race = item_key[0].split("#")[1]
            by_race.setdefault(race, {})[item_key[1].removeprefix("RACER#")] = _standing(names[item_key], now)
        for race, standings in by_race.items():
            _write_board(sink, (f"RACEWINDOW#{race}#{window.start}", BOARD), window, standings)


def _standing(name: str, parts: dict[str, dict[str, Any]]) -> Standing:
    """A racer's totals over all its parts (in part order, so every writer sums them alike)."""
    rows = [parts[key] for key in sorted(parts)]
    return Standing(name, sum(r["output_sum"] for r in rows), sum(r["count"] for r in rows))


def _parts(item: Item | None) -> dict[str, dict[str, Any]]:
    parts: dict[str, dict[str, Any]] = json.loads(item["parts"]["S"]) if item is not None else {}
    return parts


def _merge_write(
    sink: Sink,
    key: Key,
    item: Item | None,
    part: str,
    value: dict[str, Any],
    *,
    build: Callable[[dict[str, dict[str, Any]]], Item],
) -> dict[str, dict[str, Any]]:
    """Replace ``part`` in the item's parts (all others kept), recompute the item and write it on
    the version read (on a lost race re-read and do it again); nothing when the part is stored as
    it is. Returns the item's parts as they now stand."""
    for _ in range(MAX_CONDITION_RETRIES):
        parts = _parts(item)
        if item is not None and parts.get(part) == value:
            return parts  # a retry, or a second delivery of the segment: nothing to change
        parts[part] = value
        previous = str(item["version"]["S"]) if item is not None else None
        new = build(parts)
        new["parts"] = {"S": json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)}
        new["version"] = {"S": str(int(previous or "0") + 1)}
        try:
            sink.put_if_version(new, previous)
        except ConditionFailed:
            item = sink.get(key)
        else:
            return parts
    raise ConditionFailed("the window item kept changing under a conditional write")


def _write_board(sink: Sink, key: Key, window: Window, standings: dict[str, Standing]) -> None:
    """Rank this segment's racers with the leaders already on the board, each by its totals across
    all its parts, and keep the ten best; write on the version read, nothing when unchanged."""
    race_window = key[0]
    item = sink.get(key)
    for _ in range(MAX_CONDITION_RETRIES):
        others = [racer for racer in _leaders(item) if racer not in standings]
        read = sink.get_many([(race_window, f"RACER#{racer}") for racer in others])
        candidates = dict(standings)
        for (_, sk), racer_item in read.items():
            candidates[sk.removeprefix("RACER#")] = _standing(str(racer_item["name"]["S"]), _parts(racer_item))
        ranked = sorted(candidates.items(), key=lambda kv: (-kv[1].mean, kv[0]))[:LEADERS]
        new = _board_item(key, window, ranked)
        if item is not None and _rows(item) == _rows(new):
            return
        previous = str(item["version"]["S"]) if item is not None else None
        new["version"] = {"S": str(int(previous or "0") + 1)}
        try:
            sink.put_if_version(new, previous)
        except ConditionFailed:
            item = sink.get(key)
        else:
            return
    raise ConditionFailed("the leaderboard kept changing under a conditional write")


def _leaders(item: Item | None) -> list[str]:
    if item is None:
        return []
    return [str(row["M"]["racer_id"]["S"]) for row in item["leaders"]["L"]]


def _rows(item: Item) -> list[tuple[str, str, Decimal, int]]:
    """The board's rows as values (DynamoDB may write a number differently from how we sent it)."""
    return [
        (
            str(row["M"]["racer_id"]["S"]),
            str(row["M"]["name"]["S"]),
            Decimal(row["M"]["output_mean"]["N"]),
            int(row["M"]["message_count"]["N"]),
        )
        for row in item["leaders"]["L"]
    ]


def _number(value: float) -> AttributeValueTypeDef:
    return {"N": str(Decimal(repr(round(value, 4))))}


def _racer_item(key: Key, name: str, window: Window, parts: dict[str, dict[str, Any]]) -> Item:
    rows = [parts[part] for part in sorted(parts)]
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


def _board_item(key: Key, window: Window, ranked: list[tuple[str, Standing]]) -> Item:
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
                        "name": {"S": standing.name},
                        "output_mean": _number(standing.mean),
                        "message_count": {"N": str(standing.messages)},
                    }
                }
                for rank, (racer, standing) in enumerate(ranked, start=1)
            ]
        },
    }
