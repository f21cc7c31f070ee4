"""stream-pipeline plan: the seeds' sizing cases, the example's sizing, the tfvars and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest

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
    assert result.reserved_concurrency >= result.shard_count * result.parallelization_factor
    assert result.record_share == 0.5
    assert "50% of their record limit" in result.reasons["shards"]


def test_a_table_provisioned_at_5_wcu_throttles_under_the_race() -> None:
    result = planner.plan(RACE)
    assert result.sink_writes_per_s == 1000  # one write per racer per 1 s batch window
    assert result.sink_wcu_if_provisioned > 5
    assert "5 WCU throttled" in result.reasons["sink"]


def test_a_small_workload_gets_the_workshop_s_free_tier_defaults() -> None:
    result = planner.plan(planner.Workload(avg_rps=1, peak_rps=2, record_bytes=400))
    assert (result.memory_mb, result.timeout_s, result.batch_size, result.reserved_concurrency) == (128, 30, 10, 10)
    assert (result.shard_count, result.parallelization_factor) == (1, 1)


def test_spiky_load_goes_on_demand_and_many_consumers_get_enhanced_fan_out() -> None:
    spiky = planner.plan(planner.Workload(avg_rps=100, peak_rps=2000, consumers=3))
    assert spiky.stream_mode == "ON_DEMAND"
    assert spiky.enhanced_fan_out
    assert spiky.reserved_concurrency >= planner.ON_DEMAND_FIRST_SHARDS * spiky.parallelization_factor
    assert "kinesis" in spiky.tfvars()
    assert "shard_count" not in spiky.tfvars()["kinesis"]


def test_big_records_are_sized_by_bytes() -> None:
    result = planner.plan(planner.Workload(avg_rps=500, peak_rps=500, record_bytes=10_000))
    assert result.shard_count == 6  # 5 MB/s at 80% of 1 MiB/s per shard
    assert result.byte_share <= planner.WRITE_SHARE


def test_the_kinesis_example_is_sized_as_the_planner_says() -> None:
    with (ROOT / "examples" / "kinesis-alleycat" / "main.tf").open() as handle:
        config = plain_hcl(hcl2.load(handle))
    (module,) = [block["pipeline"] for block in config["module"] if "pipeline" in block]
    for name, values in planner.plan(RACE).tfvars().items():
        for key, value in values.items():
            assert module[name][key] == value, f"examples/kinesis-alleycat {name}.{key}"


def test_the_tfvars_are_hcl_the_module_reads(tmp_path: Path) -> None:
    result = planner.plan(RACE)
    path = tmp_path / "race.tfvars"
    path.write_text(planner.tfvars_hcl(result))
    with path.open() as handle:
        parsed = plain_hcl(hcl2.load(handle))
    assert parsed == result.tfvars()


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
