"""The stream: its status, its write capacity against the per-shard limits, and the consumer's
lag against the maximum record age.

A Kinesis shard takes 1,000 records and 1 MiB per second. When the record limit binds and the
byte limit does not (many small records, the blog's race), there are two remedies: aggregate on
the producer (KPL aggregation packs many user records into one Kinesis record, so the bytes
decide the shards) or reshard. When the bytes bind, only resharding helps.
"""

from __future__ import annotations

import math
from typing import Final

from stream_pipeline_ops.doctor.context import BUSY_SHARE, Context
from stream_pipeline_ops.doctor.reader import MetricKey, Reader, Refusal, metric_key, warn_on_any
from stream_pipeline_ops.doctor.report import Severity
from stream_pipeline_ops.load import is_local
from stream_pipeline_ops.stack import kinesis_stream_name, parse_arn, stream_of

AREA: Final = "stream"
KINESIS_RECORDS_PER_SHARD_S: Final = 1000
KINESIS_BYTES_PER_SHARD_S: Final = 1024 * 1024
LAG_WARNING_MS: Final = 30_000
# Seed 002: shared-throughput consumers take each shard's reads in turn, ~200 ms each ("a stream
# with five consumers averages 200 ms of latency each, meaning it takes up to 1 second for all five
# to receive batches"); a shard serves 5 GetRecords calls a second, and Lambda polls it once a second
# per mapping. From 3 the last reader waits more than half of Lambda's one-second poll.
SHARED_READER_MS: Final = 200
SHARED_READERS_WARN: Final = 3
READS_PER_SHARD_S: Final = 5
POLLING_STATES: Final = frozenset({"Creating", "Enabling", "Enabled", "Updating"})
DYNAMODB_STREAM_RETENTION_S: Final = 24 * 3600  # DynamoDB Streams keep records 24 hours


def handler_latency(ctx: Context) -> tuple[str, dict[str, str]]:
    """The namespace and dimensions of the handler's ProcessingLatency (its EMF metric, arrival to
    processed), as stream_pipeline.config reads the function's environment and the handler sets them."""
    env = ctx.environment
    namespace = env.get("METRICS_NAMESPACE") or env.get("POWERTOOLS_METRICS_NAMESPACE") or "StreamPipeline"
    source = "dynamodb" if ":dynamodb:" in ctx.mapping.get("EventSourceArn", "") else "kinesis"
    return namespace, {"SourceType": source, "service": env.get("POWERTOOLS_SERVICE_NAME") or "stream-pipeline"}


def planned(ctx: Context) -> list[MetricKey]:
    namespace, dimensions = handler_latency(ctx)
    wanted = [
        metric_key("AWS/Lambda", "IteratorAge", {"FunctionName": ctx.function_name}, "Maximum"),
        metric_key(namespace, "ProcessingLatency", dimensions, "Maximum"),
    ]
    source = ctx.mapping.get("EventSourceArn", "")
    if ":kinesis:" in source:
        stream = {"StreamName": kinesis_stream_name(source)}
        kinesis = ("IncomingRecords", "IncomingBytes", "WriteProvisionedThroughputExceeded")
        wanted.extend(metric_key("AWS/Kinesis", name, stream, "Sum") for name in kinesis)
    return wanted


def check_stream(read: Reader, ctx: Context) -> None:
    source = ctx.mapping.get("EventSourceArn", "")
    if ":kinesis:" in source:
        stream, stream_arn = kinesis_stream_name(source), stream_of(source)
        found, refusal = read.attempt(
            AREA, f"stream {stream}", "kinesis", "describe_stream_summary", StreamARN=stream_arn
        )  # by ARN: a stream the module consumes may be another account's
        if refusal is not None:
            source_refused(
                read,
                ctx,
                stream_arn,
                what=f"stream {stream}",
                permission="kinesis:DescribeStreamSummary",
                refusal=refusal,
            )
        if found is None:
            return
        summary = found["StreamDescriptionSummary"]
        read.report.checked.append(AREA)
        ctx.retention_s = int(summary.get("RetentionPeriodHours", 24)) * 3600
        ctx.on_demand = summary.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND"
        ctx.shards = int(summary.get("OpenShardCount", 0)) or None
        if summary.get("EncryptionType") == "KMS":
            ctx.stream_key = summary.get("KeyId")
        if summary.get("StreamStatus") != "ACTIVE":
            read.report.add(
                Severity.CRITICAL,
                AREA,
                f"the stream is {summary.get('StreamStatus')}",
                f"StreamStatus={summary.get('StreamStatus')}",
                "wait for ACTIVE; if it stays, check the stream",
            )
        check_capacity(read, ctx, stream)
        check_readers(read, stream_arn)
    elif ":dynamodb:" in source:
        found, refusal = read.attempt(
            AREA, "the table's stream", "dynamodbstreams", "describe_stream", StreamArn=source
        )
        ctx.retention_s = DYNAMODB_STREAM_RETENTION_S
        if refusal is not None:
            source_refused(
                read, ctx, source, what="the table's stream", permission="dynamodb:DescribeStream", refusal=refusal
            )
        if found is None:
            return
        read.report.checked.append(AREA)
        status = found["StreamDescription"].get("StreamStatus")
        if status != "ENABLED":
            read.report.add(
                Severity.CRITICAL,
                AREA,
                f"the table's stream is {status}",
                f"StreamStatus={status}",
                "enable the stream on the table (the module's source table has it on; re-apply)",
            )
    check_lag(read, ctx)


