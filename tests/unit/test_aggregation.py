"""KPL-aggregated records end to end in the consumer ("Real producers").

aws-kinesis-agg is the oracle, as its own tests use it: its aggregator makes every aggregate here,
and its deaggregator gives the user records we must see. The sink is moto's DynamoDB.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from stream_pipeline import kpl, processors
from stream_pipeline.config import load_settings
from stream_pipeline.records import PoisonRecord, SourceType, from_raw
from support import (
    SINK,
    FakeClock,
    FakeContext,
    FlakyClient,
    PipelineFactory,
    aggregate,
    aggregated_race_batch,
    decode,
    expected_standings,
    fresh_handler,
    kinesis_record,
    load_event,
    next_sequence,
    race_batch,
    scan,
    standings_in,
    telemetry,
    user_records,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def run(pipeline: Any, batch: list[dict[str, Any]], remaining: Callable[[], float] = lambda: 30_000) -> Any:
    return pipeline.run(batch, remaining)


def failed_ids(outcome: Any) -> list[str]:
    return [f["itemIdentifier"] for f in outcome.failures]


def sequences(batch: list[dict[str, Any]]) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] for r in batch]


def b64(blob: bytes) -> str:
    return base64.b64encode(blob).decode()


# ------------------------------------------------------------------------ the decoder vs the oracle
def _oracle(blob: bytes) -> list[tuple[str, bytes, int]]:
    return [
        (u["kinesis"]["partitionKey"], base64.b64decode(u["kinesis"]["data"]), u["kinesis"]["subSequenceNumber"])
        for u in user_records([kinesis_record(data=b64(blob))])
    ]


@pytest.mark.parametrize("seed", range(40))
def test_the_decoder_gives_the_oracles_user_records(seed: int) -> None:
    """Random aggregates: keys from a small table (repeats), unicode keys, empty and binary data."""
    rng = random.Random(seed)
    keys = [rng.choice(["racer-1", "ŕacer-2", "3", "key with spaces", "🚲"]) + str(rng.randrange(5)) for _ in range(9)]
    entries = [
        (rng.choice(keys), bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 50, 300]))))
        for _ in range(rng.randrange(1, 120))
    ]
    for key, blob in aggregate(entries, max_bytes=rng.choice([600, 5_000, 51_200])):
        ours = [(u.partition_key, u.data, sub) for sub, u in enumerate(kpl.deaggregate(blob))]
        assert ours == _oracle(blob)
        assert ours[0][0] == key  # the aggregate's own key is its first user record's
    flat = [
        (k, d) for _, blob in aggregate(entries) for k, d in [(u.partition_key, u.data) for u in kpl.deaggregate(blob)]
    ]
    assert flat == entries  # nothing lost, nothing reordered across aggregates


def test_explicit_hash_keys_come_from_their_table() -> None:
    """The oracle gives a user record without an explicit hash key the table's first entry when the
    table is not empty (explicit_hash_key_index defaults to 0): we give None, as the format says."""
    from aws_kinesis_agg.aggregator import RecordAggregator

    aggregator = RecordAggregator()
    aggregator.add_user_record("a", b"1", explicit_hash_key="123")
    aggregator.add_user_record("b", b"2", explicit_hash_key="456")
    aggregator.add_user_record("a", b"3", explicit_hash_key="123")
    _, _, blob = aggregator.clear_and_get().get_contents()
    assert [(u.partition_key, u.explicit_hash_key, u.data) for u in kpl.deaggregate(blob)] == [
        ("a", "123", b"1"),
        ("b", "456", b"2"),
        ("a", "123", b"3"),
    ]


def test_a_record_made_by_the_java_aggregator_decodes_like_the_oracle_says() -> None:
    """tests/fixtures/kinesis_kpl_java_sample.json: awslabs/kinesis-aggregation's Java deaggregator
    sample event (see tests/fixtures/SOURCES.md), 100 user records with an explicit hash key table."""
    (record,) = load_event("kinesis_kpl_java_sample.json")["Records"]
    users = from_raw(0, record).user_records
    assert users is not None
    assert len(users) == 100
    expected = user_records([record])
    assert [(u.partition_key, u.payload(1000), u.sub_sequence_number) for u in users] == [
        (e["kinesis"]["partitionKey"], base64.b64decode(e["kinesis"]["data"]), e["kinesis"]["subSequenceNumber"])
        for e in expected
    ]
    assert {u.user.explicit_hash_key for u in users if u.user} == {"191415658344158766168031473277922803570"}
    assert all(u.sequence_number == record["kinesis"]["sequenceNumber"] for u in users)


# ---------------------------------------------------------------------- the race, aggregated
def test_an_aggregated_race_gives_the_standings_of_the_plain_race(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    batch = aggregated_race_batch(racers=30, seconds=5, per_aggregate=40)  # 150 user records in 4 Kinesis records
    outcome = run(make_pipeline(), batch)
    assert outcome.failed == 0
    assert (outcome.processed, outcome.user_records, outcome.aggregated_records) == (4, 150, 4)
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(batch))
    assert standings_in(dynamodb, SINK) == expected_standings(race_batch(racers=30, seconds=5))


def test_plain_and_aggregated_records_mix_in_one_batch(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    first = race_batch(racers=6, seconds=2)
    middle = aggregated_race_batch(racers=6, seconds=3, per_aggregate=5, start_second=3)
    last = race_batch(racers=6, seconds=1, start_second=6)
    batch = [*first, *middle, *last]
    outcome = run(make_pipeline(), batch)
    assert outcome.failed == 0
    assert outcome.user_records == 12 + 18 + 6
    assert outcome.aggregated_records == len(middle)
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(batch))


def _poisoned_aggregate(position: int, size: int = 6, second: int = 50) -> dict[str, Any]:
    """An aggregate of ``size`` good user records of racers 1..size, but user record ``position`` is not JSON."""
    entries = [(str(r), json.dumps(telemetry(r, second)).encode()) for r in range(1, size + 1)]
    entries[position] = (entries[position][0], b"{not json")
    ((key, blob),) = aggregate(entries)
    return kinesis_record(data=b64(blob), partition_key=key)


AGGREGATE_AT = {"start": 0, "middle": 2, "end": 4}
USER_AT = {"first": 0, "middle": 3, "last": 5}


def in_stream_order(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``batch`` with sequence numbers increasing in list order, as a shard numbers them (a record
    made later in a test would otherwise carry a higher number than the records after it)."""
    ordered = []
    for record in batch:
        sequence = next_sequence()
        shard = record["eventID"].partition(":")[0]
        ordered.append({**record, "eventID": f"{shard}:{sequence}",
                        "kinesis": {**record["kinesis"], "sequenceNumber": sequence}})  # fmt: skip
    return ordered


