"""The event source mapping: its state, its error handling, and whether it still reads.

A mapping can be Enabled and read nothing: its role lost the stream (or its KMS key), the
enhanced fan-out consumer it reads through was deleted. Lambda then stops emitting
PolledEventCount, which it otherwise emits for every poll, 0 for an empty one; the iterator age
goes quiet too, so no lag alarm fires while the records age out of the stream unseen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from stream_pipeline_ops.doctor.reader import MetricKey, Reader, aware, metric_key
from stream_pipeline_ops.doctor.report import Severity
from stream_pipeline_ops.stack import own_mappings

if TYPE_CHECKING:
    from stream_pipeline_ops.doctor.context import Context

AREA: Final = "event source mapping"
ACTIVE_MAPPING: Final = ("Enabled", "Enabling", "Updating", "Creating")
STOPPED_MINUTES: Final = 5
"""How long without a PolledEventCount datapoint means "stopped". A working mapping polls every
shard at least once a second and Lambda publishes the count once a minute, so each minute has a
datapoint, 0 when the polls came back empty. Lambda's metrics reach CloudWatch a minute or two
late; five minutes leaves three complete periods that must all be missing, so a late delivery
does not read as a stop, while a stream's 24 h (or more) retention is hours away."""
KINESIS_READ: Final = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
CONSUMER_READ: Final = ("kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard")
AWS_MANAGED_KEY: Final = "alias/aws/"
"""An AWS managed key (alias/aws/kinesis) cannot be disabled, and its key policy lets any principal
of the account that may use the service decrypt through it: neither is a cause to look at."""
DYNAMODB_READ: Final = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


def planned(ctx: Context) -> list[MetricKey]:
    if not ctx.event_count_metrics or not ctx.mapping_uuid:
        return []
    return [metric_key("AWS/Lambda", "PolledEventCount", {"EventSourceMappingUUID": ctx.mapping_uuid}, "Sum")]


def check_mapping(read: Reader, ctx: Context) -> None:
    name = ctx.function_name
    found = read.call(
        AREA,
        "the event source mappings",
        "lambda:ListEventSourceMappings",
        "lambda",
        "list_event_source_mappings",
        FunctionName=name,
    )
    if found is None:
        return
    mappings = own_mappings(found.get("EventSourceMappings", []), name)
    if not mappings:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            "the function has no stream event source mapping",
            f"ListEventSourceMappings(FunctionName={name}) returned none",
            "re-apply the module: the trigger is missing",
        )
        return
    mapping = ctx.mapping = mappings[0]
    read.report.checked.append(AREA)
    state, uuid = mapping.get("State", "?"), mapping.get("UUID", "?")
    if state not in ACTIVE_MAPPING:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            f"the event source mapping is {state}: nothing is being processed",
            f"State={state}, StateTransitionReason={mapping.get('StateTransitionReason', '-')}",
            f"aws lambda update-event-source-mapping --uuid {uuid} --enabled"
            " (or set event_source_mapping.enabled and re-apply)",
        )
    result = str(mapping.get("LastProcessingResult", ""))
    if result.startswith("PROBLEM"):
        read.report.add(
            Severity.WARNING,
            AREA,
            "the mapping's last processing had a problem",
            f"LastProcessingResult={result}",
            "read the function's errors and the mapping's state transition reason",
        )
    if "ReportBatchItemFailures" not in mapping.get("FunctionResponseTypes", []):
        read.report.add(
            Severity.CRITICAL,
            AREA,
            "partial batch responses are off: the handler's failure reports are ignored",
            f"FunctionResponseTypes={mapping.get('FunctionResponseTypes', [])}",
            "turn on ReportBatchItemFailures (the module always sets it; re-apply)",
        )
    if mapping.get("MaximumRetryAttempts", -1) == -1:
        read.report.add(
            Severity.WARNING,
            AREA,
            "a poison record is retried until it expires, blocking its shard",
            "MaximumRetryAttempts=-1 (infinite)",
            "set event_source_mapping.maximum_retry_attempts (the module's default is 3)",
        )
    if not mapping.get("BisectBatchOnFunctionError", False):
        read.report.add(
            Severity.INFO,
            AREA,
            "bisect on error is off",
            "BisectBatchOnFunctionError=false",
            "turn it on so that a failing batch is split to isolate the bad record",
        )
    if not ctx.failure_destination:
        read.report.add(
            Severity.CRITICAL,
            AREA,
            "no on-failure destination: records given up are lost without a trace",
            "DestinationConfig.OnFailure is empty",
            "attach an on-failure destination (the module always does; re-apply)",
        )


