"""Helpers of the integration tier: clients for LocalStack, the stacks under test, polling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

from stream_pipeline_local import localstack

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

WORKSPACE = "integration-tests"
ALARM_PERIOD = "10"  # LocalStack evaluates an alarm every period x evaluation periods
RECORD_AGE_S = 86_160
"""The Kinesis stack's maximum record age: 4 minutes short of the 24 h retention, so that its replay
window is 240 s and the replay-window alarm (half of it: two periods of a minute, its shortest)
fires within two minutes of a failure."""


client = localstack.client


class Stack:
    """An example applied on LocalStack under its own name, in a Terraform workspace of the tier's.

    Terraform works in the example's folder (its provider override, its .terraform), so two stacks of
    one example take turns (a lock per example) while stacks of different examples work at once."""

    _locks: ClassVar[dict[str, threading.Lock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, example: str, name: str, *extra: str, workspace: str = WORKSPACE) -> None:
        self.example, self.name, self.workspace = example, name, workspace
        self.variables = [
            "-var",
            f"name={name}",
            "-var",
            f"alarm_period_seconds={ALARM_PERIOD}",
            "-var",
            "local_emulator=true",
            *[arg for value in extra for arg in ("-var", value)],
        ]
        self.outputs: dict[str, Any] = {}

    def _turn(self) -> threading.Lock:
        with Stack._guard:
            return Stack._locks.setdefault(self.example, threading.Lock())

    def apply(self) -> None:
        with self._turn():
            self.outputs = localstack.apply(self.example, *self.variables, workspace=self.workspace)

    def plan(self) -> dict[str, Any]:
        with self._turn():
            return localstack.plan_json(self.example, *self.variables, workspace=self.workspace)

    def destroy(self) -> None:
        with self._turn():
            localstack.destroy(self.example, *self.variables, workspace=self.workspace)


def put(stream: str, messages: list[Any]) -> list[dict[str, Any]]:
    """PutRecords with the racer as partition key; returns what was sent with its shard and sequence number."""
    entries = [
        {"Data": m if isinstance(m, bytes) else json.dumps(m).encode(), "PartitionKey": str(k)} for k, m in messages
    ]
    sent = []
    for start in range(0, len(entries), 500):
        chunk = entries[start : start + 500]
        response = client("kinesis").put_records(StreamName=stream, Records=chunk)
        assert response["FailedRecordCount"] == 0
        for entry, result in zip(chunk, response["Records"], strict=True):
            sent.append({**entry, "SequenceNumber": result["SequenceNumber"], "ShardId": result["ShardId"]})
    return sent


def queue_depth(url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(found[names[0]]), int(found[names[1]])


def empty_failure_path(stack: Stack) -> None:
    """Empty a stack's failure path: the on-failure queue, or the failure archive bucket."""
    if stack.outputs.get("on_failure_queue_url"):
        client("sqs").purge_queue(QueueUrl=stack.outputs["on_failure_queue_url"])
    bucket = stack.outputs.get("on_failure_bucket_name")
    if bucket:
        # The archive is versioned: every version and delete marker goes, or the bucket is not empty.
        s3 = client("s3")
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])


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


def operator_environment() -> dict[str, str]:
    """The standard AWS variables, pointed at this LocalStack (the operator command reads nothing else)."""
    return {
        **os.environ, "AWS_ENDPOINT_URL": localstack.ENDPOINT, "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": localstack.REGION, "AWS_REGION": localstack.REGION,
    }  # fmt: skip


def outputs_file(stack: Stack, folder: Path) -> Path:
    """The stack's stream_pipeline output as `terraform output -json` would give it, for --outputs."""
    path = folder / f"{stack.example}.json"
    path.write_text(json.dumps({"stream_pipeline": stack.outputs["stream_pipeline"]}))
    return path


def operator(command: str, outputs: Path, *args: str) -> subprocess.Popen[str]:
    """`stream-pipeline COMMAND --outputs FILE ARGS` as an operator runs it: a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "stream_pipeline_ops.cli", command, "--outputs", str(outputs), *args],
        env=operator_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def operator_json(command: str, outputs: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """A run of the command to its end: its exit status and its --json output."""
    run = operator(command, outputs, *args, "--json")
    out, _ = run.communicate(timeout=300)
    try:
        return run.returncode, json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(out[-3000:]) from None


def subscribe_inbox(topic_arn: str, name: str) -> tuple[str, str]:
    """A queue subscribed to the stack's alarm topic, to read its pages in: (queue URL, subscription ARN)."""
    sqs = client("sqs")
    inbox = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    return inbox, subscription
