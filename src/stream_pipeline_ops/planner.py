"""``stream-pipeline plan``: the blog post's sizing story as arithmetic, with a reason per number.

Seed 002 sized the Alleycat race by reading graphs: 1,000 racers at one message a second fill one
shard's 1,000 records/s, the single consumer falls behind, the table throttles at its provisioned
writes; the fixes are shards, parallelization and capacity. This module does that arithmetic from
the workload, writes the result as tfvars the root module accepts, and estimates the monthly cost
from a price table kept here with its date.

When the record limit binds and the byte limit does not (the post's shard: ~100% of its records,
~20% of its bytes), the plan offers two ways out side by side: more shards, or KPL aggregation
(many small user records packed into one Kinesis record), each with its shards, its added latency
and its monthly cost, and says which it recommends and why. Several consumers are placed one by
one on shared throughput or enhanced fan-out, within each shard's read budget.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline.limits import max_user_records_per_aggregate, memory_for_user_records

if TYPE_CHECKING:
    from collections.abc import Sequence

RECORDS_PER_SHARD_S: Final = 1000
BYTES_PER_SHARD_S: Final = 1024 * 1024
WRITE_SHARE: Final = 0.8
"""Plan shards for at most 80% of the per-shard write limits: room for bursts and for retries."""
DRAIN_FACTOR: Final = 3
"""Consumers process 3x the arrival rate: a backlog drains in half the time it took to build."""
ON_DEMAND_FIRST_SHARDS: Final = 4
SPIKY: Final = 4.0
"""A peak of 4x the average or more: provisioned shards for the peak would idle most of the time."""
PER_RECORD_MS: Final = 0.05
"""Handler time per record. `make bench` P1 measures ~0.006 ms in-process (about 180,000 records/s);
0.05 leaves room for the runtime's overhead on a 128-256 MB function."""
INVOKE_OVERHEAD_MS: Final = 50.0
WRITE_MS: Final = 10.0
SINK_CONCURRENCY: Final = 8  # SINK_WRITE_CONCURRENCY's default
HOURS_PER_MONTH: Final = 730
PUT_UNIT_BYTES: Final = 25_600  # a PUT payload unit: 25 KB of a record's data

# Reading. Kinesis Developer Guide ("Develop consumers", verified): a shard serves 5 GetRecords
# transactions/s and 2 MiB/s, shared by every consumer on shared throughput; a registered
# enhanced fan-out consumer gets its own 2 MiB/s per shard, up to 20 per stream. Lambda's standard
# mapping polls each shard once a second. Message propagation: ~200 ms with one shared consumer,
# ~1,000 ms with five ("A stream with five consumers averages 200 ms of latency each, meaning it
# takes up to 1 second for all five to receive batches", seed 002); ~70 ms with enhanced fan-out.
READS_PER_SHARD_S: Final = 5
READ_BYTES_PER_SHARD_S: Final = 2 * 1024 * 1024
LAMBDA_POLLS_PER_SHARD_S: Final = 1
SHARED_PROPAGATION_MS: Final = 200
EFO_PROPAGATION_MS: Final = 70
MAX_EFO_CONSUMERS: Final = 20
SHARED_LATENCY_WARNING: Final = 3
"""From 3 shared consumers the plan warns: they take each shard's reads in turn, so the last one
sees a record ~600 ms after it arrived (200 ms a consumer), more than half of the 1 s Lambda waits
between polls, and their 3 polls a second leave 2 of the shard's 5 reads for retries."""

# Concurrency. Lambda refuses a reservation that leaves less than 100 unreserved in the account,
# and new accounts start with a concurrency quota of 10 (AWS Lambda Developer Guide, "Lambda quotas"
# and "Configuring reserved concurrency"): a fixed reservation would fail to apply there.
UNRESERVED_MINIMUM: Final = 100
NEW_ACCOUNT_QUOTA: Final = 10

# KPL aggregation. Defaults from the KPL's own default_config.properties
# (awslabs/amazon-kinesis-producer, java/amazon-kinesis-producer-sample/default_config.properties):
# AggregationMaxSize 51200 bytes (minimum 64, maximum 1048576, the 1 MiB record limit) and
# RecordMaxBufferedTime 100 ms (its minimum). An aggregate is the 4-byte magic F3 89 9A C2, a
# protobuf AggregatedRecord (a table of the distinct partition keys, then one Record per user
# record: key index and data, each with a tag and a length) and a 16-byte MD5 of the protobuf
# (awslabs/amazon-kinesis-producer, aggregation-format.md). The AWS Lambda Developer Guide
# (verified): "parallelization factor will not work if you are using Kinesis aggregation".
KPL_AGGREGATION_MAX_SIZE: Final = 51_200
KPL_AGGREGATION_MIN_SIZE: Final = 64
KPL_RECORD_MAX_BUFFERED_MS: Final = 100
KINESIS_RECORD_MAX_BYTES: Final = 1024 * 1024
AGGREGATE_FRAMING_BYTES: Final = 4 + 16  # magic + MD5
LAMBDA_PAYLOAD_BYTES: Final = 6_000_000
"""Lambda's synchronous invocation payload (6 MB): the mapping never delivers a larger batch."""
EVENT_RECORD_OVERHEAD_BYTES: Final = 600
"""JSON around each record's data in a Kinesis event (ids, sequence number, ARNs): 580 bytes in
tests/fixtures/kinesis_event.json, rounded up for longer keys and names."""

