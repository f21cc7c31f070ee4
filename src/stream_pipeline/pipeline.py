"""The batch loop: parse in order, stop at the first failure, apply, report.

Why not Powertools' ``BatchProcessor``? For Kinesis and DynamoDB Streams it carries
on past a failed record and reports each failure on its own. Lambda then checkpoints
at the lowest reported sequence number, but the records *after* the failure have
already had their effect, out of order. A stream is ordered per shard, so on the
first failure this loop stops, and reports that record and every later one; Lambda
resumes exactly there. The loop is small, and Powertools still does the logging,
the EMF metrics and the event data classes.

A failure is always reported, never raised: raising would make Lambda retry the
whole batch, re-applying the records before the failure for no reason.
"""

from __future__ import annotations

import bisect
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
from stream_pipeline.processors.base import is_window_processor
from stream_pipeline.records import PoisonRecord, SourceType, StreamRecord, from_raw, sequence_of
from stream_pipeline.sink import Sink, SinkStats, SinkUnavailable

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Sequence

    from aws_lambda_powertools import Logger
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from stream_pipeline.windows import WindowProcessor

LATENCY_SAMPLES: Final = 99
"""EMF allows 100 values per metric; Powertools flushes early at 100, so keep one flush."""
NOT_ATTEMPTED: Final = "not attempted: an earlier record in the batch failed, and the stream is ordered"
REASON_LENGTH: Final = 300
"""Reasons are short sentences; the cap keeps a log line bounded whatever a processor says."""
SEQUENCE_LENGTH: Final = 130
"""Sequence numbers have at most 128 digits; a forged one is cut in the log (never in the response)."""
TRACE_FRAMES: Final = 3


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
    duplicates: int = 0
    sink: SinkStats = field(default_factory=SinkStats)
    user_records: int = 0
    """User records applied: a plain record is one, a KPL aggregate as many as it carries."""
    aggregated_records: int = 0
    """Kinesis records applied that were KPL aggregates."""
    stream_bytes: int = 0
    """Data bytes of the stream records applied (Kinesis: the capacity a shard counts)."""
    ttl_deletes: int = 0
    """DynamoDB: the REMOVEs applied that DynamoDB's Time to Live made (counted in RemoveEvents too)."""
    window_state_bytes: int | None = None
    """Tumbling windows: the size of the state returned (None without windows)."""
    windows_finished: int = 0
    """Tumbling windows: 1 when this invocation wrote its window's result."""

    @property
    def failed(self) -> int:
        return len(self.failures)

    def response(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": self.failures}


@dataclass(slots=True)
class ParsedBatch:
    """The parsed prefix of a batch: every user record before the first failure, with its value."""

    processor: processors.Processor[Any] | WindowProcessor[Any] | None = None
    parsed: list[tuple[StreamRecord, Any]] = field(default_factory=list)
    failed_at: int | None = None
    """Batch index of the first stream record that failed to parse (None: none failed)."""
    reason: str = ""
    sizes: list[int] = field(default_factory=list)
    """Per stream record parsed: its size in bytes (for the metrics)."""
    aggregates: list[int] = field(default_factory=list)
    """Batch indexes of the KPL aggregates parsed."""


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


SOURCES: Final = {"aws:kinesis": SourceType.KINESIS.value, "aws:dynamodb": SourceType.DYNAMODB.value}


def _source_of_window(event: dict[str, Any], raw_records: Sequence[Any]) -> SourceType:
    """The source of a window invocation, which may have no records (a final invocation): the
    first record's eventSource, else the event's eventSourceARN."""
    source = source_of(raw_records)
    if source == "unknown":
        arn = event.get("eventSourceARN")
        source = "dynamodb" if isinstance(arn, str) and arn.startswith("arn:aws:dynamodb:") else "kinesis"
    return SourceType(source)


def source_of(raw_records: Sequence[Any]) -> str:
    """The batch's source type from the first raw record's ``eventSource``, read before any parsing,
    so that a batch stuck on a poison first record is still counted under its real ``SourceType``
    (the dimension the dashboard and the handled-failure alarm watch). ``unknown`` only when even
    the envelope is unreadable."""
    first = raw_records[0] if raw_records else None
    source = first.get("eventSource") if isinstance(first, dict) else None
    return SOURCES.get(source, "unknown") if isinstance(source, str) else "unknown"


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
        self._clock = clock
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
            self._processors[source] = processors.build(self.settings, source)
        return self._processors[source]

    def run(self, raw_records: Sequence[Any], remaining_ms: Callable[[], float]) -> BatchOutcome:
        """Process one batch; every record is either processed or in ``failures``."""
        batch = self._parse(raw_records)
        failed_at, reason = batch.failed_at, batch.reason
        if batch.processor is not None and is_window_processor(batch.processor):
            result = processors.ApplyResult(
                failed_index=0,
                reason=f"the {batch.processor.name} processor needs tumbling windows "
                "(the event source mapping's TumblingWindowInSeconds); this event has no window",
            )
        else:
            result = self._apply(batch.processor, batch.parsed, remaining_ms)  # type: ignore[arg-type]
        if result.failed_index is not None and (failed_at is None or result.failed_index < failed_at):
            failed_at, reason = result.failed_index, result.reason
        done = len(raw_records) if failed_at is None else failed_at
        return self._outcome(raw_records, batch, done, reason, result.duplicates)

    def run_window(
        self, event: dict[str, Any], remaining_ms: Callable[[], float]
    ) -> tuple[BatchOutcome, dict[str, Any]]:
        """Process one invocation of a tumbling window (see :mod:`stream_pipeline.windows`):
        (outcome, response with ``state`` and ``batchItemFailures``; no ``state`` when the
        invocation must fail as a whole, so that Lambda retries it with the same state)."""
        from stream_pipeline.windows import Window, WindowEventError, fold_batch, state_size  # noqa: PLC0415 - windows only

        raw_records: Sequence[Any] = event["Records"]
        incoming = event.get("state") or {}
        try:
            window = Window.from_event(event, incoming)
        except WindowEventError as exc:
            outcome = self._outcome(raw_records, ParsedBatch(), 0, str(exc), 0)
            return outcome, outcome.response()
        processor = self.processor(_source_of_window(event, raw_records))
        if not is_window_processor(processor):  # a per-record processor: windows change nothing for it
            outcome = self.run(raw_records, remaining_ms)
            return outcome, {"state": incoming, **outcome.response()}
        window_processor: WindowProcessor[Any] = processor  # type: ignore[assignment]
        batch = self._parse(raw_records)
        stop = len(raw_records) if batch.failed_at is None else batch.failed_at
        folded = fold_batch(window_processor, incoming, batch.parsed, stop)
        failed_at, reason = (
            (folded.failed_at, folded.reason) if folded.failed_at is not None else (batch.failed_at, batch.reason)
        )
        finished = False
        if window.final and failed_at is None:
            try:
                sink = self.sink
                if sink is not None:
                    sink.reset(lambda: remaining_ms() - self.settings.safety_margin_ms)
                window_processor.finish(folded.state, window, sink)
                finished = True
            except Exception as exc:  # the window's result did not land: the whole invocation fails
                self._log_unexpected("the window's result could not be written", exc)
                outcome = self._outcome(
                    raw_records, batch, 0, f"the window's result could not be written ({type(exc).__name__})", 0
                )
                outcome.window_state_bytes = state_size(folded.state)
                return outcome, outcome.response()  # no state: Lambda retries this invocation with the same state
        done = len(raw_records) if failed_at is None else failed_at
        outcome = self._outcome(raw_records, batch, done, reason, folded.skipped)
        outcome.window_state_bytes = state_size(folded.state)
        outcome.windows_finished = int(finished)
        return outcome, {"state": {} if finished else folded.state, **outcome.response()}

    def _outcome(
        self, raw_records: Sequence[Any], batch: ParsedBatch, done: int, reason: str, duplicates: int
    ) -> BatchOutcome:
        """The outcome of a batch whose first ``done`` stream records were processed; logs the failures."""
        parsed = batch.parsed
        # The user records applied: those of the first `done` stream records (parsed is in order).
        applied = parsed if not parsed or parsed[-1][0].index < done else [p for p in parsed if p[0].index < done]
        outcome = BatchOutcome(
            size=len(raw_records),
            source=source_of(raw_records),
            processed=done,
            failures=[{"itemIdentifier": sequence_of(raw)} for raw in raw_records[done:]],
            first_failure_reason=bounded(reason, REASON_LENGTH),
            duplicates=duplicates,
            sink=self.sink.stats if self.sink is not None and parsed else SinkStats(),
            user_records=len(applied),
            aggregated_records=bisect.bisect_left(batch.aggregates, done),
            stream_bytes=sum(batch.sizes[:done]),
        )
        if outcome.source == SourceType.DYNAMODB.value:
            outcome.event_counts.update(record.event_name for record, _ in applied if record.event_name is not None)
            outcome.ttl_deletes = sum(1 for record, _ in applied if record.ttl_expired)
        # Clamped at 0 (a producer's clock ahead of ours) in quantile_samples, on 99 values, not here on all.
        now_ms = self._clock() * 1000
        outcome.latencies_ms = [
            now_ms - arrival * 1000 for record, _ in applied if (arrival := record.arrival_epoch_s) is not None
        ]
        self._log_failures(raw_records, done, reason)
        return outcome

    def _parse(self, raw_records: Sequence[Any]) -> ParsedBatch:
        """Parse records in order up to the first that fails."""
        batch = ParsedBatch()
        parsed, sizes, aggregates = batch.parsed, batch.sizes, batch.aggregates
        processor: processors.Processor[Any] | WindowProcessor[Any] | None = None
        for index, raw in enumerate(raw_records):
            try:
                record = from_raw(index, raw)
                processor = batch.processor = processor or self.processor(record.source)
                if record.user_records is None:
                    parsed.append((record, processor.parse(record)))
                else:  # a KPL aggregate: all of its user records parse, or none is kept
                    parsed.extend(processors.parse_record(processor, record))
                    aggregates.append(index)
                sizes.append(record.size_bytes)
            except PoisonRecord as exc:
                batch.failed_at, batch.reason = index, str(exc)
                return batch
            except Exception as exc:  # a bug in parsing must not lose the batch either
                self._log_unexpected("unexpected error while parsing a record", exc)
                batch.failed_at, batch.reason = index, f"unexpected {type(exc).__name__} while parsing"
                return batch
        return batch

    def _apply(
        self,
        processor: processors.Processor[Any] | None,
        parsed: list[tuple[StreamRecord, Any]],
        remaining_ms: Callable[[], float],
    ) -> processors.ApplyResult:
        """Apply the parsed prefix; any failure comes back as a result, never as an exception."""
        if processor is None or not parsed:
            return processors.ApplyResult()
        sink = self.sink
        if sink is not None:
            margin = self.settings.safety_margin_ms
            sink.reset(lambda: remaining_ms() - margin)
        try:
            return processor.apply(parsed, sink, self.pool)
        except SinkUnavailable as exc:  # e.g. the read before the writes: nothing of the batch applied
            return processors.ApplyResult(failed_index=0, reason=f"sink unavailable: {exc}")
        except Exception as exc:  # whole-batch failure: reported from the first record
            self._log_unexpected("unexpected error while applying the batch", exc)
            return processors.ApplyResult(failed_index=0, reason=f"unexpected {type(exc).__name__}")

    def _log_unexpected(self, message: str, exc: BaseException) -> None:
        """One bounded line: the exception's type and where it was raised, never its text.

        ``logger.exception`` would log the message and the traceback: botocore's
        ``ParamValidationError`` quotes every value it refuses (a 94 KB line for one mistyped
        image), and a ``RecursionError`` brings a thousand frames (a 433 KB line)."""
        frames = traceback.extract_tb(exc.__traceback__, limit=-TRACE_FRAMES)
        where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
        self.logger.error(message, extra={"error_type": type(exc).__name__, "where": bounded(where, REASON_LENGTH)})

    def _log_failures(self, raw_records: Sequence[Any], done: int, reason: str) -> None:
        """Two lines at most, never the payload: the record that failed, with its sequence number and
        why, and one line for the later records that were not attempted (their count and sequence
        range). One line per record would write megabytes per retry of a large batch and bury the
        one line that matters."""
        if done >= len(raw_records):
            return
        self.logger.warning(
            "record failed",
            extra={
                "sequence_number": bounded(sequence_of(raw_records[done]), SEQUENCE_LENGTH),
                "batch_index": done,
                "reason": bounded(reason, REASON_LENGTH),
            },
        )
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
