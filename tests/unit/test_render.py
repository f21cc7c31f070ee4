"""stream-pipeline dashboard: the layout, the GetMetricData queries and the drawing, from a stubbed CloudWatch.

The dashboards of the examples are the module's real output (tests/fixtures/dashboards, written by
tests/dashboard_bodies.py), drawn against tests/cloudwatch_stub.py, which refuses a request AWS
would refuse.
"""

from __future__ import annotations

import json
import shutil
import struct
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

import dashboard_bodies
from cloudwatch_stub import StrictCloudWatch, metric_values
from stream_pipeline_ops import render

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EXAMPLES = sorted(dashboard_bodies.VARIANTS)
FROZEN = sorted(dashboard_bodies.FROZEN)
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
    assert ids["w2_ok"]["MetricStat"]["Stat"] == "Sum"
    assert ids["w2_ok"]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "SourceType", "Value": "kinesis"},
        {"Name": "service", "Value": "p"},
    ]
    assert ids["w2_rate"]["Expression"] == "100 * w2_ok / (w2_ok + w2_ko)"
    duration = render.queries(BODY["widgets"][3], 3)
    assert [q["MetricStat"]["Stat"] for q in duration] == ["p99", "Maximum"]
    assert [q["ReturnData"] for q in duration] == [True, False]


def test_every_widget_is_drawn_with_its_series_and_annotations(tmp_path: Path) -> None:
    cloudwatch = StrictCloudWatch(alarm_states={"p-critical": "OK", "p-lambda-errors": "ALARM"})
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
    assert cloudwatch.refused == []
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
    # each drawn metric alone: 7 queries, less the expression, the p99 (refused) and the hidden Maximum
    assert len(cloudwatch.requests) == 4
    assert drawn.refusals == ["'MetricStat'"]  # said, not swallowed


def example_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((dashboard_bodies.FIXTURES / f"{name}.json").read_text())
    return body


@pytest.mark.parametrize("example", EXAMPLES + FROZEN)
def test_an_example_s_dashboard_is_one_request_aws_accepts(example: str, tmp_path: Path) -> None:
    """The bug: the DynamoDB source and the sink widgets both say cw, cr, wps and rps; sent in one
    call, AWS refused it, the fallback dropped the expressions and the capacity graphs were empty."""
    cloudwatch = StrictCloudWatch()
    drawn = render.render(example_body(example), lambda _service: cloudwatch, tmp_path / "d.png", title="t", now=NOW)
    assert cloudwatch.refused == []
    assert drawn.refusals == []
    assert len(cloudwatch.requests) == 1
    metric_widgets = [w for w in drawn.widgets if "series" in w]
    assert metric_widgets
    for widget in metric_widgets:
        assert widget["series"], widget["title"]
        assert not [s for s in widget["series"] if "not evaluated" in s or "no data" in s], widget["title"]
        assert widget["points"] > 0


@pytest.mark.parametrize("example", ["dynamodb-streams", *FROZEN])
def test_the_source_and_the_sink_capacity_widgets_each_plot_their_own_table(example: str, tmp_path: Path) -> None:
    body = example_body(example)
    cloudwatch = StrictCloudWatch()
    render.render(body, lambda _service: cloudwatch, tmp_path / "d.png", title="t", now=NOW)
    capacity = {i: w for i, w in enumerate(body["widgets"]) if "consumed" in w.get("properties", {}).get("title", "")}
    assert len(capacity) == 2  # the DynamoDB source and the sink
    per_second = {}
    for i, widget in capacity.items():
        lines = widget["properties"]["metrics"]
        (table,) = {line[3] for line in lines if line[0] == "AWS/DynamoDB"}
        (writes,) = [line[-1]["id"] for line in lines if line[1:2] == ["ConsumedWriteCapacityUnits"]]
        (rate,) = [line[-1]["id"] for line in lines if line[-1].get("expression") == f"{writes} / PERIOD({writes})"]
        stat = {
            "Metric": {
                "Namespace": "AWS/DynamoDB",
                "MetricName": "ConsumedWriteCapacityUnits",
                "Dimensions": [{"Name": "TableName", "Value": table}],
            },
            "Stat": "Sum",
        }
        # `cw / PERIOD(cw)` of this widget: its own table's writes over its 60 s period
        assert cloudwatch.answers[f"w{i}_{rate}"] == [v / 60 for v in metric_values(stat)]
        per_second[table] = cloudwatch.answers[f"w{i}_{rate}"]
    assert len(per_second) == 2
    (source, sink) = per_second.values()
    assert source != sink


