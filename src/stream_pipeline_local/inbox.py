"""The local inbox: an SQS queue subscribed to the stack's alarm topic, read as an operator reads the
email CloudWatch sends (``make inbox``).

In AWS, ``alarms.email_addresses`` subscribes people to the topic and CloudWatch's notifications
arrive as email. LocalStack sends no email, and a topic nobody receives is the doctor's "missing
alerts" finding, so ``make up`` subscribes ``<name>-local-inbox`` (encrypted with SSE-SQS; its
policy lets only that topic send) and ``make down`` removes it. :func:`email` renders one
notification like CloudWatch's email: the subject line, then the alarm's name, description, state
change and reason, the timestamp, and the metric and threshold (a metric alarm) or the rule and the
triggering alarms (a composite). The message shapes are AWS's "Schema of Amazon SNS notifications
when alarms change state", which LocalStack builds in ``create_message_response_update_state_sns``
and ``create_message_response_update_composite_alarm_state_sns`` (its subject names the region by
its code; ours by its name, as AWS does).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final

import botocore.loaders

MAX_FIELD: Final = 2048
"""Longest text printed for one field (CloudWatch caps a description at 1,024 characters and a reason
at 1,023); anything longer is cut, so one odd message cannot flood the terminal."""
VISIBILITY_S: Final = 30
"""How long a read keeps the messages it has seen out of sight, so that one read sees each message once."""


def queue_name(stack_name: str) -> str:
    return f"{stack_name}-local-inbox"


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    """Only the stack's topic may send to the inbox (least privilege; LocalStack does not enforce it, AWS would)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AlarmTopicSends",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


@dataclass(frozen=True)
class Inbox:
    queue_url: str
    subscription_arn: str


def subscribe(sqs: Any, sns: Any, topic_arn: str, stack_name: str) -> Inbox:
    """Create (or find) the inbox queue and subscribe it to the topic; both calls are idempotent."""
    url = sqs.create_queue(QueueName=queue_name(stack_name), Attributes={"SqsManagedSseEnabled": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": queue_policy(arn, topic_arn)})
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)
    return Inbox(url, subscription["SubscriptionArn"])


def remove(sqs: Any, sns: Any, inbox: Inbox) -> None:
    """Unsubscribe and delete the queue; what is already gone is no error."""
    with contextlib.suppress(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=inbox.subscription_arn)
    with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=inbox.queue_url)


def read(sqs: Any, queue_url: str, *, drain: bool = False) -> list[dict[str, Any]]:
    """Every message body in the inbox (SNS envelopes), oldest first. The messages stay in the queue
    (made visible again at once) unless ``drain``, which deletes them."""
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    while True:
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=VISIBILITY_S, WaitTimeSeconds=0
        ).get("Messages", [])
        if not received:
            break
        for message in received:
            handles.append(message["ReceiptHandle"])
            seen.setdefault(message["MessageId"], _envelope(message["Body"]))
    for start in range(0, len(handles), 10):
        entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[start : start + 10])]
        if drain:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        else:
            sqs.change_message_visibility_batch(
                QueueUrl=queue_url, Entries=[{**e, "VisibilityTimeout": 0} for e in entries]
            )
    return sorted(seen.values(), key=lambda envelope: str(envelope.get("Timestamp", "")))


def _envelope(body: str) -> dict[str, Any]:
    """The SNS envelope of a queue message; a body that is not one is shown as it is."""
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"Message": body}


# ---------------------------------------------------------------- rendering
@cache
def _region_names() -> dict[str, str]:
    """Region code -> the name AWS prints ("US East (N. Virginia)"), from botocore's endpoint data."""
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return {
        code: region["description"]
        for partition in endpoints["partitions"]
        for code, region in partition["regions"].items()
        if "description" in region
    }


def region_name(alarm: dict[str, Any]) -> str:
    parts = str(alarm.get("AlarmArn", "")).split(":")
    code = parts[3] if len(parts) > 3 else ""
    return _region_names().get(code) or str(alarm.get("Region") or code or "an unknown region")