PRICES_RECORDED: Final = "2026-11"
REGION_PRICES: Final[dict[str, dict[str, float]]] = {
    # List prices in USD by region, as recorded on PRICES_RECORDED from the AWS pricing pages
    # (https://aws.amazon.com/kinesis/data-streams/pricing/, /lambda/pricing/, /dynamodb/pricing/,
    # /sqs/pricing/, /cloudwatch/pricing/), which this machine cannot reach: check before budgeting.
    # PRICE_SOURCES says where each figure was found again when the table gained its regions. A region
    # whose figures could not be found is left out, never guessed: `plan --region` there prints the
    # quotas and no cost.
    "us-east-1": {
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
    },
}
PRICE_SOURCES: Final[dict[str, str]] = {
    "kinesis_shard_hour": "us-east-1 $0.015/shard-hour, $0.014/million PUT payload units: AWS Kinesis pricing page "
    "(recorded 2026-11), and an independent cost calculator's US-East-1 figures",
    "lambda_gb_second": "us-east-1 $0.20/million requests, $0.0000166667/GB-s (x86, first tier): AWS Lambda pricing "
    "page, and a 2024 pricing breakdown quoting US East (N. Virginia)",
    "dynamodb_million_writes": "us-east-1 $0.625/million write request units after the November 2024 on-demand price "
    "cut: AWS DynamoDB pricing page, and a 2025 article quoting US East",
    "sqs_million_requests": "$0.40/million standard requests: AWS SQS pricing page",
    "cloudwatch_alarm": "CloudWatch alarms, dashboards and custom metrics: AWS CloudWatch pricing page "
    "(recorded 2026-11)",
}
DEFAULT_REGION: Final = "us-east-1"
PRICES: Final = REGION_PRICES[DEFAULT_REGION]
UNVERIFIED_PRICES: Final = frozenset({"kinesis_efo_consumer_shard_hour", "kinesis_efo_gb"})
"""Prices this table could not check again when enhanced fan-out costing was added (the pricing
page's figures could not be read from here): the estimate marks what rests on them."""
# Quotas that bind at scale: each account's defaults, all adjustable in Service Quotas.
# DynamoDB (Developer Guide, "Service quotas"): 40,000 read and 40,000 write units per table, for
# on-demand request units and provisioned capacity units alike ("Table-level read/write throughput
# limit", L-CF0CBE56 / L-AB614373); no account-level quota applies to on-demand tables. A new
# on-demand table serves up to 4,000 writes and 12,000 reads a second at once and then up to double
# its previous peak; more at once needs warm throughput set ahead of the load.
DYNAMODB_TABLE_UNITS: Final = 40_000
DYNAMODB_TABLE_WRITE_QUOTA_CODE: Final = "L-AB614373"
DYNAMODB_NEW_TABLE_WRITES: Final = 4_000
# Lambda (Developer Guide, "Lambda quotas"): 1,000 concurrent executions per region by default
# ("Concurrent executions", L-B99A9384); every shard's batches of every consumer run at once.
LAMBDA_DEFAULT_CONCURRENCY: Final = 1_000
LAMBDA_CONCURRENCY_QUOTA_CODE: Final = "L-B99A9384"
# Kinesis (Developer Guide, "Quotas and limits", read again 2026-12): a provisioned shard quota of
# 20,000 shards per account in us-east-1, us-west-2 and eu-west-1, and "1,000 or 6,000" in the other
# regions (the guide does not say which: the plan holds them to 1,000 and says so). On-demand streams
# open at 4 MB/s of writes and grow to 10 GB/s in those three regions, 200 MB/s elsewhere.
KINESIS_SHARD_QUOTA: Final[dict[str, int]] = {"us-east-1": 20_000, "us-west-2": 20_000, "eu-west-1": 20_000}
KINESIS_SHARD_QUOTA_ELSEWHERE: Final = 1_000
KINESIS_ON_DEMAND_MAX_BYTES: Final[dict[str, int]] = dict.fromkeys(KINESIS_SHARD_QUOTA, 10 * 1024**3)
KINESIS_ON_DEMAND_MAX_BYTES_ELSEWHERE: Final = 200 * 1024**2
REGION: Final = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")

EMF_METRICS: Final = 7  # BatchSize, RecordsProcessed/Failed, DuplicatesSkipped, SinkWriteRequests/Throttles, Latency
ESM_METRICS: Final = 6  # EventCount metrics of the mapping
METRIC_ALARMS: Final = 15
CONSUMER_NAME: Final = re.compile(r"^[a-z][a-z0-9-]{0,19}$")  # the root module's consumers keys


@dataclass(frozen=True)
class Consumer:
    """One reader of the stream: its own function and mapping (the root module's ``consumers``)."""

    name: str
    low_latency: bool = False
    enhanced_fan_out: bool | None = None  # None: the planner decides; True or False: as asked


@dataclass(frozen=True)
class Workload:
    avg_rps: float
    peak_rps: float
    record_bytes: int = 200
    consumers: int | Sequence[Consumer] = 1  # a count of consumers alike, or each one
    per_record_ms: float = PER_RECORD_MS
    sink_writes_per_record: float = 1.0
    keys: int | None = None  # distinct partition keys: the processor writes once per key per batch
    retention_hours: int = 24
    latency_target_s: float = 5.0
    account_concurrency: int | None = None  # the account's ConcurrentExecutions quota, if known
    producers_can_aggregate: bool = False  # producers use the KPL (or aws-kinesis-agg) and can aggregate
    producers: int = 1  # processes putting records: each aggregates only what it buffers itself
    partition_key_bytes: int = 16
    aggregation_max_bytes: int = KPL_AGGREGATION_MAX_SIZE
    buffered_time_ms: int = KPL_RECORD_MAX_BUFFERED_MS
    region: str = DEFAULT_REGION  # the quotas and the prices of this region

    @property
    def prices(self) -> dict[str, float] | None:
        """The region's recorded prices, or None when the table has none for it."""
        return REGION_PRICES.get(self.region)

    def consumer_list(self) -> list[Consumer]:
        """The consumers, each named: a count becomes ``consumer-1`` ... ``consumer-N``."""
        if isinstance(self.consumers, int):
            if self.consumers < 1:
                raise ValueError("the stream needs at least one consumer")
            return [Consumer("consumer" if self.consumers == 1 else f"consumer-{n + 1}") for n in range(self.consumers)]
        found = list(self.consumers)
        if not found:
            raise ValueError("the stream needs at least one consumer")
        names = [c.name for c in found]
        for name in names:
            if not CONSUMER_NAME.match(name):
                raise ValueError(
                    f"the consumer name {name!r} must be 1 to 20 lower-case letters, digits or '-', "
                    "starting with a letter (it becomes part of the function's name)"
                )
        if "default" in names[1:]:
            raise ValueError(
                "only the first consumer can be named 'default': it is the module's default consumer "
                "(the top-level function), and the others are keys of the consumers map"
            )
        if len(set(names)) != len(names):
            raise ValueError(
                f"the consumer names must be unique; repeated: {sorted({n for n in names if names.count(n) > 1})}"
            )
        return found


