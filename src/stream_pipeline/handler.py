"""Lambda entry point: ``stream_pipeline.handler.lambda_handler``.

Configuration, logger, metrics and pipeline are built once per execution
environment (cold start) and reused by every warm invocation. The handler returns
a partial batch response (``batchItemFailures``); the event source mapping must
have ``ReportBatchItemFailures`` on, which the Terraform module always sets.

Metrics are CloudWatch Embedded Metric Format, one JSON line per invocation on
stdout: CloudWatch extracts them from the logs, so there are no PutMetricData calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from stream_pipeline.config import load_settings
from stream_pipeline.pipeline import BatchOutcome, Pipeline, quantile_samples

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

settings = load_settings()
logger = Logger(service=settings.service_name, level=settings.log_level)
metrics = Metrics(namespace=settings.metrics_namespace, service=settings.service_name)
pipeline = Pipeline(settings, logger)

EVENT_METRICS = {"INSERT": "InsertEvents", "MODIFY": "ModifyEvents", "REMOVE": "RemoveEvents"}


def record_metrics(target: Metrics, outcome: BatchOutcome) -> None:
    """Add one invocation's metrics; dimensions are only service and source type."""
    target.add_dimension(name="SourceType", value=outcome.source)
    target.add_metric(name="BatchSize", unit=MetricUnit.Count, value=outcome.size)
    target.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=outcome.processed)
    target.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=outcome.failed)
    target.add_metric(name="DuplicatesSkipped", unit=MetricUnit.Count, value=outcome.duplicates)
    target.add_metric(name="SinkWriteRequests", unit=MetricUnit.Count, value=outcome.sink.write_requests)
    target.add_metric(name="SinkThrottles", unit=MetricUnit.Count, value=outcome.sink.throttles)
    if outcome.source == "kinesis":
        # Capacity is counted in Kinesis records and bytes (RecordsProcessed, KinesisBytes), business
        # throughput in user records: with KPL aggregation one Kinesis record carries many racers.
        target.add_metric(name="UserRecords", unit=MetricUnit.Count, value=outcome.user_records)
        target.add_metric(name="AggregatedRecords", unit=MetricUnit.Count, value=outcome.aggregated_records)
        target.add_metric(name="KinesisBytes", unit=MetricUnit.Bytes, value=outcome.stream_bytes)
    if outcome.source == "dynamodb":
        for event_name, metric_name in EVENT_METRICS.items():
            target.add_metric(name=metric_name, unit=MetricUnit.Count, value=outcome.event_counts[event_name])
        # Expiries apart from deletes: RemoveEvents counts both, TtlDeleteEvents the expiries.
        target.add_metric(name="TtlDeleteEvents", unit=MetricUnit.Count, value=outcome.ttl_deletes)
    if outcome.window_state_bytes is not None:
        target.add_metric(name="WindowStateBytes", unit=MetricUnit.Bytes, value=outcome.window_state_bytes)
        target.add_metric(name="WindowsFinished", unit=MetricUnit.Count, value=outcome.windows_finished)
    for latency in quantile_samples(outcome.latencies_ms):
        target.add_metric(name="ProcessingLatency", unit=MetricUnit.Milliseconds, value=latency)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise TypeError("the event has no Records list: invoke this function from a stream event source mapping")
    outcome, response = pipeline.handle(event, context.get_remaining_time_in_millis)
    record_metrics(metrics, outcome)
    logger.info(
        "batch done",
        extra={"batch_size": outcome.size, "processed": outcome.processed, "failed": outcome.failed},
    )
    return response
