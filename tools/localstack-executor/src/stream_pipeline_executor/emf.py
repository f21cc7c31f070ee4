"""The EMF bridge: what CloudWatch Logs does with Embedded Metric Format lines in AWS.

In AWS, a log line such as ``{"_aws": {"CloudWatchMetrics": [...]}, "RecordsFailed": [1], ...}``
written by a Lambda function becomes metric data in CloudWatch. LocalStack does not extract
them, so without this bridge the handler's business metrics (and the handled-failure alarm on
``RecordsFailed``) never reach its CloudWatch. :func:`metric_data` turns one invocation's log
into PutMetricData requests, following the EMF specification: each directive names a
namespace, dimension sets (each dimension's value is the root member of the same name) and
metrics (each value is the root member of the metric's name: a number or a list of numbers).

Standard library only: it is unit-tested in the project's venv and runs inside LocalStack's.
Local tooling: never in the Lambda zip.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

MAX_VALUES_PER_DATUM: Final = 150
"""PutMetricData takes at most 150 values in one datum's Values list."""
MAX_DATA_PER_CALL: Final = 1000
"""PutMetricData takes at most 1,000 data in one call."""


def _numbers(value: Any) -> list[float]:
    items = value if isinstance(value, list) else [value]
    return [float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)]


def _directive_data(line: dict[str, Any], directive: dict[str, Any], when: datetime) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = []
    dimension_sets = directive.get("Dimensions") or [[]]
    for metric in directive.get("Metrics", []):
        name = metric.get("Name") if isinstance(metric, dict) else None
        values = _numbers(line.get(name)) if isinstance(name, str) else []
        if not values:
            continue
        for names in dimension_sets:
            if not all(isinstance(line.get(d), str) for d in names):
                continue  # a dimension without a string value: CloudWatch drops the set too
            dimensions = [{"Name": d, "Value": line[d]} for d in names]
            for start in range(0, len(values), MAX_VALUES_PER_DATUM):
                datum: dict[str, Any] = {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Timestamp": when,
                    "Values": values[start : start + MAX_VALUES_PER_DATUM],
                }
                if isinstance(metric.get("Unit"), str):
                    datum["Unit"] = metric["Unit"]
                data.append(datum)
    return data


def metric_data(log: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, MetricData) pairs for PutMetricData, from every EMF line of ``log``.

    Lines that are not EMF (plain text, JSON logs without ``_aws``) are ignored, as CloudWatch
    ignores them; a malformed EMF line is skipped, never an error of the invocation.
    """
    calls: list[tuple[str, list[dict[str, Any]]]] = []
    for raw in log.splitlines():
        text = raw.strip()
        if not (text.startswith("{") and '"_aws"' in text):
            continue
        try:
            line = json.loads(text)
            meta = line["_aws"]
            when = datetime.fromtimestamp(int(meta["Timestamp"]) / 1000, tz=UTC)
            directives = meta["CloudWatchMetrics"]
        except (ValueError, KeyError, TypeError):
            continue
        for directive in directives if isinstance(directives, list) else []:
            namespace = directive.get("Namespace") if isinstance(directive, dict) else None
            if not isinstance(namespace, str):
                continue
            data = _directive_data(line, directive, when)
            calls.extend(
                (namespace, data[start : start + MAX_DATA_PER_CALL]) for start in range(0, len(data), MAX_DATA_PER_CALL)
            )
    return calls
