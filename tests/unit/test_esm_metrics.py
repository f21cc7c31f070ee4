"""The event source mapping metrics bridge: PolledEventCount per mapping (0 on an empty poll, as AWS
documents), and the failure path's counts, as the alarms read them."""

from __future__ import annotations

from typing import Any

from stream_pipeline_executor import esm_metrics

UUID = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_polls_are_flushed_once_per_interval_with_the_records_polled_since_and_zero_for_empty_polls() -> None:
    published: list[tuple[str, str, list[dict[str, Any]]]] = []
    clock = Clock()
    counter = esm_metrics.PollCounter(lambda *call: published.append(call), interval_s=5, clock=clock)
    counter.polled(UUID, "000000000000", "us-east-1", 3)  # starts the interval
    clock.now = 2
    counter.polled(UUID, "000000000000", "us-east-1", 4)
    assert published == []
    clock.now = 5
    counter.polled(UUID, "000000000000", "us-east-1", 0)
    clock.now = 11
    counter.polled(UUID, "000000000000", "us-east-1", 0)  # an idle mapping still publishes: a 0
    assert [
        (account, region, [(d["MetricName"], d["Value"]) for d in data]) for account, region, data in published
    ] == [
        ("000000000000", "us-east-1", [("PolledEventCount", 7)]),
        ("000000000000", "us-east-1", [("PolledEventCount", 0)]),
    ]
    assert published[0][2][0]["Dimensions"] == [{"Name": "EventSourceMappingUUID", "Value": UUID}]


def test_mappings_are_counted_apart() -> None:
    published: list[tuple[str, str, list[dict[str, Any]]]] = []
    clock = Clock()
    counter = esm_metrics.PollCounter(lambda *call: published.append(call), interval_s=5, clock=clock)
    counter.polled("a", "000000000000", "us-east-1", 1)
    counter.polled("b", "000000000000", "us-east-1", 10)
    clock.now = 6
    counter.polled("a", "000000000000", "us-east-1", 0)
    assert [data[0]["Dimensions"][0]["Value"] for _, _, data in published] == ["a"]
    assert published[0][2][0]["Value"] == 1


def test_a_failed_delivery_is_dropped_records_and_one_delivery_failure_of_the_function() -> None:
    data = esm_metrics.delivery_failed(
        UUID, esm_metrics.function_name("arn:aws:lambda:us-east-1:1:function:alleycat"), 12
    )
    assert [(d["MetricName"], d["Dimensions"][0]["Value"], d["Value"]) for d in data] == [
        ("DroppedEventCount", UUID, 12),
        ("DestinationDeliveryFailures", "alleycat", 1),
    ]
    assert esm_metrics.delivered(UUID, 3)[0]["MetricName"] == "OnFailureDestinationDeliveredEventCount"
    assert esm_metrics.function_name("arn:aws:sqs:us-east-1:1:queue") is None