@pytest.mark.parametrize("user_at", USER_AT)
@pytest.mark.parametrize("aggregate_at", AGGREGATE_AT)
def test_a_poison_user_record_k_applies_the_user_records_before_it_then_reports_the_aggregate(
    make_pipeline: PipelineFactory, dynamodb: Any, aggregate_at: str, user_at: str, caplog: Any
) -> None:
    """The KCL's semantics: user records 0..k-1 of the aggregate are applied, then the aggregate and
    every later Kinesis record are reported; on the retry those k are skipped by their sub-sequence
    numbers, and nothing is doubled or lost."""
    good = aggregated_race_batch(racers=6, seconds=4, per_aggregate=6)  # 4 aggregates, one second each
    at, k = AGGREGATE_AT[aggregate_at], USER_AT[user_at]
    batch = in_stream_order([*good[:at], _poisoned_aggregate(k, second=at + 1), *good[at:]])
    poison = batch[at]
    before = user_records(batch[:at]) + user_records([poison])[:k]  # the oracle's user records, in order
    pipeline = make_pipeline()

    outcome = run(pipeline, batch)
    assert failed_ids(outcome) == sequences(batch[at:])
    assert f"user record {k} of a KPL aggregate: data is not JSON" == outcome.first_failure_reason
    assert outcome.user_records == len(before)
    assert standings_in(dynamodb, SINK) == expected_standings(before)  # 0..k-1 of the poison's applied
    (line,) = [r for r in caplog.records if r.getMessage() == "record failed"]
    assert (line.sequence_number, getattr(line, "user_records_applied", 0)) == (poison["kinesis"]["sequenceNumber"], k)

    again = run(pipeline, batch)  # Lambda's retry: the same batch
    assert failed_ids(again) == failed_ids(outcome)
    assert again.duplicates == len(before)  # every one of them skipped, the poison's k by sub-sequence
    assert standings_in(dynamodb, SINK) == expected_standings(before)

    # retries exhausted: the poison aggregate goes to the on-failure destination, Lambda moves on
    run(pipeline, batch[at + 1 :])
    reference = expected_standings(before + user_records(batch[at + 1 :]))
    assert standings_in(dynamodb, SINK) == reference
    run(pipeline, batch)  # and a replay from an older checkpoint changes nothing
    assert standings_in(dynamodb, SINK) == reference

    verdicts = {}
    for record in batch:
        try:
            processors.check(processors.build(load_settings({}), SourceType.KINESIS), record)
            verdicts[record["kinesis"]["sequenceNumber"]] = None
        except PoisonRecord as exc:
            verdicts[record["kinesis"]["sequenceNumber"]] = str(exc)
    assert verdicts.pop(poison["kinesis"]["sequenceNumber"]) == outcome.first_failure_reason
    assert set(verdicts.values()) == {None}


