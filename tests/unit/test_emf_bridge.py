"""The local executor's EMF bridge: the handler's real EMF line becomes the metric data AWS would make."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from moto import mock_aws

from stream_pipeline.handler import record_metrics
from stream_pipeline.pipeline import BatchOutcome
from stream_pipeline_executor.emf import MAX_VALUES_PER_DATUM, metric_data


def handler_emf_line(outcome: BatchOutcome, namespace: str = "StreamPipeline", service: str = "alleycat") -> str:
    """The EMF line the handler prints for one invocation (same code path, Powertools' serializer)."""
    metrics = Metrics(namespace=namespace, service=service)
    record_metrics(metrics, outcome)
    line = json.dumps(metrics.serialize_metric_set())
    metrics.clear_metrics()
    return line


def outcome(processed: int, failed: int, latencies: int, source: str = "kinesis") -> BatchOutcome:
    return BatchOutcome(
        size=processed + failed,
        source=source,
        processed=processed,
        failures=[{"itemIdentifier": str(n)} for n in range(failed)],
        latencies_ms=[float(n) for n in range(1, latencies + 1)],
    )


def statistic(cloudwatch: Any, namespace: str, name: str, dimensions: dict[str, str], stat: str) -> float:
    now = datetime.now(tz=UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=3600,
        Statistics=[stat],
    )["Datapoints"]
    return float(sum(p[stat] for p in points))


@pytest.fixture
def cloudwatch() -> Any:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def test_the_handlers_emf_becomes_the_metrics_the_alarms_watch(cloudwatch: Any) -> None:
    log = "\n".join(
        [
            "START RequestId: 1 Version: $LATEST",
            json.dumps({"level": "INFO", "message": "batch done"}),  # a JSON log line, not EMF
            handler_emf_line(outcome(processed=7, failed=3, latencies=120)),
            "END RequestId: 1",
        ]
    )
    calls = metric_data(log)
    assert {namespace for namespace, _ in calls} == {"StreamPipeline"}
    for namespace, data in calls:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)  # moto validates the request shape

    dims = {"SourceType": "kinesis", "service": "alleycat"}
    assert statistic(cloudwatch, "StreamPipeline", "RecordsFailed", dims, "Sum") == 3
    assert statistic(cloudwatch, "StreamPipeline", "RecordsProcessed", dims, "Sum") == 7
    assert statistic(cloudwatch, "StreamPipeline", "ProcessingLatency", dims, "SampleCount") == 99
    assert statistic(cloudwatch, "StreamPipeline", "ProcessingLatency", dims, "Maximum") == 120
    # Under a wrong dimension set (what a misspelt alarm would watch) there is nothing.
    assert (
        statistic(
            cloudwatch, "StreamPipeline", "RecordsFailed", {"SourceType": "unknown", "service": "alleycat"}, "Sum"
        )
        == 0
    )


def test_a_dynamodb_batch_keeps_its_source_type_and_event_counts() -> None:
    line = handler_emf_line(outcome(processed=2, failed=0, latencies=2, source="dynamodb"))
    ((namespace, data),) = metric_data(line)
    assert namespace == "StreamPipeline"
    by_name = {d["MetricName"]: d for d in data}
    assert by_name["RecordsFailed"]["Values"] == [0.0]
    assert by_name["InsertEvents"]["Dimensions"] == [
        {"Name": "SourceType", "Value": "dynamodb"},
        {"Name": "service", "Value": "alleycat"},
    ]
    assert by_name["ProcessingLatency"]["Unit"] == "Milliseconds"


def test_lines_that_are_not_emf_or_are_malformed_are_skipped() -> None:
    no_dimension_value = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["d"]], "Metrics": [{"Name": "M"}]}],
        },
        "M": 1,
    }  # dimension d has no value: CloudWatch drops the dimension set, so there is no datum
    lines = ["plain text", '{"_aws": "not an object"}', json.dumps(no_dimension_value), "{broken json"]
    log = "\n".join(lines)
    assert metric_data(log) == []


def test_long_value_lists_are_split_to_the_api_limit() -> None:
    values = list(range(1, 2 * MAX_VALUES_PER_DATUM + 2))
    line = json.dumps(
        {
            "_aws": {"Timestamp": 1_763_885_700_000, "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["service"]], "Metrics": [{"Name": "L", "Unit": "Milliseconds"}]}
            ]},
            "service": "s",
            "L": values,
        }
    )  # fmt: skip
    ((_, data),) = metric_data(line)
    assert [len(d["Values"]) for d in data] == [MAX_VALUES_PER_DATUM, MAX_VALUES_PER_DATUM, 1]
    assert [v for d in data for v in d["Values"]] == [float(v) for v in values]
