"""``stream-pipeline plan``: the blog post's sizing story as arithmetic, with a reason per number.

Seed 002 sized the Alleycat race by reading graphs: 1,000 racers at one message a second fill one
shard's 1,000 records/s, the single consumer falls behind, the table throttles at its provisioned
writes; the fixes are shards, parallelization and capacity. This module does that arithmetic from
the workload, writes the result as tfvars the root module accepts, and estimates the monthly cost
from a price table kept here with its date.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Final

RECORDS_PER_SHARD_S: Final = 1000
BYTES_PER_SHARD_S: Final = 1024 * 1024
WRITE_SHARE: Final = 0.8
"""Plan shards for at most 80% of the per-shard write limits: room for bursts and for retries."""
DRAIN_FACTOR: Final = 3
"""Consumers process 3x the arrival rate: a backlog drains in half the time it took to build."""
ON_DEMAND_FIRST_SHARDS: Final = 4
SPIKY: Final = 4.0
"""A peak of 4x the average or more: provisioned shards for the peak would idle most of the time."""
EFO_CONSUMERS: Final = 3
"""From 3 consumers, the shared 5 GetRecords/s and 2 MiB/s per shard are contended."""
PER_RECORD_MS: Final = 0.05
"""Handler time per record. `make bench` P1 measures ~0.006 ms in-process (about 180,000 records/s);
0.05 leaves room for the runtime's overhead on a 128-256 MB function."""
INVOKE_OVERHEAD_MS: Final = 50.0
WRITE_MS: Final = 10.0
SINK_CONCURRENCY: Final = 8  # SINK_WRITE_CONCURRENCY's default
WORKSHOP_CONCURRENCY: Final = 10
HOURS_PER_MONTH: Final = 730

PRICES_RECORDED: Final = "2026-11"
PRICES: Final[dict[str, float]] = {
    # us-east-1 list prices in USD, as recorded from the AWS pricing pages for this table on the date
    # below (https://aws.amazon.com/kinesis/data-streams/pricing/, /lambda/pricing/, /dynamodb/pricing/,
    # /sqs/pricing/, /cloudwatch/pricing/). This machine cannot reach them: check before budgeting.
    "kinesis_shard_hour": 0.015,
    "kinesis_put_million_units": 0.014,  # 25 KB PUT payload units
    "kinesis_on_demand_stream_hour": 0.04,
    "kinesis_on_demand_gb_in": 0.08,
    "kinesis_on_demand_gb_out": 0.04,
    "kinesis_efo_consumer_shard_hour": 0.015,
    "kinesis_efo_gb": 0.013,
    "lambda_million_requests": 0.20,
    "lambda_gb_second": 0.0000166667,
    "dynamodb_million_writes": 0.625,
    "dynamodb_wcu_hour": 0.00065,
    "sqs_million_requests": 0.40,
    "cloudwatch_alarm": 0.10,
    "cloudwatch_composite_alarm": 0.50,
    "cloudwatch_dashboard": 3.00,
    "cloudwatch_custom_metric": 0.30,
}
EMF_METRICS: Final = 7  # BatchSize, RecordsProcessed/Failed, DuplicatesSkipped, SinkWriteRequests/Throttles, Latency
ESM_METRICS: Final = 6  # EventCount metrics of the mapping
METRIC_ALARMS: Final = 15


@dataclass(frozen=True)
class Workload:
    avg_rps: float
    peak_rps: float
    record_bytes: int = 200
    consumers: int = 1
    per_record_ms: float = PER_RECORD_MS
    sink_writes_per_record: float = 1.0
    keys: int | None = None  # distinct partition keys: the processor writes once per key per batch
    retention_hours: int = 24
    latency_target_s: float = 5.0


@dataclass
class Plan:
    stream_mode: str
    shard_count: int
    enhanced_fan_out: bool
    batch_size: int
    batching_window_s: int
    parallelization_factor: int
    reserved_concurrency: int
    memory_mb: int
    timeout_s: int
    maximum_record_age_s: int
    retention_hours: int
    sink_billing_mode: str
    sink_writes_per_s: float
    sink_wcu_if_provisioned: int
    record_share: float
    byte_share: float
    invocation_ms: float
    alarm_iterator_age_ms: int
    alarm_record_age_ms: int
    reasons: dict[str, str] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)

    def tfvars(self) -> dict[str, Any]:
        """Inputs of the root module (and of the examples' module block), as they are."""
        return {
            "kinesis": {
                "stream_mode": self.stream_mode,
                **({"shard_count": self.shard_count} if self.stream_mode == "PROVISIONED" else {}),
                "retention_hours": self.retention_hours,
                "enhanced_fan_out": self.enhanced_fan_out,
            },
            "function": {
                "memory_mb": self.memory_mb,
                "timeout_seconds": self.timeout_s,
                "reserved_concurrency": self.reserved_concurrency,
            },
            "event_source_mapping": {
                "batch_size": self.batch_size,
                "maximum_batching_window_seconds": self.batching_window_s,
                "parallelization_factor": self.parallelization_factor,
                "maximum_record_age_seconds": self.maximum_record_age_s,
            },
            "sink": {"billing_mode": self.sink_billing_mode},
        }