def check_polling(read: Reader, ctx: Context) -> None:
    """An Enabled mapping with EventCount metrics and no PolledEventCount datapoint in the last
    :data:`STOPPED_MINUTES` minutes has stopped reading (AWS: "If your event source mapping is
    disabled, you won't receive event source mapping metrics"; an empty poll emits 0)."""
    mapping = ctx.mapping
    if mapping.get("State") != "Enabled":
        return
    uuid = ctx.mapping_uuid
    if not ctx.event_count_metrics:
        read.report.add(
            Severity.INFO,
            AREA,
            "a consumer that stops reading cannot be seen: the mapping publishes no EventCount metrics",
            f"MetricsConfig={mapping.get('MetricsConfig', {})}: no PolledEventCount",
            "set event_source_mapping.metrics = true and re-apply (or aws lambda update-event-source-mapping "
            f"--uuid {uuid} --metrics-config Metrics=EventCount); they are billed as custom metrics",
        )
        return
    since = read.now - timedelta(minutes=STOPPED_MINUTES)
    modified = mapping.get("LastModified")
    if read.minutes < STOPPED_MINUTES or (modified is not None and aware(modified) > since):
        return  # a window too short to tell, or pollers (re)started a moment ago
    points = read.series("AWS/Lambda", "PolledEventCount", {"EventSourceMappingUUID": uuid}, "Sum")
    if any(at >= since for at, _ in points):
        return
    last = max((at for at, _ in points), default=None)
    seen = f"the last at {last:%H:%M} UTC" if last else f"none in the last {read.minutes} min"
    causes, look = stopped_causes(read, ctx)
    read.report.add(
        Severity.CRITICAL,
        AREA,
        "the consumer has stopped reading: records will expire unseen at the end of the retention",
        f"PolledEventCount (EventSourceMappingUUID={uuid}): no datapoint since {since:%H:%M} UTC, {seen}; "
        f"State=Enabled, LastProcessingResult={mapping.get('LastProcessingResult', '-')}, "
        f"StateTransitionReason={mapping.get('StateTransitionReason', '-')}" + "".join(f"; {c}" for c in causes),
        "; ".join(look),
    )


def stopped_causes(read: Reader, ctx: Context) -> tuple[list[str], list[str]]:
    """What the doctor could check (evidence), and where to look for the rest (the fix)."""
    source = ctx.mapping.get("EventSourceArn", "")
    role = ctx.function.get("Role", "the function's role")
    causes: list[str] = []
    look: list[str] = []
    actions: tuple[str, ...] = DYNAMODB_READ if ":dynamodb:" in source else KINESIS_READ
    if ":kinesis:" in source and "/consumer/" in source:
        actions += CONSUMER_READ
        found = read.call(
            AREA,
            "the enhanced fan-out consumer",
            "kinesis:DescribeStreamConsumer",
            "kinesis",
            "describe_stream_consumer",
            absent=("ResourceNotFoundException",),
            ConsumerARN=source,
        )
        status = (found or {}).get("ConsumerDescription", {}).get("ConsumerStatus")
        if found == {}:
            causes.append(f"the enhanced fan-out consumer {source} no longer exists (DescribeStreamConsumer)")
            look.append("the consumer was deleted: re-apply the module, which recreates it and the mapping on it")
        elif status is not None:
            causes.append(f"ConsumerStatus={status}")
    if ctx.stream_key and not ctx.stream_key.startswith(AWS_MANAGED_KEY):
        found = read.call(
            AREA,
            "the stream's KMS key",
            "kms:DescribeKey",
            "kms",
            "describe_key",
            absent=("NotFoundException",),
            KeyId=ctx.stream_key,
        )
        state = (found or {}).get("KeyMetadata", {}).get("KeyState")
        if found == {}:
            causes.append(f"the stream's KMS key {ctx.stream_key} does not exist")
        elif state is not None:
            causes.append(f"the stream's KMS key {ctx.stream_key} is {state}")
            if state != "Enabled":
                look.append(f"enable the stream's KMS key (aws kms enable-key --key-id {ctx.stream_key})")
        look.append(f"the role {role} needs kms:Decrypt on the stream's key {ctx.stream_key} (the key policy too)")
    look.append(
        f"check that the role may read the stream (the doctor cannot simulate IAM): aws iam "
        f"simulate-principal-policy --policy-source-arn {role} --action-names {' '.join(actions)} "
        f"--resource-arns {source.split('/consumer/', 1)[0]}"
    )
    look.append(
        "if reading does not resume within minutes of the fix, restart the pollers: aws lambda "
        f"update-event-source-mapping --uuid {ctx.mapping_uuid} --no-enabled, then --enabled"
    )
    return causes, look
