"""stream-pipeline plan: the seeds' sizing cases, the example's sizing, the tfvars and the command;
concurrency in a new account, KPL aggregation beside resharding, several consumers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import hcl2
import pytest
from aws_kinesis_agg.aggregator import AggRecord

from stream_pipeline_local.terraform import plain_hcl
from stream_pipeline_ops import cli, planner

ROOT = Path(__file__).resolve().parents[2]
RACE = planner.Workload(avg_rps=1000, peak_rps=1000, record_bytes=200, keys=1000)


def test_one_shard_under_the_race_is_full_on_records_and_a_fifth_on_bytes() -> None:
    """Seed 002: 1,000 racers at one ~200-byte message a second on one shard."""
    records, data = planner.shares(1000, 200, 1)
    assert records == 1.0
    assert data == pytest.approx(0.2, abs=0.01)


def test_the_race_gets_two_shards_and_the_post_s_fixes() -> None:
    result = planner.plan(RACE)
    assert (result.stream_mode, result.shard_count) == ("PROVISIONED", 2)
    assert (result.batch_size, result.batching_window_s, result.parallelization_factor) == (1000, 1, 2)
    assert result.recommended == "resharding"
    assert result.record_share == 0.5
    assert "50% of their record limit" in result.reasons["shards"]


def test_a_table_provisioned_at_5_wcu_throttles_under_the_race() -> None:
    result = planner.plan(RACE)
    assert result.sink_writes_per_s == 1000  # one write per racer per 1 s batch window
    assert result.sink_wcu_if_provisioned > 5
    assert "5 WCU throttled" in result.reasons["sink"]


def test_a_small_workload_gets_the_workshop_s_free_tier_defaults() -> None:
    result = planner.plan(planner.Workload(avg_rps=1, peak_rps=2, record_bytes=400))
    assert (result.memory_mb, result.timeout_s, result.batch_size, result.reserved_concurrency) == (128, 30, 10, -1)
    assert (result.shard_count, result.parallelization_factor) == (1, 1)
    assert list(result.options) == ["resharding"]  # 2 records/s: the record limit costs no shard


def test_spiky_load_goes_on_demand() -> None:
    spiky = planner.plan(planner.Workload(avg_rps=100, peak_rps=2000))
    assert spiky.stream_mode == "ON_DEMAND"
    assert "kinesis" in spiky.tfvars()
    assert "shard_count" not in spiky.tfvars()["kinesis"]
    assert "aggregation" not in spiky.options  # an on-demand stream adds its own shards
    assert "4 shard(s) x parallelization factor" in spiky.reasons["concurrency"]  # on-demand starts with 4


def test_big_records_are_sized_by_bytes() -> None:
    result = planner.plan(planner.Workload(avg_rps=500, peak_rps=500, record_bytes=10_000))
    assert result.shard_count == 6  # 5 MB/s at 80% of 1 MiB/s per shard
    assert result.byte_share <= planner.WRITE_SHARE
    assert "aggregation" not in result.options  # bytes bind: packing records saves no shard


def example_module(example: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An example's `module "pipeline"` block and its variables' defaults."""
    directory = ROOT / "examples" / example
    with (directory / "main.tf").open() as handle:
        config = plain_hcl(hcl2.load(handle))
    with (directory / "variables.tf").open() as handle:
        defaults = {
            name: body.get("default")
            for block in plain_hcl(hcl2.load(handle))["variable"]
            for name, body in block.items()
        }
    (module,) = [block["pipeline"] for block in config["module"] if "pipeline" in block]
    return module, defaults


@pytest.mark.parametrize(
    ("example", "consumers"),
    [
        ("kinesis-alleycat", 1),
        ("kinesis-fan-out", (planner.Consumer("leaderboard"), planner.Consumer("archive", low_latency=True))),
    ],
)
def test_the_kinesis_examples_are_sized_as_the_planner_says(example: str, consumers: Any) -> None:
    module, defaults = example_module(example)

    def resolved(value: Any) -> Any:
        """A `var.x` reference stands for the variable's default (what `terraform apply` uses)."""
        reference = value.removeprefix("${var.").removesuffix("}") if isinstance(value, str) else ""
        return defaults.get(reference, value)

    for name, values in planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": consumers})).tfvars().items():
        for key, value in values.items():
            found = module[name][key]
            if isinstance(value, dict):  # a consumers entry: what the planner decides for it
                found = {k: resolved(v) for k, v in found.items() if k in value}
            assert resolved(found) == value, f"examples/{example} {name}.{key}"


