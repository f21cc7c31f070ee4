"""A CloudWatch stub for the renderer's tests that refuses a GetMetricData request AWS would refuse.

What it checks, each a ``ValidationError`` ``ClientError`` as botocore raises it for AWS (the
messages are this stub's words, not AWS's):

- 1 to 500 ``MetricDataQueries`` in one call (API reference, GetMetricData / MetricDataQuery:
  "A single GetMetricData call can include up to 500 MetricDataQuery structures");
- every ``Id`` unique within the call ("This name must be unique within a single call to
  GetMetricData"), 1 to 255 characters, matching ``^[a-z][a-zA-Z0-9_]*$`` ("The valid characters
  are letters, numbers, and underscore. The first character must be a lowercase letter");
- exactly one of ``MetricStat`` and ``Expression`` per query; a ``MetricStat`` has a ``Stat`` and a
  ``Period`` of 1, 5, 10, 20, 30 or a multiple of 60; an expression is at most 2,048 characters;
- every id an expression names is the ``Id`` of another query *in the same call*, and the
  references have no cycle;
- at least one query with ``ReturnData`` true (the default). The API reference gives no rule for a
  call that asks for nothing; the stub refuses one as the strictest reading, and the renderer never
  needs to send one.

It answers what AWS answers: a result for each query whose ``ReturnData`` is true and for no other,
in request order. A metric's values are a function of its namespace, name, dimensions and
statistic, so two metrics that differ only by a dimension (the source and the sink table) give
different series; an expression is *evaluated* over the values of the ids it names (arithmetic,
``PERIOD`` and ``FILL``), so a test can tell which widget's metrics an expression was computed from.
An expression it cannot evaluate raises ``NotImplementedError``: the stub grows, it never guesses.
"""

from __future__ import annotations

import ast
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ClientError

NOW: Final = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POINTS: Final = 5
MAX_QUERIES: Final = 500
ID: Final = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
# Strings, numbers, then identifiers; an identifier followed by "(" is a function.
TOKEN: Final = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"""
    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<call>\s*\()?"""
)


def validation_error(message: str) -> ClientError:
    return ClientError({"Error": {"Code": "ValidationError", "Message": message}}, "GetMetricData")


def references(expression: str) -> list[str]:
    """The ids an expression names: identifiers outside strings that are not called as functions
    (CloudWatch's functions are upper case, ids start lower case, so a lower-case name is an id)."""
    names = []
    for match in TOKEN.finditer(expression):
        name = match.group("name")
        if name and not match.group("call") and name[0].islower():
            names.append(name)
    return names


def metric_values(stat: dict[str, Any]) -> list[float]:
    """A metric's datapoints, different for every namespace/name/dimensions/statistic."""
    metric = stat["Metric"]
    key = "|".join(
        [metric["Namespace"], metric["MetricName"], stat["Stat"]]
        + [f"{d['Name']}={d['Value']}" for d in metric.get("Dimensions", [])]
    )
    base = float(zlib.crc32(key.encode()) % 9_000 + 1_000)
    return [base + 60.0 * m for m in range(POINTS)]


