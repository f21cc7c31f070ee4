"""The local inbox on LocalStack: subscribed to the stack's real (encrypted) alarm topic, it receives
what an alarm that pages sends and prints it as the email reads; removed, it leaves nothing."""

from __future__ import annotations

import json
from typing import Any

from stack_support import Stack, client, remaining_resources, wait_for
from stream_pipeline_local import inbox


def paging_alarm(stack: Stack) -> dict[str, Any]:
    """An alarm of the stack whose ALARM action is the stack's topic and whose actions no suppressor holds back.
    A metric alarm first: LocalStack re-evaluates a composite (over ARNs) the moment its state is set, so its
    page would already say OK; a metric alarm keeps the state set by hand until its next period."""
    topic = stack.outputs["sns_topic_arn"]
    found = client("cloudwatch").describe_alarms(
        AlarmNamePrefix=stack.outputs["function_name"], AlarmTypes=["CompositeAlarm", "MetricAlarm"]
    )
    paging = [
        alarm
        for alarm in found["MetricAlarms"] + found["CompositeAlarms"]
        if topic in alarm.get("AlarmActions", [])
        and alarm.get("ActionsEnabled", True)
        and not alarm.get("ActionsSuppressor")
    ]
    assert paging, f"no alarm of the stack notifies {topic}"
    return paging[0]


def alarms_in(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [page for page in pages if json.loads(page["Message"]).get("NewStateValue") == "ALARM"]


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
        # LocalStack may re-evaluate the alarm from its members right after (an OK page follows): keep to ours.
        pages = wait_for(lambda: inbox.read(sqs, box.queue_url), lambda found: bool(alarms_in(found)), timeout=30)
        assert [json.loads(page["Message"])["AlarmName"] for page in alarms_in(pages)] == [pager]
        again = {page["MessageId"] for page in inbox.read(sqs, box.queue_url)}
        assert {page["MessageId"] for page in pages} <= again, "make inbox leaves the notifications in the queue"
        text = inbox.render(alarms_in(pages), inbox.queue_name(name), drained=False)
        assert f'Subject: ALARM: "{pager}" in US East (N. Virginia)' in text
        assert "- Reason for State Change:    inbox test: records at risk" in text
        assert f"- Description:                {alarm['AlarmDescription'].splitlines()[0]}" in text
        drained = {page["MessageId"] for page in inbox.read(sqs, box.queue_url, drain=True)}
        assert again <= drained
        assert not drained & {page["MessageId"] for page in inbox.read(sqs, box.queue_url)}, "drained means deleted"
    finally:
        cloudwatch.set_alarm_state(AlarmName=pager, StateValue=before, StateReason="inbox test over")
        inbox.remove(sqs, sns, box)
    assert remaining_resources(inbox.queue_name(name)) == []
