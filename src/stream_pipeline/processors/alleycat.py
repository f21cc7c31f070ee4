"""The Alleycat race processor (Kinesis): racer telemetry to one standings item per racer.

A message looks like the Alleycat simulator's::

    {"event": "update", "deviceTimestamp": 1612345678000, "second": 12, "raceId": 7,
     "name": "Racer 12", "racerId": 12, "classId": 1, "cadence": 71, "resistance": 52}

and its output is ``round(((cadence + 35) * (resistance + 65)) / 100, 4)``.

**One write per racer per batch.** Records are grouped by (race, racer) first, so a
batch of 5,000 records from 1,000 racers costs at most 1,000 writes, not 5,000.

**Safe under redelivery and concurrency.** Each standings item remembers the shard and the
*extended* sequence number (sequence, sub-sequence: the KCL's checkpoint) of the last user record
applied to it, and a ``version`` made of them. A write is a ``PutItem`` conditioned on the version
read just before, so:

* user records already applied by an earlier delivery (same shard, extended sequence number not
  newer) are skipped, so a redelivered batch leaves the table exactly as it was. That covers a
  retried KPL aggregate too: its user records share one sequence number, and Lambda can only
  report the aggregate as a whole, so the user records of it that landed before a failure come
  again and are skipped by their sub-sequence number;
* if another writer changed the item in between, the condition fails, the item is
  re-read and the decision is made again.

Items written before sub-sequence numbers (no ``last_sub_sequence_number``, version
``shard:sequence``) read as sub-sequence 0, which is what a plain record has; a plain record still
writes that very version, so an item's version changes format only when an aggregate's user
record with a sub-sequence above 0 lands.

**Aggregates and a parallelization factor above 1 do not mix.** The skip rule relies on each
racer's user records arriving in stream order. With a parallelization factor of 1 (the default)
a shard's records are processed one batch at a time, in order. With more, Lambda spreads a shard
over concurrent batches by the *Kinesis record's* partition key; an aggregate's key is the key of
its first user record only (the KPL mixes the racers of a shard in one aggregate), so one
racer's user records travel in aggregates of different keys, in concurrent batches, and a later
aggregate can land first: the earlier one's user records then look already applied and are
skipped, i.e. lost. AWS says as much ("parallelization factor will not work if you are using
Kinesis aggregation", Lambda developer guide). The module must keep the factor at 1 for
aggregating producers.

Validation is hand-written rather than pydantic; see :func:`parse_telemetry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from stream_pipeline.limits import MAX_WHOLE, encodable
from stream_pipeline.poison import Failure
from stream_pipeline.processors.base import ApplyResult
from stream_pipeline.records import NUMBERS, PoisonRecord, SourceType, StreamRecord
from stream_pipeline.sink import ConditionFailed, Key, SinkUnavailable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Executor

    from stream_pipeline.sink import Item, Sink

EVENTS: Final = ("update", "final")
MAX_ID_LENGTH: Final = 128
MAX_NAME_LENGTH: Final = 256
MAX_READING: Final = 1000
MAX_CONDITION_RETRIES: Final = 5
TASKS: Final = 64
"""Racers are written in at most about this many pool tasks (more than any SINK_WRITE_CONCURRENCY)."""
MAX_INTEGER_ID: Final = 10**MAX_ID_LENGTH - 1
"""Integer identifiers become key text (``RACER#17``): at most as long as a string identifier."""


def output_of(cadence: float, resistance: float) -> float:
    """The racer's power output for one second, as the Alleycat app computes it."""
    return round(((cadence + 35) * (resistance + 65)) / 100, 4)


class Telemetry(NamedTuple):
    """One validated message (a NamedTuple: immutable, and cheap to build for every record)."""

    event: str
    device_timestamp: int
    second: int
    race_id: str
    racer_id: str
    name: str
    class_id: str
    cadence: float
    resistance: float

    @property
    def output(self) -> float:
        return output_of(self.cadence, self.resistance)

    @property
    def key(self) -> Key:
        return (f"RACE#{self.race_id}", f"RACER#{self.racer_id}")


def _identifier(value: Any, field: str) -> str:
    # type() rather than isinstance(): bool is an int, and this runs for every record.
    if (type(value) is int and 0 <= value <= MAX_INTEGER_ID) or (
        type(value) is str and 0 < len(value) <= MAX_ID_LENGTH and encodable(value)
    ):
        return str(value)
    raise PoisonRecord(
        f"{field} must be a non-negative integer of at most {MAX_ID_LENGTH} digits "
        f"or a UTF-8 string of 1-{MAX_ID_LENGTH} characters"
    )


def _number(value: Any, field: str) -> float:
    # NaN and infinities fail the range comparison, so no isfinite() call is needed.
    if (type(value) is int or type(value) is float) and 0 <= value <= MAX_READING:
        return float(value)
    raise PoisonRecord(f"{field} must be a number between 0 and {MAX_READING}")


def _whole(value: Any, field: str) -> int:
    if type(value) is int and 0 <= value <= MAX_WHOLE:
        return value
    raise PoisonRecord(f"{field} must be a non-negative integer of at most 38 digits (a DynamoDB number)")


def parse_telemetry(message: Any) -> Telemetry:
    """Validate one decoded message; raise :class:`PoisonRecord` naming the first bad field.

    Hand-written rather than pydantic: nine fields, checked in one pass. This runs for every
    record, and ``make bench`` (P1) holds it to at least half the speed of bare base64 +
    ``json.loads``; pydantic would also add about 2 MB to the zip. A well-formed message takes the
    fast path (one expression of type and range checks); anything else goes through the per-field
    checks, which say exactly what is wrong.
    """
    if type(message) is dict:
        get = message.get
        event: Any = get("event")
        second: Any = get("second")
        timestamp: Any = get("deviceTimestamp")
        race: Any = get("raceId")
        racer: Any = get("racerId")
        klass: Any = get("classId")
        cadence: Any = get("cadence")
        resistance: Any = get("resistance")
        name: Any = get("name", "")
        if (
            (event == "update" or event == "final")  # noqa: PLR1714 - two compares beat a tuple lookup here
            and type(second) is int
            and 0 <= second <= MAX_WHOLE
            and type(timestamp) is int
            and 0 <= timestamp <= MAX_WHOLE
            and type(race) is int
            and 0 <= race <= MAX_INTEGER_ID
            and type(racer) is int
            and 0 <= racer <= MAX_INTEGER_ID
            and type(klass) is int
            and 0 <= klass <= MAX_INTEGER_ID
            and type(cadence) in NUMBERS
            and 0 <= cadence <= MAX_READING
            and type(resistance) in NUMBERS
            and 0 <= resistance <= MAX_READING
            and type(name) is str
            and len(name) <= MAX_NAME_LENGTH
            and name.isascii()  # else the slow path checks that it is UTF-8 (no lone surrogate)
        ):
            return Telemetry(event, timestamp, second, str(race), str(racer), name, str(klass), cadence, resistance)
    return _parse_telemetry_slowly(message)


def _parse_telemetry_slowly(message: Any) -> Telemetry:
    if not isinstance(message, dict):
        raise PoisonRecord("message is not a JSON object")
    get = message.get
    event = get("event")
    if event not in EVENTS:
        raise PoisonRecord("event must be 'update' or 'final'")
    name = get("name", "")
    if type(name) is not str or len(name) > MAX_NAME_LENGTH or not encodable(name):
        raise PoisonRecord(f"name must be a UTF-8 string of at most {MAX_NAME_LENGTH} characters")
    return Telemetry(
        event,
        _whole(get("deviceTimestamp"), "deviceTimestamp"),
        _whole(get("second"), "second"),
        _identifier(get("raceId"), "raceId"),
        _identifier(get("racerId"), "racerId"),
        name,
        _identifier(get("classId"), "classId"),
        _number(get("cadence"), "cadence"),
        _number(get("resistance"), "resistance"),
    )


@dataclass(slots=True)
class Standing:
    """The sink's view of one racer in one race."""

    race_id: str
    racer_id: str
    name: str
    class_id: str
    best_output: Decimal | float = Decimal("-Infinity")
    """A Decimal as read from the sink, a float while folding (made exact once, in to_item)."""
    last_second: int = 0
    message_count: int = 0
    last_shard_id: str = ""
    last_sequence_number: str = "0"
    last_sub_sequence_number: int = 0
    final_output: Decimal | float | None = None
    final_second: int | None = None

    @property
    def version(self) -> str:
        """``shard:sequence`` for a plain record (as before aggregates), ``shard:sequence:sub`` else."""
        if self.last_sub_sequence_number == 0:
            return f"{self.last_shard_id}:{self.last_sequence_number}"
        return f"{self.last_shard_id}:{self.last_sequence_number}:{self.last_sub_sequence_number}"

    def has_applied(self, record: StreamRecord) -> bool:
        """True when this standing already includes ``record`` (an earlier delivery): same shard,
        and an extended sequence number (sequence, sub-sequence) not newer than the last applied."""
        return record.shard_id == self.last_shard_id and (
            int(record.sequence_number),
            record.sub_sequence_number,
        ) <= (int(self.last_sequence_number), self.last_sub_sequence_number)

    def fold(self, record: StreamRecord, message: Telemetry) -> None:
        # A float and a Decimal compare exactly; the Decimal is made once per write, not per record.
        output = message.output
        self.name = message.name
        self.class_id = message.class_id
        self.best_output = max(self.best_output, output)
        self.last_second = message.second
        self.message_count += 1
        self.last_shard_id = record.shard_id
        self.last_sequence_number = record.sequence_number
        self.last_sub_sequence_number = record.sub_sequence_number
        if message.event == "final":
            self.final_output = output
            self.final_second = message.second

    @classmethod
    def empty(cls, message: Telemetry) -> Standing:
        return cls(race_id=message.race_id, racer_id=message.racer_id, name=message.name, class_id=message.class_id)

    def to_item(self) -> Item:
        item: Item = {
            "pk": {"S": f"RACE#{self.race_id}"},
            "sk": {"S": f"RACER#{self.racer_id}"},
            "race_id": {"S": self.race_id},
            "racer_id": {"S": self.racer_id},
            "name": {"S": self.name},
            "class_id": {"S": self.class_id},
            "best_output": {"N": _exact(self.best_output)},
            "last_second": {"N": str(self.last_second)},
            "message_count": {"N": str(self.message_count)},
            "finished": {"BOOL": self.final_output is not None},
            "last_shard_id": {"S": self.last_shard_id},
            "last_sequence_number": {"S": self.last_sequence_number},
            "last_sub_sequence_number": {"N": str(self.last_sub_sequence_number)},
            "version": {"S": self.version},
        }
        if self.final_output is not None and self.final_second is not None:
            item["final_output"] = {"N": _exact(self.final_output)}
            item["final_second"] = {"N": str(self.final_second)}
        return item

    @classmethod
    def from_item(cls, item: Item) -> Standing:
        def text(name: str) -> str:
            return str(item[name]["S"])

        def number(name: str) -> Decimal:
            return Decimal(item[name]["N"])

        return cls(
            race_id=text("race_id"),
            racer_id=text("racer_id"),
            name=text("name"),
            class_id=text("class_id"),
            best_output=number("best_output"),
            last_second=int(number("last_second")),
            message_count=int(number("message_count")),
            last_shard_id=text("last_shard_id"),
            last_sequence_number=text("last_sequence_number"),
            # absent from items written before sub-sequence numbers: those came from plain records
            last_sub_sequence_number=int(number("last_sub_sequence_number"))
            if "last_sub_sequence_number" in item
            else 0,
            final_output=number("final_output") if "final_output" in item else None,
            final_second=int(number("final_second")) if "final_second" in item else None,
        )


def _exact(value: Decimal | float) -> str:
    """A DynamoDB number: a Decimal as it is, a float by its shortest repr (what the race computed)."""
    return str(value if isinstance(value, Decimal) else Decimal(repr(value)))


Group = list[tuple[StreamRecord, Telemetry]]


class AlleycatProcessor:
    name = "alleycat"

    def __init__(self, max_record_bytes: int) -> None:
        self.max_record_bytes = max_record_bytes

    def parse(self, record: StreamRecord) -> Telemetry:
        if record.source is not SourceType.KINESIS:
            raise PoisonRecord("the alleycat processor takes Kinesis records only")
        return parse_telemetry(record.json(self.max_record_bytes))

    def apply(self, parsed: Sequence[tuple[StreamRecord, Telemetry]], sink: Sink | None, pool: Executor) -> ApplyResult:
        if sink is None or not parsed:
            return ApplyResult()
        groups: dict[Key, Group] = {}
        for record, message in parsed:
            groups.setdefault(message.key, []).append((record, message))
        stored = sink.get_many(list(groups))
        # Up to TASKS tasks of consecutive racers: every racer its own task in a small batch (the
        # writes fully parallel), about 15 racers a task for 1,000 racers, so that the thread pool's
        # hand-over is paid per task, not per racer (make bench, P8).
        keys = list(groups)
        size = max(1, len(keys) // TASKS)

        def write(chunk: Sequence[Key]) -> list[tuple[Failure | None, int]]:
            return [_write_group(sink, groups[key], stored.get(key)) for key in chunk]

        outcomes = [
            o for done in pool.map(write, [keys[i : i + size] for i in range(0, len(keys), size)]) for o in done
        ]
        failures = [failure for failure, _ in outcomes if failure is not None]
        duplicates = sum(skipped for _, skipped in outcomes)
        return ApplyResult(min(failures) if failures else None, duplicates=duplicates)


def _write_group(sink: Sink, group: Group, item: Item | None) -> tuple[Failure | None, int]:
    """Apply one racer's records; return (the failure of its first unapplied record, or None;
    duplicates skipped).

    Never raises: whatever goes wrong while writing this racer (a refusal, a timeout, an error in
    botocore before the request is sent) is the failure of this group's first unapplied record,
    not of the whole batch, whose other groups may already have landed."""
    try:
        return _write_group_once(sink, group, item)
    except Exception as exc:  # the type only: the error's text can quote the request's values
        return Failure.at(group[0][0], f"unexpected {type(exc).__name__} while writing the standing"), 0


def _write_group_once(sink: Sink, group: Group, item: Item | None) -> tuple[Failure | None, int]:
    fresh = group
    for _ in range(MAX_CONDITION_RETRIES):
        standing = Standing.from_item(item) if item is not None else Standing.empty(group[0][1])
        fresh = [(r, m) for r, m in group if item is None or not standing.has_applied(r)]
        if not fresh:
            return None, len(group)
        for record, message in fresh:
            standing.fold(record, message)
        try:
            sink.put_if_version(standing.to_item(), item["version"]["S"] if item is not None else None)
            return None, len(group) - len(fresh)
        except ConditionFailed:
            item = sink.get(group[0][1].key)
        except SinkUnavailable as exc:
            return Failure.at(fresh[0][0], f"sink write failed: {exc}"), 0
    return Failure.at(fresh[0][0], "sink item kept changing under a conditional write"), 0
