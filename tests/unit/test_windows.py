"""Tumbling windows: state across invocations, the window's result on the final one, failures by the
same rules, nothing applied twice. In-process: LocalStack's event source mapping ignores
TumblingWindowInSeconds (see stream_pipeline.windows), so Lambda's part is simulated here, and the
two sample events are AWS's own (tests/fixtures/SOURCES.md)."""

from __future__ import annotations

import base64
import copy
import json
import sys
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from stream_pipeline.records import PoisonRecord
from stream_pipeline.windows import BOOKKEEPING, STATE_LIMIT_BYTES, state_size
from support import (
    KINESIS_ARN,
    SINK,
    FakeClock,
    FakeContext,
    PipelineFactory,
    aggregate,
    aggregated_race_batch,
    fresh_handler,
    kinesis_record,
    load_event,
    next_sequence,
    race_batch,
    scan,
    standings_in,
    telemetry,
    throttled,
    user_records,
)

if TYPE_CHECKING:
    from collections.abc import Callable

START, END = "2026-11-23T08:15:00Z", "2026-11-23T08:15:05Z"
SHARD = "shardId-000000000000"


def invoke(
    pipeline: Any,
    records: list[dict[str, Any]],
    state: dict[str, Any],
    *,
    final: bool = False,
    early: bool = False,
    shard: str = SHARD,
    remaining: Callable[[], float] = lambda: 30_000,
) -> tuple[Any, dict[str, Any]]:
    """One invocation as Lambda makes it with TumblingWindowInSeconds set."""
    event = {
        "Records": records,
        "window": {"start": START, "end": END},
        "state": copy.deepcopy(state),
        "shardId": shard,
        "eventSourceARN": KINESIS_ARN,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": early,
    }
    return pipeline.run_window(event, remaining)


def deliver(pipeline: Any, records: list[dict[str, Any]], batch: int, shard: str = SHARD) -> dict[str, Any]:
    """A window as Lambda runs it: batches of ``batch`` records, the state carried, then the final
    invocation (no records). Returns the final response."""
    state: dict[str, Any] = {}
    for start in range(0, len(records), batch):
        _, response = invoke(pipeline, records[start : start + batch], state, shard=shard)
        assert response["batchItemFailures"] == []
        state = response["state"]
    _, response = invoke(pipeline, [], state, final=True, shard=shard)
    return response


def messages_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(base64.b64decode(u["kinesis"]["data"])) for u in user_records(records)]


def _round(value: float) -> Decimal:
    return Decimal(repr(round(value, 4)))


