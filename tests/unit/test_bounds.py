"""Bounded work per record: a KPL aggregate's user records are counted before any is built, one of
more than the function's memory allows is a poison record, and a batch of large aggregates is applied
in runs that stay within that memory.

The memory tests run the handler in a process of its own (tests/memory_probe.py), under an address
space limit of what a 128 MB function may hold, the way Lambda kills a function that passes its
memory. The finding they reproduce: one 1 MB Kinesis record holding a valid aggregate of 166,662
six-byte user records took 373 MB and 19.6 s in the archive processor; four fit in the 6 MB payload.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memory_probe import kpl_aggregate
from stream_pipeline import kpl, limits
from stream_pipeline.config import ConfigError, load_settings
from support import (
    SINK,
    PipelineFactory,
    aggregate,
    aggregated_race_batch,
    expected_standings,
    kinesis_record,
    standings_in,
    user_records,
)

PROBE = Path(__file__).parent.parent / "memory_probe.py"
BOMB = 166_662
"""Six-byte user records in one Kinesis record of 1,000,000 bytes: the finding's aggregate."""
CAP_128 = 26_214
"""The cap at 128 MB (a literal, so that the tests of the handler read on the code before it too)."""


def probe(**options: Any) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(PROBE), json.dumps(options)], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    measured: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return measured


# ----------------------------------------------------------------------------- the KPL bomb
def test_four_kpl_bombs_in_one_event_are_poison_at_once_within_128_mb() -> None:
    """Four 1 MB aggregates of 166,662 user records (a 5.3 MB event): on the code before, the archive
    processor raised MemoryError under this limit. Now the first is reported poison in well under a
    second, before any user record is built, and nothing is held."""
    measured = probe(processor="archive", user_records=BOMB, aggregates=4, memory_mb=128, limit=True)
    assert "crashed" not in measured, measured
    assert measured["failures"] == 4  # the bomb, and the three after it (not attempted)
    assert measured["reason"] == (
        f"aggregated record (KPL) holds {BOMB:,} user records, more than the {CAP_128:,} this function's "
        "memory allows (README, KPL aggregates: raise the function's memory)"
    )
    assert measured["seconds"] < 2.0, measured  # about 0.05 s: one count of the first aggregate
    assert measured["peak_mb"] - measured["resident_before_mb"] < 10, measured
    assert measured["log_bytes"] < 5_000  # two warning lines and the metrics, no payload


def test_four_aggregates_at_the_cap_are_applied_within_128_mb() -> None:
    """The largest event that is not poison: four aggregates of exactly the cap (26,214 empty user
    records each), applied in runs of one aggregate, under the same limit."""
    measured = probe(processor="archive", user_records=CAP_128, aggregates=4, memory_mb=128, limit=True)
    assert "crashed" not in measured, measured
    assert measured["failures"] == 0, measured
    assert measured["peak_mb"] < 128


def test_one_user_record_over_the_cap_is_poison_and_the_cap_follows_the_memory() -> None:
    over = probe(processor="archive", user_records=CAP_128 + 1, memory_mb=128, limit=True)
    assert over["failures"] == 1
    assert f"holds {CAP_128 + 1:,} user records, more than the {CAP_128:,}" in over["reason"]
    at_256 = probe(processor="archive", user_records=CAP_128 + 1, memory_mb=256, limit=True)
    assert at_256["failures"] == 0, at_256


