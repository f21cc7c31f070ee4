"""The alarms and the logs: alarms in ALARM, a topic nobody confirmed (the workshop's "missing
alerts"), and a log group that keeps everything forever."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from stream_pipeline_ops.doctor.report import Severity

if TYPE_CHECKING:
    from stream_pipeline_ops.doctor.context import Context
    from stream_pipeline_ops.doctor.reader import Reader


# modules/alarms names every alarm `<function>-<key>` (the stream's after the pipeline, which is the
# default consumer's function). A prefix query for `fanout-` also returns `fanout-archive-...`, the
# alarms of another consumer: only these suffixes are this consumer's.
LOSS_CLASS: Final = frozenset({
    "record-age", "consumer-stopped", "on-failure-delivered", "failure-replay-window", "dropped-events",
    "destination-delivery-failures", "lost",
})  # fmt: skip
OWN_SUFFIXES: Final = LOSS_CLASS | {
    "lambda-errors", "records-failed", "failed-invoke-events", "lambda-throttles", "lambda-duration", "iterator-age",
    "enhanced-fan-out-lag", "kinesis-subscribe-rate-exceeded", "sink-write-throttles", "on-failure-queue",
    "kinesis-write-throughput-exceeded", "kinesis-read-throughput-exceeded", "stream-silent", "failing", "behind",
}  # fmt: skip


def own(alarms: list[dict[str, Any]], function: str) -> list[dict[str, Any]]:
    return [a for a in alarms if str(a.get("AlarmName", "")).removeprefix(f"{function}-") in OWN_SUFFIXES]


def check_alarms(read: Reader, ctx: Context, topic_arn: str | None) -> None:
    area = "alarms"
    name = ctx.function_name
    found = read.call(
        area,
        "the alarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch",
        "describe_alarms",
        AlarmNamePrefix=f"{name}-",
        AlarmTypes=["MetricAlarm", "CompositeAlarm"],
    )
    if found is None:
        return
    read.report.checked.append(area)
    composites, metric_alarms = own(found.get("CompositeAlarms", []), name), own(found.get("MetricAlarms", []), name)
    firing = [str(a["AlarmName"]) for a in metric_alarms if a.get("StateValue") == "ALARM"]
    critical = any(alarm.removeprefix(f"{name}-") in LOSS_CLASS for alarm in firing) or any(
        c["AlarmName"] == f"{name}-lost" and c.get("StateValue") == "ALARM" for c in composites
    )
    if firing:
        read.report.add(
            Severity.CRITICAL if critical else Severity.WARNING,
            area,
            f"{len(firing)} alarm(s) in ALARM",
            ", ".join(sorted(firing)),
            "each alarm's description says what it means and what to do",
        )
    if topic_arn is None:
        actions = [str(arn) for c in composites for arn in c.get("AlarmActions", [])]
        actions += [str(arn) for a in metric_alarms for arn in a.get("AlarmActions", [])]
        topic_arn = next((arn for arn in actions if ":sns:" in arn), None)
    if topic_arn is None:
        if metric_alarms:
            read.report.add(
                Severity.WARNING,
                area,
                "no alarm notifies anyone",
                "no SNS topic in the alarms' actions",
                "set alarms.email_addresses or alarms.sns_topic_arn and re-apply",
            )
        return
    subscriptions = read.call(
        area,
        "the topic's subscriptions",
        "sns:ListSubscriptionsByTopic",
        "sns",
        "list_subscriptions_by_topic",
        TopicArn=topic_arn,
    )
    if subscriptions is None:
        return
    listed = subscriptions.get("Subscriptions", [])
    confirmed = [s for s in listed if s.get("SubscriptionArn", "").startswith("arn:")]
    if not confirmed:
        pending = len(listed) - len(confirmed)
        read.report.add(
            Severity.WARNING,
            area,
            'nobody receives the alarms (the workshop\'s "missing alerts")',
            f"{topic_arn}: {len(listed)} subscription(s), {pending} pending confirmation, 0 confirmed",
            "confirm the email sent to each address in alarms.email_addresses, or subscribe your pager to the topic",
        )


def check_logs(read: Reader, ctx: Context) -> None:
    group = ctx.function.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{ctx.function_name}"
    found = read.call(
        "logs", f"log group {group}", "logs:DescribeLogGroups", "logs", "describe_log_groups", logGroupNamePrefix=group
    )
    if found is None:
        return
    groups = [g for g in found.get("logGroups", []) if g.get("logGroupName") == group]
    if not groups:
        read.report.add(
            Severity.WARNING,
            "logs",
            "the function has no log group yet",
            group,
            "re-apply the module, which creates it with a retention",
        )
    elif not groups[0].get("retentionInDays"):
        read.report.add(
            Severity.WARNING,
            "logs",
            "the log group keeps logs forever (and bills for them)",
            f"{group}: no retention",
            "set function.log_retention_days and re-apply",
        )