def parsed_tfvars(result: planner.Plan, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "plan.tfvars"
    path.write_text(planner.tfvars_hcl(result))
    with path.open() as handle:
        parsed: dict[str, Any] = plain_hcl(hcl2.load(handle))
    return parsed


def test_the_tfvars_are_hcl_the_module_reads(tmp_path: Path) -> None:
    result = planner.plan(RACE)
    assert parsed_tfvars(result, tmp_path) == result.tfvars()
    assert result.tfvars()["function"]["reserved_concurrency"] == -1


def test_the_cost_estimate_adds_up_by_service() -> None:
    cost = planner.plan(RACE).cost
    services = {k: v for k, v in cost.items() if k != "total"}
    assert cost["total"] == pytest.approx(sum(services.values()), abs=0.05)
    # 2 shards all month at the recorded shard-hour price, plus the PUT payload units
    assert cost["Kinesis"] == pytest.approx(2 * 730 * 0.015 + 1000 * 730 * 3600 / 1e6 * 0.014, abs=0.05)
    assert cost["Kinesis enhanced fan-out"] == 0


def test_the_command_prints_json_and_writes_tfvars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tfvars = tmp_path / "race.tfvars.json"
    code = cli.main(["plan", "--avg-rps", "1000", "--keys", "1000", "--tfvars", str(tfvars), "--json"])
    assert code == 0
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert printed["shard_count"] == 2
    assert json.loads(tfvars.read_text()) == printed["tfvars"]


def test_an_impossible_workload_is_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--avg-rps", "100", "--peak-rps", "10"]) == cli.EXIT_STACK
    assert "the peak at least the average" in capsys.readouterr().err


# Task: concurrency in a new account (no default reservation).


def test_no_reservation_without_the_account_s_quota() -> None:
    result = planner.plan(RACE)
    assert result.reserved_concurrency == -1
    assert result.reasons["concurrency"].startswith("none (-1): 2 shard(s) x parallelization factor 2 = 4")
    assert "a reservation of 4 needs an account concurrency quota of at least 104" in result.reasons["concurrency"]


def test_a_new_account_s_quota_of_10_gets_no_reservation_and_is_told_why() -> None:
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "account_concurrency": 10}))
    assert result.reserved_concurrency == -1
    assert (
        "a reservation of 4 needs an account concurrency quota of at least 104; yours is 10"
        in (result.reasons["concurrency"])
    )


@pytest.mark.parametrize(("quota", "reserved"), [(104, 4), (103, -1), (1000, 4)])
def test_a_reservation_needs_100_left_unreserved(quota: int, reserved: int) -> None:
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "account_concurrency": quota}))
    assert result.reserved_concurrency == reserved
    if reserved > 0:
        assert f"your quota of {quota:,} leaves {quota - 4:,} unreserved" in result.reasons["concurrency"]
        assert result.tfvars()["function"]["reserved_concurrency"] == 4


def test_every_consumer_s_reservation_counts_against_the_quota() -> None:
    two = (planner.Consumer("leaderboard"), planner.Consumer("archive"))
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": two, "account_concurrency": 105}))
    assert result.reserved_concurrency == -1
    assert (
        "a reservation of 4 for each of the 2 consumers (8 in all) needs an account concurrency quota of at "
        "least 108; yours is 105"
    ) in result.reasons["concurrency"]


# Task: KPL aggregation beside resharding.


@pytest.mark.parametrize(
    ("records", "record_bytes", "keys", "key_bytes"),
    [
        (2, 200, 2, 16),
        (100, 200, 100, 16),
        (226, 200, 226, 16),
        (500, 50, 10, 4),
        (1000, 30, 1000, 36),
        (300, 100, 129, 5),
    ],
)
def test_an_aggregate_s_size_is_what_the_aggregator_builds(
    records: int, record_bytes: int, keys: int, key_bytes: int
) -> None:
    """aws-kinesis-agg (the format's reference implementation in Python) is the oracle."""
    aggregate = AggRecord(10**8)
    for n in range(records):
        aggregate.add_user_record(str(n % keys).rjust(key_bytes, "k"), b"x" * record_bytes)
    _key, _hash_key, data = aggregate.get_contents()
    assert planner.aggregate_bytes(records, record_bytes, keys, key_bytes) == len(data)


