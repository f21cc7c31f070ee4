"""``stream-pipeline alert-test``: prove that a page reaches the people it is for.

The workshop's last alerting step is "Confirm subscription... Test notification: send test
message". This does it with the stack's real path: it sets one of the stack's paging alarms to
ALARM (SetAlarmState, with a reason that says it is a test), waits for the evidence that the
notification went out, and puts the alarm back. CloudWatch would re-evaluate a metric alarm within
a minute anyway; the command does not leave it to chance.

Evidence, where it can be seen:

* the alarm's history: CloudWatch records each action it ran ("Successfully executed action
  arn:aws:sns:..." or "Failed to execute action ..."), which is what a real account gives;
* an inbox: an SQS queue subscribed to the topic, read without taking anything from it (``--inbox
  URL``; `make up` subscribes one on LocalStack, and `make alert-test` reads it). The test
  notification is found by the reason it carries.

It also lists the topic's subscriptions, and says which are still waiting for someone to confirm
the email (the workshop's "missing alerts"). Exit status: 0 when the page was seen delivered, 1 when
it failed or was not seen in time, 3 when the stack or the alarm cannot be found.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_ALARM: Final = "record-age"
"""A paging alarm that pages on its own (not through a composite) and rarely fires for real."""
MARKER: Final = "stream-pipeline alert-test"


class AlertTestError(Exception):
    """The test cannot start: no such alarm, or the alarm pages nobody. The message says why."""


@dataclass
class Subscription:
    protocol: str
    endpoint: str
    confirmed: bool


@dataclass
class Result:
    alarm: str
    topic: str
    subscriptions: list[Subscription] = field(default_factory=list)
    sent_at: str = ""
    delivered: bool = False
    failed: str = ""
    evidence: list[str] = field(default_factory=list)
    restored_to: str = ""

    @property
    def pending(self) -> list[Subscription]:
        return [s for s in self.subscriptions if not s.confirmed]

    @property
    def exit_code(self) -> int:
        return 0 if self.delivered and not self.failed else 1


def paging_alarm(cloudwatch: Any, name: str) -> dict[str, Any]:
    """The metric alarm, which must notify an SNS topic on ALARM."""
    found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    if not alarms:
        raise AlertTestError(f"There is no alarm {name}: pass --alarm with one of the stack's paging alarms.")
    alarm: dict[str, Any] = alarms[0]
    if not [arn for arn in alarm.get("AlarmActions", []) if ":sns:" in arn]:
        raise AlertTestError(
            f"The alarm {name} notifies no SNS topic, so setting it pages nobody: pick one of the stack's "
            "paging alarms (the output paging_alarm_names)."
        )
    return alarm


def subscriptions(sns: Any, topic: str) -> list[Subscription]:
    found: list[Subscription] = []
    kwargs: dict[str, Any] = {"TopicArn": topic}
    while True:
        page = sns.list_subscriptions_by_topic(**kwargs)
        for item in page.get("Subscriptions", []):
            arn = str(item.get("SubscriptionArn", ""))
            found.append(
                Subscription(str(item.get("Protocol", "")), str(item.get("Endpoint", "")), arn.startswith("arn:"))
            )
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def history_evidence(cloudwatch: Any, alarm: str, topic: str, since: datetime) -> tuple[bool, str]:
    """(delivered, failure) from the alarm's Action history items since ``since``."""
    try:
        items = cloudwatch.describe_alarm_history(
            AlarmName=alarm, HistoryItemType="Action", StartDate=since, ScanBy="TimestampDescending"
        ).get("AlarmHistoryItems", [])
    except ClientError:
        return False, ""
    for item in items:
        summary = str(item.get("HistorySummary", ""))
        if topic not in summary and topic not in str(item.get("HistoryData", "")):
            continue
        if summary.startswith("Successfully executed action"):
            return True, ""
        if summary.startswith("Failed to execute action"):
            return False, summary[:300]
    return False, ""


