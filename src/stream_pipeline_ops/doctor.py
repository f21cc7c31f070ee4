"""``stream-pipeline doctor``: the workshop's troubleshooting table and debugging checklist, walked
by a program against the live stack.

It reads the event source mapping, the function, the stream, the sink, the failure path, the
alarms and their topic, and prints findings, most severe first, each with the evidence (the
numbers it read) and the fix. What it cannot read (a missing permission, a deleted resource)
is a finding too, never a stack trace. Only the function's name is needed; everything else is
discovered from it. The metrics it weighs come from one GetMetricData call (each check asks for
its own metric only when that call is refused). Exit status: 0 healthy, 1 warnings, 2 something
critical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline_ops.stack import kinesis_stream_name

if TYPE_CHECKING:
    from collections.abc import Callable

KINESIS_RECORDS_PER_SHARD_S: Final = 1000
KINESIS_BYTES_PER_SHARD_S: Final = 1024 * 1024
ON_DEMAND_FIRST_SHARDS: Final = 4
BUSY_SHARE: Final = 0.8
LAG_WARNING_MS: Final = 30_000
DENIED: Final = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError")
MISSING: Final = (
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NotFound",
    "NotFoundException",
)
ACTIVE_MAPPING: Final = ("Enabled", "Enabling", "Updating", "Creating")


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    CRITICAL = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    severity: Severity
    area: str
    title: str
    evidence: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "severity": str(self.severity)}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def add(self, severity: Severity, area: str, title: str, evidence: str, fix: str) -> None:
        self.findings.append(Finding(severity, area, title, evidence, fix))

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (-f.severity, f.area, f.title))

    @property
    def exit_code(self) -> int:
        return max((int(f.severity) for f in self.findings), default=0)


MetricKey = tuple[str, str, tuple[tuple[str, str], ...], str]
"""(namespace, metric name, dimensions as sorted pairs, statistic)."""


def metric_key(namespace: str, name: str, dimensions: dict[str, str], statistic: str) -> MetricKey:
    return namespace, name, tuple(sorted(dimensions.items())), statistic


class Reader:
    """AWS calls whose failures become findings: what could not be read, and why."""

    def __init__(self, client: Callable[[str], Any], report: Report, minutes: int) -> None:
        self.client = client
        self.report = report
        self.minutes = minutes
        self.prefetched: dict[MetricKey, list[float]] = {}

    def call(self, area: str, what: str, permission: str, service: str, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client(service), operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            message = exc.response.get("Error", {}).get("Message", "")[:160]
            if code in DENIED or "AccessDenied" in code:
                self.report.add(
                    Severity.WARNING,
                    area,
                    f"could not read {what}",
                    f"{code}: {message}",
                    f"grant {permission} to the identity running the doctor (the finding is unchecked until then)",
                )
            elif code in MISSING:
                self.report.add(
                    Severity.CRITICAL,
                    area,
                    f"{what} does not exist",
                    f"{code}: {message}",
                    "re-apply the Terraform module; something deleted it outside Terraform",
                )
            else:
                self.report.add(
                    Severity.WARNING,
                    area,
                    f"could not read {what}",
                    f"{code}: {message}",
                    "retry; if it persists, check the service's health in the region",
                )
        except BotoCoreError as exc:
            self.report.add(
                Severity.CRITICAL,
                area,
                f"could not reach AWS to read {what}",
                str(exc)[:200],
                "check AWS_REGION, AWS_ENDPOINT_URL and the credentials (AWS_PROFILE)",
            )
        return None

    def prefetch(self, wanted: list[MetricKey]) -> None:
        """Every metric the checks will read, in one GetMetricData (paged), instead of a call each."""
        end = datetime.now(tz=UTC)
        queries: list[dict[str, Any]] = [
            {
                "Id": f"m{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
                    },
                    "Period": 60,
                    "Stat": statistic,
                },
                "ReturnData": True,
            }
            for index, (namespace, name, dimensions, statistic) in enumerate(wanted)
        ]
        values: dict[str, list[float]] = {query["Id"]: [] for query in queries}
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": end - timedelta(minutes=self.minutes),
            "EndTime": end,
        }
        while True:
            page = self.call(
                "metrics", "the stack's metrics", "cloudwatch:GetMetricData", "cloudwatch", "get_metric_data", **kwargs
            )
            if page is None:
                return  # the finding says why; each check then asks for its metric on its own
            for result in page.get("MetricDataResults", []):
                values[result["Id"]].extend(float(v) for v in result.get("Values", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        self.prefetched = {key: values[f"m{index}"] for index, key in enumerate(wanted)}

    def metric(self, namespace: str, name: str, dimensions: dict[str, str], statistic: str) -> list[float]:
        """Per-minute datapoints of the last ``minutes`` (empty when nothing was published)."""
        key = metric_key(namespace, name, dimensions, statistic)
        if key in self.prefetched:
            return self.prefetched[key]
        end = datetime.now(tz=UTC)
        found = self.call(
            "metrics",
            f"{namespace} {name}",
            "cloudwatch:GetMetricStatistics",
            "cloudwatch",
            "get_metric_statistics",
            Namespace=namespace,
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
            StartTime=end - timedelta(minutes=self.minutes),
            EndTime=end,
            Period=60,
            Statistics=[statistic],
        )
        return [float(p[statistic]) for p in (found or {}).get("Datapoints", [])]


@dataclass
class Context:
    """What the checks learn about the stack as they go."""

    function: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)
    retention_s: int | None = None
    shards: int | None = None
    on_demand: bool = False
    reserved: int | None = None


def diagnose(
    client: Callable[[str], Any], function_name: str, topic_arn: str | None = None, minutes: int = 60
) -> Report:
    report = Report()
    read = Reader(client, report, minutes)
    ctx = Context()
    check_function(read, ctx, function_name)
    if not ctx.function:
        return report
    check_mapping(read, ctx)
    read.prefetch(planned_metrics(ctx))
    check_stream(read, ctx)
    check_concurrency(read, ctx)
    check_function_metrics(read, ctx)
    check_sink(read, ctx)
    check_failure_path(read, ctx)
    check_alarms(read, ctx, topic_arn)
    check_logs(read, ctx)
    return report


def sink_table(ctx: Context) -> str | None:
    return ctx.function.get("Environment", {}).get("Variables", {}).get("SINK_TABLE_NAME") or None


def failure_queue(ctx: Context) -> str | None:
    destination = ctx.mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "")
    return destination.rsplit(":", 1)[-1] if ":sqs:" in destination else None


def planned_metrics(ctx: Context) -> list[MetricKey]:
    """The metrics the checks below read, so that one GetMetricData fetches them all."""
    function = {"FunctionName": ctx.function["FunctionName"]}
    wanted = [
        metric_key("AWS/Lambda", name, function, statistic)
        for name, statistic in (
            ("IteratorAge", "Maximum"),
            ("Errors", "Sum"),
            ("Throttles", "Sum"),
            ("Duration", "Maximum"),
        )
    ]
    source = ctx.mapping.get("EventSourceArn", "")
    if ":kinesis:" in source:
        stream = {"StreamName": kinesis_stream_name(source)}
        kinesis = ("IncomingRecords", "IncomingBytes", "WriteProvisionedThroughputExceeded")
        wanted.extend(metric_key("AWS/Kinesis", name, stream, "Sum") for name in kinesis)
    if table := sink_table(ctx):
        dynamodb = ("WriteThrottleEvents", "ConsumedWriteCapacityUnits")
        wanted.extend(metric_key("AWS/DynamoDB", name, {"TableName": table}, "Sum") for name in dynamodb)
    if queue := failure_queue(ctx):
        wanted.append(metric_key("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue}, "Maximum"))
    return wanted


def warn_on_any(
    read: Reader, area: str, namespace: str, name: str, dimensions: dict[str, str], *, title: str, fix: str
) -> None:
    """A warning when a count metric (errors, throttles) summed over the window is above zero."""
    total = sum(read.metric(namespace, name, dimensions, "Sum"))
    if total > 0:
        read.report.add(Severity.WARNING, area, title, f"{name}={total:,.0f} in the last {read.minutes} min", fix)


def check_function(read: Reader, ctx: Context, name: str) -> None:
    area = "function"
    found = read.call(
        area,
        f"function {name}",
        "lambda:GetFunctionConfiguration",
        "lambda",
        "get_function_configuration",
        FunctionName=name,
    )
    if found is None:
        return
    ctx.function = found
    read.report.checked.append(area)
    if found.get("State", "Active") != "Active":
        read.report.add(
            Severity.CRITICAL,
            area,
            f"the function is {found.get('State')}",
            f"State={found.get('State')}, StateReason={found.get('StateReason', '-')}",
            "read StateReason; re-apply the module to redeploy the function",
        )
    if found.get("LastUpdateStatus") == "Failed":
        read.report.add(
            Severity.CRITICAL,
            area,
            "the last deployment of the function failed",
            f"LastUpdateStatus=Failed, reason {found.get('LastUpdateStatusReason', '-')}",
            "fix the reason and re-apply; the function runs its previous code until then",
        )


def check_mapping(read: Reader, ctx: Context) -> None:
    area = "event source mapping"
    name = ctx.function["FunctionName"]
    found = read.call(
        area,
        "the event source mappings",
        "lambda:ListEventSourceMappings",
        "lambda",
        "list_event_source_mappings",
        FunctionName=name,
    )
    if found is None:
        return
    mappings = [m for m in found.get("EventSourceMappings", []) if ":sqs:" not in m.get("EventSourceArn", "")]
    if not mappings:
        read.report.add(
            Severity.CRITICAL,
            area,
            "the function has no stream event source mapping",
            f"ListEventSourceMappings(FunctionName={name}) returned none",
            "re-apply the module: the trigger is missing",
        )
        return
    mapping = ctx.mapping = mappings[0]
    read.report.checked.append(area)
    state, uuid = mapping.get("State", "?"), mapping.get("UUID", "?")
    if state not in ACTIVE_MAPPING:
        read.report.add(
            Severity.CRITICAL,
            area,
            f"the event source mapping is {state}: nothing is being processed",
            f"State={state}, StateTransitionReason={mapping.get('StateTransitionReason', '-')}",
            f"aws lambda update-event-source-mapping --uuid {uuid} --enabled"
            " (or set event_source_mapping.enabled and re-apply)",
        )
    result = str(mapping.get("LastProcessingResult", ""))
    if result.startswith("PROBLEM"):
        read.report.add(
            Severity.WARNING,
            area,
            "the mapping's last processing had a problem",
            f"LastProcessingResult={result}",
            "read the function's errors and the mapping's state transition reason",
        )
    if "ReportBatchItemFailures" not in mapping.get("FunctionResponseTypes", []):
        read.report.add(
            Severity.CRITICAL,
            area,
            "partial batch responses are off: the handler's failure reports are ignored",
            f"FunctionResponseTypes={mapping.get('FunctionResponseTypes', [])}",
            "turn on ReportBatchItemFailures (the module always sets it; re-apply)",
        )
    if mapping.get("MaximumRetryAttempts", -1) == -1:
        read.report.add(
            Severity.WARNING,
            area,
            "a poison record is retried until it expires, blocking its shard",
            "MaximumRetryAttempts=-1 (infinite)",
            "set event_source_mapping.maximum_retry_attempts (the module's default is 3)",
        )
    if not mapping.get("BisectBatchOnFunctionError", False):
        read.report.add(
            Severity.INFO,
            area,
            "bisect on error is off",
            "BisectBatchOnFunctionError=false",
            "turn it on so that a failing batch is split to isolate the bad record",
        )
    if not mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"):
        read.report.add(
            Severity.CRITICAL,
            area,
            "no on-failure destination: records given up are lost without a trace",
            "DestinationConfig.OnFailure is empty",
            "attach an on-failure destination (the module always does; re-apply)",
        )


def check_stream(read: Reader, ctx: Context) -> None:
    source = ctx.mapping.get("EventSourceArn", "")
    if ":kinesis:" in source:
        area = "stream"
        stream = kinesis_stream_name(source)
        found = read.call(
            area,
            f"stream {stream}",
            "kinesis:DescribeStreamSummary",
            "kinesis",
            "describe_stream_summary",
            StreamName=stream,
        )
        if found is None:
            return
        summary = found["StreamDescriptionSummary"]
        read.report.checked.append(area)
        ctx.retention_s = int(summary.get("RetentionPeriodHours", 24)) * 3600
        ctx.on_demand = summary.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND"
        ctx.shards = int(summary.get("OpenShardCount", 0)) or None
        if summary.get("StreamStatus") != "ACTIVE":
            read.report.add(
                Severity.CRITICAL,
                area,
                f"the stream is {summary.get('StreamStatus')}",
                f"StreamStatus={summary.get('StreamStatus')}",
                "wait for ACTIVE; if it stays, check the stream",
            )
        check_stream_capacity(read, ctx, stream)
    elif ":dynamodb:" in source:
        area = "stream"
        found = read.call(
            area,
            "the table's stream",
            "dynamodb:DescribeStream",
            "dynamodbstreams",
            "describe_stream",
            StreamArn=source,
        )
        ctx.retention_s = 24 * 3600  # DynamoDB Streams keep records 24 hours
        if found is None:
            return
        read.report.checked.append(area)
        status = found["StreamDescription"].get("StreamStatus")
        if status != "ENABLED":
            read.report.add(
                Severity.CRITICAL,
                area,
                f"the table's stream is {status}",
                f"StreamStatus={status}",
                "enable the stream on the table (the module's source table has it on; re-apply)",
            )
    check_lag(read, ctx)


def check_stream_capacity(read: Reader, ctx: Context, stream: str) -> None:
    if ctx.on_demand or not ctx.shards:
        return
    for metric, limit, unit in (
        ("IncomingRecords", KINESIS_RECORDS_PER_SHARD_S, "records/s"),
        ("IncomingBytes", KINESIS_BYTES_PER_SHARD_S, "bytes/s"),
    ):
        per_minute = read.metric("AWS/Kinesis", metric, {"StreamName": stream}, "Sum")
        peak = max(per_minute, default=0.0) / 60
        capacity = ctx.shards * limit
        if peak > BUSY_SHARE * capacity:
            read.report.add(
                Severity.WARNING,
                "stream",
                f"the stream runs at {peak / capacity:.0%} of its {metric} limit",
                f"peak {peak:,.0f} {unit} over the last {read.minutes} min; "
                f"{ctx.shards} shard(s) x {limit:,} = {capacity:,} {unit}",
                "add shards (kinesis.shard_count) or switch to on-demand; producers are throttled at 100%",
            )
    warn_on_any(
        read,
        "stream",
        "AWS/Kinesis",
        "WriteProvisionedThroughputExceeded",
        {"StreamName": stream},
        title="producers were throttled",
        fix="add shards; producers must retry the entries PutRecords reports as failed",
    )


def record_age_s(ctx: Context) -> int | None:
    age = ctx.mapping.get("MaximumRecordAgeInSeconds", -1)
    return None if age in (-1, None) else int(age)


def check_lag(read: Reader, ctx: Context) -> None:
    age, retention = record_age_s(ctx), ctx.retention_s
    if retention is not None and age is not None and age >= retention:
        read.report.add(
            Severity.CRITICAL,
            "event source mapping",
            "records expire before Lambda gives them up: lost without a trace",
            f"MaximumRecordAgeInSeconds={age} >= retention {retention} s",
            "set the maximum record age below the retention",
        )
    lag = max(
        read.metric("AWS/Lambda", "IteratorAge", {"FunctionName": ctx.function["FunctionName"]}, "Maximum"), default=0.0
    )
    limit_s = age if age is not None else retention
    if limit_s and lag >= 0.5 * limit_s * 1000:
        read.report.add(
            Severity.CRITICAL,
            "stream",
            "records are at risk: the consumer is far behind",
            f"IteratorAge max {lag / 1000:,.0f} s over the last {read.minutes} min; "
            f"records are given up at {limit_s:,} s",
            "fix the consumer's errors and throttles now; raise parallelization, shards, or the maximum record age",
        )
    elif lag > LAG_WARNING_MS:
        read.report.add(
            Severity.WARNING,
            "stream",
            "the consumer is falling behind",
            f"IteratorAge max {lag / 1000:,.1f} s over the last {read.minutes} min",
            "raise the parallelization factor or the shard count; check errors and throttles",
        )


def check_concurrency(read: Reader, ctx: Context) -> None:
    name = ctx.function["FunctionName"]
    found = read.call(
        "function",
        "the reserved concurrency",
        "lambda:GetFunctionConcurrency",
        "lambda",
        "get_function_concurrency",
        FunctionName=name,
    )
    reserved = (found or {}).get("ReservedConcurrentExecutions")
    ctx.reserved = reserved
    pf = int(ctx.mapping.get("ParallelizationFactor", 1) or 1)
    shards = ON_DEMAND_FIRST_SHARDS if ctx.on_demand else ctx.shards
    if reserved is not None and shards:
        needed = shards * pf
        if reserved < needed:
            read.report.add(
                Severity.CRITICAL,
                "function",
                "reserved concurrency is below what the stream needs: it throttles itself",
                f"ReservedConcurrentExecutions={reserved} < {shards} shard(s) x parallelization factor {pf} = {needed}",
                f"aws lambda put-function-concurrency --function-name {name} --reserved-concurrent-executions {needed}"
                " (or set function.reserved_concurrency and re-apply)",
            )


def check_function_metrics(read: Reader, ctx: Context) -> None:
    fn = {"FunctionName": ctx.function["FunctionName"]}
    warn_on_any(
        read,
        "function",
        "AWS/Lambda",
        "Errors",
        fn,
        title="the function failed invocations",
        fix="read the log group for the error; a timeout wants smaller batches or more memory",
    )
    warn_on_any(
        read,
        "function",
        "AWS/Lambda",
        "Throttles",
        fn,
        title="the function was throttled",
        fix="raise reserved concurrency or the account limit",
    )
    timeout_ms = float(ctx.function.get("Timeout", 3)) * 1000
    slowest = max(read.metric("AWS/Lambda", "Duration", fn, "Maximum"), default=0.0)
    if slowest >= BUSY_SHARE * timeout_ms:
        read.report.add(
            Severity.WARNING,
            "function",
            "invocations come close to the timeout",
            f"Duration max {slowest:,.0f} ms vs timeout {timeout_ms:,.0f} ms",
            "smaller batches, more memory, or look for a throttled sink",
        )


def check_sink(read: Reader, ctx: Context) -> None:
    table = sink_table(ctx)
    if not table:
        return
    found = read.call(
        "sink", f"sink table {table}", "dynamodb:DescribeTable", "dynamodb", "describe_table", TableName=table
    )
    if found is None:
        return
    read.report.checked.append("sink")
    warn_on_any(
        read,
        "sink",
        "AWS/DynamoDB",
        "WriteThrottleEvents",
        {"TableName": table},
        title="the sink throttled writes",
        fix="raise its write capacity or switch it to on-demand",
    )
    provisioned = found["Table"].get("ProvisionedThroughput", {}).get("WriteCapacityUnits", 0)
    if found["Table"].get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST" and provisioned:
        consumed = (
            max(read.metric("AWS/DynamoDB", "ConsumedWriteCapacityUnits", {"TableName": table}, "Sum"), default=0.0)
            / 60
        )
        if consumed > BUSY_SHARE * provisioned:
            read.report.add(
                Severity.WARNING,
                "sink",
                "the sink uses most of its write capacity",
                f"consumed {consumed:,.1f} WCU/s at peak vs {provisioned} provisioned",
                "raise write_capacity or switch to on-demand",
            )


def check_archive(read: Reader, bucket: str) -> None:
    area = "failure path"
    found = read.call(
        area,
        f"the failure archive {bucket}",
        "s3:ListBucket",
        "s3",
        "list_objects_v2",
        Bucket=bucket,
        Prefix="aws/lambda/",
    )
    if found is None:
        return
    read.report.checked.append(area)
    archived = int(found.get("KeyCount", len(found.get("Contents", []))))
    if archived:
        read.report.add(
            Severity.WARNING,
            area,
            f"{archived} failed batch(es) wait in the failure archive",
            f"s3://{bucket}/aws/lambda/: {archived} object(s), each with its records",
            "read why in the log group, fix the cause, then: stream-pipeline redrive (a dry run), then --apply",
        )


def check_failure_path(read: Reader, ctx: Context) -> None:
    destination = ctx.mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "")
    if ":s3:" in destination:
        check_archive(read, destination.rsplit(":", 1)[-1])
        return
    queue_name = failure_queue(ctx)
    if queue_name is None:
        return
    area = "failure path"
    url = read.call(area, f"queue {queue_name}", "sqs:GetQueueUrl", "sqs", "get_queue_url", QueueName=queue_name)
    if url is None:
        return
    attributes = read.call(
        area,
        f"queue {queue_name}",
        "sqs:GetQueueAttributes",
        "sqs",
        "get_queue_attributes",
        QueueUrl=url["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    if attributes is None:
        return
    read.report.checked.append(area)
    values = attributes.get("Attributes", {})
    waiting = int(values.get("ApproximateNumberOfMessages", 0)) + int(
        values.get("ApproximateNumberOfMessagesNotVisible", 0)
    )
    if waiting == 0:
        return
    age, retention = record_age_s(ctx), ctx.retention_s
    window = (retention - age) if retention is not None and age is not None else None
    oldest = max(
        read.metric("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue_name}, "Maximum"), default=0.0
    )
    at_risk = window is not None and oldest >= 0.5 * window
    read.report.add(
        Severity.CRITICAL if at_risk else Severity.WARNING,
        area,
        f"{waiting} failed batch(es) wait in the on-failure queue"
        + (": the replay window is closing" if at_risk else ""),
        f"{queue_name}: {waiting} message(s), oldest {oldest:,.0f} s"
        + (f"; records are sure to stay in the stream {window:,} s after they fail" if window is not None else ""),
        "read why in the log group, fix the cause, then: stream-pipeline redrive (a dry run), then --apply",
    )


def check_alarms(read: Reader, ctx: Context, topic_arn: str | None) -> None:
    area = "alarms"
    name = ctx.function["FunctionName"]
    found = read.call(
        area,
        "the alarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch",
        "describe_alarms",
        AlarmNamePrefix=f"{name}-",
        AlarmTypes=["MetricAlarm", "CompositeAlarm"],
    )
    if found is None:
        return
    read.report.checked.append(area)
    composites = found.get("CompositeAlarms", [])
    firing = [a["AlarmName"] for a in found.get("MetricAlarms", []) if a.get("StateValue") == "ALARM"]
    critical = any(c["AlarmName"] == f"{name}-critical" and c.get("StateValue") == "ALARM" for c in composites)
    if firing:
        read.report.add(
            Severity.CRITICAL if critical else Severity.WARNING,
            area,
            f"{len(firing)} alarm(s) in ALARM",
            ", ".join(sorted(firing)),
            "each alarm's description says what it means and what to do",
        )
    if topic_arn is None:
        actions = [arn for c in composites for arn in c.get("AlarmActions", [])]
        actions += [arn for a in found.get("MetricAlarms", []) for arn in a.get("AlarmActions", [])]
        topic_arn = next((arn for arn in actions if ":sns:" in arn), None)
    if topic_arn is None:
        if found.get("MetricAlarms"):
            read.report.add(
                Severity.WARNING,
                area,
                "no alarm notifies anyone",
                "no SNS topic in the alarms' actions",
                "set alarms.email_addresses or alarms.sns_topic_arn and re-apply",
            )
        return
    subscriptions = read.call(
        area,
        "the topic's subscriptions",
        "sns:ListSubscriptionsByTopic",
        "sns",
        "list_subscriptions_by_topic",
        TopicArn=topic_arn,
    )
    if subscriptions is None:
        return
    listed = subscriptions.get("Subscriptions", [])
    confirmed = [s for s in listed if s.get("SubscriptionArn", "").startswith("arn:")]
    if not confirmed:
        pending = len(listed) - len(confirmed)
        read.report.add(
            Severity.WARNING,
            area,
            'nobody receives the alarms (the workshop\'s "missing alerts")',
            f"{topic_arn}: {len(listed)} subscription(s), {pending} pending confirmation, 0 confirmed",
            "confirm the email sent to each address in alarms.email_addresses, or subscribe your pager to the topic",
        )


def check_logs(read: Reader, ctx: Context) -> None:
    group = ctx.function.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{ctx.function['FunctionName']}"
    found = read.call(
        "logs", f"log group {group}", "logs:DescribeLogGroups", "logs", "describe_log_groups", logGroupNamePrefix=group
    )
    if found is None:
        return
    groups = [g for g in found.get("logGroups", []) if g.get("logGroupName") == group]
    if not groups:
        read.report.add(
            Severity.WARNING,
            "logs",
            "the function has no log group yet",
            group,
            "re-apply the module, which creates it with a retention",
        )
    elif not groups[0].get("retentionInDays"):
        read.report.add(
            Severity.WARNING,
            "logs",
            "the log group keeps logs forever (and bills for them)",
            f"{group}: no retention",
            "set function.log_retention_days and re-apply",
        )