@pytest.mark.parametrize(
    ("processor", "per_aggregate", "data_bytes"),
    [("archive", 20_000, 0), ("archive", 5_800, -1), ("alleycat", 5_800, -1), ("alleycat-window", 5_800, -1)],
)
def test_the_measured_cost_of_a_user_record_is_within_the_constant(
    processor: str, per_aggregate: int, data_bytes: int
) -> None:
    """BYTES_PER_USER_RECORD is a measurement: re-measured here for every built-in Kinesis processor,
    with a sink that takes the writes, on three aggregates (so that a run is applied while the next
    aggregate is read), so that a change that makes a user record cost more fails here."""
    measured = probe(processor=processor, user_records=per_aggregate, data_bytes=data_bytes, aggregates=3, sink=True)
    assert measured["failures"] == 0, measured
    held = per_aggregate * min(3, CAP_128 // per_aggregate)  # the most user records one run holds
    cost = (measured["peak_mb"] - measured["resident_before_mb"]) * 2**20 / held
    assert cost <= limits.BYTES_PER_USER_RECORD, f"{cost:,.0f} bytes per user record"


# ------------------------------------------------------------------------------- the formula
def test_the_cap_and_the_memory_for_it_are_one_formula() -> None:
    cap, memory_for = limits.max_user_records_per_aggregate, limits.memory_for_user_records
    assert cap(128) == CAP_128 == (128 - limits.RESERVED_MB) * 2**20 // limits.BYTES_PER_USER_RECORD
    for count in (1, 1_000, CAP_128, CAP_128 + 1, 100_000, limits.MOST_USER_RECORDS_PER_KINESIS_RECORD):
        memory = memory_for(count)
        assert cap(memory) >= count
        assert memory == 128 or cap(memory - 1) < count
    assert memory_for(limits.MOST_USER_RECORDS_PER_KINESIS_RECORD) == 491
    assert cap(128) < cap(129)


def test_the_function_memory_comes_from_lambdas_variable() -> None:
    assert load_settings({}).max_user_records == CAP_128
    assert load_settings({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}).max_user_records == (
        limits.max_user_records_per_aggregate(1024)
    )
    with pytest.raises(ConfigError, match=r"^AWS_LAMBDA_FUNCTION_MEMORY_SIZE must .*'64'"):
        load_settings({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "64"})


# ------------------------------------------------------------------------------- the count
@pytest.mark.parametrize("size", [1, 2, 7, 300, 5_000])
def test_the_count_is_the_oracles_number_of_user_records(size: int) -> None:
    """aws-kinesis-agg's aggregator makes the aggregates (keys, hash keys, data of any length), its
    deaggregator says how many user records they hold."""
    entries = [(f"key-{n % 13}", bytes([n % 256]) * (n % 200)) for n in range(size)]
    for _, blob in aggregate(entries, max_bytes=1024 * 1024):
        record = kinesis_record(data=base64.b64encode(blob).decode())
        assert kpl.count_user_records(blob[4:-16]) == len(user_records([record]))


def test_the_probes_aggregates_are_what_the_oracle_reads() -> None:
    blob = kpl_aggregate([b"", b"abc", b"x" * 300])
    oracle = user_records([kinesis_record(data=base64.b64encode(blob).decode())])
    assert [base64.b64decode(u["kinesis"]["data"]) for u in oracle] == [b"", b"abc", b"x" * 300]
    assert kpl.count_user_records(blob[4:-16]) == 3


# --------------------------------------------------------------------------------- the runs
@pytest.fixture
def cap_of_ten(monkeypatch: pytest.MonkeyPatch) -> int:
    """A cap of 10 user records, as a small function's would be, so that runs show on a small race."""
    monkeypatch.setattr("stream_pipeline.config.max_user_records_per_aggregate", lambda _memory: 10)
    return 10


def test_a_batch_over_the_cap_is_applied_in_runs_with_the_same_result(
    make_pipeline: PipelineFactory, dynamodb: Any, cap_of_ten: int
) -> None:
    batch = aggregated_race_batch(racers=6, seconds=5, per_aggregate=6)  # 5 aggregates of 6: runs of one
    outcome = make_pipeline().run(batch, lambda: 30_000)
    assert outcome.failures == []
    assert (outcome.user_records, outcome.aggregated_records) == (30, 5)
    assert outcome.sink.write_requests == 5 * 6  # one write per racer per run, five runs
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(batch))


def test_an_aggregate_over_the_cap_is_the_failed_record_and_the_runs_before_it_land(
    make_pipeline: PipelineFactory, dynamodb: Any, cap_of_ten: int
) -> None:
    good = aggregated_race_batch(racers=4, seconds=6, per_aggregate=4)
    ((key, blob),) = aggregate([(str(n), json.dumps({"n": n}).encode()) for n in range(cap_of_ten + 1)])
    big = kinesis_record(data=base64.b64encode(blob).decode(), partition_key=key)
    batch = [*good[:4], big, *good[4:]]
    outcome = make_pipeline().run(batch, lambda: 30_000)
    assert [f["itemIdentifier"] for f in outcome.failures] == [r["kinesis"]["sequenceNumber"] for r in batch[4:]]
    assert outcome.first_failure_reason.startswith("aggregated record (KPL) holds 11 user records, more than the 10")
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(good[:4]))


class TimeRunsOut:
    """The sink's client; after ``puts`` standings writes the invocation's time is almost up."""

    def __init__(self, real: Any, left: list[float], puts: int) -> None:
        self.real, self.left, self.puts = real, left, puts

    def put_item(self, **kwargs: Any) -> Any:
        response = self.real.put_item(**kwargs)
        self.puts -= 1
        if self.puts == 0:
            self.left[0] = 1_000.0  # under the 1,500 ms safety margin
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_deadline_between_runs_stops_there_and_the_retry_goes_on(
    make_pipeline: PipelineFactory, dynamodb: Any, cap_of_ten: int
) -> None:
    """Runs of two aggregates (10 user records, 5 racers): the time runs out while the first is
    written, so the next run is not parsed; the records from there are reported, not lost."""
    batch = aggregated_race_batch(racers=5, seconds=4, per_aggregate=5)
    left = [30_000.0]
    outcome = make_pipeline(client=TimeRunsOut(dynamodb, left, puts=5)).run(batch, lambda: left[0])
    assert outcome.processed == 2
    assert outcome.first_failure_reason.startswith("not attempted: the invocation's time ran out")
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(batch[:2]))
    make_pipeline().run(batch[outcome.processed :], lambda: 30_000)
    assert standings_in(dynamodb, SINK) == expected_standings(user_records(batch))