def account_of(arn: str) -> str | None:
    """The 12-digit account an ARN names, if any."""
    match = parse_arn(arn)
    return match.group(4) if match else None


def source_refused(read: Reader, ctx: Context, arn: str, *, what: str, permission: str, refusal: Refusal) -> None:
    """A stream the doctor may not read or cannot find. For another account's stream (the module
    consumes it through kinesis.existing_stream_arn and a resource policy its owner applies), "no
    access" and "not there" have different fixes, and neither is this account's to make."""
    owner, mine = account_of(arn), account_of(str(ctx.function.get("FunctionArn", "")))
    evidence = f"{permission}: {refusal.code}: {refusal.message}"
    if owner is None or mine is None or owner == mine:
        if refusal.missing:
            read.report.add(
                Severity.CRITICAL,
                AREA,
                f"{what} does not exist",
                evidence,
                "the consumer reads nothing. Re-apply the Terraform module if it owns the stream (something deleted "
                "it outside Terraform); a stream given as kinesis.existing_stream_arn is its owner's to recreate, "
                "or point that input at the stream that is there and re-apply",
            )
        else:
            read.refused(AREA, what, permission, refusal)
        return
    evidence += f"; the stream is in account {owner}, the function in {mine}"
    if refusal.denied:
        read.report.add(
            Severity.WARNING,
            AREA,
            f"no access to {what} in account {owner}",
            evidence,
            f"the stream's owner (account {owner}) must let this account read it: they apply this stack's "
            "`kinesis_resource_policy_json` output to the stream (aws_kinesis_resource_policy, or aws kinesis "
            f"put-resource-policy --resource-arn {arn} --policy file://policy.json). It names each consumer's role "
            "and the operator_role_arns: add the role running the doctor to operator_role_arns and re-apply if it "
            "is not there. Until the policy is applied the consumer's mapping cannot read the stream either "
            "(see the event source mapping's LastProcessingResult)",
        )
    elif refusal.missing:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            f"{what} is not there in account {owner}",
            evidence,
            f"the consumer reads nothing: ask the owner of account {owner} whether the stream was deleted or "
            "renamed (a stream in another region is not found either: the stream and the function must share a "
            "region), then set kinesis.existing_stream_arn to the stream that is there and re-apply",
        )
    else:
        read.refused(AREA, what, permission, refusal)


def check_capacity(read: Reader, ctx: Context, stream: str) -> None:
    """Records and bytes per second at their peak minute against the provisioned shards (an
    on-demand stream adds shards by itself)."""
    if ctx.on_demand or not ctx.shards:
        return
    shards, dimensions = ctx.shards, {"StreamName": stream}
    records = max(read.metric("AWS/Kinesis", "IncomingRecords", dimensions, "Sum"), default=0.0) / 60
    size = max(read.metric("AWS/Kinesis", "IncomingBytes", dimensions, "Sum"), default=0.0) / 60
    record_share = records / (shards * KINESIS_RECORDS_PER_SHARD_S)
    byte_share = size / (shards * KINESIS_BYTES_PER_SHARD_S)
    records_bind, bytes_bind = record_share > BUSY_SHARE, byte_share > BUSY_SHARE
    for_records = max(1, math.ceil(records / (BUSY_SHARE * KINESIS_RECORDS_PER_SHARD_S)))
    for_bytes = max(1, math.ceil(size / (BUSY_SHARE * KINESIS_BYTES_PER_SHARD_S)))
    evidence = (
        f"peak {records:,.0f} records/s and {size:,.0f} bytes/s over the last {read.minutes} min: "
        f"{record_share:.0%} of {shards} shard(s) x 1,000 records/s, {byte_share:.0%} of {shards} shard(s) x 1 MiB/s"
    )
    if records_bind and not bytes_bind:
        read.report.add(
            Severity.WARNING,
            AREA,
            f"the stream runs at {record_share:.0%} of its IncomingRecords limit",
            evidence,
            "producers are throttled at 100%. Either aggregate on the producer (KPL aggregation; the consumer "
            "deaggregates): Kinesis records per second fall to about the bytes per second / 1 MiB per shard, so "
            f"{for_bytes} shard(s) carry the bytes at 80% (the stream has {shards}), and the latency grows by the "
            f"producer's buffering time (KPL RecordMaxBufferedTime); or reshard to {for_records} shard(s), the "
            f"records at 80% (kinesis.shard_count = {for_records} and re-apply, or switch to on-demand)",
        )
    elif bytes_bind:
        needed = max(for_records, for_bytes)
        both = f" and {record_share:.0%} of its IncomingRecords limit" if records_bind else ""
        read.report.add(
            Severity.WARNING,
            AREA,
            f"the stream runs at {byte_share:.0%} of its IncomingBytes limit{both}",
            evidence,
            f"producers are throttled at 100%. Reshard to {needed} shard(s), the bytes"
            f"{' and the records' if records_bind else ''} at 80% (kinesis.shard_count = {needed} and re-apply, "
            "or switch to on-demand); aggregating records does not lower the bytes",
        )
    warn_on_any(
        read,
        AREA,
        "AWS/Kinesis",
        "WriteProvisionedThroughputExceeded",
        dimensions,
        title="producers were throttled",
        fix="add shards; producers must retry the entries PutRecords reports as failed",
    )