def test_per_second_widgets_with_the_same_ids_are_evaluated_each_on_its_own_metric(tmp_path: Path) -> None:
    """The Kinesis capacity widgets plotted per second (`m / PERIOD(m)`) in two widgets, one id."""
    widgets = [
        {
            "type": "metric",
            "properties": {
                "title": title,
                "period": 60,
                "stat": "Sum",
                "metrics": [
                    ["AWS/Kinesis", metric, "StreamName", "s", {"id": "m", "visible": False}],
                    [{"expression": "m / PERIOD(m)", "id": "per_second", "label": f"{metric}/s"}],
                ],
            },
        }
        for title, metric in (("records/s", "IncomingRecords"), ("bytes/s", "IncomingBytes"))
    ]
    cloudwatch = StrictCloudWatch()
    drawn = render.render({"widgets": widgets}, lambda _service: cloudwatch, tmp_path / "d.png", title="t", now=NOW)
    assert cloudwatch.refused == []
    assert [w["series"] for w in drawn.widgets] == [["IncomingRecords/s"], ["IncomingBytes/s"]]
    for i, metric in enumerate(("IncomingRecords", "IncomingBytes")):
        stat = {
            "Metric": {
                "Namespace": "AWS/Kinesis",
                "MetricName": metric,
                "Dimensions": [{"Name": "StreamName", "Value": "s"}],
            },
            "Stat": "Sum",
        }
        assert cloudwatch.answers[f"w{i}_per_second"] == [v / 60 for v in metric_values(stat)]


def test_expressions_are_renamed_by_whole_identifier() -> None:
    ids = {"cw": "w3_cw", "m": "w3_m", "processed": "w3_processed", "failed": "w3_failed", "fill": "w3_fill"}
    assert render.rewrite("cw / PERIOD(cw)", ids) == "w3_cw / PERIOD(w3_cw)"
    assert render.rewrite("100 * processed / (processed + failed)", ids) == (
        "100 * w3_processed / (w3_processed + w3_failed)"
    )
    assert render.rewrite("FILL(m, 0)", ids) == "FILL(w3_m, 0)"
    assert render.rewrite("cwx + mm + cw_2 + cw", ids) == "cwx + mm + cw_2 + w3_cw"  # prefixes are other ids
    assert render.rewrite("FILL(fill, 1e3)", ids | {"e3": "w3_e3"}) == "FILL(w3_fill, 1e3)"  # function, number
    search = "SEARCH('{AWS/Lambda,FunctionName} m MetricName=\"Errors\"', 'Sum', 60)"
    assert render.rewrite(f"{search} + m", ids) == f"{search} + w3_m"  # the query string is not touched


def test_request_ids_are_valid_and_ids_the_console_would_refuse_get_fresh_ones() -> None:
    widget = {
        "type": "metric",
        "properties": {
            "metrics": [
                ["N", "A", {"id": "Upper"}],  # the console wants a lower-case first letter; ours starts with w
                ["N", "B", {"id": "bad-id"}],
                ["N", "C"],
                [{"expression": "Upper + C", "id": "sum"}],
            ]
        },
    }
    found = render.queries(widget, 7)
    assert [q["Id"] for q in found] == ["w7_Upper", "w7__1", "w7__2", "w7_sum"]
    assert found[3]["Expression"] == "w7_Upper + C"  # C is no id of this widget: left for AWS to refuse
    assert all(render.VALID_ID.match(q["Id"]) for q in found)


def wide_widget(metrics: int) -> dict[str, Any]:
    lines: list[list[Any]] = [["N", f"M{n}", "D", "v", {"id": f"m{n}", "visible": False}] for n in range(metrics)]
    lines.append([{"expression": f"m0 + m{metrics - 1}", "id": "total"}])
    return {"type": "metric", "properties": {"title": f"{metrics} metrics", "period": 60, "metrics": lines}}


