"""``stream-pipeline dashboard`` and ``report``: a CloudWatch dashboard drawn to one PNG, locally.

The dashboard's JSON (from GetDashboard, or a file such as the module's ``dashboard_body``) is
laid out on CloudWatch's 24-column grid; every metric widget's metrics, statistics and metric-math
expressions become GetMetricData queries (CloudWatch evaluates the math), and matplotlib draws the
series, the horizontal annotations (capacity, timeout) and an alarm widget's states. The same code
works against a real account and against LocalStack.

The console scopes a query id to its widget, so two widgets may both say ``cw``; GetMetricData
wants each ``Id`` unique within one call. Every query of widget *i* is therefore sent as
``w{i}_{id}`` and every expression of that widget is rewritten to name its own widget's ids, so the
whole dashboard still goes in as few calls as the 500-query limit allows, a widget never split
across two of them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from stream_pipeline_ops.load import KPL_NAMESPACE

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

GRID_COLUMNS: Final = 24
INCH_PER_COLUMN: Final = 0.75
INCH_PER_ROW: Final = 0.55
MAX_QUERIES: Final = 500
STATE_COLOURS: Final = {"ALARM": "#d13212", "OK": "#1d8102", "INSUFFICIENT_DATA": "#879596"}
MAX_ID_LENGTH: Final = 255
VALID_ID: Final = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
# A metric-math expression as tokens: string literals (SEARCH's query, never rewritten), numbers (so
# the `e3` of `1e3` is not an id), then names; a name followed by "(" is a function (PERIOD, FILL).
EXPRESSION_TOKEN: Final = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"""
    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<call>\s*\()?"""
)


@dataclass
class Placed:
    widget: dict[str, Any]
    x: int
    y: int
    width: int
    height: int


@dataclass
class Rendered:
    """What was drawn, for tests and for the command's summary line."""

    widgets: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # what could not be asked, or why the endpoint refused


def layout(widgets: list[dict[str, Any]]) -> list[Placed]:
    """CloudWatch's grid: explicit x/y where given, else left to right, a new row when full."""
    placed: list[Placed] = []
    x = y = row_bottom = 0
    for widget in widgets:
        width, height = int(widget.get("width", 6)), int(widget.get("height", 6))
        if "x" in widget and "y" in widget:
            px, py = int(widget["x"]), int(widget["y"])
        else:
            if x + width > GRID_COLUMNS:
                x, y = 0, row_bottom
            px, py = x, y
            x += width
        row_bottom = max(row_bottom, py + height)
        placed.append(Placed(widget, px, py, width, height))
    return placed


def request_id(index: int, query_id: str) -> str:
    """The request-unique Id of a widget's query: ``w{index}_{id}`` (ids start lower case, so it never
    collides with the ``w{index}__{n}`` given to a metric without an id)."""
    return f"w{index}_{query_id}"


def rewrite(expression: str, ids: dict[str, str]) -> str:
    """The expression with each whole identifier that is one of its widget's ids renamed; function
    names (a name followed by "("), numbers and string literals are kept as they are."""

    def rename(match: re.Match[str]) -> str:
        name = match.group("name")
        if name and not match.group("call") and name in ids:
            return ids[name]
        return match.group(0)

    return EXPRESSION_TOKEN.sub(rename, expression)


