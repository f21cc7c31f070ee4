"""The local inbox: subscribed to the alarm topic, read without losing a message, and each notification
printed as CloudWatch's email reads.

The notification bodies have AWS's shapes ("Schema of Amazon SNS notifications when alarms change
state" in the CloudWatch user guide): a metric alarm's with its Trigger, a composite's with its
AlarmRule and TriggeringChildren (as AWS sent one for a composite in us-east-1), and LocalStack's
own (``create_message_response_update_state_sns``: millisecond ``Z`` timestamps, the region as "Us
east 1"), which is what ``make inbox`` reads locally.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stream_pipeline_local import inbox, localstack

TOPIC = "arn:aws:sns:us-east-1:000000000000:alleycat-alarms"

METRIC_ALARM = {
    "AlarmName": "alleycat-records-failed",
    "AlarmDescription": "The handler reported records failed.\nWhat to do: read the failed record's log line.",
    "AWSAccountId": "123456789012",
    "AlarmConfigurationUpdatedTimestamp": "2025-11-30T21:04:11.112+0000",
    "NewStateValue": "ALARM",
    "NewStateReason": (
        "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (01/12/25 08:19:00)] was greater than the "
        "threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
    ),
    "StateChangeTime": "2025-12-01T08:20:01.640+0000",
    "Region": "US East (N. Virginia)",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alleycat-records-failed",
    "OldStateValue": "OK",
    "OKActions": [],
    "AlarmActions": [],
    "InsufficientDataActions": [],
    "Trigger": {
        "MetricName": "RecordsFailed",
        "Namespace": "StreamPipeline",
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [{"value": "alleycat", "name": "service"}, {"value": "kinesis", "name": "SourceType"}],
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0.0,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    },
}

COMPOSITE_ALARM = {
    "AlarmName": "alleycat-critical",
    "AlarmDescription": "Records of the alleycat pipeline are at risk or lost.",
    "AWSAccountId": "123456789012",
    "NewStateValue": "ALARM",
    "NewStateReason": (
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alleycat-on-failure-queue transitioned to ALARM at "
        "Monday 01 December, 2025 08:20:01 UTC"
    ),
    "StateChangeTime": "2025-12-01T08:20:02.105+0000",
    "Region": "US East (N. Virginia)",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alleycat-critical",
    "OldStateValue": "OK",
    "OKActions": [TOPIC],
    "AlarmActions": [TOPIC],
    "InsufficientDataActions": [],
    "AlarmRule": 'ALARM("alleycat-on-failure-queue") OR ALARM("alleycat-record-age")',
    "TriggeringChildren": [
        {
            "Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alleycat-on-failure-queue",
            "State": {"Value": "ALARM", "Timestamp": "2025-12-01T08:20:01.640+0000"},
        }
    ],
}


def envelope(
    message: dict[str, Any] | str, subject: str = "ignored", timestamp: str = "2025-12-01T08:20:02.200Z"
) -> dict[str, Any]:
    """An SNS notification envelope, as SQS receives it from a topic without raw delivery."""
    body = message if isinstance(message, str) else json.dumps(message)
    return {"Type": "Notification", "MessageId": "m", "TopicArn": TOPIC, "Subject": subject, "Message": body,
            "Timestamp": timestamp}  # fmt: skip


def test_a_metric_alarm_reads_like_cloudwatchs_email() -> None:
    text = inbox.email(envelope(METRIC_ALARM)).splitlines()
    assert text[0] == 'Subject: ALARM: "alleycat-records-failed" in US East (N. Virginia)'
    assert text[2] == (
        'You are receiving this email because your Amazon CloudWatch Alarm "alleycat-records-failed" in the '
        "US East (N. Virginia) region has entered the ALARM state, because "
        f'"{METRIC_ALARM["NewStateReason"]}" at "Monday 01 December, 2025 08:20:01 UTC".'
    )
    assert "- Name:                       alleycat-records-failed" in text
    # A description of several lines keeps its lines, under the value's column.
    description = text.index("- Description:                The handler reported records failed.")
    assert text[description + 1] == f"{'':30}What to do: read the failed record's log line."
    assert "- State Change:               OK -> ALARM" in text
    assert f"- Reason for State Change:    {METRIC_ALARM['NewStateReason']}" in text
    assert "- Timestamp:                  Monday 01 December, 2025 08:20:01 UTC" in text
    assert (
        "- The alarm is in the ALARM state when the metric is GreaterThanThreshold 0.0 for at least 1 of the "
        "last 3 period(s) of 60 seconds."
    ) in text
    assert "- Dimensions:                 [service = alleycat, SourceType = kinesis]" in text
    assert "- Statistic:                  Sum" in text
    assert "- Unit:                       not specified" in text
    assert "Triggering Children:" not in text


def test_a_composite_names_its_rule_and_the_alarm_that_triggered_it() -> None:
    text = inbox.email(envelope(COMPOSITE_ALARM)).splitlines()
    assert text[0] == 'Subject: ALARM: "alleycat-critical" in US East (N. Virginia)'
    assert "- Timestamp:                  Monday 01 December, 2025 08:20:02 UTC" in text
    rule = text.index("Alarm Rule:")
    assert text[rule + 1] == COMPOSITE_ALARM["AlarmRule"]
    children = text.index("Triggering Children:")
    assert text[children + 1 :] == ["- alleycat-on-failure-queue: ALARM at Monday 01 December, 2025 08:20:01 UTC"]
    assert "Monitored Metric:" not in text


def test_localstacks_own_message_gets_the_region_name_aws_would_print() -> None:
    """LocalStack's subject says "in us-east-1" and its Region "Us east 1"; the email names the region."""
    local = {**COMPOSITE_ALARM, "Region": "Us east 1", "StateChangeTime": "2026-12-01T08:34:49.512Z"}
    local["AlarmArn"] = "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:alleycat-critical"
    text = inbox.email(envelope(local, subject='ALARM: "alleycat-critical" in eu-west-1')).splitlines()
    assert text[0] == 'Subject: ALARM: "alleycat-critical" in Europe (Ireland)'
    assert "- Timestamp:                  Tuesday 01 December, 2026 08:34:49 UTC" in text