def test_a_dashboard_of_more_than_500_queries_is_split_between_widgets(tmp_path: Path) -> None:
    body = {"widgets": [wide_widget(199), wide_widget(199), wide_widget(199)]}  # 3 x 200 queries
    cloudwatch = StrictCloudWatch()
    drawn = render.render(body, lambda _service: cloudwatch, tmp_path / "d.png", title="t", now=NOW)
    assert cloudwatch.refused == []
    assert [len(r) for r in cloudwatch.requests] == [400, 200]
    for request in cloudwatch.requests:  # every expression with the metrics it names
        ids = {q["Id"] for q in request}
        assert all(f"w{q['Id'][1]}_m0" in ids for q in request if "Expression" in q)
    assert [w["points"] for w in drawn.widgets] == [5, 5, 5]


def test_a_widget_using_metrics_is_asked_alone_and_a_hidden_widget_not_at_all() -> None:
    by_widget = {
        0: render.queries({"properties": {"metrics": [["N", "A", {"id": "a"}]]}}, 0),
        1: render.queries({"properties": {"metrics": [["N", "B"], [{"expression": "SUM(METRICS())"}]]}}, 1),
        2: render.queries({"properties": {"metrics": [["N", "C", {"visible": False}]]}}, 2),
        3: render.queries({"properties": {"metrics": [["N", "D"]]}}, 3),
    }
    calls = render.requests(by_widget)
    assert [[q["Id"] for q in call] for call in calls] == [["w1__0", "w1__1"], ["w0_a", "w3__0"]]


def test_a_widget_of_more_than_500_queries_is_left_out_with_a_sentence(tmp_path: Path) -> None:
    cloudwatch = StrictCloudWatch()
    body = {"widgets": [wide_widget(500), wide_widget(2)]}
    drawn = render.render(body, lambda _service: cloudwatch, tmp_path / "d.png", title="t", now=NOW)
    assert drawn.refusals == [
        "Widget 0 has 501 metrics and expressions, more than the 500 one GetMetricData call takes: it is drawn empty."
    ]
    assert [w["points"] for w in drawn.widgets] == [0, 5]
    assert cloudwatch.refused == []


QUERY = {"Id": "a", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "A"}, "Period": 60, "Stat": "Sum"}}


@pytest.mark.parametrize(
    ("queries", "refusal"),
    [
        ([QUERY, QUERY], "unique within the call"),
        ([{**QUERY, "Id": "w1-cw"}], "must start with a lower-case letter"),
        ([{**QUERY, "Id": "Cw"}], "must start with a lower-case letter"),
        ([QUERY, {"Id": "e", "Expression": "a / PERIOD(cw)"}], "unknown metric or expression id(s) ['cw']"),
        ([{**QUERY, "Id": f"q{n}"} for n in range(501)], "1 to 500 members"),
        ([{**QUERY, "ReturnData": False}], "At least one query must have ReturnData true"),
        ([QUERY, {"Id": "x", "Expression": "a + y"}, {"Id": "y", "Expression": "x"}], "cycle"),
        ([{**QUERY, "MetricStat": {**QUERY["MetricStat"], "Period": 45}}], "valid Period"),
    ],
)
def test_the_stub_refuses_what_aws_refuses(queries: list[dict[str, Any]], refusal: str) -> None:
    cloudwatch = StrictCloudWatch()
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=NOW - timedelta(hours=1), EndTime=NOW)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert refusal in raised.value.response["Error"]["Message"]


@pytest.mark.skipif(
    shutil.which("terraform") is None or dashboard_bodies.plugin_dir() is None,
    reason="needs terraform and the AWS provider mirror to regenerate the dashboard fixtures",
)
@pytest.mark.parametrize("example", EXAMPLES)
def test_the_fixtures_are_what_the_module_renders_today(example: str) -> None:
    """The fixtures must be the module's output, not a hand-written copy that drifts from it."""
    rendered = dashboard_bodies.render_fixture(example)
    committed = (dashboard_bodies.FIXTURES / f"{example}.json").read_text()
    assert rendered == committed, (
        f"tests/fixtures/dashboards/{example}.json is stale: run .venv/bin/python tests/dashboard_bodies.py"
    )


