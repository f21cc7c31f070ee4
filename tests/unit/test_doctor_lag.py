"""The doctor's lag finding where the mapping publishes no IteratorAge (LocalStack; an idle mapping in
AWS): it reads the handler's ProcessingLatency (its EMF metric, arrival to processed) under the
namespace and dimensions the handler publishes it with, and says which metric it read. The metrics
come from moto's CloudWatch, put as the EMF bridge (or CloudWatch Logs) puts them."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from doctor_fakes import FN, HEALTHY, NOW, only, run

BEHIND = "the consumer is falling behind"
GET_METRIC_DATA = ("cloudwatch", "get_metric_data")


def latency(cloudwatch: Any, namespace: str, service: str, values_ms: list[float], source: str = "kinesis") -> None:
    """ProcessingLatency data as the handler's EMF line makes them, a minute apart before NOW."""
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "ProcessingLatency",
                "Dimensions": [{"Name": "SourceType", "Value": source}, {"Name": "service", "Value": service}],
                "Timestamp": NOW - timedelta(minutes=n + 1),
                "Value": value,
                "Unit": "Milliseconds",
            }
            for n, value in enumerate(values_ms)
        ],
    )


def with_environment(**variables: str) -> dict[tuple[str, str], Any]:
    function = copy.deepcopy(HEALTHY[("lambda", "get_function_configuration")])
    function["Environment"]["Variables"].update(variables)
    return {("lambda", "get_function_configuration"): function}


@pytest.fixture
def cloudwatch() -> Any:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def test_without_iterator_age_the_lag_is_the_handlers_processing_latency_and_says_so(cloudwatch: Any) -> None:
    latency(cloudwatch, "StreamPipeline", FN, [12_000.0, 77_100.0, 40_000.0])
    latency(cloudwatch, "StreamPipeline", "someone-else", [900_000.0])  # another function's: not ours
    report = run(real={GET_METRIC_DATA: cloudwatch})
    finding = only(report, BEHIND)
    assert str(finding.severity) == "warning"
    assert finding.evidence.startswith("ProcessingLatency (StreamPipeline, SourceType=kinesis, service=alleycat; ")
    assert "no IteratorAge published) max 77.1 s over the last 60 min" in finding.evidence


def test_the_latency_is_read_in_the_functions_own_namespace_and_service(cloudwatch: Any) -> None:
    latency(cloudwatch, "StreamPipeline", FN, [45_000.0])  # the default namespace: not this function's
    latency(cloudwatch, "Races", "leaderboard", [31_000.0])
    report = run(with_environment(METRICS_NAMESPACE="Races", POWERTOOLS_SERVICE_NAME="leaderboard"),
                 real={GET_METRIC_DATA: cloudwatch})  # fmt: skip
    assert "(Races, SourceType=kinesis, service=leaderboard; " in only(report, BEHIND).evidence
    assert "max 31.0 s" in only(report, BEHIND).evidence


def test_a_latency_at_half_the_record_age_is_critical(cloudwatch: Any) -> None:
    latency(cloudwatch, "StreamPipeline", FN, [0.6 * 43_200_000])
    report = run(real={GET_METRIC_DATA: cloudwatch})
    finding = only(report, "records are at risk: the consumer is far behind")
    assert finding.evidence.startswith("ProcessingLatency (")


def test_iterator_age_comes_first_when_the_mapping_publishes_it() -> None:
    report = run(metrics={"IteratorAge": [45_000.0], "ProcessingLatency": [200_000.0]})
    assert only(report, BEHIND).evidence == "IteratorAge max 45.0 s over the last 60 min"


def test_no_lag_no_finding(cloudwatch: Any) -> None:
    latency(cloudwatch, "StreamPipeline", FN, [900.0, 1_200.0])
    assert [f for f in run(real={GET_METRIC_DATA: cloudwatch}).findings if "behind" in f.title] == []
