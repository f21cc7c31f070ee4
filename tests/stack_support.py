"""Helpers of the integration tier: clients for LocalStack, the stacks under test, polling."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from stream_pipeline_local import localstack

if TYPE_CHECKING:
    from collections.abc import Callable

WORKSPACE = "integration-tests"
ALARM_PERIOD = "10"  # LocalStack evaluates an alarm every period x evaluation periods


client = localstack.client


class Stack:
    def __init__(self, example: str, name: str) -> None:
        self.example = example
        self.variables = [
            "-var",
            f"name={name}",
            "-var",
            f"alarm_period_seconds={ALARM_PERIOD}",
            "-var",
            "local_emulator=true",
        ]
        self.outputs: dict[str, Any] = {}

    def apply(self) -> None:
        self.outputs = localstack.apply(self.example, *self.variables, workspace=WORKSPACE)

    def plan(self) -> dict[str, Any]:
        return localstack.plan_json(self.example, *self.variables, workspace=WORKSPACE)

    def destroy(self) -> None:
        localstack.destroy(self.example, *self.variables, workspace=WORKSPACE)


def empty_failure_path(stack: Stack) -> None:
    """Empty a stack's failure path: the on-failure queue, or the failure archive bucket."""
    if stack.outputs.get("on_failure_queue_url"):
        client("sqs").purge_queue(QueueUrl=stack.outputs["on_failure_queue_url"])
    bucket = stack.outputs.get("on_failure_bucket_name")
    if bucket:
        s3 = client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])


def remaining_resources(prefix: str) -> list[str]:
    found = [f"function {f['FunctionName']}" for f in client("lambda").list_functions()["Functions"]]
    found += [f"stream {s}" for s in client("kinesis").list_streams()["StreamNames"]]
    found += [f"table {t}" for t in client("dynamodb").list_tables()["TableNames"]]
    found += [f"queue {q}" for q in client("sqs").list_queues().get("QueueUrls", [])]
    found += [f"topic {t['TopicArn']}" for t in client("sns").list_topics()["Topics"]]
    found += [f"alarm {a['AlarmName']}" for a in client("cloudwatch").describe_alarms()["MetricAlarms"]]
    found += [f"dashboard {d['DashboardName']}" for d in client("cloudwatch").list_dashboards()["DashboardEntries"]]
    return sorted(item for item in found if prefix in item)


def wait_for[T](probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 60, every: float = 1.0) -> T:
    """Poll ``probe`` until ``done`` holds; return its last value either way (the test asserts on it)."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(every)
        value = probe()
    return value