def test_a_consumer_row_header_is_drawn_as_its_text(tmp_path: Path) -> None:
    """The dashboard titles each consumer's row with a text widget: drawn as its words, not as an empty
    graph, and asking CloudWatch for nothing."""
    header = {"markdown": "### Consumer `archive`: function `a`"}
    body = {"widgets": [{"type": "text", "width": 24, "height": 1, "properties": header}]}
    cloudwatch = StrictCloudWatch()
    drawn = render.render(body, lambda _service: cloudwatch, tmp_path / "d.png", title="t", now=NOW)
    assert drawn.widgets == [{"title": "", "text": "Consumer archive: function a"}]
    assert cloudwatch.requests == []


def test_one_consumer_s_dashboard_keeps_the_stream_and_that_consumer_s_row() -> None:
    def header(key: str) -> dict[str, Any]:
        return {"type": "text", "properties": {"markdown": f"### Consumer `{key}`: function `f-{key}`"}}

    def graph(title: str) -> dict[str, Any]:
        return {"type": "metric", "properties": {"title": title, "metrics": []}}

    body = {"widgets": [graph("stream"), header("archive"), graph("archive 1"), header("default"), graph("default 1")]}
    kept = render.one_consumer(body, "default")["widgets"]
    assert [w["properties"].get("title") or w["properties"]["markdown"] for w in kept] == [
        "stream",
        "### Consumer `default`: function `f-default`",
        "default 1",
    ]
    assert render.one_consumer({"widgets": [graph("stream")]}, "default") == {"widgets": [graph("stream")]}


def test_the_race_report_draws_what_load_put_beside_what_the_handler_processed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The producer metrics `load` publishes (KinesisProducerLibrary, StreamName, per 10 s upload
    interval as `make load` sends them) and the handler's counts, in moto's CloudWatch: the report's
    first panel draws both, with the same 10 s period, and they add up to the same race."""
    import boto3
    from moto import mock_aws

    from stream_pipeline_ops import load

    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch")
        now = datetime.now(tz=UTC).replace(microsecond=0)
        start = now - timedelta(seconds=60)
        clock = iter(start.timestamp() + 10 * n for n in range(100))
        metrics = load.ProducerMetrics("alleycat", client=cloudwatch, clock=lambda: next(clock), upload_delay_s=10)
        for _ in range(4):  # four 10 s intervals of a race of 100 records/s
            metrics.observe("UserRecordsPut", 1, 1000)
            metrics.observe("KinesisRecordsPut", 1, 1000)
        metrics.flush()
        dims = [{"Name": "SourceType", "Value": "kinesis"}, {"Name": "service", "Value": "alleycat"}]
        cloudwatch.put_metric_data(Namespace="StreamPipeline", MetricData=[
            {"MetricName": name, "Dimensions": dims, "Timestamp": start + timedelta(seconds=10 * n + 5),
             "Value": 1000.0} for n in range(4) for name in ("UserRecords", "RecordsProcessed")
        ])  # fmt: skip
        body = render.report_body(function="alleycat", stream="alleycat", namespace="StreamPipeline",
                                  service="alleycat", source="kinesis", alarm_arns=[], period=10)  # fmt: skip
        drawn = render.render(body, lambda _service: cloudwatch, tmp_path / "race.png", title="t", minutes=5)
        wanted = render.queries(body["widgets"][0], 0)
        series = render.fetch(cloudwatch, wanted, now - timedelta(minutes=5), now + timedelta(seconds=10))
    totals = {q["Label"]: sum(series.get(q["Id"], ([], []))[1]) for q in wanted}
    assert totals["user records put (KPL)"] == totals["Kinesis records put (KPL)"] == 4000
    assert totals["user records processed"] == totals["Kinesis records processed"] == 4000
    first = drawn.widgets[0]
    assert first["title"] == "Records per 10 s: put into the stream vs processed by the handler"
    assert first["series"][:5] == [
        "user records put (KPL)",
        "Kinesis records put (KPL)",
        "IncomingRecords (the stream)",
        "user records processed",
        "Kinesis records processed",
    ]
    queries = {q["Label"]: q for q in render.queries(body["widgets"][0], 0)}
    put = queries["user records put (KPL)"]["MetricStat"]
    assert put["Metric"]["Namespace"] == "KinesisProducerLibrary"
    assert put["Metric"]["Dimensions"] == [{"Name": "StreamName", "Value": "alleycat"}]
    assert (put["Period"], put["Stat"]) == (10, "Sum")
    assert first["points"] >= 12  # about four 10 s points for each of the two put and two processed series