def queries(widget: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """GetMetricData queries for one metric widget: MetricStat per metric, Expression per math line,
    every Id unique in the request and every expression naming its own widget's ids."""
    props = widget.get("properties", {})
    lines = props.get("metrics", [])
    options_of = [line[-1] if line and isinstance(line[-1], dict) else {} for line in lines]
    ids: dict[str, str] = {}
    for n, options in enumerate(options_of):
        own = str(options.get("id") or "")
        named = request_id(index, own) if own else ""
        # An id the console could not have accepted cannot be referenced either: a fresh one.
        ids[own or f"#{n}"] = named if VALID_ID.match(named) and len(named) <= MAX_ID_LENGTH else f"w{index}__{n}"
    found: list[dict[str, Any]] = []
    for n, (line, options) in enumerate(zip(lines, options_of, strict=True)):
        parts = line[:-1] if options else line
        own = str(options.get("id") or "")
        query_id = ids[own or f"#{n}"]
        label = options.get("label")
        if "expression" in options:
            expression = str(options["expression"])
            if not expression.lstrip().upper().startswith("SELECT"):  # Metrics Insights names no ids
                expression = rewrite(expression, {k: v for k, v in ids.items() if not k.startswith("#")})
            found.append(
                {
                    "Id": query_id,
                    "Expression": expression,
                    "Label": label or options["expression"],
                    "ReturnData": options.get("visible", True),
                    "_yaxis": options.get("yAxis", "left"),
                }
            )
            continue
        namespace, name, *dims = parts
        stat = options.get("stat") or props.get("stat") or "Average"
        found.append(
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": dims[i], "Value": dims[i + 1]} for i in range(0, len(dims) - 1, 2)],
                    },
                    "Period": int(options.get("period") or props.get("period") or 300),
                    "Stat": stat,
                },
                "Label": label or f"{name} ({stat})",
                "ReturnData": options.get("visible", True),
                "_yaxis": options.get("yAxis", "left"),
            }
        )
    return found


def calls_metrics(widget_queries: list[dict[str, Any]]) -> bool:
    """Whether an expression uses METRICS(), which takes every metric *of the request*: such a
    widget is asked alone, or it would take the other widgets' metrics too."""
    for query in widget_queries:
        for match in EXPRESSION_TOKEN.finditer(query.get("Expression", "")):
            if match.group("name") == "METRICS" and match.group("call"):
                return True
    return False


def requests(by_widget: dict[int, list[dict[str, Any]]], notes: list[str] | None = None) -> list[list[dict[str, Any]]]:
    """The GetMetricData calls for a dashboard: whole widgets packed into calls of at most 500
    queries (an expression and the metrics it names always travel together), a widget using
    METRICS() alone, and a widget with nothing to draw (every query hidden) left out. A widget of
    more than 500 queries cannot be asked at all: it is left out too, and ``notes`` says so."""
    calls: list[list[dict[str, Any]]] = []
    shared: list[dict[str, Any]] = []
    for index, widget_queries in by_widget.items():
        if not any(q.get("ReturnData", True) for q in widget_queries):
            continue
        if len(widget_queries) > MAX_QUERIES:
            if notes is not None:
                notes.append(
                    f"Widget {index} has {len(widget_queries)} metrics and expressions, more than the "
                    f"{MAX_QUERIES} one GetMetricData call takes: it is drawn empty."
                )
            continue
        if calls_metrics(widget_queries):
            calls.append(list(widget_queries))
            continue
        if len(shared) + len(widget_queries) > MAX_QUERIES:
            calls.append(shared)
            shared = []
        shared.extend(widget_queries)
    if shared:
        calls.append(shared)
    return calls


def fetch(
    cloudwatch: Any, batch: list[dict[str, Any]], start: datetime, end: datetime, refusals: list[str] | None = None
) -> dict[str, tuple[list[datetime], list[float]]]:
    """Series by query id, from one GetMetricData request (paginated). An endpoint that cannot
    evaluate part of it (LocalStack refuses metric math and percentiles) refuses the whole request:
    then each metric that is drawn is asked alone, and what it cannot answer is drawn as not
    evaluated. The refusal's message goes to ``refusals``, so a refusal is never silent."""
    try:
        return _fetch(cloudwatch, batch, start, end)
    except ClientError as exc:
        if refusals is not None:
            refusals.append(str(exc.response.get("Error", {}).get("Message") or exc))
        series: dict[str, tuple[list[datetime], list[float]]] = {}
        for query in batch:
            if "Expression" in query:
                query["Label"] = f"{query['Label']} (not evaluated by this endpoint)"
                continue
            if not query.get("ReturnData", True):
                continue  # only an input of an expression, which is not evaluated alone
            try:
                series.update(_fetch(cloudwatch, [query], start, end))
            except ClientError:
                query["Label"] = f"{query['Label']} (not evaluated by this endpoint)"
        return series


