"""The local inbox on LocalStack: subscribed to the stack's real (encrypted) alarm topic, it receives
what a composite alarm sends and prints it as the email reads; removed, it leaves nothing."""

from __future__ import annotations

import json

from stack_support import Stack, client, remaining_resources, wait_for
from stream_pipeline_local import inbox


def test_the_inbox_receives_a_page_and_prints_it_as_the_email(kinesis_stack: Stack) -> None:
    name = kinesis_stack.outputs["function_name"]
    sqs, sns, cloudwatch = client("sqs"), client("sns"), client("cloudwatch")
    box = inbox.subscribe(sqs, sns, kinesis_stack.outputs["sns_topic_arn"], name)
    critical = f"{name}-critical"
    try:
        cloudwatch.set_alarm_state(AlarmName=critical, StateValue="ALARM", StateReason="inbox test: records at risk")
        pages = wait_for(lambda: inbox.read(sqs, box.queue_url), bool, timeout=30)
        assert [json.loads(page["Message"])["AlarmName"] for page in pages] == [critical]
        assert inbox.read(sqs, box.queue_url) == pages, "make inbox leaves the notifications in the queue"
        text = inbox.render(pages, inbox.queue_name(name), drained=False)
        assert f'Subject: ALARM: "{critical}" in US East (N. Virginia)' in text
        assert "- Reason for State Change:    inbox test: records at risk" in text
        assert "What to do" in text, "the alarm's description is the email's text"
        assert len(inbox.read(sqs, box.queue_url, drain=True)) == 1
        assert inbox.read(sqs, box.queue_url) == []
    finally:
        cloudwatch.set_alarm_state(AlarmName=critical, StateValue="OK", StateReason="inbox test over")
        inbox.remove(sqs, sns, box)
    assert remaining_resources(inbox.queue_name(name)) == []