def shares(records_per_s: float, record_bytes: int, shards: int) -> tuple[float, float]:
    """The share of the shards' record and byte write limits a rate takes."""
    return records_per_s / (shards * RECORDS_PER_SHARD_S), records_per_s * record_bytes / (shards * BYTES_PER_SHARD_S)


def plan(work: Workload) -> Plan:
    if work.avg_rps <= 0 or work.peak_rps < work.avg_rps:
        raise ValueError("the average rate must be above 0 and the peak at least the average")
    reasons: dict[str, str] = {}
    spiky = work.peak_rps >= SPIKY * work.avg_rps
    by_records = work.peak_rps / (RECORDS_PER_SHARD_S * WRITE_SHARE)
    by_bytes = work.peak_rps * work.record_bytes / (BYTES_PER_SHARD_S * WRITE_SHARE)
    shards = max(1, math.ceil(max(by_records, by_bytes)))
    mode = "ON_DEMAND" if spiky else "PROVISIONED"
    effective = ON_DEMAND_FIRST_SHARDS if spiky else shards
    record_share, byte_share = shares(work.peak_rps, work.record_bytes, shards)
    reasons["shards"] = (
        f"{shards} shard(s): the peak of {work.peak_rps:,.0f} records/s of {work.record_bytes} B is "
        f"{record_share:.0%} of their record limit and {byte_share:.0%} of their byte limit (at most 80%)"
    )
    reasons["stream_mode"] = (
        "ON_DEMAND: the peak is 4x the average or more, and provisioned shards would idle"
        if spiky
        else "PROVISIONED: a steady load costs less per shard-hour, and the shard count is the capacity line"
    )
    efo = work.consumers >= EFO_CONSUMERS
    reasons["enhanced_fan_out"] = (
        f"{'yes' if efo else 'no'}: {work.consumers} consumer(s) share each shard's 5 reads/s and 2 MiB/s"
        + (" (contended from 3)" if efo else "")
    )
    window = int(max(0, min(5, work.latency_target_s // 5)))
    reasons["window"] = f"{window} s: a fifth of the {work.latency_target_s:g} s latency target, at most 5 s"
    rate_per_shard = work.peak_rps / effective
    wanted = 2 * rate_per_shard * max(window, 1)
    batch = 10 if wanted <= 10 else min(10_000, math.ceil(wanted / 100) * 100)
    reasons["batch"] = (
        f"{batch}: twice what a shard delivers in a window ({rate_per_shard:,.0f} records/s), 10 to 10,000"
    )
    keys_per_batch = (work.keys / effective * max(window, 1)) if work.keys else None
    writes_per_batch = batch * work.sink_writes_per_record
    if keys_per_batch is not None:
        writes_per_batch = min(writes_per_batch, keys_per_batch)
    invocation_ms = INVOKE_OVERHEAD_MS + batch * work.per_record_ms + writes_per_batch * WRITE_MS / SINK_CONCURRENCY
    pf = min(10, max(1, math.ceil(DRAIN_FACTOR * rate_per_shard * invocation_ms / 1000 / batch)))
    reasons["parallelization"] = (
        f"{pf}: a batch takes ~{invocation_ms:,.0f} ms; {pf} concurrent batch(es) per shard process "
        f"{DRAIN_FACTOR}x the arrival rate, so a backlog drains in half the time it built up"
    )
    reserved = max(WORKSHOP_CONCURRENCY, effective * pf)
    reasons["concurrency"] = (
        f"{reserved}: at least {effective} shard(s) x {pf} = {effective * pf}, and the workshop's ceiling of 10"
    )
    memory = 256 if rate_per_shard >= 100 else 128
    reasons["memory"] = (
        "256 MB: CPU scales with memory, and 256 doubles 128's for the decoding at this rate"
        if memory == 256
        else "128 MB: the workshop's measured sweet spot for light, I/O-bound work"
    )
    timeout = max(30, math.ceil(invocation_ms * 10 / 1000))
    reasons["timeout"] = f"{timeout} s: ten times the expected batch, room for a throttled sink to be retried"
    record_age = work.retention_hours * 3600 // 2
    reasons["record_age"] = f"{record_age:,} s: half the {work.retention_hours} h retention; the other half to replay"
    writes_per_s = min(
        work.peak_rps * work.sink_writes_per_record, work.keys / max(window, 1) if work.keys else math.inf
    )
    wcu = math.ceil(writes_per_s / WRITE_SHARE)
    provisioned_usd = wcu * HOURS_PER_MONTH * PRICES["dynamodb_wcu_hour"]
    reasons["sink"] = (
        f"PAY_PER_REQUEST: ~{writes_per_s:,.0f} writes/s at peak; a PROVISIONED table would need {wcu:,} WCU "
        f"(seed 002's 5 WCU throttled), ~${provisioned_usd:,.0f}/month whether used or not, cheaper only for "
        "a load that runs all month; on-demand bills by the write and absorbs bursts with nothing to guess"
    )
    result = Plan(
        stream_mode=mode,
        shard_count=shards,
        enhanced_fan_out=efo,
        batch_size=batch,
        batching_window_s=window,
        parallelization_factor=pf,
        reserved_concurrency=reserved,
        memory_mb=memory,
        timeout_s=timeout,
        maximum_record_age_s=record_age,
        retention_hours=work.retention_hours,
        sink_billing_mode="PAY_PER_REQUEST",
        sink_writes_per_s=writes_per_s,
        sink_wcu_if_provisioned=wcu,
        record_share=record_share,
        byte_share=byte_share,
        invocation_ms=invocation_ms,
        alarm_iterator_age_ms=30_000,
        alarm_record_age_ms=record_age * 1000 // 2,
        reasons=reasons,
    )
    reasons["alarms"] = (
        f"lag at 30 s; records at risk at {result.alarm_record_age_ms // 1000:,} s (half the maximum record age)"
    )
    result.cost = monthly_cost(work, result)
    return result


def monthly_cost(work: Workload, result: Plan) -> dict[str, float]:
    p = PRICES
    seconds = HOURS_PER_MONTH * 3600
    records = work.avg_rps * seconds
    gb_in = records * work.record_bytes / 1e9
    if result.stream_mode == "PROVISIONED":
        units = records * math.ceil(work.record_bytes / 25_600) / 1e6
        kinesis = result.shard_count * HOURS_PER_MONTH * p["kinesis_shard_hour"]
        kinesis += units * p["kinesis_put_million_units"]
    else:
        kinesis = HOURS_PER_MONTH * p["kinesis_on_demand_stream_hour"]
        kinesis += gb_in * (p["kinesis_on_demand_gb_in"] + p["kinesis_on_demand_gb_out"])
    shards = result.shard_count if result.stream_mode == "PROVISIONED" else ON_DEMAND_FIRST_SHARDS
    efo = 0.0
    if result.enhanced_fan_out:
        efo = shards * HOURS_PER_MONTH * p["kinesis_efo_consumer_shard_hour"] + gb_in * float(p["kinesis_efo_gb"])
    invocations = records / max(1.0, min(result.batch_size, work.avg_rps / shards * max(result.batching_window_s, 1)))
    lam = invocations / 1e6 * p["lambda_million_requests"]
    lam += invocations * result.invocation_ms / 1000 * result.memory_mb / 1024 * p["lambda_gb_second"]
    writes = min(
        records * work.sink_writes_per_record, (work.keys or math.inf) * seconds / max(result.batching_window_s, 1)
    )
    dynamodb = writes / 1e6 * p["dynamodb_million_writes"]
    cloudwatch = (
        METRIC_ALARMS * p["cloudwatch_alarm"]
        + 2 * p["cloudwatch_composite_alarm"]
        + p["cloudwatch_dashboard"]
        + (EMF_METRICS + ESM_METRICS) * p["cloudwatch_custom_metric"]
    )
    cost = {
        "Kinesis": kinesis,
        "Kinesis enhanced fan-out": efo,
        "Lambda": lam,
        "DynamoDB sink writes": dynamodb,
        "SQS (failures only)": 0.0,
        "CloudWatch alarms, dashboard, metrics": cloudwatch,
    }
    cost["total"] = sum(cost.values())
    return {k: round(v, 2) for k, v in cost.items()}


def hcl(value: Any, indent: int = 0) -> str:
    """A value as HCL (tfvars): objects, lists, strings, numbers and booleans."""
    pad = "  " * indent
    if isinstance(value, dict):
        inner = "\n".join(f"{pad}  {k} = {hcl(v, indent + 1)}" for k, v in value.items())
        return "{\n" + inner + f"\n{pad}}}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v, indent) for v in value) + "]"
    return str(value)


def tfvars_hcl(result: Plan) -> str:
    header = "# Written by `stream-pipeline plan`: the root module's inputs for this workload.\n"
    return header + "\n".join(f"{name} = {hcl(value)}" for name, value in result.tfvars().items()) + "\n"


def as_json(result: Plan) -> dict[str, Any]:
    return {**asdict(result), "tfvars": result.tfvars(), "prices_recorded": PRICES_RECORDED}