def test_the_kpl_defaults_are_the_kpl_s() -> None:
    assert planner.KPL_AGGREGATION_MAX_SIZE == 51_200  # AggregationMaxSize, default_config.properties
    assert planner.KPL_RECORD_MAX_BUFFERED_MS == 100  # RecordMaxBufferedTime


def test_the_race_is_offered_aggregation_beside_resharding() -> None:
    """Seed 002's diagnosis: one shard at ~100% of its records and ~20% of its bytes."""
    result = planner.plan(RACE)
    reshard, agg = result.options["resharding"], result.options["aggregation"]
    assert (reshard.shard_count, reshard.parallelization_factor, reshard.added_latency_ms) == (2, 2, 0)
    # 1,000 records/s from one producer: 100 in the KPL's 100 ms, 22,620 bytes (< 51,200) per aggregate
    assert (agg.shard_count, agg.records_per_aggregate, agg.kinesis_record_bytes) == (1, 100, 22_620)
    assert (agg.parallelization_factor, agg.added_latency_ms, agg.keeps_up) == (1, 100, True)
    assert agg.record_share == pytest.approx(0.01)  # 10 Kinesis records/s
    assert agg.byte_share == pytest.approx(10 * 22_620 / 1024**2)
    assert reshard.monthly_usd == result.cost["total"] == 1727.52
    aggregating = planner.plan(planner.Workload(**{**RACE.__dict__, "producers_can_aggregate": True}))
    assert agg.monthly_usd == aggregating.cost["total"] == 1683.45  # each option priced as a whole plan
    assert result.recommended == "resharding"
    why = result.reasons["aggregation"]
    assert why.startswith("aggregation: 1 shard(s) for 100 user records per 22,620-byte Kinesis record")
    assert "+100 ms of buffering, parallelization factor 1 (Lambda cannot parallelize aggregated records)" in why
    assert "resharding: 2 shard(s), no added latency, ~$1,728/month" in why
    assert "Recommends resharding: the producers put records one by one" in why


def test_with_aggregating_producers_the_race_aggregates(tmp_path: Path) -> None:
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "producers_can_aggregate": True}))
    assert result.recommended == "aggregation"
    assert (result.shard_count, result.parallelization_factor, result.batch_size) == (1, 1, 100)
    # one shard all month, and one 25 KB PUT unit per 100 records instead of one per record
    assert result.cost["Kinesis"] == pytest.approx(730 * 0.015 + 10 * 730 * 3600 / 1e6 * 0.014, abs=0.01)
    assert planner.plan(RACE).cost["Kinesis"] == pytest.approx(
        2 * 730 * 0.015 + 1000 * 730 * 3600 / 1e6 * 0.014, abs=0.01
    )
    assert result.reasons["parallelization"].startswith("1: Lambda cannot parallelize aggregated records")
    assert (
        "Recommends aggregation: it saves 1 shard(s) and $44/month, its 100 ms fit the 5 s target"
        in (result.reasons["aggregation"])
    )
    assert result.producer == {"kpl_aggregation": True, "AggregationMaxSize": 51_200, "RecordMaxBufferedTime": 100}
    assert result.tfvars()["kinesis"]["shard_count"] == 1
    assert result.tfvars()["kinesis"]["kpl_aggregation"] is True  # so the module holds the factor at 1
    assert "kpl_aggregation" not in planner.plan(RACE).tfvars()["kinesis"]
    assert result.tfvars()["event_source_mapping"]["parallelization_factor"] == 1
    assert "KPL aggregation on (AggregationMaxSize 51200, RecordMaxBufferedTime 100 ms)" in planner.tfvars_hcl(result)
    assert parsed_tfvars(result, tmp_path) == result.tfvars()