@dataclass
class Quota:
    """One account quota the plan needs: the default, what the plan needs, and what to do past it."""

    name: str
    limit: int
    needed: int
    unit: str
    fix: str = ""

    @property
    def over(self) -> int:
        return max(0, self.needed - self.limit)

    def text(self) -> str:
        if not self.over:
            return f"{self.name}: needs {self.needed:,} of the default {self.limit:,} {self.unit}"
        return (
            f"{self.name}: needs {self.needed:,} {self.unit}, {self.over:,} over the default of {self.limit:,} "
            f"({self.needed / self.limit:.1f}x). {self.fix}"
        )


@dataclass
class ConsumerPlan:
    name: str
    enhanced_fan_out: bool
    low_latency: bool
    propagation_ms: int
    reason: str
    monthly_usd: float = 0.0  # its enhanced fan-out charges; shared reads cost nothing more


@dataclass
class Option:
    """One way to carry the write load: more shards (``resharding``) or KPL ``aggregation``."""

    name: str
    shard_count: int
    records_per_aggregate: int  # user records per Kinesis record at the peak (1: not aggregated)
    kinesis_record_bytes: int
    kinesis_records_per_s: float
    record_share: float
    byte_share: float
    batch_size: int  # Kinesis records per batch (each holds records_per_aggregate user records)
    parallelization_factor: int
    invocation_ms: float
    drain_per_shard_s: float  # user records per second a shard's batches process, in a backlog
    keeps_up: bool
    added_latency_ms: int
    monthly_usd: float = 0.0


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
    recommended: str = "resharding"
    options: dict[str, Option] = field(default_factory=dict)
    consumers: list[ConsumerPlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    producer: dict[str, Any] = field(default_factory=dict)  # KPL settings when aggregation is chosen
    records_per_aggregate: int = 1
    kinesis_record_bytes: int = 0
    quotas: list[Quota] = field(default_factory=list)
    region: str = DEFAULT_REGION

    def tfvars(self) -> dict[str, Any]:
        """Inputs of the root module (and of the examples' module block), as they are. The first
        consumer is the module's default one (the top-level ``function``, ``event_source_mapping``
        and ``sink``, its fan-out in ``kinesis.enhanced_fan_out``); the others become the
        ``consumers`` map, each inheriting those settings and saying its own fan-out."""
        default = ConsumerPlan("consumer", self.enhanced_fan_out, low_latency=False, propagation_ms=0, reason="")
        first, *others = self.consumers or [default]
        inputs: dict[str, Any] = {
            "kinesis": {
                "stream_mode": self.stream_mode,
                **({"shard_count": self.shard_count} if self.stream_mode == "PROVISIONED" else {}),
                "retention_hours": self.retention_hours,
                "enhanced_fan_out": first.enhanced_fan_out,
                # The module then refuses a parallelization factor above 1 (per-key order).
                **({"kpl_aggregation": True} if self.producer.get("kpl_aggregation") else {}),
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
        if others:
            inputs["consumers"] = {c.name: {"enhanced_fan_out": c.enhanced_fan_out} for c in others}
        return inputs


def shares(records_per_s: float, record_bytes: int, shards: int) -> tuple[float, float]:
    """The share of the shards' record and byte write limits a rate takes."""
    return records_per_s / (shards * RECORDS_PER_SHARD_S), records_per_s * record_bytes / (shards * BYTES_PER_SHARD_S)


def varint_bytes(value: int) -> int:
    """Bytes of a protobuf varint: 7 bits a byte."""
    return max(1, math.ceil(value.bit_length() / 7))


def aggregate_bytes(user_records: int, record_bytes: int, distinct_keys: int, key_bytes: int) -> int:
    """The size of a KPL aggregate of ``user_records`` records spread evenly over ``distinct_keys``
    partition keys (aggregation-format.md): magic, the key table, each Record (key index, data)
    framed as field 3 of the AggregatedRecord, and the MD5. A record alone is not aggregated: the
    KPL sends it as it is. tests/unit/test_planner.py checks it against aws-kinesis-agg's output."""
    if user_records <= 1:
        return record_bytes
    keys = max(1, min(distinct_keys, user_records))
    each, extra = divmod(user_records, keys)
    size = AGGREGATE_FRAMING_BYTES + keys * (1 + varint_bytes(key_bytes) + key_bytes)
    low = 0
    while low < keys:  # the key indexes by varint width: 0-127 take 1 byte, 128-16383 take 2, ...
        width = varint_bytes(low)
        high = min(keys, 1 << (7 * width))
        records = (high - low) * each + max(0, min(high, extra) - low)
        record = 1 + width + 1 + varint_bytes(record_bytes) + record_bytes
        size += records * (1 + varint_bytes(record) + record)
        low = high
    return size


def records_per_aggregate(work: Workload, rate_rps: float, shards: int) -> int:
    """User records in one aggregate: as many as one producer buffers for one shard in the buffered
    time (the KPL aggregates per shard), no more than the aggregate's size limit allows."""
    if not math.isfinite(rate_rps) or rate_rps <= 0:
        return 1
    by_time = math.floor(rate_rps / max(1, work.producers) / shards * work.buffered_time_ms / 1000)
    return max(1, min(by_time, most_records_per_aggregate(work, shards)))


def most_records_per_aggregate(work: Workload, shards: int) -> int:
    """The most user records of the workload's size that one aggregate of the producers' size limit
    (``aggregation_max_bytes``) holds: what an aggregate carries once its producer has more buffered
    than the buffered time brings (a burst above the peak, a backlog after throttling or an outage)."""
    limit = min(work.aggregation_max_bytes, KINESIS_RECORD_MAX_BYTES)
    by_size, low, high = 1, 2, max(2, limit // max(1, work.record_bytes))
    while low <= high:  # the largest count that fits: the size grows with the count
        middle = (low + high) // 2
        if (
            aggregate_bytes(middle, work.record_bytes, _distinct(work, middle, shards), work.partition_key_bytes)
            <= limit
        ):
            by_size, low = middle, middle + 1
        else:
            high = middle - 1
    return by_size


def _distinct(work: Workload, user_records: int, shards: int) -> int:
    """Distinct partition keys in one aggregate: each record's own unless fewer keys reach the shard."""
    return min(user_records, math.ceil(work.keys / shards)) if work.keys else user_records


def _window(work: Workload) -> int:
    return int(max(0, min(5, work.latency_target_s // 5)))


def _option(work: Workload, name: str, shards: int, effective: int, *, aggregated: bool) -> Option:
    """Batch, invocation time and parallelization for ``shards`` with or without aggregation."""
    window = _window(work)
    per_aggregate = records_per_aggregate(work, work.peak_rps, effective) if aggregated else 1
    record = aggregate_bytes(
        per_aggregate, work.record_bytes, _distinct(work, per_aggregate, effective), work.partition_key_bytes
    )
    user_rate = work.peak_rps / effective  # user records per shard per second
    kinesis_rate = user_rate / per_aggregate
    wanted = 2 * kinesis_rate * max(window, 1)
    batch = 10 if wanted <= 10 else min(10_000, math.ceil(wanted / 100) * 100)
    most = LAMBDA_PAYLOAD_BYTES // (math.ceil(record * 4 / 3) + EVENT_RECORD_OVERHEAD_BYTES)
    batch = max(1, min(batch, most if most < 100 else most // 100 * 100))
    user_batch = batch * per_aggregate
    writes = user_batch * work.sink_writes_per_record
    if work.keys:
        writes = min(writes, work.keys / effective * max(window, 1))
    invocation_ms = INVOKE_OVERHEAD_MS + user_batch * work.per_record_ms + writes * WRITE_MS / SINK_CONCURRENCY
    needed = math.ceil(DRAIN_FACTOR * user_rate * invocation_ms / 1000 / user_batch)
    pf = 1 if aggregated else min(10, max(1, needed))
    record_share, byte_share = shares(work.peak_rps / per_aggregate, record, shards)
    return Option(
        name=name,
        shard_count=shards,
        records_per_aggregate=per_aggregate,
        kinesis_record_bytes=record,
        kinesis_records_per_s=work.peak_rps / per_aggregate,
        record_share=record_share,
        byte_share=byte_share,
        batch_size=batch,
        parallelization_factor=pf,
        invocation_ms=invocation_ms,
        drain_per_shard_s=pf * user_batch / (invocation_ms / 1000),
        keeps_up=needed <= pf,
        added_latency_ms=work.buffered_time_ms if aggregated else 0,
    )


def _aggregation(work: Workload, most: int) -> Option:
    """The fewest shards, up to resharding's, whose aggregated records fit 80% of both write limits
    and whose consumer keeps up at parallelization factor 1; else the fewest that carry the writes."""
    carrying: Option | None = None
    for shards in range(1, most + 1):
        option = _option(work, "aggregation", shards, shards, aggregated=True)
        if max(option.record_share, option.byte_share) > WRITE_SHARE:
            continue
        if option.keeps_up:
            return option
        carrying = carrying or option
    return carrying or _option(work, "aggregation", most, most, aggregated=True)


def _choose(work: Workload, options: dict[str, Option]) -> tuple[str, str]:
    reshard = options["resharding"]
    if "aggregation" not in options:
        return "resharding", ""
    agg = options["aggregation"]
    offer = (
        f"aggregation: {agg.shard_count} shard(s) for {agg.records_per_aggregate} user records per "
        f"{agg.kinesis_record_bytes:,}-byte Kinesis record ({agg.record_share:.0%} of the record limit, "
        f"{agg.byte_share:.0%} of the byte limit), +{agg.added_latency_ms} ms of buffering, parallelization "
        f"factor 1 (Lambda cannot parallelize aggregated records), {_money(work, agg.monthly_usd)}; resharding: "
        f"{reshard.shard_count} shard(s), no added latency, {_money(work, reshard.monthly_usd)}"
    )
    latency_s = agg.added_latency_ms / 1000 + _window(work) + agg.invocation_ms / 1000
    if agg.records_per_aggregate == 1:
        why = (
            f"recommends resharding: each of the {work.producers:,} producer(s) buffers fewer than 2 records "
            f"for a shard in {work.buffered_time_ms} ms, so there is nothing to aggregate"
        )
    elif not work.producers_can_aggregate:
        why = (
            "recommends resharding: the producers put records one by one; aggregation needs producers "
            "that aggregate (the KPL, or aws-kinesis-agg; this stack's consumer deaggregates), and with "
            "them the plan is made with --producers-can-aggregate"
        )
    elif agg.shard_count >= reshard.shard_count:
        why = "recommends resharding: aggregation would save no shard"
    elif not agg.keeps_up:
        why = (
            f"recommends resharding: with aggregation each shard's batches, one at a time, process "
            f"~{agg.drain_per_shard_s:,.0f} records/s, less than {DRAIN_FACTOR}x the "
            f"{work.peak_rps / agg.shard_count:,.0f} arriving"
        )
    elif latency_s > work.latency_target_s:
        why = (
            f"recommends resharding: buffering, window and batch (~{latency_s:.1f} s) would exceed the "
            f"{work.latency_target_s:g} s latency target"
        )
    else:
        saved = reshard.shard_count - agg.shard_count
        return "aggregation", (
            f"{offer}. Recommends aggregation: it saves {saved} shard(s) and "
            f"{_money(work, reshard.monthly_usd - agg.monthly_usd, approx='')}, its {agg.added_latency_ms} ms fit the "
            f"{work.latency_target_s:g} s target, and one batch at a time per shard processes "
            f"~{agg.drain_per_shard_s:,.0f} records/s, {DRAIN_FACTOR}x the arrival rate or more"
        )
    return "resharding", f"{offer}. {why[0].upper()}{why[1:]}"


def _consumers(wanted: list[Consumer], bytes_per_shard_s: float) -> tuple[list[ConsumerPlan], list[str]]:
    """Shared throughput or enhanced fan-out, consumer by consumer, within each shard's read budget."""
    warnings: list[str] = []
    efo = [c for c in wanted if c.enhanced_fan_out or (c.enhanced_fan_out is None and c.low_latency)]
    shared = [c for c in wanted if c not in efo]
    if len(efo) > MAX_EFO_CONSUMERS:
        raise ValueError(
            f"{len(efo)} consumers on enhanced fan-out, more than the {MAX_EFO_CONSUMERS} a stream can register"
        )
    polls = len(shared) * LAMBDA_POLLS_PER_SHARD_S
    if polls > READS_PER_SHARD_S:
        raise ValueError(
            f"{len(shared)} shared consumers poll each shard {polls} times a second, more than the "
            f"{READS_PER_SHARD_S} GetRecords a shard serves: use enhanced fan-out for at least "
            f"{len(shared) - READS_PER_SHARD_S} of them"
        )
    fit = math.floor(READ_BYTES_PER_SHARD_S / bytes_per_shard_s) if bytes_per_shard_s > 0 else len(shared)
    if len(shared) > fit:
        raise ValueError(
            f"{len(shared)} shared consumers would read {len(shared) * bytes_per_shard_s / 1024**2:.1f} MiB/s "
            f"from each shard, more than the 2 MiB/s a shard serves them together: use enhanced fan-out "
            f"for at least {len(shared) - fit} of them"
        )
    last_ms = len(shared) * SHARED_PROPAGATION_MS
    if len(shared) >= SHARED_LATENCY_WARNING:
        warnings.append(
            f"{len(shared)} consumers share each shard's reads and take them in turn: the last sees a record "
            f"~{last_ms:,} ms after it arrived (~{SHARED_PROPAGATION_MS} ms a consumer, seed 002); a consumer "
            "that needs it sooner belongs on enhanced fan-out (low latency)"
        )
    plans = []
    for consumer in wanted:
        if consumer in efo:
            why = "low latency" if consumer.low_latency else "asked for"
            reason = (
                f"enhanced fan-out ({why}): ~{EFO_PROPAGATION_MS} ms and its own 2 MiB/s per shard, "
                f"billed per consumer-shard hour and per GB read"
            )
            plans.append(
                ConsumerPlan(
                    consumer.name,
                    enhanced_fan_out=True,
                    low_latency=consumer.low_latency,
                    propagation_ms=EFO_PROPAGATION_MS,
                    reason=reason,
                )
            )
            continue
        reason = (
            f"shared throughput: {len(shared)} shared consumer(s) poll each shard {polls} of its "
            f"{READS_PER_SHARD_S} reads/s and read {len(shared) * bytes_per_shard_s / 1024**2:.2f} of its 2 MiB/s; "
            f"up to ~{last_ms:,} ms before the last of them sees a record"
        )
        if consumer.low_latency:
            warnings.append(
                f"{consumer.name} wants low latency but was asked onto shared throughput (up to ~{last_ms:,} ms)"
            )
        plans.append(
            ConsumerPlan(
                consumer.name,
                enhanced_fan_out=False,
                low_latency=consumer.low_latency,
                propagation_ms=last_ms,
                reason=reason,
            )
        )
    return plans, warnings


def _memory(work: Workload, effective: int) -> tuple[int, str]:
    """The function's memory and why: for the rate per shard, and at least what the largest aggregate
    the producers can send needs (the function refuses an aggregate of more user records than its
    memory allows as a poison record: stream_pipeline.limits)."""
    memory = 256 if work.peak_rps / effective >= 100 else 128
    why = (
        "256 MB: CPU scales with memory, and 256 doubles 128's for the decoding at this rate"
        if memory == 256
        else "128 MB: the workshop's measured sweet spot for light, I/O-bound work"
    )
    if not work.producers_can_aggregate:
        return memory, why
    most = most_records_per_aggregate(work, effective)
    needed = memory_for_user_records(most)
    largest = (
        f"aggregates of up to {most:,} user records (as many {work.record_bytes} B records as the producers' "
        f"{work.aggregation_max_bytes:,} B AggregationMaxSize holds, which a producer that falls behind fills)"
    )
    if needed <= memory:
        cap = max_user_records_per_aggregate(memory)
        return memory, f"{why}; it takes {largest}: up to {cap:,} per aggregate at {memory} MB"
    cap = max_user_records_per_aggregate(needed)
    return needed, (
        f"{needed} MB: the least that takes {largest}; the function refuses a larger aggregate as a poison "
        f"record, and takes up to {cap:,} user records per aggregate at {needed} MB (README, KPL aggregates)"
    )


def _concurrency(work: Workload, effective: int, pf: int, consumers: int) -> tuple[int, str]:
    each = effective * pf
    total = each * consumers
    needed = total + UNRESERVED_MINIMUM
    what = (
        f"a reservation of {each}"
        if consumers == 1
        else f"a reservation of {each} for each of the {consumers} consumers ({total} in all)"
    )
    need = f"{what} needs an account concurrency quota of at least {needed}"
    if work.account_concurrency is None:
        return -1, (
            f"none (-1): {effective} shard(s) x parallelization factor {pf} = {each} concurrent batches; {need} "
            f"(Lambda keeps {UNRESERVED_MINIMUM} unreserved, and new accounts start at {NEW_ACCOUNT_QUOTA}), "
            "so reserve only with the account's quota in hand (--account-concurrency)"
        )
    quota = work.account_concurrency
    if quota - total >= UNRESERVED_MINIMUM:
        return each, (
            f"{each}: {effective} shard(s) x parallelization factor {pf}, reserved so other functions cannot "
            f"throttle a backlog and a backlog cannot starve them; your quota of {quota:,} leaves "
            f"{quota - total:,} unreserved (Lambda keeps at least {UNRESERVED_MINIMUM})"
        )
    return -1, (
        f"none (-1): {need}; yours is {quota:,}. Raise the quota (Service Quotas, AWS Lambda, Concurrent "
        "executions) before reserving"
    )


def plan(work: Workload) -> Plan:
    if not REGION.match(work.region):
        raise ValueError(f"{work.region!r} is not an AWS region name, such as us-east-1")
    if work.avg_rps <= 0 or work.peak_rps < work.avg_rps:
        raise ValueError("the average rate must be above 0 and the peak at least the average")
    if work.record_bytes < 1 or work.record_bytes > KINESIS_RECORD_MAX_BYTES:
        raise ValueError("a record must be 1 byte to 1 MiB, the Kinesis record limit")
    if not KPL_AGGREGATION_MIN_SIZE <= work.aggregation_max_bytes <= KINESIS_RECORD_MAX_BYTES:
        raise ValueError(
            f"the aggregation size limit must be {KPL_AGGREGATION_MIN_SIZE} to {KINESIS_RECORD_MAX_BYTES:,} bytes "
            f"(the KPL's AggregationMaxSize range; the KPL's default is {KPL_AGGREGATION_MAX_SIZE:,}, aws-kinesis-agg "
            f"fills {KINESIS_RECORD_MAX_BYTES:,})"
        )
    wanted = work.consumer_list()
    spiky = work.peak_rps >= SPIKY * work.avg_rps
    by_records = work.peak_rps / (RECORDS_PER_SHARD_S * WRITE_SHARE)
    by_bytes = work.peak_rps * work.record_bytes / (BYTES_PER_SHARD_S * WRITE_SHARE)
    shards = max(1, math.ceil(max(by_records, by_bytes)))
    mode = "ON_DEMAND" if spiky else "PROVISIONED"
    options = {
        "resharding": _option(work, "resharding", shards, ON_DEMAND_FIRST_SHARDS if spiky else shards, aggregated=False)
    }
    if not spiky and math.ceil(by_records) > max(1, math.ceil(by_bytes)):  # records cost shards, bytes do not
        options["aggregation"] = _aggregation(work, shards)
    for option in options.values():
        option.monthly_usd = _build(work, option, mode, spiky, wanted).cost.get("total", 0.0)
    chosen, why = _choose(work, options)
    result = _build(work, options[chosen], mode, spiky, wanted)
    result.options = options
    if why:
        result.reasons["aggregation"] = why
    result.quotas = _quotas(work, result, ON_DEMAND_FIRST_SHARDS if spiky else result.shard_count)
    result.warnings += _quota_warnings(result.quotas, result.sink_writes_per_s)
    return result


def _build(work: Workload, option: Option, mode: str, spiky: bool, wanted: list[Consumer]) -> Plan:
    """The whole plan for one way of carrying the load, with its reasons and its cost."""
    reasons: dict[str, str] = {}
    shards = option.shard_count
    effective = ON_DEMAND_FIRST_SHARDS if spiky else shards
    aggregated = option.records_per_aggregate > 1
    carried = f"{option.kinesis_records_per_s:,.0f} Kinesis records/s of {option.kinesis_record_bytes:,} B"
    if aggregated:
        carried += f" (aggregates of {option.records_per_aggregate} user records)"
    else:
        carried = f"the peak of {work.peak_rps:,.0f} records/s of {work.record_bytes} B"
    reasons["shards"] = (
        f"{shards} shard(s): {carried} is {option.record_share:.0%} of their record limit and "
        f"{option.byte_share:.0%} of their byte limit (at most 80%)"
    )
    reasons["stream_mode"] = (
        "ON_DEMAND: the peak is 4x the average or more, and provisioned shards would idle"
        if spiky
        else "PROVISIONED: a steady load costs less per shard-hour, and the shard count is the capacity line"
    )
    per_shard = option.kinesis_records_per_s / effective * option.kinesis_record_bytes
    consumers, warnings = _consumers(wanted, per_shard)
    reasons["enhanced_fan_out"] = "; ".join(
        f"{c.name}: {'yes' if c.enhanced_fan_out else 'no'}, {c.reason}" for c in consumers
    )
    window = _window(work)
    reasons["window"] = f"{window} s: a fifth of the {work.latency_target_s:g} s latency target, at most 5 s"
    unit = "aggregates" if aggregated else "records"
    reasons["batch"] = (
        f"{option.batch_size}: twice what a shard delivers in a window "
        f"({option.kinesis_records_per_s / effective:,.0f} {unit}/s), 10 to 10,000, within Lambda's 6 MB payload"
    )
    pf = option.parallelization_factor
    reasons["parallelization"] = (
        (
            f"1: Lambda cannot parallelize aggregated records; a batch takes ~{option.invocation_ms:,.0f} ms "
            f"and one at a time per shard processes ~{option.drain_per_shard_s:,.0f} records/s"
        )
        if aggregated
        else (
            f"{pf}: a batch takes ~{option.invocation_ms:,.0f} ms; {pf} concurrent batch(es) per shard process "
            f"{DRAIN_FACTOR}x the arrival rate, so a backlog drains in half the time it built up"
        )
    )
    reserved, reasons["concurrency"] = _concurrency(work, effective, pf, len(consumers))
    memory, reasons["memory"] = _memory(work, effective)
    timeout = max(30, math.ceil(option.invocation_ms * 10 / 1000))
    reasons["timeout"] = f"{timeout} s: ten times the expected batch, room for a throttled sink to be retried"
    record_age = work.retention_hours * 3600 // 2
    reasons["record_age"] = f"{record_age:,} s: half the {work.retention_hours} h retention; the other half to replay"
    writes_per_s = min(
        work.peak_rps * work.sink_writes_per_record, work.keys / max(window, 1) if work.keys else math.inf
    )
    wcu = math.ceil(writes_per_s / WRITE_SHARE)
    prices = work.prices
    provisioned_usd = wcu * HOURS_PER_MONTH * prices["dynamodb_wcu_hour"] if prices else 0.0
    reasons["sink"] = (
        f"PAY_PER_REQUEST: ~{writes_per_s:,.0f} writes/s at peak; a PROVISIONED table would need {wcu:,} WCU "
        f"(seed 002's 5 WCU throttled), "
        + (f"~${provisioned_usd:,.0f}/month whether used or not, " if prices else "paid whether used or not, ")
        + "cheaper only for a load that runs all month; on-demand bills by the write and absorbs bursts with "
        "nothing to guess"
    )
    result = Plan(
        stream_mode=mode,
        shard_count=shards,
        enhanced_fan_out=any(c.enhanced_fan_out for c in consumers),
        batch_size=option.batch_size,
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
        record_share=option.record_share,
        byte_share=option.byte_share,
        invocation_ms=option.invocation_ms,
        alarm_iterator_age_ms=30_000,
        alarm_record_age_ms=record_age * 1000 // 2,
        reasons=reasons,
        recommended=option.name,
        consumers=consumers,
        warnings=warnings,
        producer=(
            {
                "kpl_aggregation": True,
                "AggregationMaxSize": work.aggregation_max_bytes,
                "RecordMaxBufferedTime": work.buffered_time_ms,
            }
            if aggregated
            else {}
        ),
        records_per_aggregate=option.records_per_aggregate,
        kinesis_record_bytes=option.kinesis_record_bytes,
    )
    reasons["alarms"] = (
        f"lag at 30 s; records at risk at {result.alarm_record_age_ms // 1000:,} s (half the maximum record age)"
    )
    result.region = work.region
    result.cost = monthly_cost(work, result)
    return result


def monthly_cost(work: Workload, result: Plan) -> dict[str, float]:
    """Dollars a month at the average rate, by service. Every consumer runs its own function and
    sink (the root module's defaults), so Lambda and the sink count once per consumer; the alarms
    and the dashboard once for the stack. Nothing for a region the price table does not have."""
    p = work.prices
    if p is None:
        return {}
    seconds = HOURS_PER_MONTH * 3600
    records = work.avg_rps * seconds
    shards = result.shard_count if result.stream_mode == "PROVISIONED" else ON_DEMAND_FIRST_SHARDS
    per_aggregate = records_per_aggregate(work, work.avg_rps, shards) if result.records_per_aggregate > 1 else 1
    record_bytes = aggregate_bytes(
        per_aggregate, work.record_bytes, _distinct(work, per_aggregate, shards), work.partition_key_bytes
    )
    kinesis_records = records / per_aggregate
    gb = kinesis_records * record_bytes / 1e9
    readers = max(1, len(result.consumers))
    shared = sum(1 for c in result.consumers if not c.enhanced_fan_out)
    if result.stream_mode == "PROVISIONED":
        units = kinesis_records * math.ceil(record_bytes / PUT_UNIT_BYTES) / 1e6
        kinesis = result.shard_count * HOURS_PER_MONTH * p["kinesis_shard_hour"]
        kinesis += units * p["kinesis_put_million_units"]
    else:
        kinesis = HOURS_PER_MONTH * p["kinesis_on_demand_stream_hour"]
        kinesis += gb * p["kinesis_on_demand_gb_in"] + gb * shared * p["kinesis_on_demand_gb_out"]
    efo_each = shards * HOURS_PER_MONTH * p["kinesis_efo_consumer_shard_hour"] + gb * p["kinesis_efo_gb"]
    for consumer in result.consumers:
        consumer.monthly_usd = round(efo_each, 2) if consumer.enhanced_fan_out else 0.0
    efo = sum(c.monthly_usd for c in result.consumers)
    per_batch = max(1.0, min(result.batch_size, kinesis_records / seconds / shards * max(result.batching_window_s, 1)))
    invocations = kinesis_records / per_batch
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
        "Lambda": lam * readers,
        "DynamoDB sink writes": dynamodb * readers,
        "SQS (failures only)": 0.0,
        "CloudWatch alarms, dashboard, metrics": cloudwatch,
    }
    cost["total"] = sum(cost.values())
    return {k: round(v, 2) for k, v in cost.items()}


def _money(work: Workload, usd: float, approx: str = "~") -> str:
    """A monthly amount for a sentence, or why there is none."""
    return f"{approx}${usd:,.0f}/month" if work.prices else f"no {work.region} price recorded"


def _quotas(work: Workload, result: Plan, effective: int) -> list[Quota]:
    """The account quotas this plan needs, against their defaults in the plan's region; each one the
    plan crosses says by how much and what to request or change."""
    region = work.region
    consumers = max(1, len(result.consumers))
    quotas: list[Quota] = []
    if result.stream_mode == "PROVISIONED":
        limit = KINESIS_SHARD_QUOTA.get(region, KINESIS_SHARD_QUOTA_ELSEWHERE)
        known = "" if region in KINESIS_SHARD_QUOTA else " (1,000 or 6,000 here: the guide does not say which)"
        agg = result.options.get("aggregation")
        fewer = (
            f" or aggregate on the producers ({agg.shard_count:,} shard(s), --producers-can-aggregate)"
            if agg and agg.shard_count < result.shard_count
            else ""
        )
        quotas.append(
            Quota(
                f"Kinesis shard quota in {region}{known}",
                limit,
                result.shard_count,
                "shards (every provisioned stream of the account counts)",
                f"Request at least {result.shard_count:,} (Service Quotas, Amazon Kinesis Data Streams, the shard "
                f"quota; aws service-quotas list-service-quotas --service-code kinesis names it){fewer}",
            )
        )
    else:
        limit = KINESIS_ON_DEMAND_MAX_BYTES.get(region, KINESIS_ON_DEMAND_MAX_BYTES_ELSEWHERE)
        needed = math.ceil(work.peak_rps * work.record_bytes / 1024**2)
        quotas.append(
            Quota(
                f"Kinesis on-demand write throughput in {region}",
                limit // 1024**2,
                needed,
                "MiB/s per stream (a new on-demand stream opens at 4 MB/s and grows with its traffic)",
                "Ask AWS Support for up to 10 GB/s in this region, or use a provisioned stream",
            )
        )
    concurrency = work.account_concurrency or LAMBDA_DEFAULT_CONCURRENCY
    batches = effective * result.parallelization_factor * consumers
    lower = (
        "lower the parallelization factor, or aggregate on the producers (fewer shards, parallelization factor 1)"
        if result.parallelization_factor > 1 or result.options.get("aggregation")
        else "fewer shards (aggregation) or fewer consumers"
    )
    quotas.append(
        Quota(
            "Lambda concurrent executions" + ("" if work.account_concurrency else " (the default)"),
            concurrency,
            batches,
            f"concurrent batches ({effective:,} shard(s) x parallelization factor {result.parallelization_factor} x "
            f"{consumers} consumer(s)), beside the account's other functions",
            f"Request at least {batches + UNRESERVED_MINIMUM:,} (aws service-quotas request-service-quota-increase "
            f"--service-code lambda --quota-code {LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value "
            f"{batches + UNRESERVED_MINIMUM}: the batches and the {UNRESERVED_MINIMUM} Lambda keeps unreserved), "
            f"or {lower}",
        )
    )
    writes = math.ceil(result.sink_writes_per_s)
    window = max(result.batching_window_s, 1)
    keyed = (
        f"; the processor writes once per key per batch window, so a window of "
        f"{math.ceil(work.keys / (WRITE_SHARE * DYNAMODB_TABLE_UNITS))} s brings {work.keys:,} keys within 80% of it"
        if work.keys and work.keys / window > WRITE_SHARE * DYNAMODB_TABLE_UNITS
        else ""
    )
    quotas.append(
        Quota(
            "DynamoDB table-level write throughput (each consumer's sink)",
            DYNAMODB_TABLE_UNITS,
            writes,
            "write units/s (on-demand request units or provisioned capacity units)",
            f"Request at least {math.ceil(writes / WRITE_SHARE):,} (aws service-quotas request-service-quota-increase "
            f"--service-code dynamodb --quota-code {DYNAMODB_TABLE_WRITE_QUOTA_CODE}), or write less: shard the "
            f"writes over several sink tables by key, or fold more records into each write{keyed}",
        )
    )
    return quotas


def _quota_warnings(quotas: list[Quota], writes_per_s: float) -> list[str]:
    found = [f"quota: {q.text()}" for q in quotas if q.over]
    if writes_per_s > DYNAMODB_NEW_TABLE_WRITES:
        found.append(
            f"quota: a new on-demand sink serves {DYNAMODB_NEW_TABLE_WRITES:,} writes/s at once and then up to "
            f"double its previous peak; ~{writes_per_s:,.0f} writes/s from the start throttles until it has grown: "
            f"set the table's warm throughput to {math.ceil(writes_per_s):,} write units/s before the load"
        )
    return found


def parse_consumer(text: str) -> Consumer:
    """``NAME``, ``NAME:low-latency``, ``NAME:efo`` or ``NAME:shared``: one consumer, for a command line."""
    name, _, kind = text.partition(":")
    kinds = {"": Consumer(name), "low-latency": Consumer(name, low_latency=True)}
    kinds |= {"efo": Consumer(name, enhanced_fan_out=True), "shared": Consumer(name, enhanced_fan_out=False)}
    if kind not in kinds:
        raise ValueError(f"the consumer {text!r} must be NAME, NAME:low-latency, NAME:efo or NAME:shared")
    return kinds[kind]


def rows(result: Plan) -> list[tuple[str, str, str]]:
    """The plan as (setting, value, why) rows, for the command's table."""
    found = [
        (
            "stream",
            f"{result.stream_mode}, {result.shard_count} shard(s)",
            result.reasons["stream_mode"] + "; " + result.reasons["shards"],
        ),
    ]
    if "aggregation" in result.reasons:
        found.append(("write option", result.recommended, result.reasons["aggregation"]))
    found += [
        (
            "consumers" if len(result.consumers) > 1 else "enhanced fan-out",
            ", ".join(f"{c.name}: {'enhanced fan-out' if c.enhanced_fan_out else 'shared'}" for c in result.consumers)
            if len(result.consumers) > 1
            else ("yes" if result.enhanced_fan_out else "no"),
            result.reasons["enhanced_fan_out"],
        ),
        (
            "batch",
            f"{result.batch_size} records, {result.batching_window_s} s window",
            result.reasons["batch"] + "; " + result.reasons["window"],
        ),
        ("parallelization factor", str(result.parallelization_factor), result.reasons["parallelization"]),
        (
            "reserved concurrency",
            "none (-1)" if result.reserved_concurrency < 0 else str(result.reserved_concurrency),
            result.reasons["concurrency"],
        ),
        (
            "memory, timeout",
            f"{result.memory_mb} MB, {result.timeout_s} s",
            result.reasons["memory"] + "; " + result.reasons["timeout"],
        ),
        ("maximum record age", f"{result.maximum_record_age_s:,} s", result.reasons["record_age"]),
        ("sink", result.sink_billing_mode, result.reasons["sink"]),
        ("alarms", "", result.reasons["alarms"]),
    ]
    within = [q.text() for q in result.quotas if not q.over]
    if within:
        found.append((f"account quotas ({result.region})", "", "; ".join(within)))
    found += [("warning", "", text) for text in result.warnings]
    return found


def option_rows(result: Plan) -> list[tuple[str, str, str, str, str]]:
    """The write options side by side: (option, shards, parallelization, added latency, USD/month)."""
    return [
        (
            f"{o.name}{' (recommended)' if o.name == result.recommended else ''}",
            str(o.shard_count),
            str(o.parallelization_factor),
            f"+{o.added_latency_ms} ms",
            f"{o.monthly_usd:,.2f}" if result.region in REGION_PRICES else "no price",
        )
        for o in result.options.values()
    ]


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
    if result.producer:
        header += (
            f"# Producers: KPL aggregation on (AggregationMaxSize {result.producer['AggregationMaxSize']}, "
            f"RecordMaxBufferedTime {result.producer['RecordMaxBufferedTime']} ms); the consumer deaggregates,\n"
            "# and the parallelization factor stays 1 (Lambda cannot parallelize aggregated records).\n"
        )
    return header + "\n".join(f"{name} = {hcl(value)}" for name, value in result.tfvars().items()) + "\n"


def as_json(result: Plan) -> dict[str, Any]:
    return {
        **asdict(result),
        "tfvars": result.tfvars(),
        "prices_recorded": PRICES_RECORDED if result.region in REGION_PRICES else None,
        "prices_unverified": sorted(UNVERIFIED_PRICES),
        "quotas": [{**asdict(q), "over": q.over} for q in result.quotas],
    }
