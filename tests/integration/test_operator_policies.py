"""The doctor's published policy is enough, and read-only: every AWS call it makes on both applied
stacks, recorded with botocore's hooks, is allowed by operator_policies.doctor (redrive's own check
is in test_redrive.py)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aws_calls import recording
from stack_support import client, empty_failure_path, operator_environment, outputs_file
from stream_pipeline_ops import cli

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from stack_support import Stack

ACCOUNT = "000000000000"  # LocalStack's
WRITES = re.compile(r":(Put|Update|Delete|Create|Set|Send|Receive|Change|Publish|Invoke|Generate|Tag|Untag)")


def test_every_call_the_doctor_makes_is_allowed_by_its_published_read_only_policy(
    kinesis_stack: Stack, dynamodb_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in operator_environment().items():
        monkeypatch.setenv(name, value)
    refused: dict[str, list[str]] = {}
    for stack in (kinesis_stack, dynamodb_stack):
        failure_waits(stack)  # so that the failure-path checks read what they read when it matters
        policy: dict[str, Any] = json.loads(stack.outputs["operator_policies"]["doctor"])
        with recording() as calls:
            code = cli.main(["doctor", "--outputs", str(outputs_file(stack, tmp_path)), "--json"])
        assert code in (0, 1, 2), code
        assert calls.count("cloudwatch:GetMetricData") >= 1, calls.table()
        reads = "dynamodb:Query" if stack.outputs.get("on_failure_queue_url") else "s3:ListBucket"
        assert calls.count(reads) >= 1, f"the failure path was read: {calls.table()}"
        refused[stack.example] = calls.not_allowed(policy, ACCOUNT)
        print(f"{stack.example}:\n{calls.table()}")  # noqa: T201 - the calls, for the policy's readers
        assert not [a for a in calls.actions() if WRITES.search(a)], f"the doctor wrote: {calls.table()}"
        granted = {a for s in policy["Statement"] for a in s["Action"]}
        assert not [a for a in granted if WRITES.search(a)], f"the doctor's policy grants writes: {sorted(granted)}"
        empty_failure_path(stack)
    assert refused == {"kinesis-alleycat": [], "dynamodb-streams": []}


def failure_waits(stack: Stack) -> None:
    """A failure in the stack's failure path: a message in the queue, or an object in the archive."""
    body = json.dumps({"timestamp": "2026-12-01T08:00:00.000Z", "KinesisBatchInfo": {"batchSize": 1}})
    if stack.outputs.get("on_failure_queue_url"):
        client("sqs").send_message(QueueUrl=stack.outputs["on_failure_queue_url"], MessageBody=body)
    if stack.outputs.get("on_failure_bucket_name"):
        client("s3").put_object(Bucket=stack.outputs["on_failure_bucket_name"], Key="aws/lambda/drill/1", Body=body)