def check_readers(read: Reader, stream_arn: str) -> None:
    """The stream's read budget: the event source mappings that poll it directly share each shard's
    5 GetRecords calls a second; registered (enhanced fan-out) consumers have their own. Readers
    that are not Lambda mappings (KCL applications, Firehose) share it too and cannot be seen here."""
    found = read.call(
        AREA,
        "the stream's event source mappings",
        "lambda:ListEventSourceMappings",
        "lambda",
        "list_event_source_mappings",
        EventSourceArn=stream_arn,
    )
    registered = read.call(
        AREA,
        "the stream's registered consumers",
        "kinesis:ListStreamConsumers",
        "kinesis",
        "list_stream_consumers",
        StreamARN=stream_arn,
    )
    if found is None:
        return
    shared = sorted(
        m.get("FunctionArn", "?").rsplit(":", 1)[-1]
        for m in found.get("EventSourceMappings", [])
        if m.get("State") in POLLING_STATES
    )
    efo = len((registered or {}).get("Consumers", []))
    evidence = (
        f"{len(shared)} event source mapping(s) poll the stream directly ({', '.join(shared)}); "
        f"{efo} registered enhanced fan-out consumer(s)"
    )
    fan_out = (
        "give the consumers that need low latency enhanced fan-out (consumers.<key>.enhanced_fan_out = true, "
        "or kinesis.enhanced_fan_out for the default one: ~70 ms and 2 MiB/s per shard of their own)"
    )
    if len(shared) > READS_PER_SHARD_S:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            f"{len(shared)} consumers share each shard's {READS_PER_SHARD_S} reads a second: they are throttled",
            evidence,
            f"{fan_out}, or remove readers; throttled reads show as ReadProvisionedThroughputExceeded",
        )
    elif len(shared) >= SHARED_READERS_WARN:
        read.report.add(
            Severity.WARNING,
            AREA,
            f"{len(shared)} consumers share the stream's reads: the last sees a record "
            f"~{len(shared) * SHARED_READER_MS} ms after it arrived",
            evidence,
            fan_out,
        )


def check_lag(read: Reader, ctx: Context) -> None:
    age, retention = ctx.record_age_s, ctx.retention_s
    if retention is not None and age is not None and age >= retention:
        read.report.add(
            Severity.CRITICAL,
            "event source mapping",
            "records expire before Lambda gives them up: lost without a trace",
            f"MaximumRecordAgeInSeconds={age} >= retention {retention} s",
            "set the maximum record age below the retention",
        )
    lag, measured = read_lag(read, ctx)
    limit_s = age if age is not None else retention
    if limit_s and lag >= 0.5 * limit_s * 1000:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            "records are at risk: the consumer is far behind",
            f"{measured} max {lag / 1000:,.0f} s over the last {read.minutes} min; "
            f"records are given up at {limit_s:,} s",
            "fix the consumer's errors and throttles now; raise parallelization, shards, or the maximum record age",
        )
    elif lag > LAG_WARNING_MS:
        emulator = getattr(getattr(read.client("lambda"), "meta", None), "endpoint_url", None)
        read.report.add(
            Severity.WARNING,
            AREA,
            "the consumer is falling behind",
            f"{measured} max {lag / 1000:,.1f} s over the last {read.minutes} min",
            "raise the parallelization factor or the shard count; check errors and throttles"
            + (
                f". On a local emulator ({emulator}) the lag is mostly the emulator's: LocalStack's poller reads one "
                "shard at a time and shares this machine's cores (docs/BENCHMARKS.md, P5); size for AWS with "
                "`stream-pipeline plan`, not from this figure"
                if isinstance(emulator, str) and is_local(emulator)
                else ""
            ),
        )


def read_lag(read: Reader, ctx: Context) -> tuple[float, str]:
    """The consumer's lag in ms over the window, and which metric said so. The mapping's IteratorAge
    when it publishes one; otherwise (LocalStack publishes none, nor does an idle mapping in AWS) the
    handler's ProcessingLatency, from a record's arrival in the stream to the end of its batch, which
    is the iterator age plus the batch's own time."""
    ages = read.metric("AWS/Lambda", "IteratorAge", {"FunctionName": ctx.function_name}, "Maximum")
    if ages:
        return max(ages), "IteratorAge"
    namespace, dimensions = handler_latency(ctx)
    latencies = read.metric(namespace, "ProcessingLatency", dimensions, "Maximum")
    where = ", ".join(f"{k}={v}" for k, v in dimensions.items())
    return max(latencies, default=0.0), f"ProcessingLatency ({namespace}, {where}; no IteratorAge published)"
