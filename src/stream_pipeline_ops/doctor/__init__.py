"""``stream-pipeline doctor``: the workshop's troubleshooting table and debugging checklist, walked
by a program against the live stack.

It reads the function and its concurrency, the event source mapping (and whether it still
reads), the stream, the sink, the failure path, the alarms and their topic, and prints findings,
most severe first, each with the evidence (the numbers it read) and the fix. What it cannot read
(a missing permission, a deleted resource) is a finding too, never a stack trace; only the
function itself is indispensable. Everything is discovered from the function's name (and the
redrive ledger from the stack's outputs when given). The metrics it weighs come from one
GetMetricData call (each check asks for its own metric only when that call is refused).

Exit status: 0 healthy, 1 warnings, 2 something critical, 3 no credentials or no such function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stream_pipeline_ops.doctor import alarms, failure_path, function, mapping, sink, stream
from stream_pipeline_ops.doctor.context import Context
from stream_pipeline_ops.doctor.reader import MetricKey, Reader
from stream_pipeline_ops.doctor.report import Finding, Report, Severity

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["STREAM_AREA", "Finding", "Report", "Severity", "diagnose", "planned_metrics"]

STREAM_AREA = stream.AREA  # the findings about the stream itself, the same for each of its consumers


def diagnose(
    client: Callable[[str], Any],
    function_name: str,
    topic_arn: str | None = None,
    minutes: int = 60,
    *,
    ledger_table: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Every check, in the order they depend on each other. Raises
    :class:`~stream_pipeline_ops.stack.StackError` when there are no credentials or no such
    function (nothing else can be read then); ``ledger_table`` is the redrive ledger's name or
    ARN (the outputs' ``redrive_ledger_table_arn``), by default found by convention."""
    report = Report()
    read = Reader(client, report, minutes, now or datetime.now(tz=UTC))
    ctx = Context(ledger_table=ledger_table)
    function.check_function(read, ctx, function_name)
    mapping.check_mapping(read, ctx)
    read.prefetch(planned_metrics(ctx))
    stream.check_stream(read, ctx)
    mapping.check_polling(read, ctx)
    function.check_concurrency(read, ctx)
    function.check_function_metrics(read, ctx)
    sink.check_sink(read, ctx)
    failure_path.check_failure_path(read, ctx)
    alarms.check_alarms(read, ctx, topic_arn)
    alarms.check_logs(read, ctx)
    return report


def planned_metrics(ctx: Context) -> list[MetricKey]:
    """The metrics the checks read, known from the function and its mapping, so that one
    GetMetricData fetches them all."""
    return [
        *function.planned(ctx),
        *mapping.planned(ctx),
        *stream.planned(ctx),
        *sink.planned(ctx),
        *failure_path.planned(ctx),
    ]
