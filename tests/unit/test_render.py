"""stream-pipeline dashboard: the layout, the GetMetricData queries and the drawing, from a stubbed CloudWatch."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from stream_pipeline_ops import render

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BODY = {
    "widgets": [
        {
            "type": "alarm",
            "width": 24,
            "height": 3,
            "properties": {
                "title": "Alarms",
                "alarms": [
                    "arn:aws:cloudwatch:us-east-1:1:alarm:p-critical",
                    "arn:aws:cloudwatch:us-east-1:1:alarm:p-lambda-errors",
                ],
            },
        },
        {
            "type": "metric",
            "width": 8,
            "height": 6,
            "properties": {
                "title": "Incoming records against shard capacity",
                "period": 60,
                "stat": "Sum",
                "metrics": [["AWS/Kinesis", "IncomingRecords", "StreamName", "p"]],
                "annotations": {"horizontal": [{"label": "capacity: 2 x 1,000 records/s", "value": 120000}]},
            },
        },
        {
            "type": "metric",
            "width": 8,
            "height": 6,
            "properties": {
                "title": "Records processed and failed",
                "period": 60,
                "stat": "Sum",
                "metrics": [
                    ["StreamPipeline", "RecordsProcessed", "SourceType", "kinesis", "service", "p", {"id": "ok"}],
                    ["StreamPipeline", "RecordsFailed", "SourceType", "kinesis", "service", "p", {"id": "ko"}],
                    [
                        {
                            "expression": "100 * ok / (ok + ko)",
                            "label": "success rate (%)",
                            "id": "rate",
                            "yAxis": "right",
                        }
                    ],
                ],
            },
        },
        {
            "type": "metric",
            "width": 8,
            "height": 6,
            "properties": {
                "title": "Duration",
                "period": 60,
                "metrics": [
                    ["AWS/Lambda", "Duration", "FunctionName", "p", {"stat": "p99", "label": "p99"}],
                    ["AWS/Lambda", "Duration", "FunctionName", "p", {"stat": "Maximum", "visible": False}],
                ],
            },
        },
        {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Wraps to a new row",
                "metrics": [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "q"]],
            },
        },
    ]
}


class FakeCloudWatch:
    def __init__(self) -> None:
        self.requests: list[list[dict[str, Any]]] = []

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs["MetricDataQueries"])
        results = []
        for n, query in enumerate(kwargs["MetricDataQueries"]):
            times = [NOW - timedelta(minutes=m) for m in range(5)]
            results.append({"Id": query["Id"], "Timestamps": times, "Values": [float(n * 10 + m) for m in range(5)]})
        return {"MetricDataResults": results}

    def describe_alarms(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "MetricAlarms": [{"AlarmName": "p-lambda-errors", "StateValue": "ALARM"}],
            "CompositeAlarms": [{"AlarmName": "p-critical", "StateValue": "OK"}],
        }


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_the_grid_is_laid_out_as_cloudwatch_does() -> None:
    placed = render.layout(BODY["widgets"])
    assert [(p.x, p.y) for p in placed] == [(0, 0), (0, 3), (8, 3), (16, 3), (0, 9)]


def test_queries_carry_statistics_dimensions_and_the_math() -> None:
    ids = {q["Id"]: q for q in render.queries(BODY["widgets"][2], 2)}
    assert ids["ok"]["MetricStat"]["Stat"] == "Sum"
    assert ids["ok"]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "SourceType", "Value": "kinesis"},
        {"Name": "service", "Value": "p"},
    ]
    assert ids["rate"]["Expression"] == "100 * ok / (ok + ko)"
    duration = render.queries(BODY["widgets"][3], 3)
    assert [q["MetricStat"]["Stat"] for q in duration] == ["p99", "Maximum"]
    assert [q["ReturnData"] for q in duration] == [True, False]


def test_every_widget_is_drawn_with_its_series_and_annotations(tmp_path: Path) -> None:
    cloudwatch = FakeCloudWatch()
    out = tmp_path / "dashboard.png"
    drawn = render.render(BODY, lambda _service: cloudwatch, out, title="p: last 60 minutes", now=NOW)
    assert len(drawn.widgets) == 5
    assert drawn.widgets[0]["alarms"] == {"p-critical": "OK", "p-lambda-errors": "ALARM"}
    assert drawn.widgets[1]["annotations"] == ["capacity: 2 x 1,000 records/s"]
    assert drawn.widgets[2]["series"] == ["RecordsProcessed (Sum)", "RecordsFailed (Sum)", "success rate (%)"]
    assert drawn.widgets[3]["series"] == ["p99"]  # the hidden Maximum is queried but not drawn
    assert drawn.widgets[2]["points"] == 15
    (request,) = cloudwatch.requests  # one GetMetricData for the whole dashboard
    assert len(request) == 7
    assert png_size(out) == (1800, 905)  # 24 columns x 0.75 in, 15 rows x 0.55 in + the title, at 100 dpi


def test_the_race_report_has_its_panels() -> None:
    body = render.report_body(
        function="f", stream="s", namespace="N", service="f", source="kinesis", alarm_arns=["arn:a"]
    )
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert titles[0].startswith("Records per 60 s: put into the stream vs processed")
    assert titles[-1] == "Alarm states"
    metrics = [m[1] for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    assert {"IncomingRecords", "RecordsProcessed", "RecordsFailed", "ProcessingLatency", "SinkWriteRequests"} <= set(
        metrics
    )


class NoMathCloudWatch(FakeCloudWatch):
    """LocalStack refuses a GetMetricData request with an expression or a percentile in it."""

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        queries = kwargs["MetricDataQueries"]
        if any("Expression" in q or q["MetricStat"]["Stat"].startswith("p") for q in queries):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "InternalError", "Message": "'MetricStat'"}}, "GetMetricData")
        return super().get_metric_data(**kwargs)


def test_an_endpoint_without_metric_math_still_draws_the_metrics(tmp_path: Path) -> None:
    cloudwatch = NoMathCloudWatch()
    drawn = render.render(BODY, lambda _service: cloudwatch, tmp_path / "d.png", title="t", now=NOW)
    assert drawn.widgets[2]["series"][2] == "success rate (%) (not evaluated by this endpoint)"
    assert drawn.widgets[2]["points"] == 10  # the two metrics, five points each
    assert drawn.widgets[3]["series"] == ["p99 (not evaluated by this endpoint)"]
    assert len(cloudwatch.requests) == 5  # each metric alone: 7 queries, less the expression and the p99