@dataclass
class StrictCloudWatch:
    """GetMetricData as strict as AWS (see the module docstring) and DescribeAlarms from a dict."""

    alarm_states: dict[str, str] = field(default_factory=dict)
    requests: list[list[dict[str, Any]]] = field(default_factory=list)  # every call, accepted or not
    refused: list[str] = field(default_factory=list)  # the message of every refusal
    answers: dict[str, list[float]] = field(default_factory=dict)  # values of every returned Id

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        queries: list[dict[str, Any]] = kwargs["MetricDataQueries"]
        self.requests.append(queries)
        try:
            self.validate(queries, kwargs["StartTime"], kwargs["EndTime"])
        except ClientError as error:
            self.refused.append(error.response["Error"]["Message"])
            raise
        values = self.evaluate(queries)
        times = [NOW - timedelta(minutes=POINTS - m) for m in range(POINTS)]
        results = []
        for query in queries:
            if query.get("ReturnData", True):
                self.answers[query["Id"]] = values[query["Id"]]
                results.append(
                    {"Id": query["Id"], "Timestamps": times, "Values": values[query["Id"]], "StatusCode": "Complete"}
                )
        return {"MetricDataResults": results}

    @staticmethod
    def validate(queries: list[dict[str, Any]], start: datetime, end: datetime) -> None:  # noqa: C901 - one rule a branch
        if not 1 <= len(queries) <= MAX_QUERIES:
            raise validation_error(
                f"MetricDataQueries must have 1 to {MAX_QUERIES} members; this call has {len(queries)}."
            )
        if start >= end:
            raise validation_error("The parameter EndTime must be greater than StartTime.")
        ids = [query.get("Id", "") for query in queries]
        for n, query_id in enumerate(ids, start=1):
            if not ID.match(query_id) or len(query_id) > 255:
                raise validation_error(
                    f"The value {query_id!r} for MetricDataQueries.member.{n}.Id must start with a lower-case "
                    "letter and hold only letters, digits and underscores (at most 255)."
                )
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise validation_error(f"The Id of each query must be unique within the call; repeated: {duplicated}.")
        if not any(query.get("ReturnData", True) for query in queries):
            raise validation_error("At least one query must have ReturnData true.")
        graph: dict[str, list[str]] = {}
        for n, query in enumerate(queries, start=1):
            if ("MetricStat" in query) == ("Expression" in query):
                raise validation_error(
                    f"MetricDataQueries.member.{n} must have exactly one of MetricStat and Expression."
                )
            if "MetricStat" in query:
                stat = query["MetricStat"]
                period = int(stat.get("Period", 0))
                if not stat.get("Stat") or not (period in (1, 5, 10, 20, 30) or (period > 0 and period % 60 == 0)):
                    raise validation_error(f"MetricDataQueries.member.{n}.MetricStat needs a Stat and a valid Period.")
                continue
            expression = query["Expression"]
            if not 1 <= len(expression) <= 2048:
                raise validation_error(f"MetricDataQueries.member.{n}.Expression must be 1 to 2048 characters.")
            unknown = [name for name in references(expression) if name not in ids or name == query["Id"]]
            if unknown:
                raise validation_error(
                    f"Error in expression {query['Id']!r}: unknown metric or expression id(s) {unknown} in this call."
                )
            graph[query["Id"]] = references(expression)
        _no_cycle(graph)

    @staticmethod
    def evaluate(queries: list[dict[str, Any]]) -> dict[str, list[float]]:
        values: dict[str, list[float]] = {}
        periods: dict[str, float] = {}
        for query in queries:
            if "MetricStat" in query:
                values[query["Id"]] = metric_values(query["MetricStat"])
                periods[query["Id"]] = float(query["MetricStat"]["Period"])
        pending = [q for q in queries if "Expression" in q]
        while pending:  # in dependency order: the validation has ruled out cycles
            ready = [q for q in pending if all(name in values for name in references(q["Expression"]))]
            for query in ready:
                values[query["Id"]] = Evaluator(values, periods).run(query["Expression"])
                pending.remove(query)
        return values

    def describe_alarms(self, **kwargs: Any) -> dict[str, Any]:
        names = kwargs.get("AlarmNames", [])
        return {
            "MetricAlarms": [
                {"AlarmName": n, "StateValue": self.alarm_states[n]} for n in names if n in self.alarm_states
            ],
            "CompositeAlarms": [],
        }


def _no_cycle(graph: dict[str, list[str]]) -> None:
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        if node in path:
            raise validation_error(f"The expressions {list(path)} refer to each other in a cycle.")
        if node in done or node not in graph:
            return
        for child in graph[node]:
            visit(child, (*path, node))
        done.add(node)

    for node in graph:
        visit(node, ())


class Evaluator(ast.NodeVisitor):
    """Metric math over aligned series: + - * /, numbers, ids, PERIOD(id) and FILL(id, value)."""

    def __init__(self, values: dict[str, list[float]], periods: dict[str, float]) -> None:
        self.values = values
        self.periods = periods

    def run(self, expression: str) -> list[float]:
        tree = ast.parse(expression, mode="eval")
        result = self.visit(tree.body)
        return result if isinstance(result, list) else [float(result)] * POINTS

    def visit_Constant(self, node: ast.Constant) -> float:
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        raise NotImplementedError(f"the stub cannot evaluate {ast.unparse(node)}: extend tests/cloudwatch_stub.py")

    def visit_Name(self, node: ast.Name) -> list[float]:
        return self.values[node.id]

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return [-v for v in operand] if isinstance(operand, list) else -operand
        raise NotImplementedError(f"the stub cannot evaluate {ast.unparse(node)}")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        operations = {
            ast.Add: float.__add__,
            ast.Sub: float.__sub__,
            ast.Mult: float.__mul__,
            ast.Div: float.__truediv__,
        }
        operation = operations.get(type(node.op))
        if operation is None:
            raise NotImplementedError(f"the stub cannot evaluate {ast.unparse(node)}")
        if not isinstance(left, list) and not isinstance(right, list):
            return operation(left, right)
        lefts = left if isinstance(left, list) else [left] * POINTS
        rights = right if isinstance(right, list) else [right] * POINTS
        return [operation(a, b) for a, b in zip(lefts, rights, strict=True)]

    def visit_Call(self, node: ast.Call) -> Any:
        function = node.func.id if isinstance(node.func, ast.Name) else ""
        if function == "PERIOD" and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
            return self.periods[node.args[0].id]
        if function == "FILL" and len(node.args) == 2:
            return self.visit(node.args[0])  # the stub's series have no gaps to fill
        raise NotImplementedError(f"the stub cannot evaluate {ast.unparse(node)}: extend tests/cloudwatch_stub.py")

    def generic_visit(self, node: ast.AST) -> Any:
        raise NotImplementedError(f"the stub cannot evaluate {ast.unparse(node)}: extend tests/cloudwatch_stub.py")