def test_aggregation_whose_consumer_falls_behind_is_not_recommended() -> None:
    """One write per record: a batch at a time per shard (parallelization factor 1) cannot keep up."""
    work = planner.Workload(avg_rps=5000, peak_rps=5000, record_bytes=100, producers_can_aggregate=True)
    result = planner.plan(work)
    agg = result.options["aggregation"]
    assert not agg.keeps_up
    assert agg.drain_per_shard_s < 3 * 5000 / agg.shard_count
    assert (result.recommended, result.shard_count) == ("resharding", 7)
    assert (
        "Recommends resharding: with aggregation each shard's batches, one at a time, process ~768 records/s, "
        in (result.reasons["aggregation"])
    )
    assert "less than 3x the 5,000 arriving" in result.reasons["aggregation"]


def test_aggregation_that_saves_shards_and_keeps_up_is_recommended() -> None:
    work = planner.Workload(
        avg_rps=5000, peak_rps=5000, record_bytes=100, sink_writes_per_record=0.01, producers_can_aggregate=True
    )
    result = planner.plan(work)
    assert (result.recommended, result.shard_count) == ("aggregation", 1)
    assert result.options["resharding"].shard_count == 7
    assert result.options["aggregation"].records_per_aggregate == 410  # the 51,200-byte limit, not the 100 ms
    assert result.cost["total"] < result.options["resharding"].monthly_usd
    assert "it saves 6 shard(s)" in result.reasons["aggregation"]


def test_a_latency_target_too_tight_for_the_buffering_keeps_resharding() -> None:
    work = planner.Workload(**{**RACE.__dict__, "producers_can_aggregate": True, "latency_target_s": 1})
    result = planner.plan(work)
    assert result.recommended == "resharding"
    assert "(~1.9 s) would exceed the 1 s latency target" in result.reasons["aggregation"]


def test_many_producers_have_nothing_to_aggregate() -> None:
    work = planner.Workload(**{**RACE.__dict__, "producers_can_aggregate": True, "producers": 1000})
    result = planner.plan(work)
    assert result.options["aggregation"].records_per_aggregate == 1
    assert result.recommended == "resharding"
    assert (
        "each of the 1,000 producer(s) buffers fewer than 2 records for a shard in 100 ms"
        in (result.reasons["aggregation"])
    )


# Task: memory for the largest aggregate the producers can send (issue 21, deliverable 4).
AGGREGATING = planner.Workload(
    avg_rps=50, peak_rps=50, record_bytes=20, keys=50, producers_can_aggregate=True, aggregation_max_bytes=1_048_576
)
"""A light load (128 MB by its rate) whose producers fill aws-kinesis-agg's 1 MiB aggregates."""


def test_the_most_user_records_an_aggregate_holds_is_what_the_aggregator_packs() -> None:
    aggregate, packed = AggRecord(1_048_576), 0
    while aggregate.add_user_record(str(packed % 50).rjust(16, "k").encode(), b"x" * 20):  # bytes: see below
        packed += 1
    # aws-kinesis-agg counts a str key's table entry once per record (it looks bytes up in a table of
    # str): with bytes keys its count is the format's. 40,294 records, 1,048,564 bytes.
    assert planner.most_records_per_aggregate(AGGREGATING, 1) == packed == 40_294


def test_memory_takes_the_largest_aggregate_the_producers_can_send(tmp_path: Path) -> None:
    from stream_pipeline.limits import max_user_records_per_aggregate, memory_for_user_records

    result = planner.plan(AGGREGATING)
    needed = memory_for_user_records(40_294)
    assert needed == 163, "more than 128: the test needs an aggregate a 128 MB function refuses"
    assert result.memory_mb == needed
    assert max_user_records_per_aggregate(result.memory_mb) >= 40_294 > max_user_records_per_aggregate(needed - 1)
    memory = {setting: (value, why) for setting, value, why in planner.rows(result)}["memory, timeout"]
    assert memory[0].startswith("163 MB, ")
    assert memory[1].startswith(
        "163 MB: the least that takes aggregates of up to 40,294 user records (as many 20 B records as the "
        "producers' 1,048,576 B AggregationMaxSize holds, which a producer that falls behind fills); the function "
        "refuses a larger aggregate as a poison record, and takes up to 40,550 user records per aggregate at 163 MB"
    )
    assert result.tfvars()["function"]["memory_mb"] == 163
    assert parsed_tfvars(result, tmp_path)["function"]["memory_mb"] == 163
    without = planner.plan(planner.Workload(**{**AGGREGATING.__dict__, "producers_can_aggregate": False}))
    assert without.memory_mb == 128, "producers that put records one by one send no aggregate"


