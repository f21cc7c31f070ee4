"""The batch loop: read the event once, parse in order, stop at the first failure, apply or fold,
report.

Why not Powertools' ``BatchProcessor``? For Kinesis and DynamoDB Streams it carries
on past a failed record and reports each failure on its own. Lambda then checkpoints
at the lowest reported sequence number, but the records *after* the failure have
already had their effect, out of order. A stream is ordered per shard, so on the
first failure this loop stops, and reports that record and every later one; Lambda
resumes exactly there. The loop is small, and Powertools still does the logging,
the EMF metrics and the event data classes.

**One path.** Every event, with a tumbling window or without, is read once into a :class:`Batch`
(its records, their source, the window and its checked state, or the reason the event cannot be
read), then run by one loop: user records are parsed in order and, run by run, applied (a
per-record processor) or folded into the window's state (a window processor). Parsing, applying
and folding report where they stopped with one type, :class:`~stream_pipeline.poison.Failure`.

**Bounded memory.** A KPL aggregate's user records are counted before any is built, and one of
more than ``Settings.max_user_records`` (derived from the function's memory:
:func:`stream_pipeline.limits.max_user_records_per_aggregate`) is a poison record. The loop holds at
most that many parsed user records at once: when the next stream record would take it over, the
records parsed so far are applied first. A batch of several large aggregates is so applied in
runs, and what one invocation holds stays within the memory the cap is derived from.

**KPL poison at user record k.** User records ``0..k-1`` of the aggregate are applied (or folded),
then the aggregate and every later record are reported; on the retry those ``k`` are skipped by
their extended sequence numbers, as the KCL does.

A failure is always reported, never raised: raising would make Lambda retry the
whole batch, re-applying the records before the failure for no reason.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3  # imported at init, which Lambda runs with a full CPU; the client itself is made lazily
from botocore.config import Config

from stream_pipeline import processors
from stream_pipeline.config import BUILTIN_PROCESSORS, Settings
from stream_pipeline.limits import bounded
from stream_pipeline.poison import Failure
from stream_pipeline.processors.base import ApplyResult, is_window_processor
from stream_pipeline.records import PoisonRecord, SourceType, StreamRecord, from_raw, sequence_of
from stream_pipeline.sink import Sink, SinkStats, SinkUnavailable

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Sequence

    from aws_lambda_powertools import Logger
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from stream_pipeline.windows import Window, WindowProcessor

LATENCY_SAMPLES: Final = 99
"""EMF allows 100 values per metric; Powertools flushes early at 100, so keep one flush."""
NOT_ATTEMPTED: Final = "not attempted: an earlier record in the batch failed, and the stream is ordered"
REASON_LENGTH: Final = 300
"""Reasons are short sentences; the cap keeps a log line bounded whatever a processor says."""
SEQUENCE_LENGTH: Final = 130
"""Sequence numbers have at most 128 digits; a forged one is cut in the log (never in the response)."""
TRACE_FRAMES: Final = 3
OUT_OF_TIME: Final = "not attempted: the invocation's time ran out before it (the records before it were applied)"
SOURCES: Final = {"aws:kinesis": SourceType.KINESIS.value, "aws:dynamodb": SourceType.DYNAMODB.value}

Parsed = list[tuple[StreamRecord, Any]]


@dataclass(slots=True)
class BatchOutcome:
    """What one invocation did; becomes the partial batch response, the metrics and the logs."""

    size: int
    source: str
    processed: int
    failures: list[dict[str, str]]
    first_failure_reason: str = ""
    event_counts: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    """At most :data:`LATENCY_SAMPLES` order statistics of the user records' latencies."""
    duplicates: int = 0
    sink: SinkStats = field(default_factory=SinkStats)
    user_records: int = 0
    """User records applied: a plain record is one, a KPL aggregate as many as it carries (those
    before its first poison user record when it failed there)."""
    aggregated_records: int = 0
    """Kinesis records applied that were KPL aggregates."""
    stream_bytes: int = 0
    """Data bytes of the stream records applied (Kinesis: the capacity a shard counts)."""
    ttl_deletes: int = 0
    """DynamoDB: the REMOVEs applied that DynamoDB's Time to Live made (counted in RemoveEvents too)."""
    window_state_bytes: int | None = None
    """Tumbling windows: the size of the state returned (None without windows)."""
    windows_finished: int = 0
    """Tumbling windows: the results this invocation wrote (the window's, and any segment ended early)."""

    @property
    def failed(self) -> int:
        return len(self.failures)

    def response(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": self.failures}


def quantile_samples(values: Sequence[float], count: int = LATENCY_SAMPLES) -> list[float]:
    """At most ``count`` order statistics spread evenly over ``values``, always with min and max.

    CloudWatch computes percentiles over the samples, so p50/p99/max stay right
    while the whole batch costs one EMF line.
    """
    ordered = sorted(values)
    if len(ordered) > count:
        last = len(ordered) - 1
        ordered = [ordered[round(i * last / (count - 1))] for i in range(count)]
    return [max(0.0, value) for value in ordered]


def weighted_samples(pairs: Sequence[tuple[float, int]], count: int = LATENCY_SAMPLES) -> list[float]:
    """:func:`quantile_samples` of the values each repeated its weight's times, without making the
    repeats: the user records of an aggregate share its arrival time, and 100,000 of them must not
    cost a list of 100,000 floats."""
    ordered = sorted(pairs)
    total = sum(weight for _, weight in ordered)
    if total <= count:
        return [value for value, weight in ordered for _ in range(weight)]
    ends = list(itertools.accumulate(weight for _, weight in ordered))
    last = total - 1
    return [ordered[bisect.bisect_right(ends, round(i * last / (count - 1)))][0] for i in range(count)]


def source_of(raw_records: Sequence[Any]) -> str:
    """The batch's source type from the first raw record's ``eventSource``, read before any parsing,
    so that a batch stuck on a poison first record is still counted under its real ``SourceType``
    (the dimension the dashboard and the handled-failure alarm watch). ``unknown`` only when even
    the envelope is unreadable."""
    first = raw_records[0] if raw_records else None
    source = first.get("eventSource") if isinstance(first, dict) else None
    return SOURCES.get(source, "unknown") if isinstance(source, str) else "unknown"


@dataclass(frozen=True, slots=True)
class Batch:
    """One event, read once: its records, their source, and its tumbling window (or none)."""

    records: Sequence[Any]
    source: str
    """``kinesis``, ``dynamodb`` or ``unknown`` (see :func:`source_of`)."""
    windowed: bool = False
    """The event came with a tumbling window (``window`` in the event): the response carries a state."""
    window: Window | None = None
    state: dict[str, Any] = field(default_factory=dict)
    """The incoming window state, checked (:func:`stream_pipeline.windows.check_state`)."""
    problem: str = ""
    """Why the window event cannot be read: the invocation then fails as a whole."""

    @classmethod
    def read(cls, event: dict[str, Any]) -> Batch:
        records: Sequence[Any] = event["Records"]
        source = source_of(records)
        if "window" not in event:
            return cls(records, source)
        from stream_pipeline import windows  # noqa: PLC0415 - only events with a window compile it (P4)

        if source == "unknown" and not records:  # a final invocation has no records: the ARN says
            arn = event.get("eventSourceARN")
            source = "dynamodb" if isinstance(arn, str) and arn.startswith("arn:aws:dynamodb:") else "kinesis"
        try:
            window, state = windows.Window.from_event(event), windows.check_state(event.get("state"))
        except windows.WindowEventError as exc:
            return cls(records, source, windowed=True, problem=str(exc))
        return cls(records, source, windowed=True, window=window, state=state)


@dataclass(slots=True)
class _Tally:
    """What the records done so far add to the outcome, counted run by run (memory stays bounded)."""

    user_records: int = 0
    aggregated_records: int = 0
    stream_bytes: int = 0
    event_counts: Counter[str] = field(default_factory=Counter)
    ttl_deletes: int = 0
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    """(arrival time, user records done) per stream record."""
    duplicates: int = 0
    windows_finished: int = 0

    def add(self, run: Parsed, streams: Sequence[StreamRecord], failure: Failure | None) -> None:
        """Count the user records of ``run`` and the stream records of ``streams`` done before ``failure``."""
        last_index = -1
        for record, _ in run:
            if failure is not None and not failure.before(record):
                break
            self.user_records += 1
            if record.source is SourceType.DYNAMODB:
                if record.event_name is not None:
                    self.event_counts[record.event_name] += 1
                self.ttl_deletes += record.ttl_expired
            if record.arrival_epoch_s is not None:
                if record.index == last_index:
                    self.arrivals[-1] = (record.arrival_epoch_s, self.arrivals[-1][1] + 1)
                else:
                    self.arrivals.append((record.arrival_epoch_s, 1))
                last_index = record.index
        for stream in streams:
            if failure is None or stream.index < failure.index:
                self.stream_bytes += stream.size_bytes
                self.aggregated_records += stream.user_records is not None

    def outcome(self, batch: Batch, failure: Failure | None, now_ms: float, sink: SinkStats) -> BatchOutcome:
        """The outcome of ``batch``, done up to ``failure``, with what was counted."""
        done = len(batch.records) if failure is None else failure.index
        return BatchOutcome(
            size=len(batch.records),
            source=batch.source,
            processed=done,
            failures=[{"itemIdentifier": sequence_of(raw)} for raw in batch.records[done:]],
            first_failure_reason=bounded(failure.reason, REASON_LENGTH) if failure is not None else "",
            event_counts=self.event_counts,
            # Clamped at 0 (a producer's clock ahead of ours) in quantile_samples, on 99 values.
            latencies_ms=weighted_samples([(now_ms - arrival * 1000, count) for arrival, count in self.arrivals]),
            duplicates=self.duplicates,
            sink=sink,
            user_records=self.user_records,
            aggregated_records=self.aggregated_records,
            stream_bytes=self.stream_bytes,
            ttl_deletes=self.ttl_deletes,
            windows_finished=self.windows_finished,
        )


class Pipeline:
    """One per execution environment: holds the settings, the sink client and the thread pool."""

    def __init__(
        self,
        settings: Settings,
        logger: Logger | logging.Logger,
        client_factory: Callable[[], DynamoDBClient] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.logger = logger
        self._client_factory = client_factory or self._default_client
        self.clock = clock
        self._sleep = sleep
        self._processors: dict[SourceType, processors.Processor[Any] | WindowProcessor[Any]] = {}
        if settings.record_processor and settings.record_processor not in BUILTIN_PROCESSORS:
            processors.load_plugin(settings.record_processor)  # fail at cold start, not on the first batch

    def _default_client(self) -> DynamoDBClient:
        config = Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=2,
            read_timeout=5,
            max_pool_connections=self.settings.sink_write_concurrency,
        )
        return boto3.client("dynamodb", config=config)

    @cached_property
    def sink(self) -> Sink | None:
        """Created on first use, so that importing the handler makes no client."""
        if self.settings.sink_table_name is None:
            return None
        return Sink(client=self._client_factory(), table_name=self.settings.sink_table_name, sleep=self._sleep)

    @cached_property
    def pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.settings.sink_write_concurrency, thread_name_prefix="sink")

    def processor(self, source: SourceType) -> processors.Processor[Any] | WindowProcessor[Any]:
        if source not in self._processors:
            self._processors[source] = processors.build(self.settings, source, clock=self.clock)
        return self._processors[source]

    def handle(self, event: dict[str, Any], remaining_ms: Callable[[], float]) -> tuple[BatchOutcome, dict[str, Any]]:
        """Process one event: (outcome, the response Lambda expects: ``batchItemFailures``, and the
        ``state`` for a tumbling window, left out when the invocation must fail as a whole so that
        Lambda retries it with the same state)."""
        return _Run(self, Batch.read(event), remaining_ms).result()

    def run(self, raw_records: Sequence[Any], remaining_ms: Callable[[], float]) -> BatchOutcome:
        """Process one batch without a window; every record is either processed or in ``failures``."""
        return self.handle({"Records": raw_records}, remaining_ms)[0]

    def run_window(
        self, event: dict[str, Any], remaining_ms: Callable[[], float]
    ) -> tuple[BatchOutcome, dict[str, Any]]:
        """Process one invocation of a tumbling window (:meth:`handle` of an event with a ``window``)."""
        return self.handle(event, remaining_ms)

    def log_unexpected(self, message: str, exc: BaseException) -> None:
        """One bounded line: the exception's type and where it was raised, never its text.

        ``logger.exception`` would log the message and the traceback: botocore's
        ``ParamValidationError`` quotes every value it refuses (a 94 KB line for one mistyped
        image), and a ``RecursionError`` brings a thousand frames (a 433 KB line)."""
        frames = traceback.extract_tb(exc.__traceback__, limit=-TRACE_FRAMES)
        where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
        self.logger.error(message, extra={"error_type": type(exc).__name__, "where": bounded(where, REASON_LENGTH)})

    def log_failures(self, raw_records: Sequence[Any], failure: Failure) -> None:
        """Two lines at most, never the payload: the record that failed, with its sequence number (and,
        in a KPL aggregate, the user record) and why, and one line for the later records that were
        not attempted (their count and sequence range). One line per record would write megabytes
        per retry of a large batch and bury the one line that matters."""
        done = failure.index
        if done >= len(raw_records):
            return
        extra: dict[str, Any] = {
            "sequence_number": bounded(sequence_of(raw_records[done]), SEQUENCE_LENGTH),
            "batch_index": done,
            "reason": bounded(failure.reason, REASON_LENGTH),
        }
        if failure.sub:
            extra["user_records_applied"] = failure.sub
        self.logger.warning("record failed", extra=extra)
        rest = len(raw_records) - done - 1
        if rest:
            self.logger.warning(
                "records not attempted",
                extra={
                    "count": rest,
                    "first_sequence_number": bounded(sequence_of(raw_records[done + 1]), SEQUENCE_LENGTH),
                    "last_sequence_number": bounded(sequence_of(raw_records[-1]), SEQUENCE_LENGTH),
                    "reason": NOT_ATTEMPTED,
                },
            )


