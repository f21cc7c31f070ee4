"""stream-pipeline alert-test on LocalStack: a test page through the stack's real topic, seen in an inbox."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stack_support import client, operator, operator_json, outputs_file, subscribe_inbox

if TYPE_CHECKING:
    from pathlib import Path

    from stack_support import Stack


def test_a_test_page_reaches_a_subscriber_and_the_alarm_is_put_back(kinesis_stack: Stack, tmp_path: Path) -> None:
    name = kinesis_stack.outputs["function_name"]
    alarm = f"{name}-record-age"
    cloudwatch = client("cloudwatch")
    before = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
    inbox, subscription = subscribe_inbox(kinesis_stack.outputs["sns_topic_arn"], f"{name}-alert-test-inbox")
    try:
        code, result = operator_json("alert-test", outputs_file(kinesis_stack, tmp_path), "--inbox", inbox)
        assert code == 0, result
        assert result["delivered"], result
        assert result["evidence"] == [f"the inbox {name}-alert-test-inbox received the test notification"]
        assert any(s["protocol"] == "sqs" and s["confirmed"] for s in result["subscriptions"]), result
        assert cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] == before
        # The page itself, as the subscriber got it: the alarm, the test's reason, what to do.
        bodies = [m["Body"] for m in client("sqs").receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]]
        pages = [json.loads(json.loads(b)["Message"]) for b in bodies]
        (page,) = [p for p in pages if p["NewStateValue"] == "ALARM"]
        assert page["AlarmName"] == alarm
        assert "alert-test" in page["NewStateReason"]
        assert "What to do" in page["AlarmDescription"]
    finally:
        client("sns").unsubscribe(SubscriptionArn=subscription)
        client("sqs").delete_queue(QueueUrl=inbox)


def test_an_alarm_that_pages_nobody_is_refused_and_nothing_is_set(kinesis_stack: Stack, tmp_path: Path) -> None:
    """lambda-errors pages through its composite only: setting it would page nobody."""
    name = kinesis_stack.outputs["function_name"]
    alarm = f"{name}-lambda-errors"
    run = operator("alert-test", outputs_file(kinesis_stack, tmp_path), "--alarm", alarm)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 3, out
    assert "notifies no SNS topic" in out
    assert client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] != "ALARM"
