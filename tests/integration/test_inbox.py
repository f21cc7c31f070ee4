"""The local inbox on LocalStack: subscribed to the stack's real (encrypted) alarm topic, it receives
what an alarm that pages sends and prints it as the email reads; removed, it leaves nothing."""

from __future__ import annotations

import json
from typing import Any

from stack_support import Stack, client, remaining_resources, wait_for
from stream_pipeline_local import inbox


def paging_alarm(stack: Stack) -> dict[str, Any]:
    """An alarm of the stack whose ALARM action is the stack's topic (a composite when the design has one)."""
    topic = stack.outputs["sns_topic_arn"]
    found = client("cloudwatch").describe_alarms(
        AlarmNamePrefix=stack.outputs["function_name"], AlarmTypes=["CompositeAlarm", "MetricAlarm"]
    )
    paging = [a for a in found["CompositeAlarms"] + found["MetricAlarms"] if topic in a.get("AlarmActions", [])]
    assert paging, f"no alarm of the stack notifies {topic}"
    return paging[0]


def test_the_inbox_receives_a_page_and_prints_it_as_the_email(kinesis_stack: Stack) -> None:
    name = kinesis_stack.outputs["function_name"]
    sqs, sns, cloudwatch = client("sqs"), client("sns"), client("cloudwatch")
    alarm = paging_alarm(kinesis_stack)
    pager, before = alarm["AlarmName"], alarm["StateValue"]
    box = inbox.subscribe(sqs, sns, kinesis_stack.outputs["sns_topic_arn"], name)
    try:
        if before == "ALARM":  # a page needs a change of state
            cloudwatch.set_alarm_state(AlarmName=pager, StateValue="OK", StateReason="inbox test: reset")
            wait_for(lambda: inbox.read(sqs, box.queue_url), bool, timeout=30)
            inbox.read(sqs, box.queue_url, drain=True)
        cloudwatch.set_alarm_state(AlarmName=pager, StateValue="ALARM", StateReason="inbox test: records at risk")
        pages = wait_for(lambda: inbox.read(sqs, box.queue_url), bool, timeout=30)
        assert [json.loads(page["Message"])["AlarmName"] for page in pages] == [pager]
        assert inbox.read(sqs, box.queue_url) == pages, "make inbox leaves the notifications in the queue"
        text = inbox.render(pages, inbox.queue_name(name), drained=False)
        assert f'Subject: ALARM: "{pager}" in US East (N. Virginia)' in text
        assert "- Reason for State Change:    inbox test: records at risk" in text
        assert f"- Description:                {alarm['AlarmDescription'].splitlines()[0]}" in text
        assert len(inbox.read(sqs, box.queue_url, drain=True)) == 1
        assert inbox.read(sqs, box.queue_url) == []
    finally:
        cloudwatch.set_alarm_state(AlarmName=pager, StateValue=before, StateReason="inbox test over")
        inbox.remove(sqs, sns, box)
    assert remaining_resources(inbox.queue_name(name)) == []
