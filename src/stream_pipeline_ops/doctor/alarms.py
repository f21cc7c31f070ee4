"""The alarms and the logs: alarms in ALARM, a topic nobody confirmed (the workshop's "missing
alerts"), and a log group that keeps everything forever."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stream_pipeline_ops.doctor.report import Severity

if TYPE_CHECKING:
    from stream_pipeline_ops.doctor.context import Context
    from stream_pipeline_ops.doctor.reader import Reader


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
    composites = found.get("CompositeAlarms", [])
    firing = [a["AlarmName"] for a in found.get("MetricAlarms", []) if a.get("StateValue") == "ALARM"]
    critical = any(c["AlarmName"] == f"{name}-critical" and c.get("StateValue") == "ALARM" for c in composites)
    if firing:
        read.report.add(
            Severity.CRITICAL if critical else Severity.WARNING,
            area,
            f"{len(firing)} alarm(s) in ALARM",
            ", ".join(sorted(firing)),
            "each alarm's description says what it means and what to do",
        )
    if topic_arn is None:
        actions = [arn for c in composites for arn in c.get("AlarmActions", [])]
        actions += [arn for a in found.get("MetricAlarms", []) for arn in a.get("AlarmActions", [])]
        topic_arn = next((arn for arn in actions if ":sns:" in arn), None)
    if topic_arn is None:
        if found.get("MetricAlarms"):
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
