"""The AWS metrics the pipeline's alarms watch, as AWS publishes them: namespace, name, dimensions.

Kept apart from the module on purpose. The drills put data under these names and dimensions, with
the values of the real resources (read from the AWS APIs), and expect the module's alarms to fire:
an alarm with a misspelt metric name, a wrong namespace or a wrong dimension watches a series
that no incident writes, and its drill fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LAMBDA_METRICS: Final = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
ESM_METRICS: Final = f"{LAMBDA_METRICS}#event-source-mapping-metrics"
KINESIS_METRICS: Final = "https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html"
DYNAMODB_METRICS: Final = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html"
SQS_METRICS: Final = (
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
)
HANDLER_METRICS: Final = "README.md, Metrics and logs (the handler's EMF)"


@dataclass(frozen=True)
class Metric:
    namespace: str  # "{handler}" stands for the function's METRICS_NAMESPACE
    name: str
    dimensions: tuple[str, ...]
    source: str


CATALOG: Final = {
    "Errors": Metric("AWS/Lambda", "Errors", ("FunctionName",), LAMBDA_METRICS),
    "Throttles": Metric("AWS/Lambda", "Throttles", ("FunctionName",), LAMBDA_METRICS),
    "Duration": Metric("AWS/Lambda", "Duration", ("FunctionName",), LAMBDA_METRICS),
    "IteratorAge": Metric("AWS/Lambda", "IteratorAge", ("FunctionName",), LAMBDA_METRICS),
    "DestinationDeliveryFailures": Metric(
        "AWS/Lambda", "DestinationDeliveryFailures", ("FunctionName",), LAMBDA_METRICS
    ),
    "DroppedEventCount": Metric("AWS/Lambda", "DroppedEventCount", ("EventSourceMappingUUID",), ESM_METRICS),
    "FailedInvokeEventCount": Metric("AWS/Lambda", "FailedInvokeEventCount", ("EventSourceMappingUUID",), ESM_METRICS),
    "OnFailureDestinationDeliveredEventCount": Metric(
        "AWS/Lambda", "OnFailureDestinationDeliveredEventCount", ("EventSourceMappingUUID",), ESM_METRICS
    ),
    "WriteProvisionedThroughputExceeded": Metric(
        "AWS/Kinesis", "WriteProvisionedThroughputExceeded", ("StreamName",), KINESIS_METRICS
    ),
    "ReadProvisionedThroughputExceeded": Metric(
        "AWS/Kinesis", "ReadProvisionedThroughputExceeded", ("StreamName",), KINESIS_METRICS
    ),
    "WriteThrottleEvents": Metric("AWS/DynamoDB", "WriteThrottleEvents", ("TableName",), DYNAMODB_METRICS),
    "ApproximateNumberOfMessagesVisible": Metric(
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName",), SQS_METRICS
    ),
    "ApproximateAgeOfOldestMessage": Metric("AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName",), SQS_METRICS),
    "RecordsFailed": Metric("{handler}", "RecordsFailed", ("SourceType", "service"), HANDLER_METRICS),
}