class _Run:
    """One invocation of the loop: parse, apply or fold run by run, finish a window, report."""

    def __init__(self, pipeline: Pipeline, batch: Batch, remaining_ms: Callable[[], float]) -> None:
        self.pipeline, self.batch, self.remaining_ms = pipeline, batch, remaining_ms
        self.tally = _Tally()
        self.state = batch.state
        self.failure: Failure | None = Failure(0, reason=batch.problem) if batch.problem else None
        self.sink_started = False
        source = batch.source if batch.source != "unknown" else None
        self.processor = pipeline.processor(SourceType(source)) if source and not batch.problem else None

    @property
    def folding(self) -> bool:
        return self.processor is not None and is_window_processor(self.processor)

    def result(self) -> tuple[BatchOutcome, dict[str, Any]]:
        batch = self.batch
        if self.failure is None and self.folding and not batch.windowed and batch.records:
            name = self.processor.name  # type: ignore[union-attr]
            reason = (
                f"the {name} processor needs tumbling windows "
                "(the event source mapping's TumblingWindowInSeconds); this event has no window"
            )
            self.failure = Failure(0, reason=reason)
        if self.failure is None:
            self.failure = self._records()
        whole = self.failure is not None and bool(batch.problem)
        state_bytes = _state_size(self.state) if self.folding and batch.windowed and not batch.problem else None
        if self.failure is None and self.folding and batch.window is not None and batch.window.final:
            try:
                self._finish(self.state, batch.window)
                self.tally.windows_finished += 1
                self.state = {}
            except Exception as exc:  # the window's result did not land: the whole invocation fails
                self.pipeline.log_unexpected("the window's result could not be written", exc)
                reason = f"the window's result could not be written ({type(exc).__name__})"
                self.failure, self.tally, whole = Failure(0, reason=reason), _Tally(), True
        outcome = self._outcome()
        outcome.window_state_bytes = state_bytes
        if not batch.windowed or whole:  # no state: Lambda retries the invocation with the same state
            return outcome, outcome.response()
        return outcome, {"state": self.state, **outcome.response()}

    def _records(self) -> Failure | None:
        """Parse in order, applying or folding every run of at most ``max_user_records`` user
        records; the first failure, or None."""
        cap = self.pipeline.settings.max_user_records
        run: Parsed = []
        streams: list[StreamRecord] = []
        for index, raw in enumerate(self.batch.records):
            record = self._read(index, raw, cap)
            if isinstance(record, Failure):
                return self._flush(run, streams, record)
            users = record.user_records or (record,)
            if run and len(run) + len(users) > cap:  # apply what is held before taking more
                failure = self._flush(run, streams, None)
                run, streams = [], []
                if failure is not None:
                    return failure
                if self.remaining_ms() <= self.pipeline.settings.safety_margin_ms:
                    return Failure(index, reason=OUT_OF_TIME)
            streams.append(record)
            processor = self.processor = self.processor or self.pipeline.processor(record.source)
            failure = self._parse(processor, users, run)
            if failure is not None:
                return self._flush(run, streams, failure)
        return self._flush(run, streams, None)

    def _read(self, index: int, raw: Any, cap: int) -> StreamRecord | Failure:
        """The stream record at ``index`` (a KPL aggregate's user records counted, then built)."""
        try:
            record = from_raw(index, raw, cap)
        except PoisonRecord as exc:
            return Failure(index, reason=str(exc))
        except Exception as exc:  # a bug in parsing must not lose the batch either
            self.pipeline.log_unexpected("unexpected error while parsing a record", exc)
            return Failure(index, reason=f"unexpected {type(exc).__name__} while parsing")
        return record

    def _parse(
        self, processor: processors.Processor[Any] | WindowProcessor[Any], users: Sequence[StreamRecord], run: Parsed
    ) -> Failure | None:
        """Parse ``users`` into ``run`` up to the first that fails; its failure, or None."""
        for user in users:
            try:
                run.append((user, processors.parse_user_record(processor, user)))
            except PoisonRecord as exc:
                return Failure.at(user, str(exc))
            except Exception as exc:
                self.pipeline.log_unexpected("unexpected error while parsing a record", exc)
                return Failure.at(user, f"unexpected {type(exc).__name__} while parsing")
        return None

    def _flush(self, run: Parsed, streams: Sequence[StreamRecord], failure: Failure | None) -> Failure | None:
        """Apply or fold ``run`` (every user record before ``failure``, which parsing found); count
        what was done. Returns the earliest failure."""
        if run:
            done = self._fold(run) if self.folding else self._apply(run)
            if done is not None and (failure is None or done < failure):
                failure = done
        self.tally.add(run, streams, failure)
        return failure

    def _apply(self, run: Parsed) -> Failure | None:
        processor: processors.Processor[Any] = self.processor  # type: ignore[assignment]
        try:
            result = processor.apply(run, self._sink(), self.pipeline.pool)
        except SinkUnavailable as exc:  # e.g. the read before the writes: nothing of the run applied
            result = ApplyResult(Failure.at(run[0][0], f"sink unavailable: {exc}"))
        except Exception as exc:  # a failure of the whole run: reported from its first record
            self.pipeline.log_unexpected("unexpected error while applying the batch", exc)
            result = ApplyResult(Failure.at(run[0][0], f"unexpected {type(exc).__name__}"))
        self.tally.duplicates += result.duplicates
        return result.failure

    def _fold(self, run: Parsed) -> Failure | None:
        processor: WindowProcessor[Any] = self.processor  # type: ignore[assignment]
        window = self.batch.window
        if window is None:  # a window processor without a window is refused in result()
            return Failure.at(run[0][0], "no window")
        early = dataclasses.replace(window, final=True, terminated_early=True)

        def finish_early(state: dict[str, Any]) -> None:
            try:
                self._finish(state, early)
            except Exception as exc:
                self.pipeline.log_unexpected("a segment's result could not be written", exc)
                raise

        from stream_pipeline.windows import fold  # noqa: PLC0415 - window processors only

        folded = fold(processor, self.state, run, finish_early)
        self.state = folded.state
        self.tally.duplicates += folded.skipped
        self.tally.windows_finished += folded.segments_finished
        return folded.failure

    def _finish(self, state: dict[str, Any], window: Window) -> None:
        processor: WindowProcessor[Any] = self.processor  # type: ignore[assignment]
        processor.finish(state, window, self._sink())

    def _sink(self) -> Sink | None:
        """The sink, with this invocation's deadline and counters (set on first use)."""
        sink = self.pipeline.sink
        if sink is not None and not self.sink_started:
            margin, remaining_ms = self.pipeline.settings.safety_margin_ms, self.remaining_ms
            sink.reset(lambda: remaining_ms() - margin)
        self.sink_started = True
        return sink

    def _outcome(self) -> BatchOutcome:
        sink = self.pipeline.sink if self.sink_started else None
        outcome = self.tally.outcome(
            self.batch, self.failure, self.pipeline.clock() * 1000, sink.stats if sink is not None else SinkStats()
        )
        if self.failure is not None:
            self.pipeline.log_failures(self.batch.records, self.failure)
        return outcome


def _state_size(state: dict[str, Any]) -> int:
    from stream_pipeline.windows import state_size  # noqa: PLC0415 - window processors only

    return state_size(state)