def _bounded(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_FIELD else text[:MAX_FIELD] + f"... ({len(text) - MAX_FIELD} more characters)"


def when(value: object) -> str:
    """A notification timestamp as CloudWatch's email prints it: "Monday 01 December, 2025 08:20:01 UTC"."""
    try:
        moment = datetime.fromisoformat(str(value)).astimezone(UTC)
    except ValueError:
        return _bounded(value)
    return moment.strftime("%A %d %B, %Y %H:%M:%S UTC")


def subject(alarm: dict[str, Any]) -> str:
    return f'{alarm.get("NewStateValue", "?")}: "{_bounded(alarm.get("AlarmName", "?"))}" in {region_name(alarm)}'


def _detail(label: str, value: object) -> list[str]:
    """One "- Label: value" line; a value of several lines continues under the value's column."""
    lines = _bounded(value).splitlines() or [""]
    first = f"- {label + ':':<28}{lines[0]}".rstrip()
    return [first, *(f"{'':<30}{line}".rstrip() for line in lines[1:])]


def _alarm_name(arn: object) -> str:
    return str(arn).split(":alarm:", 1)[-1]


def _metric_sections(trigger: dict[str, Any]) -> list[str]:
    periods = trigger.get("EvaluationPeriods", "?")
    needed = trigger.get("DatapointsToAlarm") or periods
    statistic = trigger.get("Statistic") or trigger.get("ExtendedStatistic") or "?"
    dimensions = trigger.get("Dimensions") or []
    named = ", ".join(f"{d.get('name')} = {d.get('value')}" for d in dimensions if isinstance(d, dict))
    return [
        "",
        "Threshold:",
        (
            f"- The alarm is in the ALARM state when the metric is {trigger.get('ComparisonOperator', '?')} "
            f"{trigger.get('Threshold', '?')} for at least {needed} of the last {periods} period(s) of "
            f"{trigger.get('Period', '?')} seconds."
        ),
        "",
        "Monitored Metric:",
        *_detail("MetricNamespace", trigger.get("Namespace")),
        *_detail("MetricName", trigger.get("MetricName")),
        *_detail("Dimensions", f"[{named}]"),
        *_detail("Period", f"{trigger.get('Period', '?')} seconds"),
        *_detail("Statistic", str(statistic).title() if str(statistic).isupper() else statistic),
        *_detail("Unit", trigger.get("Unit") or "not specified"),
        *_detail("TreatMissingData", trigger.get("TreatMissingData") or "missing"),
    ]


def _composite_sections(alarm: dict[str, Any]) -> list[str]:
    lines = ["", "Alarm Rule:", _bounded(alarm.get("AlarmRule")), "", "Triggering Children:"]
    children = alarm.get("TriggeringChildren") or []
    for child in children:
        if isinstance(child, dict):
            state = child.get("State") or {}
            lines.append(
                f"- {_alarm_name(child.get('Arn'))}: {state.get('Value', '?')} at {when(state.get('Timestamp'))}"
            )
        else:
            lines.append(f"- {_alarm_name(child)}")
    if not children:
        lines.append("- none named (the composite's state was set directly)")
    return lines


def email(envelope: dict[str, Any]) -> str:
    """One notification as CloudWatch's email shows it; a message that is not an alarm's, as it came."""
    try:
        alarm = json.loads(envelope.get("Message", ""))
    except (TypeError, ValueError):
        alarm = None
    if not isinstance(alarm, dict) or "AlarmName" not in alarm:
        return "\n".join(
            [f"Subject: {_bounded(envelope.get('Subject') or '(none)')}", "", _bounded(envelope.get("Message"))]
        )
    name, region, state = _bounded(alarm["AlarmName"]), region_name(alarm), alarm.get("NewStateValue", "?")
    lines = [
        f"Subject: {subject(alarm)}",
        "",
        (
            f'You are receiving this email because your Amazon CloudWatch Alarm "{name}" in the {region} region '
            f'has entered the {state} state, because "{_bounded(alarm.get("NewStateReason"))}" at '
            f'"{when(alarm.get("StateChangeTime"))}".'
        ),
        "",
        "Alarm Details:",
        *_detail("Name", name),
        *_detail("Description", alarm.get("AlarmDescription") or ""),
        *_detail("State Change", f"{alarm.get('OldStateValue', '?')} -> {state}"),
        *_detail("Reason for State Change", alarm.get("NewStateReason")),
        *_detail("Timestamp", when(alarm.get("StateChangeTime"))),
        *_detail("AWS Account", alarm.get("AWSAccountId")),
        *_detail("Alarm Arn", alarm.get("AlarmArn")),
    ]
    if "AlarmRule" in alarm or "TriggeringChildren" in alarm:
        lines += _composite_sections(alarm)
    elif isinstance(alarm.get("Trigger"), dict) and alarm["Trigger"].get("MetricName"):
        lines += _metric_sections(alarm["Trigger"])
    return "\n".join(lines)


def render(envelopes: list[dict[str, Any]], queue: str, *, drained: bool) -> str:
    """Every notification, oldest first, under one line that says how many and whether they are kept."""
    if not envelopes:
        return f"No notifications in {queue} yet."
    kept = "deleted from the queue (--drain)" if drained else "kept in the queue (make inbox DRAIN=1 deletes them)"
    rule = "-" * 72
    parts = [f"{len(envelopes)} notification(s) in {queue}, oldest first; {kept}."]
    for envelope in envelopes:
        parts += [rule, email(envelope)]
    return "\n".join(parts)