def window_oracle(messages: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per racer, computed independently from the messages: what the window's items must hold."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in messages:
        rows.setdefault((f"RACEWINDOW#{m['raceId']}#{START}", f"RACER#{m['racerId']}"), []).append(m)
    expected = {}
    for key, ms in rows.items():
        outputs = [round(((m["cadence"] + 35) * (m["resistance"] + 65)) / 100, 4) for m in ms]
        expected[key] = {
            "message_count": len(ms),
            "cadence_mean": _round(sum(m["cadence"] for m in ms) / len(ms)),
            "cadence_max": _round(max(m["cadence"] for m in ms)),
            "resistance_mean": _round(sum(m["resistance"] for m in ms) / len(ms)),
            "resistance_max": _round(max(m["resistance"] for m in ms)),
            "output_mean": _round(sum(outputs) / len(ms)),
            "output_max": _round(max(outputs)),
        }
    return expected


def window_items(dynamodb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    fields = ("cadence_mean", "cadence_max", "resistance_mean", "resistance_max", "output_mean", "output_max")
    return {
        (i["pk"]["S"], i["sk"]["S"]): {"message_count": int(i["message_count"]["N"])}
        | {f: Decimal(i[f]["N"]) for f in fields}
        for i in scan(dynamodb, SINK)
        if i["pk"]["S"].startswith("RACEWINDOW#") and i["sk"]["S"].startswith("RACER#")
    }


def leaderboard(dynamodb: Any, race: int = 42) -> list[tuple[str, Decimal, int]]:
    (board,) = [
        i
        for i in scan(dynamodb, SINK)
        if i["pk"]["S"] == f"RACEWINDOW#{race}#{START}" and i["sk"]["S"] == "LEADERBOARD"
    ]
    return [
        (e["M"]["racer_id"]["S"], Decimal(e["M"]["output_mean"]["N"]), int(e["M"]["message_count"]["N"]))
        for e in board["leaders"]["L"]
    ]


def leaderboard_oracle(expected: dict[tuple[str, str], dict[str, Any]]) -> list[tuple[str, Decimal, int]]:
    ranked = sorted(expected.items(), key=lambda kv: (-kv[1]["output_mean"], kv[0][1]))[:10]
    return [(sk.removeprefix("RACER#"), v["output_mean"], v["message_count"]) for (_, sk), v in ranked]


@pytest.fixture
def windowed(make_pipeline: PipelineFactory) -> Any:
    return make_pipeline(RECORD_PROCESSOR="alleycat-window")


# --------------------------------------------------------------------------------- the race
def test_a_window_of_a_thousand_racers_gives_each_racer_and_the_leaderboard(windowed: Any, dynamodb: Any) -> None:
    records = race_batch(racers=1000, seconds=5)
    response = deliver(windowed, records, batch=700)
    assert response == {"state": {}, "batchItemFailures": []}
    expected = window_oracle(messages_of(records))
    assert window_items(dynamodb) == expected
    assert leaderboard(dynamodb) == leaderboard_oracle(expected)
    assert standings_in(dynamodb, SINK) == {}  # the per-record standings are another processor's


def test_the_state_of_a_thousand_racers_stays_well_under_one_megabyte(windowed: Any) -> None:
    """Measured, not assumed: the state after 1,000 racers' messages, with long names."""
    records = [
        kinesis_record({**json.loads(base64.b64decode(r["kinesis"]["data"])), "name": "N" * 64})
        for r in race_batch(racers=1000, seconds=2)
    ]
    _, response = invoke(windowed, records, {})
    size = state_size(response["state"])
    assert len(response["state"]["racers"]) == 1000
    assert 50_000 < size < STATE_LIMIT_BYTES / 5, f"{size:,} bytes"


def test_aggregated_records_are_folded_per_user_record(windowed: Any, dynamodb: Any) -> None:
    records = aggregated_race_batch(racers=40, seconds=5, per_aggregate=30)
    deliver(windowed, records, batch=2)
    assert window_items(dynamodb) == window_oracle(messages_of(records))


# ---------------------------------------------------------------------- failures and retries
def like_lambda(pipeline: Any, stream: list[dict[str, Any]], batch: int) -> tuple[list[str], list[dict[str, Any]]]:
    """A window's invocations as Lambda makes them with partial batch responses: from the checkpoint
    with the state the last invocation returned; a record failing twice in a row is given up (the
    on-failure destination); then the final invocation. Returns (given up, every response)."""
    state: dict[str, Any] = {}
    position, attempts, given_up, responses = 0, 0, [], []
    while position < len(stream):
        outcome, response = invoke(pipeline, stream[position : position + batch], state)
        responses.append(response)
        state = response["state"]
        if not response["batchItemFailures"]:
            position, attempts = position + batch, 0
            continue
        position += outcome.processed
        attempts = attempts + 1 if outcome.processed == 0 else 1
        if attempts == 2:
            given_up.append(stream[position]["kinesis"]["sequenceNumber"])
            position, attempts = position + 1, 0
    _, response = invoke(pipeline, [], state, final=True)
    assert response == {"state": {}, "batchItemFailures": []}
    return given_up, responses


@pytest.mark.parametrize("at", [0, 17, 20, 39, 40])
def test_a_poison_record_in_a_window_is_reported_with_the_state_of_the_records_before_it(
    windowed: Any, dynamodb: Any, at: int
) -> None:
    good = race_batch(racers=10, seconds=4)  # 40 records, delivered 20 at a time
    poison = kinesis_record(data="not base64!")
    stream = [*good[:at], poison, *good[at:]]
    given_up, responses = like_lambda(windowed, stream, batch=20)
    assert given_up == [poison["kinesis"]["sequenceNumber"]]
    (first_failure, *_) = [r for r in responses if r["batchItemFailures"]]
    assert first_failure["batchItemFailures"][0] == {"itemIdentifier": poison["kinesis"]["sequenceNumber"]}
    folded = sum(entry[1] for entry in first_failure["state"].get("racers", {}).values())
    assert folded == at  # exactly the records before the poison, across the batches so far
    expected = window_oracle(messages_of(good))
    assert window_items(dynamodb) == expected  # nothing lost, nothing counted twice
    assert leaderboard(dynamodb) == leaderboard_oracle(expected)


def test_records_redelivered_with_a_newer_state_are_not_folded_twice(windowed: Any, dynamodb: Any) -> None:
    records = race_batch(racers=5, seconds=4)
    _, response = invoke(windowed, records[:12], {})
    outcome, again = invoke(windowed, records[:15], response["state"])  # 12 of 15 already folded
    assert outcome.duplicates == 12
    _, response = invoke(windowed, records[15:], again["state"])
    invoke(windowed, [], response["state"], final=True)
    assert window_items(dynamodb) == window_oracle(messages_of(records))


class ThrottleWindowItems:
    """Throttles the first ``count`` puts of window items, then lets them through."""

    def __init__(self, real: Any, count: int) -> None:
        self.real, self.count = real, count

    def put_item(self, **kwargs: Any) -> Any:
        if self.count > 0 and kwargs["Item"]["pk"]["S"].startswith("RACEWINDOW#"):
            self.count -= 1
            raise throttled("PutItem")
        return self.real.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_final_invocation_that_cannot_write_fails_whole_and_its_retry_writes_once(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    """Half the racers' items land, then the sink throttles until the deadline: no state in the
    response, so Lambda retries the final invocation with the same state; the items end up exactly
    what the window holds, not doubled."""
    records = race_batch(racers=30, seconds=3)
    windowed = make_pipeline(RECORD_PROCESSOR="alleycat-window")
    _, response = invoke(windowed, records, {})
    state = response["state"]

    class HalfThenThrottle(ThrottleWindowItems):
        def put_item(self, **kwargs: Any) -> Any:
            if len(scan(self.real, SINK)) >= 15:
                raise throttled("PutItem")
            return self.real.put_item(**kwargs)

    clock = FakeClock(remaining_ms=2_500)
    failing = make_pipeline(RECORD_PROCESSOR="alleycat-window", client=HalfThenThrottle(dynamodb, 0), sleep=clock.sleep)
    outcome, response = invoke(failing, [], state, final=True, remaining=clock.remaining)
    assert "state" not in response
    assert "could not be written" in outcome.first_failure_reason
    assert 0 < len(window_items(dynamodb)) < 30

    _, response = invoke(windowed, [], state, final=True)
    assert response == {"state": {}, "batchItemFailures": []}
    expected = window_oracle(messages_of(records))
    assert window_items(dynamodb) == expected
    _, response = invoke(windowed, [], state, final=True)  # and once more: still the same items
    assert window_items(dynamodb) == expected
    assert leaderboard(dynamodb) == leaderboard_oracle(expected)


def test_a_window_terminated_early_and_continued_adds_up_its_two_segments(windowed: Any, dynamodb: Any) -> None:
    """Lambda ends a window early (state too large, or the shard ended) and continues the same window
    with a fresh state: the second final invocation must not overwrite the first segment's result."""
    records = race_batch(racers=8, seconds=6)
    _, response = invoke(windowed, records[:20], {})
    _, response = invoke(windowed, [], response["state"], final=True, early=True)
    assert response["state"] == {}
    _, response = invoke(windowed, records[20:], {})
    _, response = invoke(windowed, [], response["state"], final=True)
    expected = window_oracle(messages_of(records))
    assert window_items(dynamodb) == expected
    assert leaderboard(dynamodb) == leaderboard_oracle(expected)


def test_two_shards_write_their_parts_of_one_window(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    records = race_batch(racers=24, seconds=3)
    odd = [r for r in records if int(r["kinesis"]["partitionKey"]) % 2]
    even = [r for r in records if not int(r["kinesis"]["partitionKey"]) % 2]
    deliver(make_pipeline(RECORD_PROCESSOR="alleycat-window"), odd, batch=10, shard="shardId-000000000001")
    deliver(make_pipeline(RECORD_PROCESSOR="alleycat-window"), even, batch=7, shard="shardId-000000000002")
    expected = window_oracle(messages_of(records))
    assert window_items(dynamodb) == expected
    assert leaderboard(dynamodb) == leaderboard_oracle(expected)  # the best ten of both shards


# --------------------------------------------------------------------- custom window processors
class Counting:
    """A team's window processor shaped like AWS's sample function: a count per key in the state."""

    def __init__(self, blob: int = 0) -> None:
        self.blob = blob
        self.finished: list[tuple[str, dict[str, Any]]] = []

    def fold(self, state: dict[str, Any], record: Any) -> None:
        key = record.partition_key if record.source == "kinesis" else json.dumps(record.images()[0], default=str)
        state[key] = state.get(key, 0) + 1
        if self.blob:
            state.setdefault("blobs", []).append("x" * self.blob)

    def finish(self, state: dict[str, Any], window: Any) -> None:
        self.finished.append((window.start, {k: v for k, v in state.items() if k != BOOKKEEPING}))


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    plugin = ModuleType("window_plugin")
    counter = Counting()
    plugin.counter = counter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "window_plugin", plugin)
    monkeypatch.setenv("RECORD_PROCESSOR", "window_plugin:counter")
    monkeypatch.delenv("SINK_TABLE_NAME", raising=False)
    return counter


def test_the_aws_kinesis_sample_window_event_with_a_custom_processor(
    counting: Counting, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWS's KinesisTimeWindowEvent: state {"1": 282, "2": 715} and one record of partition key 1."""
    event = load_event("kinesis_time_window_event.json")
    response = fresh_handler().lambda_handler(event, FakeContext())
    assert response["batchItemFailures"] == []
    state = response["state"]
    assert {k: v for k, v in state.items() if k != BOOKKEEPING} == {"1": 283, "2": 715}
    assert state[BOOKKEEPING]["applied"] == [event["Records"][0]["kinesis"]["sequenceNumber"], 0]
    again = fresh_handler().lambda_handler({**event, "state": state}, FakeContext())
    assert again["state"] == state  # a redelivery with the state that already has it: counted once
    final = fresh_handler().lambda_handler(
        {**event, "Records": [], "state": state, "isFinalInvokeForWindow": True}, FakeContext()
    )
    assert final == {"state": {}, "batchItemFailures": []}
    assert counting.finished == [("2020-12-09T07:04:00Z", {"1": 283, "2": 715})]
    (emf, *_) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf["WindowStateBytes"] == [float(state_size(state))]


def test_the_aws_dynamodb_sample_window_event_with_a_custom_processor(counting: Counting) -> None:
    """AWS's DynamodbTimeWindowEvent: three changes of item 101, state {"1": "state1"}."""
    event = load_event("dynamodb_time_window_event.json")
    response = fresh_handler().lambda_handler(event, FakeContext())
    assert response["batchItemFailures"] == []
    assert {k: v for k, v in response["state"].items() if k != BOOKKEEPING} == {"1": "state1", '{"Id": "101"}': 3}


def test_the_aws_samples_with_the_built_in_processors(monkeypatch: pytest.MonkeyPatch, dynamodb: Any) -> None:
    """The samples' payloads are not race telemetry and their DynamoDB records have no creation time:
    each is a poison record for the built-in processors, reported with the state, never a crash."""
    monkeypatch.setenv("SINK_TABLE_NAME", SINK)
    monkeypatch.setenv("RECORD_PROCESSOR", "alleycat-window")
    kinesis = load_event("kinesis_time_window_event.json")
    response = fresh_handler().lambda_handler(kinesis, FakeContext())
    assert response["batchItemFailures"] == [{"itemIdentifier": kinesis["Records"][0]["kinesis"]["sequenceNumber"]}]
    assert {k: v for k, v in response["state"].items() if k != BOOKKEEPING} == {"1": 282, "2": 715}
    monkeypatch.setenv("RECORD_PROCESSOR", "audit")  # a per-record processor: the state passes through
    ddb = load_event("dynamodb_time_window_event.json")
    response = fresh_handler().lambda_handler(ddb, FakeContext())
    assert response["state"] == {"1": "state1"}
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == ["111", "222", "333"]


class Segments(Counting):
    """Counting, and whether each finish was of a window terminated early."""

    def __init__(self, blob: int = 0) -> None:
        super().__init__(blob)
        self.early: list[bool] = []

    def finish(self, state: dict[str, Any], window: Any) -> None:
        super().finish(state, window)
        self.early.append(window.terminated_early)


def test_a_state_that_would_pass_1_mb_ends_the_segment_early_and_nothing_fails(
    monkeypatch: pytest.MonkeyPatch, make_pipeline: PipelineFactory
) -> None:
    """As Lambda does ("if it exceeds that size, Lambda terminates the window early"): the 19 records
    whose 50 KB each fit are finished as a segment ended early, the 20th starts a fresh state, and no
    record goes to the failure path for size. The retry of that invocation finishes the same segment
    again, and the final invocation the second one: all 30 records counted once."""
    plugin = ModuleType("big_plugin")
    plugin.big = big = Segments(blob=50_000)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "big_plugin", plugin)
    pipeline = make_pipeline(RECORD_PROCESSOR="big_plugin:big")
    records = race_batch(racers=30, seconds=1)
    outcome, response = invoke(pipeline, records, {})
    assert response["batchItemFailures"] == []
    assert (outcome.failed, outcome.windows_finished) == (0, 1)
    ((_, first),) = big.finished
    assert (len(first["blobs"]), big.early) == (19, [True])
    assert len(response["state"]["blobs"]) == 11
    assert state_size(response["state"]) <= STATE_LIMIT_BYTES

    _, again = invoke(pipeline, records, {})  # Lambda's retry of the same invocation
    assert again == response
    assert big.finished[1] == big.finished[0]

    _, final = invoke(pipeline, [], response["state"], final=True)
    assert final == {"state": {}, "batchItemFailures": []}
    assert big.early == [True, True, False]
    counted = [sum(v for k, v in state.items() if k != "blobs") for _, state in (big.finished[0], big.finished[2])]
    assert counted == [19, 11]


def test_a_user_record_that_does_not_fit_even_a_fresh_state_is_the_poison_record(
    monkeypatch: pytest.MonkeyPatch, make_pipeline: PipelineFactory
) -> None:
    plugin = ModuleType("huge_plugin")
    plugin.huge = huge = Counting(blob=1_100_000)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "huge_plugin", plugin)
    records = race_batch(racers=3, seconds=1)
    outcome, response = invoke(make_pipeline(RECORD_PROCESSOR="huge_plugin:huge"), records, {"kept": 1})
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [r["kinesis"]["sequenceNumber"] for r in records]
    assert outcome.first_failure_reason == "the window state would exceed 1,000,000 bytes with this user record alone"
    assert response["state"]["kept"] == 1  # a poison record ends no segment: the state stays as it came
    assert huge.finished == []


EMOJI_NAME = "\U0001f6b4" * 256  # the longest name the parser allows, every character outside the BMP


def emoji_race(racers: range, seconds: int = 2) -> list[dict[str, Any]]:
    return [
        kinesis_record({**telemetry(racer, second), "name": EMOJI_NAME}, partition_key=str(racer))
        for second in range(1, seconds + 1)
        for racer in racers
    ]


@pytest.mark.parametrize("seconds", [1, 2])
def test_the_built_in_window_ends_a_segment_before_1_mb_and_its_results_add_up(
    windowed: Any, dynamodb: Any, seconds: int
) -> None:
    """400 racers with 256-emoji names take about 1.3 MB of state (escaped, as the state travels): the
    window is cut into segments (2 with one message per racer, 3 with two), no record fails, and the
    parts add up in every racer's item. The leaderboard is exact when each racer's records are in one
    segment; across segments each of its rows is the racer's exact total (README, Tumbling windows)."""
    records = emoji_race(range(1, 401), seconds=seconds)
    outcome, response = invoke(windowed, records, {})
    assert response["batchItemFailures"] == []
    assert outcome.windows_finished == seconds  # segments ended early
    assert state_size(response["state"]) <= STATE_LIMIT_BYTES
    _, final = invoke(windowed, [], response["state"], final=True)
    assert final == {"state": {}, "batchItemFailures": []}
    expected = window_oracle(messages_of(records))
    assert window_items(dynamodb) == expected
    board = leaderboard(dynamodb)
    if seconds == 1:
        assert board == leaderboard_oracle(expected)
    assert [(r, m, c) for r, m, c in board] == [
        (r, expected[(f"RACEWINDOW#42#{START}", f"RACER#{r}")]["output_mean"], 2 if seconds == 2 else 1)
        for r, _, _ in board
    ]
    assert [m for _, m, _ in board] == sorted((m for _, m, _ in board), reverse=True)
    names = {i["name"]["S"] for i in scan(dynamodb, SINK) if "name" in i}
    assert names == {EMOJI_NAME}  # stored as the characters they are


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names and string values in UTF-8 bytes."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        ((kind, inner),) = value.items()
        if kind == "S":
            size += len(inner.encode())
        elif kind == "N":
            size += len(inner)
        elif kind == "M":
            size += 3 + item_bytes(inner)
        elif kind == "L":
            size += 3 + sum(1 + item_bytes({"": member}) for member in inner)
        else:
            size += len(str(inner))
    return size


def test_twenty_shards_of_emoji_names_keep_the_leaderboard_small(make_pipeline: PipelineFactory, dynamodb: Any) -> None:
    """One window over 20 shards, 12 racers each, every name 256 emoji: before, the leaderboard kept a
    part of ten rows per shard with each name escaped as 12-byte surrogate pairs, passed DynamoDB's
    400 KB from the 13th shard on, and the final invocation failed on every retry. Now each final
    invocation lands, and the board holds the ten best of all shards in a few KB of UTF-8."""
    everyone = []
    for shard in range(20):
        records = emoji_race(range(shard * 12 + 1, shard * 12 + 13))
        everyone.extend(records)
        response = deliver(make_pipeline(RECORD_PROCESSOR="alleycat-window"), records, batch=50,
                           shard=f"shardId-{shard:012d}")  # fmt: skip
        assert response == {"state": {}, "batchItemFailures": []}, f"shard {shard}"
    expected = window_oracle(messages_of(everyone))
    assert window_items(dynamodb) == expected
    assert leaderboard(dynamodb) == leaderboard_oracle(expected)
    (board,) = [i for i in scan(dynamodb, SINK) if i["sk"]["S"] == "LEADERBOARD"]
    assert item_bytes(board) < 16_000, item_bytes(board)
    assert "\\ud83d" not in json.dumps(board, ensure_ascii=False)  # no escaped surrogate pairs stored


def test_a_retried_final_invocation_changes_nothing_in_the_sink(windowed: Any, dynamodb: Any) -> None:
    """Lambda retries a final invocation whose response it did not get: the items, their versions
    included, stay exactly as the first one wrote them (before, every version went 1 -> 2)."""
    records = race_batch(racers=12, seconds=3)
    _, response = invoke(windowed, records, {})
    state = response["state"]
    invoke(windowed, [], state, final=True)
    first = sorted(scan(dynamodb, SINK), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
    assert {i["version"]["S"] for i in first} == {"1"}
    _, again = invoke(windowed, [], state, final=True)
    assert again == {"state": {}, "batchItemFailures": []}
    assert sorted(scan(dynamodb, SINK), key=lambda i: (i["pk"]["S"], i["sk"]["S"])) == first


def nested(depth: int) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for _ in range(depth - 1):
        state = {"a": state}
    return state


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (nested(5_000), "the event's state is nested deeper than 64 levels"),
        ({BOOKKEEPING: {"applied": ["not a number", 0]}}, f"the event's state has a malformed {BOOKKEEPING}.applied"),
        ({BOOKKEEPING: {"applied": ["123", -1]}}, f"the event's state has a malformed {BOOKKEEPING}.applied"),
        ({BOOKKEEPING: []}, f"the event's state has a malformed {BOOKKEEPING} (not an object)"),
        ({"x": float("nan")}, "the event's state holds a number JSON cannot carry (NaN or infinite)"),
        ({"x": "y" * 1_000_001}, "the event's state is larger than 1,000,000 bytes"),
    ],
)
def test_a_malformed_incoming_state_fails_the_invocation_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, dynamodb: Any, state: dict[str, Any], reason: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Through the handler: a state nested 5,000 deep used to escape as RecursionError. Now the
    invocation fails as a whole (no state: Lambda retries it with the same one), with the reason in
    one bounded log line."""
    monkeypatch.setenv("SINK_TABLE_NAME", SINK)
    monkeypatch.setenv("RECORD_PROCESSOR", "alleycat-window")
    records = race_batch(racers=2, seconds=1)
    event = {"Records": records, "window": {"start": START, "end": END}, "state": state, "shardId": SHARD}
    response = fresh_handler().lambda_handler(event, FakeContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in records]}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (failed,) = [line for line in lines if line.get("message") == "record failed"]
    assert failed["reason"] == reason
    assert max(len(json.dumps(line)) for line in lines) < 3_000


@pytest.mark.parametrize("k", [0, 2, 5])
def test_a_poison_user_record_k_folds_the_ones_before_it_and_the_retry_skips_them(
    windowed: Any, dynamodb: Any, k: int
) -> None:
    """KPL poison at user record k in a window: user records 0..k-1 are in the state returned, the
    aggregate and the records after it are reported; the retry with that state skips the k by their
    sub-sequence numbers; given up, the window holds exactly the others and those k."""
    good = aggregated_race_batch(racers=6, seconds=3, per_aggregate=6)
    entries = [(str(r), json.dumps(telemetry(r, 9)).encode()) for r in range(1, 7)]
    entries[k] = (entries[k][0], b"{not json")
    ((key, blob),) = aggregate(entries)
    poison = kinesis_record(data=base64.b64encode(blob).decode(), partition_key=key)
    batch = [good[0], poison, *good[1:]]
    batch = [{**r, "kinesis": {**r["kinesis"], "sequenceNumber": next_sequence()}} for r in batch]  # stream order
    outcome, response = invoke(windowed, batch, {})
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [r["kinesis"]["sequenceNumber"] for r in batch[1:]]
    assert outcome.first_failure_reason == f"user record {k} of a KPL aggregate: data is not JSON"
    assert sum(entry[1] for entry in response["state"]["racers"].values()) == 6 + k

    retry, again = invoke(windowed, batch[1:], response["state"])
    assert retry.duplicates == k
    assert again["state"] == response["state"]

    _, rest = invoke(windowed, batch[2:], again["state"])  # given up: Lambda moves on
    invoke(windowed, [], rest["state"], final=True)
    folded = [*messages_of([batch[0]]), *(json.loads(data) for _, data in entries[:k]), *messages_of(batch[2:])]
    expected = window_oracle(folded)
    assert window_items(dynamodb) == expected
    assert leaderboard(dynamodb) == leaderboard_oracle(expected)


def test_a_fold_that_raises_fails_its_record_with_the_state_before_it(
    monkeypatch: pytest.MonkeyPatch, make_pipeline: PipelineFactory
) -> None:
    class Picky(Counting):
        def fold(self, state: dict[str, Any], record: Any) -> None:
            if record.partition_key == "4":
                raise PoisonRecord("racer 4 is not in this window")
            super().fold(state, record)

    plugin = ModuleType("picky_plugin")
    plugin.picky = Picky()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picky_plugin", plugin)
    records = race_batch(racers=6, seconds=1)
    outcome, response = invoke(make_pipeline(RECORD_PROCESSOR="picky_plugin:picky"), records, {})
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["kinesis"]["sequenceNumber"] for r in records[3:]
    ]
    assert outcome.first_failure_reason == "racer 4 is not in this window"
    assert {k: v for k, v in response["state"].items() if k != BOOKKEEPING} == {"1": 1, "2": 1, "3": 1}


# ------------------------------------------------------------------------------ wrong wiring
def test_a_window_processor_without_windows_fails_the_batch_with_the_reason(windowed: Any, dynamodb: Any) -> None:
    records = race_batch(racers=3, seconds=1)
    outcome = windowed.run(records, lambda: 30_000)
    assert outcome.failed == 3
    assert "needs tumbling windows" in outcome.first_failure_reason
    assert scan(dynamodb, SINK) == []


def test_a_per_record_processor_under_windows_works_as_before_and_passes_the_state_on(
    make_pipeline: PipelineFactory, dynamodb: Any
) -> None:
    records = race_batch(racers=4, seconds=2)
    _, response = invoke(make_pipeline(), records, {"kept": True})
    assert response == {"state": {"kept": True}, "batchItemFailures": []}
    assert len(standings_in(dynamodb, SINK)) == 4


@pytest.mark.parametrize(
    "change",
    [
        {"window": None},
        {"window": {"start": 5, "end": END}},
        {"state": ["not", "an", "object"]},
        {"isFinalInvokeForWindow": "yes"},
    ],
)
def test_a_malformed_window_event_fails_the_invocation(windowed: Any, change: dict[str, Any]) -> None:
    records = race_batch(racers=2, seconds=1)
    event = {"Records": records, "window": {"start": START, "end": END}, "state": {}, "shardId": SHARD, **change}
    outcome, response = windowed.run_window(event, lambda: 30_000)
    assert "state" not in response
    assert outcome.failed == 2