def _fetch(
    cloudwatch: Any, batch: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, tuple[list[datetime], list[float]]]:
    series: dict[str, tuple[list[datetime], list[float]]] = {}
    clean = [{k: v for k, v in q.items() if not k.startswith("_")} for q in batch]
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "MetricDataQueries": clean,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        if token:
            kwargs["NextToken"] = token
        page = cloudwatch.get_metric_data(**kwargs)
        for result in page.get("MetricDataResults", []):
            times, values = series.setdefault(result["Id"], ([], []))
            times.extend(result.get("Timestamps", []))
            values.extend(float(v) for v in result.get("Values", []))
        token = page.get("NextToken")
        if not token:
            break
    return series


def _matplotlib() -> tuple[Any, Any]:
    """pyplot and matplotlib.dates, imported at the first drawing: the stream-pipeline commands that
    draw nothing (doctor, redrive, load, plan) never pay matplotlib's import (~0.65 s of 1.3 s)."""
    import matplotlib as mpl  # noqa: PLC0415 - lazy on purpose, see the docstring

    mpl.use("Agg")  # no screen: draw to files
    import matplotlib.dates as mdates  # noqa: PLC0415
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt, mdates


def one_consumer(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The dashboard for one consumer of several: the alarm and stream widgets (before the first row
    header) and that consumer's row, from its header (a text widget ``### Consumer `KEY` ...``) to the
    next one. A body without row headers is returned as it is."""
    widgets = body.get("widgets", [])
    kept, inside, headers = [], True, 0
    for widget in widgets:
        if widget.get("type") == "text" and str(widget.get("properties", {}).get("markdown", "")).startswith(
            "### Consumer `"
        ):
            headers += 1
            inside = str(widget["properties"]["markdown"]).startswith(f"### Consumer `{key}`")
        if inside:
            kept.append(widget)
    return {**body, "widgets": kept} if headers else body


def render(
    body: dict[str, Any],
    client: Callable[[str], Any],
    out: Path,
    *,
    title: str,
    minutes: int = 60,
    now: datetime | None = None,
) -> Rendered:
    end = now or datetime.now(tz=UTC)
    start = end - timedelta(minutes=minutes)
    placed = layout(body.get("widgets", []))
    metric_queries = {i: queries(p.widget, i) for i, p in enumerate(placed) if p.widget.get("type") == "metric"}
    rendered = Rendered()
    series: dict[str, tuple[list[datetime], list[float]]] = {}
    for call in requests(metric_queries, rendered.refusals):
        series.update(fetch(client("cloudwatch"), call, start, end, rendered.refusals))

    plt, mdates = _matplotlib()
    rows = max((p.y + p.height for p in placed), default=1)
    figure = plt.figure(figsize=(GRID_COLUMNS * INCH_PER_COLUMN, rows * INCH_PER_ROW + 0.8), dpi=100)
    figure.suptitle(title, fontsize=14, fontweight="bold")
    top = 1 - 0.8 / (rows * INCH_PER_ROW + 0.8)
    for i, place in enumerate(placed):
        left, width = place.x / GRID_COLUMNS, place.width / GRID_COLUMNS
        bottom = top * (1 - (place.y + place.height) / rows)
        height = top * place.height / rows
        axes = figure.add_axes((left + 0.09 * width, bottom + 0.12 * height, width * 0.82, height * 0.72))
        if place.widget.get("type") == "alarm":
            rendered.widgets.append(draw_alarms(axes, place.widget, client))
        elif place.widget.get("type") == "text":
            rendered.widgets.append(draw_text(axes, place.widget))
        else:
            rendered.widgets.append(draw_metrics(axes, place.widget, metric_queries.get(i, []), series, mdates))
            # The whole window, data or not: the time axis reads the same on every widget.
            window = mdates.date2num([start, end])
            axes.set_xlim(float(window[0]), float(window[1]))
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return rendered


def draw_metrics(
    axes: Any,
    widget: dict[str, Any],
    wanted: list[dict[str, Any]],
    series: dict[str, tuple[list[datetime], list[float]]],
    mdates: Any,
) -> dict[str, Any]:
    props = widget.get("properties", {})
    axes.set_title(props.get("title", ""), fontsize=9, loc="left")
    right = None
    drawn: list[str] = []
    for query in wanted:
        if not query.get("ReturnData", True):
            continue
        colour = f"C{len(drawn)}"  # one colour per series, across both y axes
        times, values = series.get(query["Id"], ([], []))
        target = axes
        if query.get("_yaxis") == "right":
            right = right or axes.twinx()
            target = right
        if times:
            order = sorted(range(len(times)), key=times.__getitem__)
            target.plot(
                [times[k] for k in order],
                [values[k] for k in order],
                color=colour,
                marker=".",
                markersize=3,
                linewidth=1.2,
                label=query["Label"],
            )
        else:
            target.plot([], [], color=colour, label=f"{query['Label']} (no data)")
        drawn.append(query["Label"])
    lines = [a for a in props.get("annotations", {}).get("horizontal", []) if isinstance(a.get("value"), int | float)]
    for line in lines:
        axes.axhline(line["value"], color="#d13212", linestyle="--", linewidth=1)
        axes.annotate(
            line.get("label", ""),
            xy=(0.01, line["value"]),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            color="#d13212",
            va="bottom",
        )
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.tick_params(labelsize=7)
    if right is not None:
        right.tick_params(labelsize=7)
        if not any(len(line.get_xdata()) for line in right.get_lines()):  # nothing on it: no empty scale
            right.set_yticks([])
    handles = [h for ax in (axes, right) if ax is not None for h in ax.get_legend_handles_labels()[0]]
    labels = [lab for ax in (axes, right) if ax is not None for lab in ax.get_legend_handles_labels()[1]]
    if handles:
        axes.legend(handles, labels, fontsize=6, loc="upper left", framealpha=0.6)
    axes.grid(visible=True, alpha=0.3)
    return {
        "title": props.get("title", ""),
        "series": drawn,
        "annotations": [a.get("label", "") for a in lines],
        "points": sum(len(series.get(q["Id"], ([], []))[0]) for q in wanted),
    }


def draw_text(axes: Any, widget: dict[str, Any]) -> dict[str, Any]:
    """A text widget (the dashboard's row header for each consumer): its Markdown as plain text, the
    heading marks and code ticks taken out (matplotlib draws no Markdown)."""
    markdown = str(widget.get("properties", {}).get("markdown", ""))
    text = " ".join(line.lstrip("#").strip() for line in markdown.splitlines() if line.strip()).replace("`", "")
    axes.set_axis_off()
    axes.text(0, 0.5, text, fontsize=10, fontweight="bold", va="center", ha="left", transform=axes.transAxes)
    return {"title": "", "text": text}


def draw_alarms(axes: Any, widget: dict[str, Any], client: Callable[[str], Any]) -> dict[str, Any]:
    props = widget.get("properties", {})
    names = [arn.rsplit(":", 1)[-1] for arn in props.get("alarms", [])]
    states: dict[str, str] = {}
    cloudwatch = client("cloudwatch")
    for offset in range(0, len(names), 100):
        found = cloudwatch.describe_alarms(
            AlarmNames=names[offset : offset + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for alarm in found.get("MetricAlarms", []) + found.get("CompositeAlarms", []):
            states[alarm["AlarmName"]] = alarm["StateValue"]
    axes.set_axis_off()
    axes.set_title(
        f"{props.get('title', 'Alarms')}   (green OK, red ALARM, grey INSUFFICIENT_DATA)", fontsize=9, loc="left"
    )
    columns = 4
    per_column = max(1, math.ceil(len(names) / columns))
    for n, name in enumerate(names):
        state = states.get(name, "INSUFFICIENT_DATA")
        axes.text(
            (n // per_column) / columns,
            1 - (n % per_column + 1) / (per_column + 1),
            f"\u25cf {name}",
            color=STATE_COLOURS.get(state, "#879596"),
            fontsize=7,
            transform=axes.transAxes,
        )
    return {"title": props.get("title", "Alarms"), "alarms": {n: states.get(n, "INSUFFICIENT_DATA") for n in names}}


def report_body(
    *,
    function: str,
    stream: str | None,
    namespace: str,
    service: str,
    source: str,
    alarm_arns: list[str],
    period: int = 60,
) -> dict[str, Any]:
    """The race report: records put against processed, latency percentiles, sink writes, failures, alarms."""
    dims = ["SourceType", source, "service", service]
    # What was put: the producer metrics `stream-pipeline load` publishes as the KPL does (user records,
    # and the Kinesis records that carried them), and the stream's own IncomingRecords (all producers;
    # AWS publishes it, LocalStack does not). What was processed: the handler's counts of the same two.
    put = (
        [
            [KPL_NAMESPACE, "UserRecordsPut", "StreamName", stream, {"label": "user records put (KPL)"}],
            [KPL_NAMESPACE, "KinesisRecordsPut", "StreamName", stream, {"label": "Kinesis records put (KPL)"}],
            ["AWS/Kinesis", "IncomingRecords", "StreamName", stream, {"label": "IncomingRecords (the stream)"}],
        ]
        if stream
        else []
    )
    processed = (
        [
            [namespace, "UserRecords", *dims, {"label": "user records processed"}],
            [namespace, "RecordsProcessed", *dims, {"label": "Kinesis records processed"}],
        ]
        if source == "kinesis"
        else [[namespace, "RecordsProcessed", *dims, {"label": "records processed"}]]
    )
    return {
        "widgets": [
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": f"Records per {period} s: put into the stream vs processed by the handler",
                    "period": period,
                    "stat": "Sum",
                    "metrics": [
                        *put,
                        *processed,
                        [namespace, "RecordsFailed", *dims, {"label": "records failed"}],
                    ],
                },
            },
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": "Processing latency, arrival to processed (ms)",
                    "period": period,
                    "metrics": [
                        [namespace, "ProcessingLatency", *dims, {"stat": s, "label": s}]
                        for s in ("p50", "p99", "Maximum")
                    ],
                },
            },
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": f"Sink writes and throttles per {period} s",
                    "period": period,
                    "stat": "Sum",
                    "metrics": [
                        [namespace, "SinkWriteRequests", *dims, {"label": "sink write requests"}],
                        [namespace, "SinkThrottles", *dims, {"label": "sink throttles"}],
                    ],
                },
            },
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": "Lambda invocations and iterator age (ms)",
                    "period": period,
                    "metrics": [
                        [
                            "AWS/Lambda",
                            "Invocations",
                            "FunctionName",
                            function,
                            {"stat": "Sum", "label": "invocations"},
                        ],
                        [
                            "AWS/Lambda",
                            "IteratorAge",
                            "FunctionName",
                            function,
                            {"stat": "Maximum", "label": "iterator age (max)", "yAxis": "right"},
                        ],
                    ],
                },
            },
            *(
                [
                    {
                        "type": "alarm",
                        "width": 24,
                        "height": 3,
                        "properties": {"title": "Alarm states", "alarms": alarm_arns},
                    }
                ]
                if alarm_arns
                else []
            ),
        ]
    }
