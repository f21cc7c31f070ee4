"""The sink table: throttled writes, and consumed against provisioned write capacity."""

from __future__ import annotations

from typing import Final

from stream_pipeline_ops.doctor.context import BUSY_SHARE, Context
from stream_pipeline_ops.doctor.reader import MetricKey, Reader, metric_key, warn_on_any
from stream_pipeline_ops.doctor.report import Severity

AREA: Final = "sink"


def planned(ctx: Context) -> list[MetricKey]:
    table = ctx.sink_table
    if not table:
        return []
    return [
        metric_key("AWS/DynamoDB", name, {"TableName": table}, "Sum")
        for name in ("WriteThrottleEvents", "ConsumedWriteCapacityUnits")
    ]


def check_sink(read: Reader, ctx: Context) -> None:
    table = ctx.sink_table
    if not table:
        return
    found = read.call(
        AREA, f"sink table {table}", "dynamodb:DescribeTable", "dynamodb", "describe_table", TableName=table
    )
    if found is None:
        return
    read.report.checked.append(AREA)
    warn_on_any(
        read,
        AREA,
        "AWS/DynamoDB",
        "WriteThrottleEvents",
        {"TableName": table},
        title="the sink throttled writes",
        fix="raise its write capacity or switch it to on-demand",
    )
    provisioned = found["Table"].get("ProvisionedThroughput", {}).get("WriteCapacityUnits", 0)
    if found["Table"].get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST" and provisioned:
        per_minute = read.metric("AWS/DynamoDB", "ConsumedWriteCapacityUnits", {"TableName": table}, "Sum")
        consumed = max(per_minute, default=0.0) / 60
        if consumed > BUSY_SHARE * provisioned:
            read.report.add(
                Severity.WARNING,
                AREA,
                "the sink uses most of its write capacity",
                f"consumed {consumed:,.1f} WCU/s at peak vs {provisioned} provisioned",
                "raise write_capacity or switch to on-demand",
            )