def test_the_archive_keeps_the_user_records_before_a_poison_one_once(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """The archive processor, an aggregate whose user record 3 is larger than MAX_RECORD_BYTES: user
    records 0..2 are archived, the aggregate is reported; the retry writes the same three items."""
    users = [(f"k{n}", b"x" * (500 if n == 3 else 50)) for n in range(6)]
    ((key, blob),) = aggregate(users)
    batch = [kinesis_record(data=b64(b"before"), partition_key="p"), kinesis_record(data=b64(blob), partition_key=key)]
    pipeline = make_pipeline(RECORD_PROCESSOR="archive", MAX_RECORD_BYTES="100")
    outcome = run(pipeline, batch)
    assert failed_ids(outcome) == sequences(batch[1:])
    assert outcome.first_failure_reason == "user record 3 of a KPL aggregate: payload is 500 bytes, larger than 100"
    archived = sorted((i["pk"]["S"], i["sk"]["S"]) for i in scan(dynamodb, SINK))
    sequence = batch[1]["kinesis"]["sequenceNumber"].zfill(56)
    assert archived == sorted([("archive#p", f"{batch[0]['kinesis']['sequenceNumber'].zfill(56)}#0000000000"),
                               *((f"archive#k{n}", f"{sequence}#{n:010d}") for n in range(3))])  # fmt: skip
    assert failed_ids(run(pipeline, batch)) == failed_ids(outcome)
    assert sorted((i["pk"]["S"], i["sk"]["S"]) for i in scan(dynamodb, SINK)) == archived


class ThrottleRacer:
    """Throttles every standings write for one racer (until the deadline), lets the others through."""

    def __init__(self, real: Any, racer: int) -> None:
        self.real, self.racer = real, racer

    def put_item(self, **kwargs: Any) -> Any:
        if kwargs["Item"]["sk"]["S"] == f"RACER#{self.racer}":
            from support import throttled

            raise throttled("PutItem")
        return self.real.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_sink_failure_inside_an_aggregate_reapplies_nothing_on_the_retry(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """Racer 4's writes fail until the deadline: its first user record is in aggregate 1, so aggregate 1
    and later are reported, although the other racers' standings (user records 0..k-1 of aggregate 1
    among them) landed. On the retry those are skipped by their sub-sequence numbers."""
    batch = aggregated_race_batch(racers=5, seconds=4, per_aggregate=7)  # racer 4's first: user record 3
    clock = FakeClock(remaining_ms=2_000)
    outcome = make_pipeline(client=ThrottleRacer(dynamodb, racer=4), sleep=clock.sleep).run(batch, clock.remaining)
    assert failed_ids(outcome) == sequences(batch)  # racer 4's first user record is in aggregate 0
    assert set(standings_in(dynamodb, SINK)) == {("RACE#42", f"RACER#{r}") for r in (1, 2, 3, 5)}

    retry = run(make_pipeline(), batch)
    assert retry.failed == 0
    assert retry.duplicates == 16  # racers 1, 2, 3 and 5: 4 user records each landed already
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(batch))


def test_a_partial_aggregate_retried_from_its_checkpoint_is_applied_exactly_once(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """Aggregate 2 holds user records of racers 1-5 for second 3; only racer 1 to 3's land at first."""
    batch = aggregated_race_batch(racers=5, seconds=5, per_aggregate=5)
    pipeline = make_pipeline()
    run(pipeline, batch[:2])
    clock = FakeClock(remaining_ms=2_000)
    partial = make_pipeline(client=ThrottleRacer(dynamodb, racer=4), sleep=clock.sleep).run(batch[2:], clock.remaining)
    assert failed_ids(partial) == sequences(batch[2:])
    stored = standings_in(dynamodb, SINK)
    assert stored[("RACE#42", "RACER#1")]["message_count"] == 5  # its later user records landed too
    assert stored[("RACE#42", "RACER#4")]["message_count"] == 2
    run(pipeline, batch[2:])
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(batch))


TRANSIENT = ("sink", "not attempted", "unexpected")
"""Reasons of a failure that the next try may not have: the sink's, the deadline's."""


def _random_stream(rng: random.Random, racers: int = 8, seconds: int = 12) -> list[dict[str, Any]]:
    """Second by second, every racer's message: as plain records or in aggregates of random size,
    with a poison user record (JSON, not a telemetry object) in about a third of the seconds."""
    stream: list[dict[str, Any]] = []
    for second in range(1, seconds + 1):
        messages = [(str(r), json.dumps(telemetry(r, second)).encode()) for r in range(1, racers + 1)]
        if rng.random() < 0.3:
            k = rng.randrange(racers)
            messages[k] = (messages[k][0], b"[1, 2]")
        if rng.random() < 0.4:
            stream.extend(kinesis_record(data=b64(data), partition_key=key) for key, data in messages)
        else:
            size = rng.choice([400, 900, 5_000])
            stream.extend(kinesis_record(data=b64(blob), partition_key=key) for key, blob in aggregate(messages, size))
    return stream


def _mapping(rng: random.Random, stream: list[dict[str, Any]], deliver: Callable[..., Any]) -> set[str]:
    """A simulated event source mapping: batches of random size from the checkpoint, random deadlines;
    a failure moves the checkpoint to the first reported record, which is retried, and given up (the
    failure path) after 4 tries in a row, the last of them failed for the record itself (not for the
    sink or the deadline: so the user records before a poison one have landed, as they do once the
    sink lets them); now and then a replay from an older checkpoint. Returns the sequence numbers
    given up."""
    checkpoint, attempts, given_up = 0, 0, set()
    for _ in range(400):
        if checkpoint >= len(stream):
            return given_up
        if rng.random() < 0.1:  # at-least-once: a replay from an older checkpoint
            start = rng.randrange(0, checkpoint + 1)
            deliver(stream[start : start + rng.randrange(1, 20)], 30_000)
            continue
        batch = stream[checkpoint : checkpoint + rng.randrange(1, 15)]
        outcome = deliver(batch, rng.choice([1_700, 2_500, 30_000]))
        checkpoint += outcome.processed
        attempts = 0 if not outcome.failures else (attempts + 1 if outcome.processed == 0 else 1)
        if attempts > 4 and not outcome.first_failure_reason.startswith(TRANSIENT):  # maximum retries, here
            given_up.add(stream[checkpoint]["kinesis"]["sequenceNumber"])
            checkpoint += 1
            attempts = 0
    raise AssertionError("the simulated mapping did not reach the end of the stream")


@pytest.mark.parametrize("seed", range(12))
def test_fuzz_poison_throttling_redelivery_and_replay_keep_the_sink_equal_to_the_reference(
    make_pipeline: PipelineFactory, dynamodb: Any, seed: int
) -> None:
    """Plain records and aggregates, poison user records at random positions, a throttled sink and
    deadlines, retries, records given up, replays. At the end the sink holds every user record of
    every Kinesis record not given up, exactly once, and only poison records were given up."""
    rng = random.Random(seed)
    stream = _random_stream(rng)
    checker = processors.build(load_settings({}), SourceType.KINESIS)
    poisoned = set()
    for record in stream:
        try:
            processors.check(checker, record)
        except PoisonRecord:
            poisoned.add(record["kinesis"]["sequenceNumber"])
    assert poisoned, "the seed made no poison record: the test would prove less"
    flaky = FlakyClient(dynamodb, share=0.35, seed=seed)

    def deliver(batch: list[dict[str, Any]], remaining_ms: float) -> Any:
        clock = FakeClock(remaining_ms=remaining_ms)
        return make_pipeline(client=flaky, sleep=clock.sleep).run(batch, clock.remaining)

    given_up = _mapping(rng, stream, deliver)
    assert given_up == poisoned
    applied = []  # every user record of the records kept, and those before the poison one of the others
    for record in stream:
        users = user_records([record])
        if record["kinesis"]["sequenceNumber"] in given_up:
            users = list(itertools.takewhile(lambda u: isinstance(decode(u), dict), users))
        applied.extend(users)
    assert standings_in(dynamodb, SINK) == expected_standings(applied)
    assert flaky.throttles > 0


# ----------------------------------------------------------------------------- corrupt aggregates
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _wrap(body: bytes) -> bytes:
    return kpl.MAGIC + body + hashlib.md5(body, usedforsecurity=False).digest()


def _good_body() -> bytes:
    record = _varint(0x08) + _varint(0) + _field(3, json.dumps(telemetry(9, 9)).encode())
    return _field(1, b"9") + _field(3, record)


CORRUPT: dict[str, Callable[[], bytes]] = {
    "bad MD5": lambda: _wrap(_good_body())[:-1] + b"\0",
    "cut short (checksum of the whole)": lambda: _wrap(_good_body())[:-30],
    "truncated protobuf (its own checksum)": lambda: _wrap(_good_body()[:-7]),
    "key index outside the table": lambda: _wrap(
        _field(1, b"9") + _field(3, _varint(0x08) + _varint(3) + _field(3, b"{}"))
    ),
    "hash key index outside the table": lambda: _wrap(
        _field(1, b"9") + _field(3, _varint(0x08) + _varint(0) + _varint(0x10) + _varint(0) + _field(3, b"{}"))
    ),
    "partition key not UTF-8": lambda: _wrap(
        _field(1, b"\xff") + _field(3, _varint(0x08) + _varint(0) + _field(3, b"{}"))
    ),
    "no user records": lambda: _wrap(_field(1, b"9")),
    "user record without data": lambda: _wrap(_field(1, b"9") + _field(3, _varint(0x08) + _varint(0))),
    "table with a varint type": lambda: _wrap(_varint(1 << 3 | 0) + _varint(5) + _good_body()),
    "number of 11 bytes": lambda: _wrap(_good_body() + _varint(5 << 3 | 0) + b"\xff" * 10 + b"\x01"),
    "group wire type": lambda: _wrap(_good_body() + _varint(5 << 3 | 3)),
    "field number 0": lambda: _wrap(_varint(0 << 3 | 2) + _varint(0) + _good_body()),
    "shorter than magic and checksum": lambda: kpl.MAGIC + b"\x01\x02",
}


def _tag(key: bytes, value: bytes | None = None) -> bytes:
    return _field(1, key) + (_field(2, value) if value is not None else b"")


SLOW_PATHS: dict[str, Callable[[], bytes]] = {
    "data of 20,000 bytes (a three-byte length)": lambda: (
        _field(1, b"k") + _field(3, _varint(0x08) + _varint(0) + _field(3, b"x" * 20_000))
    ),
    "fields of a record in reverse order": lambda: (
        _field(1, b"k") + _field(3, _field(3, b"{}") + _varint(0x08) + _varint(0))
    ),
    "a record with tags (field 4)": lambda: (
        _field(1, b"k")
        + _field(3, _varint(0x08) + _varint(0) + _field(3, b"{}") + _field(4, _tag(b"a", b"b")) + _field(4, _tag(b"c")))
    ),
    "an unknown top-level field": lambda: (
        _varint(7 << 3 | 0) + _varint(300) + _field(1, b"k") + _field(3, _varint(0x08) + _varint(0) + _field(3, b"{}"))
    ),
    "the key table after the records": lambda: (
        _field(3, _varint(0x08) + _varint(1) + _field(3, b"{}")) + _field(1, b"a") + _field(1, b"b")
    ),
    "an index of two bytes": lambda: (
        b"".join(_field(1, b"k%d" % n) for n in range(200)) + _field(3, _varint(0x08) + _varint(150) + _field(3, b"{}"))
    ),
    "an explicit hash key on one record of two": lambda: (
        _field(1, b"k")
        + _field(2, b"123")
        + _field(3, _varint(0x08) + _varint(0) + _varint(0x10) + _varint(0) + _field(3, b"1"))
        + _field(3, _varint(0x08) + _varint(0) + _field(3, b"2"))
    ),
}


@pytest.mark.parametrize("kind", SLOW_PATHS)
def test_what_the_fast_path_does_not_take_decodes_like_protobuf(kind: str) -> None:
    """Valid protobuf that aws-kinesis-agg's aggregator never writes: the oracle's parser (upb) and ours agree."""
    blob = _wrap(SLOW_PATHS[kind]())
    assert [(u.partition_key, u.data, sub) for sub, u in enumerate(kpl.deaggregate(blob))] == _oracle(blob)


def test_the_hand_made_good_aggregate_is_good() -> None:
    """The corrupt cases are built from this one; it must pass, or they would prove nothing."""
    assert [u.partition_key for u in kpl.deaggregate(_wrap(_good_body()))] == ["9"]


@pytest.mark.parametrize("position", [0, 3, 6])
@pytest.mark.parametrize("kind", CORRUPT)
def test_a_corrupt_aggregate_is_a_poison_record_with_a_clear_reason(
    make_pipeline: PipelineFactory, dynamodb: Any, kind: str, position: int
) -> None:
    good = race_batch(racers=3, seconds=2)
    corrupt = kinesis_record(data=b64(CORRUPT[kind]()))
    batch = [*good[:position], corrupt, *good[position:]]
    outcome = run(make_pipeline(), batch)
    assert failed_ids(outcome) == sequences(batch[position:])
    assert outcome.first_failure_reason.startswith("aggregated record (KPL) is corrupt: ")
    assert standings_in(dynamodb, SINK) == expected_standings(good[:position])
    with pytest.raises(PoisonRecord) as verdict:
        processors.check(processors.build(load_settings({}), SourceType.KINESIS), corrupt)
    assert str(verdict.value) == outcome.first_failure_reason


def test_the_oracle_passes_a_corrupt_aggregate_through_as_one_plain_record() -> None:
    """Why ours is stricter (see stream_pipeline.kpl): aws-kinesis-agg yields the corrupt record
    unchanged, and a processor would then see the aggregate's bytes as if they were a user record."""
    corrupt = kinesis_record(data=b64(CORRUPT["bad MD5"]()))
    (passed,) = user_records([corrupt])
    assert passed["kinesis"]["data"] == corrupt["kinesis"]["data"]
    assert "subSequenceNumber" not in passed["kinesis"]


def test_a_plain_record_that_only_starts_like_an_aggregate_is_a_plain_record(make_pipeline: PipelineFactory) -> None:
    """'84ma' is the base64 of the magic's first three bytes; the fourth decides."""
    record = kinesis_record(data=b64(b"\xf3\x89\x9a\x00" + json.dumps(telemetry(1, 1)).encode()))
    assert record["kinesis"]["data"].startswith(kpl.BASE64_PREFIX)
    assert from_raw(0, record).user_records is None
    assert run(make_pipeline(), [record]).first_failure_reason == "data is not JSON"


def test_the_old_checker_call_never_says_an_aggregate_would_pass() -> None:
    """``parse(from_raw(0, record))`` (what redrive calls today) on an aggregate: it says "fails", with
    a reason that names the way to check it. ``processors.check`` gives the handler's exact verdict."""
    processor = processors.build(load_settings({}), SourceType.KINESIS)
    for record in [*aggregated_race_batch(racers=3, seconds=1, per_aggregate=3), _poisoned_aggregate(1)]:
        with pytest.raises(PoisonRecord, match="user_records"):
            processor.parse(from_raw(0, record))


# --------------------------------------------------------------- idempotency key and old items
def _old_item(racer: int, shard: str, sequence: str, count: int) -> dict[str, Any]:
    """A standings item exactly as the code before sub-sequence numbers wrote it."""
    return {
        "pk": {"S": "RACE#42"},
        "sk": {"S": f"RACER#{racer}"},
        "race_id": {"S": "42"},
        "racer_id": {"S": str(racer)},
        "name": {"S": f"Racer {racer}"},
        "class_id": {"S": "1"},
        "best_output": {"N": "50"},
        "last_second": {"N": str(count)},
        "message_count": {"N": str(count)},
        "finished": {"BOOL": False},
        "last_shard_id": {"S": shard},
        "last_sequence_number": {"S": sequence},
        "version": {"S": f"{shard}:{sequence}"},
    }


def test_standings_written_before_sub_sequence_numbers_are_read_and_compared_right(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """The old item says racer 1's record with sequence S was applied (as sub-sequence 0). A
    redelivery of S is skipped; an aggregate at a later sequence is applied after it, and the
    conditional write on the old version string succeeds."""
    old = kinesis_record(telemetry(1, 1), sequence="1000", partition_key="1")
    dynamodb.put_item(TableName=SINK, Item=_old_item(1, "shardId-000000000000", "1000", 1))
    pipeline = make_pipeline()
    assert run(pipeline, [old]).duplicates == 1
    assert scan(dynamodb, SINK)[0]["version"] == {"S": "shardId-000000000000:1000"}

    entries = [("1", json.dumps(telemetry(1, s)).encode()) for s in (2, 3, 4)]
    ((key, blob),) = aggregate(entries)
    later = kinesis_record(data=b64(blob), sequence="2000", partition_key=key)
    outcome = run(pipeline, [old, later])
    assert (outcome.failed, outcome.duplicates) == (0, 1)
    (item,) = scan(dynamodb, SINK)
    assert item["message_count"] == {"N": "4"}
    assert item["version"] == {"S": "shardId-000000000000:2000:2"}
    assert item["last_sub_sequence_number"] == {"N": "2"}
    assert run(pipeline, [old, later]).duplicates == 4  # and the aggregate is skipped as a whole now


def test_a_sub_sequence_is_newer_than_a_lower_one_of_the_same_sequence(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """One aggregate with racer 1 at sub-sequences 0, 2 and 4: delivered twice, counted three times."""
    entries = [(str(r), json.dumps(telemetry(r, s)).encode()) for s in (1, 2, 3) for r in (1, 2)]
    entries.insert(5, ("1", json.dumps(telemetry(1, 4)).encode()))
    ((key, blob),) = aggregate(entries)
    record = kinesis_record(data=b64(blob), partition_key=key)
    pipeline = make_pipeline()
    run(pipeline, [record])
    assert run(pipeline, [record]).duplicates == 7
    assert standings_in(dynamodb, SINK) == expected_standings(user_records([record]))


# --------------------------------------------------------------------- custom processors and EMF
def test_a_custom_processor_receives_user_records(
    monkeypatch: pytest.MonkeyPatch, make_pipeline: PipelineFactory
) -> None:
    seen: list[tuple[str, str, int, bool]] = []
    plugin = ModuleType("agg_plugin")

    def handle(record: Any) -> None:
        message = record.json(1000)
        if message["racerId"] == 3 and message["second"] == 2:
            raise PoisonRecord("racer 3 is disqualified")
        seen.append((record.partition_key, record.sequence_number, record.sub_sequence_number, record.aggregated))

    plugin.handle = handle  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agg_plugin", plugin)
    batch = aggregated_race_batch(racers=4, seconds=2, per_aggregate=4)
    outcome = run(make_pipeline(RECORD_PROCESSOR="agg_plugin:handle"), batch)
    assert failed_ids(outcome) == sequences(batch[1:])
    assert outcome.first_failure_reason == "agg_plugin:handle: racer 3 is disqualified"
    first, second = sequences(batch)
    assert seen == [
        ("1", first, 0, True), ("2", first, 1, True), ("3", first, 2, True), ("4", first, 3, True),
        ("1", second, 0, True), ("2", second, 1, True),
    ]  # fmt: skip


def test_emf_tells_kinesis_records_from_user_records(
    monkeypatch: pytest.MonkeyPatch, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SINK_TABLE_NAME", SINK)
    monkeypatch.delenv("RECORD_PROCESSOR", raising=False)
    handler = fresh_handler()
    plain = race_batch(racers=5, seconds=2)
    aggregated = aggregated_race_batch(racers=5, seconds=6, per_aggregate=10, start_second=3)
    batch = [*plain, *aggregated]
    assert handler.lambda_handler({"Records": batch}, FakeContext()) == {"batchItemFailures": []}
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = {m["Name"]: (emf[m["Name"]], m["Unit"]) for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert values["RecordsProcessed"] == ([13.0], "Count")
    assert values["UserRecords"] == ([40.0], "Count")
    assert values["AggregatedRecords"] == ([3.0], "Count")
    data_bytes = sum(len(base64.b64decode(r["kinesis"]["data"])) for r in batch)
    assert values["KinesisBytes"] == ([float(data_bytes)], "Bytes")
