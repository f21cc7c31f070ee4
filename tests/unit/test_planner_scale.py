"""stream-pipeline plan at scale: the account quotas that bind (DynamoDB's per-table units and a new
on-demand table's start, Lambda's concurrency against shards x parallelization factor over every
consumer, the Kinesis shard quota of the region), the prices of a region or none, and piped output
that never breaks a word."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from stream_pipeline_ops import cli, planner

if TYPE_CHECKING:
    import pytest

# 100,000 racers, one ~200-byte message a second each: the race a hundred times over.
RACERS = planner.Workload(avg_rps=100_000, peak_rps=100_000, record_bytes=200, keys=100_000)


def quota(result: planner.Plan, name: str) -> planner.Quota:
    (found,) = [q for q in result.quotas if q.name.startswith(name)]
    return found


def test_at_100000_racers_the_sink_crosses_dynamodbs_table_quota_by_60000() -> None:
    result = planner.plan(RACERS)
    sink = quota(result, "DynamoDB table-level write throughput")
    assert (sink.limit, sink.needed, sink.over) == (40_000, 100_000, 60_000)
    (warning,) = [w for w in result.warnings if "DynamoDB table-level" in w]
    assert "60,000 over the default of 40,000 (2.5x)" in warning
    assert "--quota-code L-AB614373" in warning
    assert "shard the writes over several sink tables by key" in warning
    assert "a window of 4 s brings 100,000 keys within 80% of it" in warning
    assert any("a new on-demand sink serves 4,000 writes/s at once" in w for w in result.warnings)


def test_lambda_concurrency_counts_every_consumers_batches() -> None:
    one = quota(planner.plan(RACERS), "Lambda concurrent executions")
    assert (one.limit, one.needed, one.over) == (1_000, 250, 0), "125 shards x parallelization factor 2"
    five = planner.plan(
        planner.Workload(
            avg_rps=100_000, peak_rps=100_000, keys=100_000,
            consumers=[planner.Consumer(n) for n in ("default", "archive", "audit", "search", "board")],
        )
    )  # fmt: skip
    found = quota(five, "Lambda concurrent executions")
    assert (found.needed, found.over) == (1_250, 250)
    (warning,) = [w for w in five.warnings if "Lambda concurrent executions" in w]
    assert "125 shard(s) x parallelization factor 2 x 5 consumer(s)" in warning
    assert "--quota-code L-B99A9384 --desired-value 1350" in warning
    assert "lower the parallelization factor, or aggregate on the producers" in warning
    within = quota(planner.plan(replace(RACERS, consumers=5, account_concurrency=3000)), "Lambda concurrent")
    assert (within.limit, within.over) == (3_000, 0), "the account's own quota when given"


def test_the_shard_quota_is_the_regions() -> None:
    big = planner.Workload(avg_rps=2_000_000, peak_rps=2_000_000, record_bytes=200, keys=100_000)
    virginia = quota(planner.plan(big), "Kinesis shard quota")
    assert (virginia.needed, virginia.limit, virginia.over) == (2_500, 20_000, 0)
    frankfurt = planner.plan(replace(big, region="eu-central-1"))
    shards = quota(frankfurt, "Kinesis shard quota")
    assert (shards.limit, shards.over) == (1_000, 1_500)
    assert "1,000 or 6,000 here: the guide does not say which" in shards.name
    (warning,) = [w for w in frankfurt.warnings if "Kinesis shard quota" in w]
    assert "Request at least 2,500" in warning
    assert "aggregate on the producers" in warning


def test_the_race_crosses_no_quota() -> None:
    result = planner.plan(planner.Workload(avg_rps=1000, peak_rps=1000, record_bytes=200, keys=1000))
    assert [q.over for q in result.quotas] == [0, 0, 0]
    assert not [w for w in result.warnings if w.startswith("quota:")]


def test_a_region_without_recorded_prices_gets_quotas_and_no_invented_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["plan", "--avg-rps", "1000", "--keys", "1000", "--region", "eu-central-1"]) == 0
    out = capsys.readouterr().out
    assert "no monthly cost estimate: the price table has no eu-central-1 prices (it has us-east-1)" in out
    assert "account quotas (eu-central-1)" in out
    assert "USD (" not in out
    assert cli.main(["plan", "--avg-rps", "1000", "--keys", "1000", "--region", "eu-central-1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["cost"] == {}
    assert printed["prices_recorded"] is None
    assert printed["region"] == "eu-central-1"


def test_the_default_region_prints_its_dated_prices(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--avg-rps", "1000", "--keys", "1000", "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out
    assert f"monthly cost estimate, USD (us-east-1 list prices recorded {planner.PRICES_RECORDED}):" in out
    assert re.search(r"^  total: [0-9,]+\.[0-9]{2}$", out, re.MULTILINE)


def test_a_region_that_is_no_region_is_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--avg-rps", "1000", "--region", "Frankfurt", "--json"]) == cli.EXIT_STACK
    assert "'Frankfurt' is not an AWS region name, such as us-east-1" in json.loads(capsys.readouterr().out)["error"]


def test_piped_output_never_breaks_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a terminal (capsys): every reason is printed whole on its line, so no word is split."""
    argv = ["plan", "--avg-rps", "100000", "--keys", "100000"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    result = planner.plan(RACERS)
    for setting, value, why in planner.rows(result):
        assert (f"  why: {why}" if value else f"{setting}: {why}") in out.splitlines(), setting
    assert "--producers-can-aggregate" in out
    assert "--producers-can-aggregat\n" not in out
    assert "│" not in out, "no table borders in a pipe"