def test_a_composite_set_by_hand_has_no_children_and_says_so() -> None:
    text = inbox.email(envelope({**COMPOSITE_ALARM, "TriggeringChildren": []})).splitlines()
    assert text[-1] == "- none named (the composite's state was set directly)"


def test_a_message_that_is_not_an_alarms_is_shown_as_it_came_and_bounded() -> None:
    huge = "x" * (inbox.MAX_FIELD + 500)
    text = inbox.email(envelope(huge, subject="hello from a test publish"))
    assert text.splitlines()[0] == "Subject: hello from a test publish"
    assert text.endswith("... (500 more characters)")
    assert len(text) < inbox.MAX_FIELD + 100


def test_an_empty_inbox_says_so() -> None:
    assert inbox.render([], "alleycat-local-inbox", drained=False) == "No notifications in alleycat-local-inbox yet."


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")


def test_the_inbox_receives_the_topic_and_reads_without_losing_a_message(aws: Any) -> None:
    sqs, sns = aws
    topic = sns.create_topic(Name="alleycat-alarms")["TopicArn"]
    box = inbox.subscribe(sqs, sns, topic, "alleycat")
    assert box.queue_url.endswith("/alleycat-local-inbox")
    attributes = sqs.get_queue_attributes(QueueUrl=box.queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["SqsManagedSseEnabled"] == "true"
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
    assert inbox.subscribe(sqs, sns, topic, "alleycat") == box, "a second make up must not subscribe twice"

    for alarm in (METRIC_ALARM, COMPOSITE_ALARM):
        sns.publish(TopicArn=topic, Subject=inbox.subject(alarm), Message=json.dumps(alarm))
    first = inbox.read(sqs, box.queue_url)
    second = inbox.read(sqs, box.queue_url)
    assert [json.loads(e["Message"])["AlarmName"] for e in first] == ["alleycat-records-failed", "alleycat-critical"]
    assert second == first, "reading must leave the notifications in the inbox"
    printed = inbox.render(first, "alleycat-local-inbox", drained=False)
    assert printed.startswith("2 notification(s) in alleycat-local-inbox, oldest first; kept in the queue")
    assert printed.count("You are receiving this email because") == 2

    assert len(inbox.read(sqs, box.queue_url, drain=True)) == 2
    assert inbox.read(sqs, box.queue_url) == []

    inbox.remove(sqs, sns, box)
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    inbox.remove(sqs, sns, box)  # already gone: no error


def test_make_up_records_the_inbox_it_subscribed_and_make_down_removes_it(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs, sns = aws
    monkeypatch.setattr(localstack, "client", {"sqs": sqs, "sns": sns}.__getitem__)
    topic = sns.create_topic(Name="alleycat-alarms")["TopicArn"]
    outputs = {"function_name": "alleycat-fn", "stream_pipeline": {"name": "alleycat", "sns_topic_arn": topic}}
    recorded = localstack.subscribe_inbox(outputs)
    assert recorded["local_inbox_queue_url"] == sqs.get_queue_url(QueueName="alleycat-local-inbox")["QueueUrl"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert recorded["local_inbox_subscription_arn"] == subscription["SubscriptionArn"]
    assert subscription["Protocol"] == "sqs"

    localstack.remove_inbox(recorded)
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_a_stack_without_an_alarm_topic_gets_no_inbox(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs, sns = aws
    monkeypatch.setattr(localstack, "client", {"sqs": sqs, "sns": sns}.__getitem__)
    outputs: dict[str, object] = {"function_name": "alleycat", "sns_topic_arn": None}
    assert localstack.subscribe_inbox(outputs) == outputs
    assert sqs.list_queues().get("QueueUrls", []) == []