def inbox_evidence(sqs: Any, queue_url: str, alarm: str, reason: str) -> bool:
    """Whether the inbox holds our test notification. It only looks: every message it receives is
    made visible again at once, so the inbox keeps what it holds for the people who read it."""
    seen: set[str] = set()
    for _ in range(20):
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        )
        messages = [m for m in received.get("Messages", []) if m["MessageId"] not in seen]
        if not messages:
            return False
        for message in messages:
            seen.add(message["MessageId"])
            try:
                notification = json.loads(json.loads(message["Body"]).get("Message", "{}"))
            except (ValueError, AttributeError):
                continue
            if (
                isinstance(notification, dict)
                and notification.get("AlarmName") == alarm
                and notification.get("NewStateValue") == "ALARM"
                and notification.get("NewStateReason") == reason
            ):
                return True
    return False


def run(
    client: Callable[[str], Any],
    alarm_name: str,
    *,
    inbox: str | None = None,
    timeout_s: float = 90.0,
    poll_s: float = 3.0,
    now: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    cloudwatch = client("cloudwatch")
    alarm = paging_alarm(cloudwatch, alarm_name)
    topic = next(arn for arn in alarm["AlarmActions"] if ":sns:" in arn)
    result = Result(alarm=alarm_name, topic=topic, subscriptions=subscriptions(client("sns"), topic))
    before = str(alarm.get("StateValue", "OK"))
    started = now()
    result.sent_at = started.isoformat(timespec="seconds")
    reason = f"{MARKER} at {result.sent_at}: a test page, not an incident; the alarm is put back right after."
    cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue="ALARM", StateReason=reason)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            delivered, failed = history_evidence(cloudwatch, alarm_name, topic, started)
            if delivered:
                result.evidence.append("the alarm's history: Successfully executed action " + topic)
            if inbox and inbox_evidence(client("sqs"), inbox, alarm_name, reason):
                delivered = True
                result.evidence.append(f"the inbox {inbox.rsplit('/', 1)[-1]} received the test notification")
            if delivered or failed:
                result.delivered, result.failed = delivered, failed
                break
            sleep(poll_s)
    finally:
        # Back where it was, with a reason that says why; an alarm that was firing is left firing.
        if before == "ALARM":
            result.restored_to = "ALARM (left: it was firing before the test)"
        else:
            cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue=before, StateReason=f"{MARKER}: over")
            result.restored_to = before
    return result


def report_lines(result: Result) -> list[str]:
    """What the command prints: the subscriptions, what was sent, what was seen, what to do."""
    lines = [f"topic {result.topic}: {len(result.subscriptions)} subscription(s)"]
    lines += [
        f"  {s.protocol} {s.endpoint}: {'confirmed' if s.confirmed else 'PENDING CONFIRMATION (receives nothing yet)'}"
        for s in result.subscriptions
    ]
    lines.append(
        f"set {result.alarm} to ALARM at {result.sent_at} (reason: {MARKER}); put back to {result.restored_to}"
    )
    if result.delivered:
        lines += [f"delivered: {e}" for e in result.evidence]
    elif result.failed:
        lines.append(f"FAILED: {result.failed}")
        lines.append(
            "fix: the topic's key policy must let cloudwatch.amazonaws.com use it, and its policy let the alarm publish"
        )
    else:
        lines.append(
            "not seen: no Action item in the alarm's history and no notification in an inbox within the timeout"
        )
        lines.append("fix: check the topic's policy and key; pass --inbox QUEUE_URL of a queue subscribed to the topic")
    if result.pending:
        lines.append(
            f"{len(result.pending)} subscription(s) still wait for confirmation: confirm the email sent to each"
        )
    if not [s for s in result.subscriptions if s.confirmed]:
        lines.append("nobody confirmed receives the pages: subscribe your pager or confirm an email subscription")
    return lines
