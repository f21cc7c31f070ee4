"""The event source mapping metrics bridge: what Lambda publishes for a stream mapping in AWS.

With ``MetricsConfig`` EventCount, Lambda publishes per mapping (dimension EventSourceMappingUUID):
``PolledEventCount`` ("If Lambda polls for events but receives an empty poll (no new records),
Lambda emits a 0 value for this metric"), ``OnFailureDestinationDeliveredEventCount`` when a batch
reaches the on-failure destination, and, when that delivery fails, ``DroppedEventCount`` for its
records and ``DestinationDeliveryFailures`` (dimension FunctionName) once. LocalStack 2026.3
publishes none of them (and does not keep MetricsConfig), so the module's consumer-stopped,
on-failure-delivered, dropped-events and destination-delivery-failures alarms would see nothing
locally. This bridge wraps LocalStack's stream poller to publish them as AWS documents: every
mapping, since LocalStack cannot tell which asked for them (the module always does by default).

A mapping that stops polling (disabled, or its poller failing to read) publishes nothing, exactly
as in AWS, which is what the consumer-stopped drill relies on. PolledEventCount is flushed at most
every ``STREAM_PIPELINE_ESM_METRICS_S`` seconds (5 by default) per mapping: one datum with the
records polled since the last flush, so that a 10 s alarm period on LocalStack always sees one.

Only :func:`install` touches LocalStack; the rest is plain Python, unit-tested in the project's venv.
Local tooling: never in the Lambda zip.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable

LOG = logging.getLogger(__name__)
NAMESPACE: Final = "AWS/Lambda"


def datum(name: str, dimension: str, value: str, count: float) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": [{"Name": dimension, "Value": value}], "Value": count, "Unit": "Count"}


@dataclass
class PollCounter:
    """Records polled per mapping, flushed as one PolledEventCount datum per interval (0 included)."""

    publish: Callable[[str, str, list[dict[str, Any]]], None]
    interval_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _pending: dict[str, tuple[str, str, int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def polled(self, uuid: str, account: str, region: str, records: int) -> None:
        now = self.clock()
        with self._lock:
            _, _, count, since = self._pending.get(uuid, (account, region, 0, now))
            count += records
            if now - since < self.interval_s:
                self._pending[uuid] = (account, region, count, since)
                return
            self._pending[uuid] = (account, region, 0, now)
        self.publish(account, region, [datum("PolledEventCount", "EventSourceMappingUUID", uuid, count)])


def delivered(uuid: str, records: int) -> list[dict[str, Any]]:
    """A batch reached the on-failure destination."""
    return [datum("OnFailureDestinationDeliveredEventCount", "EventSourceMappingUUID", uuid, records)]


def delivery_failed(uuid: str, function_name: str | None, records: int) -> list[dict[str, Any]]:
    """The on-failure destination refused a batch: its records are dropped, and one delivery failed."""
    data = [datum("DroppedEventCount", "EventSourceMappingUUID", uuid, records)]
    if function_name:
        data.append(datum("DestinationDeliveryFailures", "FunctionName", function_name, 1))
    return data


def arn_parts(arn: str) -> tuple[str, str]:
    """(account, region) of an ARN (arn:partition:service:region:account:...)."""
    parts = arn.split(":")
    return parts[4], parts[3]


def function_name(arn: str) -> str | None:
    """arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] -> NAME."""
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else None


def install(publish: Callable[[str, str, list[dict[str, Any]]], None]) -> None:
    """Wrap LocalStack's StreamPoller (Kinesis and DynamoDB Streams) once, in LocalStack's process.
    ``publish(account, region, data)`` is one PutMetricData into AWS/Lambda."""
    from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import (  # noqa: PLC0415
        StreamPoller,
    )

    if getattr(StreamPoller, "_stream_pipeline_metrics", False):
        return
    counter = PollCounter(publish, interval_s=float(os.environ.get("STREAM_PIPELINE_ESM_METRICS_S", "5")))
    get_records = StreamPoller.get_records
    send_events_to_dlq = StreamPoller.send_events_to_dlq

    def counted_get_records(self: Any, shard_iterator: str) -> dict[str, Any]:
        response: dict[str, Any] = get_records(self, shard_iterator)
        if self.esm_uuid:
            account, region = arn_parts(self.source_arn)
            counter.polled(self.esm_uuid, account, region, len(response.get("Records", [])))
        return response

    def counted_send_events_to_dlq(self: Any, shard_id: str, events: list[dict[str, Any]], context: Any) -> None:
        destination = self.stream_parameters.get("DeadLetterConfig", {}).get("Arn")
        account, region = arn_parts(self.source_arn)
        try:
            send_events_to_dlq(self, shard_id, events, context)
        except Exception:
            target = getattr(getattr(self.processor, "sender", None), "target_arn", "") or ""
            publish(account, region, delivery_failed(self.esm_uuid, function_name(target), len(events)))
            raise
        if destination and self.esm_uuid:
            publish(account, region, delivered(self.esm_uuid, len(events)))

    StreamPoller.get_records = counted_get_records
    StreamPoller.send_events_to_dlq = counted_send_events_to_dlq
    StreamPoller._stream_pipeline_metrics = True
    LOG.info("event source mapping metrics bridge installed")
