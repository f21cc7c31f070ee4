"""stream-pipeline alert-test: a test page through the stack's real path, seen delivered, the alarm put back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from stream_pipeline_ops import alerting

TOPIC = "arn:aws:sns:us-east-1:123456789012:alleycat-alarms"
ALARM = "alleycat-record-age"


class FakeCloudWatch:
    def __init__(self, *, actions: list[str] | None = None, history: str = "", state: str = "OK") -> None:
        self.alarm = {"AlarmName": ALARM, "AlarmActions": [TOPIC] if actions is None else actions, "StateValue": state}
        self.history = history
        self.states: list[tuple[str, str]] = []

    def describe_alarms(self, **kwargs: Any) -> dict[str, Any]:
        return {"MetricAlarms": [self.alarm] if kwargs["AlarmNames"] == [ALARM] else []}

    def set_alarm_state(self, **kwargs: Any) -> None:
        self.states.append((kwargs["StateValue"], kwargs["StateReason"]))

    def describe_alarm_history(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["HistoryItemType"] == "Action"
        if not self.history or not self.states:
            return {"AlarmHistoryItems": []}
        return {"AlarmHistoryItems": [{"HistorySummary": f"{self.history} {TOPIC}", "HistoryData": "{}"}]}


class FakeSns:
    def list_subscriptions_by_topic(self, **_: Any) -> dict[str, Any]:
        return {
            "Subscriptions": [
                {"Protocol": "email", "Endpoint": "oncall@example.com", "SubscriptionArn": f"{TOPIC}:1f2e"},
                {"Protocol": "email", "Endpoint": "new@example.com", "SubscriptionArn": "PendingConfirmation"},
            ]
        }


class FakeSqs:
    """An inbox: what CloudWatch sent for the alarm's state changes, wrapped as SNS delivers it."""

    def __init__(self, cloudwatch: FakeCloudWatch, other: int = 2) -> None:
        self.cloudwatch = cloudwatch
        self.other = other
        self.deleted = 0

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["VisibilityTimeout"] == 0, "the test must not take messages out of sight"
        messages = [
            {
                "MessageId": f"other-{i}",
                "Body": json.dumps({"Message": json.dumps({"AlarmName": "x", "NewStateValue": "OK"})}),
            }
            for i in range(self.other)
        ]
        for n, (state, reason) in enumerate(self.cloudwatch.states):
            notification = {"AlarmName": ALARM, "NewStateValue": state, "NewStateReason": reason}
            messages.append({"MessageId": f"ours-{n}", "Body": json.dumps({"Message": json.dumps(notification)})})
        return {"Messages": messages}

    def delete_message(self, **_: Any) -> None:
        self.deleted += 1


def clients(cloudwatch: FakeCloudWatch, sqs: FakeSqs | None = None) -> Any:
    return {"cloudwatch": cloudwatch, "sns": FakeSns(), "sqs": sqs}.__getitem__


def now() -> datetime:
    return datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_delivered_page_is_seen_in_the_history_and_the_alarm_is_put_back() -> None:
    cloudwatch = FakeCloudWatch(history="Successfully executed action")
    result = alerting.run(clients(cloudwatch), ALARM, now=now, sleep=lambda _: None)
    assert result.delivered
    assert result.exit_code == 0
    assert [state for state, _ in cloudwatch.states] == ["ALARM", "OK"]
    assert alerting.MARKER in cloudwatch.states[0][1]
    assert [s.endpoint for s in result.pending] == ["new@example.com"]
    lines = alerting.report_lines(result)
    assert any("PENDING CONFIRMATION" in line and "new@example.com" in line for line in lines)
    assert any(line.startswith("delivered: the alarm's history") for line in lines)


def test_a_failed_action_is_a_failure_with_the_reason() -> None:
    cloudwatch = FakeCloudWatch(history="Failed to execute action")
    result = alerting.run(clients(cloudwatch), ALARM, now=now, sleep=lambda _: None)
    assert not result.delivered
    assert result.failed.startswith("Failed to execute action")
    assert result.exit_code == 1


def test_the_inbox_is_read_without_taking_anything_and_finds_our_notification_by_its_reason() -> None:
    cloudwatch = FakeCloudWatch()
    sqs = FakeSqs(cloudwatch)
    result = alerting.run(clients(cloudwatch, sqs), ALARM, inbox="https://sqs/123/inbox", now=now, sleep=lambda _: None)
    assert result.delivered
    assert sqs.deleted == 0
    assert result.evidence == ["the inbox inbox received the test notification"]


def test_nothing_seen_in_time_is_a_failure_that_says_where_to_look() -> None:
    cloudwatch = FakeCloudWatch()
    result = alerting.run(clients(cloudwatch), ALARM, timeout_s=0.05, poll_s=0.01, now=now)
    assert result.exit_code == 1
    assert any(line.startswith("not seen") for line in alerting.report_lines(result))
    assert [state for state, _ in cloudwatch.states] == ["ALARM", "OK"], "put back even when nothing was seen"


def test_an_alarm_that_was_firing_is_left_firing() -> None:
    cloudwatch = FakeCloudWatch(history="Successfully executed action", state="ALARM")
    result = alerting.run(clients(cloudwatch), ALARM, now=now, sleep=lambda _: None)
    assert [state for state, _ in cloudwatch.states] == ["ALARM"]
    assert result.restored_to.startswith("ALARM")


def test_an_alarm_that_pages_nobody_or_does_not_exist_is_refused_before_anything_is_set() -> None:
    silent = FakeCloudWatch(actions=[])
    with pytest.raises(alerting.AlertTestError, match="notifies no SNS topic"):
        alerting.run(clients(silent), ALARM, now=now)
    with pytest.raises(alerting.AlertTestError, match="There is no alarm"):
        alerting.run(clients(silent), "nosuch", now=now)
    assert silent.states == []