def test_the_kpl_s_default_aggregates_fit_the_rate_s_memory_and_say_so() -> None:
    result = planner.plan(planner.Workload(**{**AGGREGATING.__dict__, "aggregation_max_bytes": 51_200}))
    assert result.memory_mb == 128
    assert result.reasons["memory"] == (
        "128 MB: the workshop's measured sweet spot for light, I/O-bound work; it takes aggregates of up to 1,933 "
        "user records (as many 20 B records as the producers' 51,200 B AggregationMaxSize holds, which a producer "
        "that falls behind fills): up to 26,214 per aggregate at 128 MB"
    )


def test_the_command_sizes_memory_for_its_aggregates_and_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tfvars = tmp_path / "small.tfvars"
    args = ["plan", "--avg-rps", "50", "--record-bytes", "20", "--keys", "50", "--producers-can-aggregate"]
    code = cli.main([*args, "--aggregation-max-bytes", "1048576", "--tfvars", str(tfvars)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    at = lines.index("memory, timeout: 163 MB, 30 s")  # piped: one line per setting, then its reason
    assert lines[at + 1].startswith("  why: 163 MB: the least that takes aggregates of up to 40,294 user records")
    assert hcl2.loads(tfvars.read_text())["function"]["memory_mb"] == 163
    assert cli.main([*args, "--aggregation-max-bytes", "2000000"]) == cli.EXIT_STACK
    assert "the aggregation size limit must be 64 to 1,048,576 bytes" in capsys.readouterr().err


# Task: several consumers.


def test_one_consumer_keeps_today_s_tfvars_shape() -> None:
    inputs = planner.plan(RACE).tfvars()
    assert "consumers" not in inputs
    assert inputs["kinesis"]["enhanced_fan_out"] is False


def test_a_low_latency_consumer_gets_enhanced_fan_out_and_pays_for_it(tmp_path: Path) -> None:
    two = (planner.Consumer("leaderboard"), planner.Consumer("archive", low_latency=True))
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": two}))
    leaderboard, archive = result.consumers
    assert (leaderboard.enhanced_fan_out, leaderboard.propagation_ms) == (False, 200)
    assert (archive.enhanced_fan_out, archive.propagation_ms) == (True, 70)
    assert "enhanced fan-out (low latency): ~70 ms and its own 2 MiB/s per shard" in archive.reason
    assert "1 shared consumer(s) poll each shard 1 of its 5 reads/s" in leaderboard.reason
    # 2 consumer-shard hours all month and every byte the stream takes, read once more
    gb = 1000 * 730 * 3600 * 200 / 1e9
    assert archive.monthly_usd == pytest.approx(2 * 730 * 0.015 + gb * 0.013, abs=0.01)
    assert result.cost["Kinesis enhanced fan-out"] == archive.monthly_usd
    one = planner.plan(RACE).cost
    assert result.cost["Lambda"] == pytest.approx(2 * one["Lambda"], abs=0.02)  # a function per consumer
    inputs = result.tfvars()
    # The first is the module's default consumer (the top-level settings); the others, the map's keys.
    assert inputs["consumers"] == {"archive": {"enhanced_fan_out": True}}
    assert inputs["kinesis"]["enhanced_fan_out"] is False
    assert parsed_tfvars(result, tmp_path) == inputs


def test_a_count_of_consumers_is_still_taken() -> None:
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": 2}))
    assert [c.name for c in result.consumers] == ["consumer-1", "consumer-2"]
    assert not result.enhanced_fan_out
    assert result.warnings == []


def test_three_shared_consumers_are_warned_that_latency_suffers() -> None:
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": 3}))
    assert not result.enhanced_fan_out  # 3 polls a second and 0.3 MiB/s a shard fit the budget
    (warning,) = result.warnings
    assert warning.startswith(
        "3 consumers share each shard's reads and take them in turn: the last sees a record ~600 ms"
    )
    assert ("warning", "", warning) in planner.rows(result)


def test_more_shared_consumers_than_a_shard_s_5_reads_are_refused() -> None:
    with pytest.raises(ValueError, match="6 shared consumers poll each shard 6 times a second, more than the 5") as e:
        planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": 6}))
    assert str(e.value).endswith("use enhanced fan-out for at least 1 of them")
    five_and_one = (*(planner.Consumer(f"c{n}") for n in range(5)), planner.Consumer("fast", low_latency=True))
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": five_and_one}))
    assert [c.enhanced_fan_out for c in result.consumers] == [False] * 5 + [True]


def test_shared_consumers_that_would_read_more_than_2_mib_a_shard_are_refused() -> None:
    big = planner.Workload(avg_rps=500, peak_rps=500, record_bytes=10_000, consumers=3)  # 0.8 MiB/s a shard
    with pytest.raises(ValueError, match=r"would read 2\.4 MiB/s from each shard, more than the 2 MiB/s") as e:
        planner.plan(big)
    assert str(e.value).endswith("use enhanced fan-out for at least 1 of them")
    assert len(planner.plan(planner.Workload(**{**big.__dict__, "consumers": 2})).consumers) == 2


def test_more_than_20_enhanced_fan_out_consumers_are_refused() -> None:
    many = tuple(planner.Consumer(f"c{n}", low_latency=True) for n in range(21))
    with pytest.raises(ValueError, match="21 consumers on enhanced fan-out, more than the 20 a stream can register"):
        planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": many}))


def test_a_consumer_asked_onto_shared_throughput_stays_there_with_a_warning() -> None:
    forced = (planner.Consumer("ticker", low_latency=True, enhanced_fan_out=False),)
    result = planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": forced}))
    assert not result.consumers[0].enhanced_fan_out
    assert result.warnings == ["ticker wants low latency but was asked onto shared throughput (up to ~200 ms)"]


@pytest.mark.parametrize("name", ["Archive", "a_b", "", "x" * 21, "1st"])
def test_a_consumer_name_the_module_cannot_take_is_a_sentence(name: str) -> None:
    with pytest.raises(ValueError, match="must be 1 to 20 lower-case letters, digits or '-'"):
        planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": (planner.Consumer(name),)}))


def test_only_the_first_consumer_may_be_the_default_one() -> None:
    two = (planner.Consumer("leaderboard"), planner.Consumer("default"))
    with pytest.raises(ValueError, match="only the first consumer can be named 'default'"):
        planner.plan(planner.Workload(**{**RACE.__dict__, "consumers": two}))


def test_consumers_from_the_command_line() -> None:
    assert planner.parse_consumer("archive") == planner.Consumer("archive")
    assert planner.parse_consumer("ticker:low-latency") == planner.Consumer("ticker", low_latency=True)
    assert planner.parse_consumer("a:efo") == planner.Consumer("a", enhanced_fan_out=True)
    assert planner.parse_consumer("a:shared") == planner.Consumer("a", enhanced_fan_out=False)
    with pytest.raises(ValueError, match="must be NAME, NAME:low-latency, NAME:efo or NAME:shared"):
        planner.parse_consumer("a:fast")


def test_the_json_carries_the_options_the_consumers_and_the_unverified_prices() -> None:
    printed = json.loads(json.dumps(planner.as_json(planner.plan(RACE))))
    assert set(printed["options"]) == {"resharding", "aggregation"}
    assert printed["options"]["aggregation"]["added_latency_ms"] == 100
    assert printed["recommended"] == "resharding"
    assert printed["consumers"][0]["name"] == "consumer"
    assert printed["prices_unverified"] == ["kinesis_efo_consumer_shard_hour", "kinesis_efo_gb"]


def test_the_table_rows_name_the_options() -> None:
    result = planner.plan(RACE)
    settings = {row[0]: row for row in planner.rows(result)}
    assert settings["write option"][1] == "resharding"
    assert settings["reserved concurrency"][1] == "none (-1)"
    assert planner.option_rows(result) == [
        ("resharding (recommended)", "2", "2", "+0 ms", "1,727.52"),
        ("aggregation", "1", "1", "+100 ms", f"{result.options['aggregation'].monthly_usd:,.2f}"),
    ]
    assert math.isclose(result.options["aggregation"].monthly_usd, 1683.45)
