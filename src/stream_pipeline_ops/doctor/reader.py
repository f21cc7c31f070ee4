"""The doctor's reads: AWS calls whose failures become findings, and the metrics of the window.

Every metric the checks weigh is planned before they run and fetched with one GetMetricData
(paged by its NextToken): a stack's two dozen series cost one request, not one each. When that
call is refused, each check asks GetMetricStatistics for its own metric, and a finding says what
to grant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline_ops.doctor.report import Report, Severity

if TYPE_CHECKING:
    from collections.abc import Callable

PERIOD_S: Final = 60  # AWS publishes the metrics the doctor reads once a minute
MAX_QUERIES: Final = 500  # GetMetricData's limit of metrics per request
QUERY_ID: Final = re.compile(r"[a-z][a-zA-Z0-9_]*")  # what GetMetricData accepts as an Id
DENIED: Final = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError")
MISSING: Final = (
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NotFound",
    "NotFoundException",
    "NoSuchBucket",
)


@dataclass(frozen=True)
class Refusal:
    """Why AWS refused a read: its error code and message."""

    code: str
    message: str

    @property
    def denied(self) -> bool:
        """No permission (or, for another account's resource, no resource policy letting us in)."""
        return self.code in DENIED or "AccessDenied" in self.code

    @property
    def missing(self) -> bool:
        """Not there."""
        return self.code in MISSING


MetricKey = tuple[str, str, tuple[tuple[str, str], ...], str]
"""(namespace, metric name, dimensions as sorted pairs, statistic)."""

Point = tuple[datetime, float]
"""A datapoint: the start of its period, and its value."""


def metric_key(namespace: str, name: str, dimensions: dict[str, str], statistic: str) -> MetricKey:
    return namespace, name, tuple(sorted(dimensions.items())), statistic


def queries(wanted: list[MetricKey]) -> list[dict[str, Any]]:
    """GetMetricData's queries for the planned metrics, one Id each (``m0``, ``m1``, ...)."""
    if len(wanted) > MAX_QUERIES:
        raise ValueError(f"{len(wanted)} metrics planned; GetMetricData takes at most {MAX_QUERIES}")
    return [
        {
            "Id": f"m{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
                },
                "Period": PERIOD_S,
                "Stat": statistic,
            },
            "ReturnData": True,
        }
        for index, (namespace, name, dimensions, statistic) in enumerate(wanted)
    ]


class Reader:
    """AWS calls whose failures become findings: what could not be read, and why."""

    def __init__(self, client: Callable[[str], Any], report: Report, minutes: int, now: datetime) -> None:
        self.client = client
        self.report = report
        self.minutes = minutes
        self.now = now
        self.prefetched: dict[MetricKey, list[Point]] = {}

    @property
    def start(self) -> datetime:
        return self.now - timedelta(minutes=self.minutes)

    def call(
        self,
        area: str,
        what: str,
        permission: str,
        service: str,
        operation: str,
        *,
        absent: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """The answer, or None and a finding. An error code in ``absent`` means "there is none"
        (a bucket without a lifecycle, a table not created yet): ``{}`` and no finding."""
        found, refusal = self.attempt(area, what, service, operation, **kwargs)
        if refusal is None:
            return found
        if refusal.code in absent:
            return {}
        self.refused(area, what, permission, refusal)
        return None

    def attempt(self, area: str, what: str, service: str, operation: str, **kwargs: Any) -> tuple[Any, Refusal | None]:
        """The answer and None, or None and why AWS refused, for a check that words its own finding.
        AWS out of reach is a finding here (and None, None)."""
        try:
            return getattr(self.client(service), operation)(**kwargs), None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return None, Refusal(str(error.get("Code", "Unknown")), str(error.get("Message", ""))[:160])
        except BotoCoreError as exc:
            self.report.add(
                Severity.CRITICAL,
                area,
                f"could not reach AWS to read {what}",
                str(exc)[:200],
                "check AWS_DEFAULT_REGION, AWS_ENDPOINT_URL and the credentials (AWS_PROFILE)",
            )
            return None, None

    def refused(self, area: str, what: str, permission: str, refusal: Refusal) -> None:
        """The finding for a refused read: a permission to grant, a resource deleted, or a retry."""
        evidence = f"{refusal.code}: {refusal.message}"
        if refusal.denied:
            self.report.add(
                Severity.WARNING,
                area,
                f"could not read {what}",
                evidence,
                f"grant {permission} to the identity running the doctor (the finding is unchecked until then)",
            )
        elif refusal.missing:
            self.report.add(
                Severity.CRITICAL,
                area,
                f"{what} does not exist",
                evidence,
                "re-apply the Terraform module; something deleted it outside Terraform",
            )
        else:
            self.report.add(
                Severity.WARNING,
                area,
                f"could not read {what}",
                evidence,
                "retry; if it persists, check the service's health in the region",
            )

    def prefetch(self, wanted: list[MetricKey]) -> None:
        """Every metric the checks will read, in one GetMetricData (paged), instead of a call each."""
        planned = list(dict.fromkeys(wanted))
        kwargs: dict[str, Any] = {"MetricDataQueries": queries(planned), "StartTime": self.start, "EndTime": self.now}
        points: dict[str, list[Point]] = {f"m{index}": [] for index in range(len(planned))}
        while True:
            page = self.call(
                "metrics", "the stack's metrics", "cloudwatch:GetMetricData", "cloudwatch", "get_metric_data", **kwargs
            )
            if page is None:
                return  # the finding says why; each check then asks for its metric on its own
            for result in page.get("MetricDataResults", []):
                pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                points[result["Id"]].extend((at, float(value)) for at, value in pairs)
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        self.prefetched = {key: sorted(points[f"m{index}"]) for index, key in enumerate(planned)}

    def series(self, namespace: str, name: str, dimensions: dict[str, str], statistic: str) -> list[Point]:
        """Per-minute datapoints of the window, oldest first (empty when nothing was published)."""
        key = metric_key(namespace, name, dimensions, statistic)
        if key in self.prefetched:
            return self.prefetched[key]
        found = self.call(
            "metrics",
            f"{namespace} {name}",
            "cloudwatch:GetMetricStatistics",
            "cloudwatch",
            "get_metric_statistics",
            Namespace=namespace,
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
            StartTime=self.start,
            EndTime=self.now,
            Period=PERIOD_S,
            Statistics=[statistic],
        )
        datapoints = (found or {}).get("Datapoints", [])
        return sorted((p.get("Timestamp", self.now), float(p[statistic])) for p in datapoints)

    def metric(self, namespace: str, name: str, dimensions: dict[str, str], statistic: str) -> list[float]:
        """The values of :meth:`series`."""
        return [value for _, value in self.series(namespace, name, dimensions, statistic)]


def aware(moment: datetime) -> datetime:
    """A timestamp with its zone (boto3 gives aware datetimes; a naive one is taken as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def warn_on_any(
    read: Reader, area: str, namespace: str, name: str, dimensions: dict[str, str], *, title: str, fix: str
) -> None:
    """A warning when a count metric (errors, throttles) summed over the window is above zero."""
    total = sum(read.metric(namespace, name, dimensions, "Sum"))
    if total > 0:
        read.report.add(Severity.WARNING, area, title, f"{name}={total:,.0f} in the last {read.minutes} min", fix)
