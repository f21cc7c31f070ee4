"""A canned AWS for the doctor's unit tests: answers in the shapes the APIs return, metrics with
timestamps, and a real (moto) client for what a test wants checked for real (the ledger's Query).

The healthy stack is ``examples/kinesis-alleycat``: 2 provisioned shards, parallelization factor
2, reservation 10, an on-failure queue, EventCount metrics on and polling.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from stream_pipeline_ops import doctor

FN = "alleycat"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/alleycat"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:alleycat-failures"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alleycat-alarms"
ROLE = "arn:aws:iam::123456789012:role/alleycat-consumer"
LEDGER = "alleycat-redrive-ledger"
NOW = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)

HEALTHY: dict[tuple[str, str], Any] = {
    ("lambda", "get_function_configuration"): {
        "FunctionName": FN,
        "Role": ROLE,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "Timeout": 30,
        "Environment": {"Variables": {"SINK_TABLE_NAME": "alleycat-sink", "POWERTOOLS_SERVICE_NAME": FN}},
    },
    ("lambda", "list_event_source_mappings"): {
        "EventSourceMappings": [
            {
                "UUID": "6d9a3b1e",
                "EventSourceArn": STREAM_ARN,
                "State": "Enabled",
                "StateTransitionReason": "USER_INITIATED",
                "LastProcessingResult": "OK",
                "LastModified": datetime(2026, 11, 1, tzinfo=UTC),
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumRetryAttempts": 3,
                "BisectBatchOnFunctionError": True,
                "MaximumRecordAgeInSeconds": 43200,
                "ParallelizationFactor": 2,
                "MetricsConfig": {"Metrics": ["EventCount"]},
                "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
            }
        ]
    },
    ("kinesis", "describe_stream_summary"): {
        "StreamDescriptionSummary": {
            "StreamName": "alleycat",
            "StreamStatus": "ACTIVE",
            "RetentionPeriodHours": 24,
            "OpenShardCount": 2,
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            "EncryptionType": "NONE",
        }
    },
    ("kinesis", "list_stream_consumers"): {"Consumers": []},
    ("lambda", "get_function_concurrency"): {"ReservedConcurrentExecutions": 10},
    ("lambda", "get_account_settings"): {
        "AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 990}
    },
    ("dynamodb", "describe_table"): {
        "Table": {
            "TableName": "alleycat-sink",
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ProvisionedThroughput": {"WriteCapacityUnits": 0},
        }
    },
    ("dynamodb", "query"): {"Items": [], "Count": 0},
    ("sqs", "get_queue_url"): {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/alleycat-failures"},
    ("sqs", "get_queue_attributes"): {
        "Attributes": {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    },
    ("cloudwatch", "describe_alarms"): {
        "MetricAlarms": [{"AlarmName": f"{FN}-lambda-errors", "StateValue": "OK", "AlarmActions": []}],
        "CompositeAlarms": [{"AlarmName": f"{FN}-failing", "StateValue": "OK", "AlarmActions": [TOPIC]}],
    },
    ("sns", "list_subscriptions_by_topic"): {
        "Subscriptions": [
            {"SubscriptionArn": f"{TOPIC}:1b2c", "Protocol": "email", "Endpoint": "oncall@example.com"},
        ]
    },
    ("logs", "describe_log_groups"): {"logGroups": [{"logGroupName": f"/aws/lambda/{FN}", "retentionInDays": 7}]},
}

POLLING: dict[str, Any] = {"PolledEventCount": [0.0] * 10}
"""A mapping that polls: one datapoint a minute (0: the polls came back empty)."""

Series = list[float] | list[tuple[int, float]]
"""Values for the minutes before the end of the window (newest first), or (minutes ago, value)."""


class FakeAWS:
    """Answers per (service, operation): a value, a ClientError to raise, or a function of the
    request. Metrics per metric name. ``real`` names the operations a real (moto) client answers
    instead. Every call is counted, every GetMetricData request kept."""

    def __init__(
        self,
        answers: dict[tuple[str, str], Any],
        metrics: dict[str, Series] | None = None,
        real: dict[tuple[str, str], Any] | None = None,
    ) -> None:
        self.answers = answers
        self.metrics = metrics or {}
        self.real = real or {}
        self.calls: Counter[tuple[str, str]] = Counter()
        self.requests: list[dict[str, Any]] = []

    def points(self, name: str, end: datetime) -> list[tuple[datetime, float]]:
        """Datapoints at the start of each minute, as CloudWatch aligns them."""
        minute = end.replace(second=0, microsecond=0)
        series = self.metrics.get(name, [])
        pairs = [p if isinstance(p, tuple) else (i + 1, p) for i, p in enumerate(series)]
        return [(minute - timedelta(minutes=ago), float(value)) for ago, value in pairs]

    def metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        queries = request["MetricDataQueries"]
        ids = [query["Id"] for query in queries]
        assert len(ids) <= 500, "GetMetricData takes at most 500 queries"
        assert len(set(ids)) == len(ids), f"duplicate Ids: {ids}"
        results = []
        for query in queries:
            assert re.fullmatch(r"[a-z][a-zA-Z0-9_]*", query["Id"]), query["Id"]  # what GetMetricData accepts
            stat = query["MetricStat"]
            assert stat["Period"] == 60
            assert all(d["Value"] for d in stat["Metric"]["Dimensions"]), "a query without its dimension"
            points = sorted(self.points(stat["Metric"]["MetricName"], request["EndTime"]), reverse=True)
            results.append(
                {
                    "Id": query["Id"],
                    "Timestamps": [at for at, _ in points],
                    "Values": [value for _, value in points],
                    "StatusCode": "Complete",
                }
            )
        return {"MetricDataResults": results}

    def answer(self, service: str, operation: str, kwargs: dict[str, Any]) -> Any:
        self.calls[(service, operation)] += 1
        if (service, operation) in self.real:
            return getattr(self.real[(service, operation)], operation)(**kwargs)
        answer = self.answers.get((service, operation))
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(**kwargs)
        if service == "cloudwatch" and operation == "get_metric_data":
            return self.metric_data(kwargs)
        if service == "cloudwatch" and operation == "get_metric_statistics":
            (stat,) = kwargs["Statistics"]
            points = self.points(kwargs["MetricName"], kwargs["EndTime"])
            return {"Datapoints": [{"Timestamp": at, stat: value} for at, value in points]}
        return copy.deepcopy(self.answers[(service, operation)])

    def __call__(self, service: str) -> Any:
        fake = self

        class Client:
            def __getattr__(self, operation: str) -> Any:
                return lambda **kwargs: fake.answer(service, operation, kwargs)

        return Client()

    def queried(self) -> list[tuple[str, str, tuple[tuple[str, str], ...], str]]:
        """Every metric asked for by GetMetricData: (namespace, name, dimensions, statistic)."""
        return [
            (
                q["MetricStat"]["Metric"]["Namespace"],
                q["MetricStat"]["Metric"]["MetricName"],
                tuple((d["Name"], d["Value"]) for d in q["MetricStat"]["Metric"]["Dimensions"]),
                q["MetricStat"]["Stat"],
            )
            for request in self.requests
            for q in request["MetricDataQueries"]
        ]


def error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} for {operation}"}}, operation)


def aws(
    answers: dict[tuple[str, str], Any] | None = None,
    metrics: dict[str, Series] | None = None,
    real: dict[tuple[str, str], Any] | None = None,
) -> FakeAWS:
    """The healthy stack with these changes (a metric named here replaces the polling default)."""
    return FakeAWS({**HEALTHY, **(answers or {})}, {**POLLING, **(metrics or {})}, real)


def run(
    answers: dict[tuple[str, str], Any] | None = None,
    metrics: dict[str, Series] | None = None,
    real: dict[tuple[str, str], Any] | None = None,
    **options: Any,
) -> doctor.Report:
    return doctor.diagnose(aws(answers, metrics, real), FN, now=NOW, **options)


def serious(report: doctor.Report) -> list[tuple[str, str]]:
    return [(str(f.severity), f.title) for f in report.sorted() if f.severity > doctor.Severity.INFO]


def only(report: doctor.Report, title: str) -> doctor.Finding:
    (found,) = [f for f in report.findings if f.title == title]
    return found


def mapping(**changes: Any) -> dict[tuple[str, str], Any]:
    answer = copy.deepcopy(HEALTHY[("lambda", "list_event_source_mappings")])
    answer["EventSourceMappings"][0].update(changes)
    return {("lambda", "list_event_source_mappings"): answer}


def summary(**changes: Any) -> dict[tuple[str, str], Any]:
    answer = copy.deepcopy(HEALTHY[("kinesis", "describe_stream_summary")])
    answer["StreamDescriptionSummary"].update(changes)
    return {("kinesis", "describe_stream_summary"): answer}


def queue(visible: int, in_flight: int = 0) -> dict[tuple[str, str], Any]:
    return {
        ("sqs", "get_queue_attributes"): {
            "Attributes": {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            }
        }
    }
