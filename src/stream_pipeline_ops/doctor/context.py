"""What the checks learn about the stack as they go, and the facts derived from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

ON_DEMAND_FIRST_SHARDS: Final = 4  # an on-demand stream opens with 4 shards and never has fewer
BUSY_SHARE: Final = 0.8  # a limit used above 80% is a finding; sizing aims at 80% too


@dataclass
class Context:
    """Filled by the checks in order: the function, then its mapping, then the stream."""

    function: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)
    retention_s: int | None = None
    shards: int | None = None  # the stream's open shards, as DescribeStreamSummary counts them
    on_demand: bool = False
    stream_key: str | None = None  # the stream's KMS key, when it is encrypted with one
    reserved: int | None = None
    ledger_table: str | None = None  # the redrive ledger, when the outputs name it

    @property
    def function_name(self) -> str:
        name: str = self.function["FunctionName"]
        return name

    @property
    def environment(self) -> dict[str, str]:
        variables: dict[str, str] = self.function.get("Environment", {}).get("Variables", {})
        return variables

    @property
    def sink_table(self) -> str | None:
        return self.environment.get("SINK_TABLE_NAME") or None

    @property
    def failure_destination(self) -> str:
        destination: str = self.mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "")
        return destination

    @property
    def failure_queue(self) -> str | None:
        destination = self.failure_destination
        return destination.rsplit(":", 1)[-1] if ":sqs:" in destination else None

    @property
    def record_age_s(self) -> int | None:
        age = self.mapping.get("MaximumRecordAgeInSeconds", -1)
        return None if age in (-1, None) else int(age)

    @property
    def replay_window_s(self) -> int | None:
        """How long a failed record is sure to stay in the stream: retention minus maximum age."""
        age, retention = self.record_age_s, self.retention_s
        return retention - age if retention is not None and age is not None else None

    @property
    def parallelization(self) -> int:
        return int(self.mapping.get("ParallelizationFactor", 1) or 1)

    @property
    def concurrency_shards(self) -> int | None:
        """The shards that each want a batch in flight: the open shards read from the stream, and
        for an on-demand stream at least the 4 it opens with (the count is read, never assumed)."""
        if self.on_demand:
            return max(self.shards or 0, ON_DEMAND_FIRST_SHARDS)
        return self.shards

    @property
    def mapping_uuid(self) -> str:
        uuid: str = self.mapping.get("UUID", "")
        return uuid

    @property
    def event_count_metrics(self) -> bool:
        """Whether the mapping publishes its EventCount metrics (PolledEventCount and the rest)."""
        return "EventCount" in self.mapping.get("MetricsConfig", {}).get("Metrics", [])
