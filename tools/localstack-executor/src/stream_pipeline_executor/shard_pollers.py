"""Shard pollers: LocalStack's stream poller made to read shards concurrently, as Lambda does.

LocalStack 2026.3 reads a Kinesis or DynamoDB stream one shard at a time. Its ``EsmWorker.poller_loop``
(localstack/services/lambda_/event_source_mapping/esm_worker.py) calls ``poller.poll_events()`` in one
thread, then waits LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC; ``StreamPoller.poll_events``
(pollers/stream_poller.py) takes the next shard of a round-robin iterator ("a workaround for not
handling shards in parallel") and ``poll_events_from_shard`` does GetRecords, the batching window and
the invocation, synchronously, before the loop moves on. The parallelization factor is not read at
all: ``EsmWorkerFactory`` (esm_worker_factory.py) leaves it out of the poller's parameters.

Lambda polls every shard concurrently, and with a parallelization factor N runs up to N batches of a
shard at once, records of one partition key always in the same one, in order. This module does that
inside LocalStack's process, without changing LocalStack's files: it wraps ``StreamPoller.poll_events``
so that each call hands every shard with no poll in flight to a thread pool (each shard polled by one
thread at a time, through LocalStack's own ``poll_events_from_shard``, so its iterator, batching window,
retries, bisecting of partial failures and on-failure destination are LocalStack's), and
``forward_events_to_target`` so that a batch is split by partition key into up to the mapping's
parallelization factor (read from the mapping in LocalStack's Lambda store), the parts invoked at once.

Off unless ``STREAM_PIPELINE_SHARD_POLLERS`` is a number of threads above 0 (``make bench``'s P5 measures
both ways; docs/BENCHMARKS.md). The threads bound the concurrent shard polls (and as many concurrent
parts of a split batch), so that a 64-shard emulator stream does not start 128 Lambda workers on a
2-core machine; Lambda's own bound is shards x factor.

Only :func:`install` touches LocalStack; the rest is plain Python, unit-tested in the project's venv.
Local tooling: never in the Lambda zip.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable

LOG = logging.getLogger(__name__)
SETTING: Final = "STREAM_PIPELINE_SHARD_POLLERS"
WAIT_S: Final = 1.0
"""How long one ``poll_events`` call waits for a shard's poll to finish before it returns to the loop."""
IDLE_SHARD_S: Final = 1.0
"""A shard whose last GetRecords came back empty is read again after this long, as Lambda reads each
shard at a base rate of once a second; one that returned records is read again at once. (Polled back to
back, 64 idle shards flood the emulator with GetRecords and slow the producer's puts.)"""


def threads_setting(environ: dict[str, str] | None = None) -> int:
    """The shard poller threads asked for (0: LocalStack's own one-shard-at-a-time poller)."""
    raw = (environ if environ is not None else os.environ).get(SETTING, "0").strip() or "0"
    try:
        value = int(raw)
    except ValueError:
        LOG.warning("%s=%r is not a whole number: shard pollers stay off", SETTING, raw)
        return 0
    return max(value, 0)


def partition_key(record: dict[str, Any]) -> str:
    """The key that keeps records in order: a Kinesis record's partition key, a DynamoDB stream
    record's item key (as GetRecords returns them, before LocalStack turns them into events)."""
    if "PartitionKey" in record:
        return str(record["PartitionKey"])
    keys = record.get("dynamodb", {}).get("Keys", {})
    return json.dumps(keys, sort_keys=True)


def split(records: list[dict[str, Any]], factor: int) -> list[list[dict[str, Any]]]:
    """``records`` in up to ``factor`` parts by partition key (MD5, as Kinesis hashes keys), each part
    in the records' order; one part when the factor is 1 or every record has the same part."""
    if factor <= 1 or len(records) <= 1:
        return [records] if records else []
    parts: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        digest = hashlib.md5(partition_key(record).encode(), usedforsecurity=False).digest()
        parts.setdefault(int.from_bytes(digest[:8], "big") % factor, []).append(record)
    return [parts[index] for index in sorted(parts)]


class Dispatcher:
    """One poller's shard polls in flight: every shard with none gets one, each in its own thread."""

    def __init__(self, threads: int, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"shard-poller-{name}")
        self.parts = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"shard-part-{name}")
        self.inflight: dict[str, Future[None]] = {}
        self.idle_until: dict[str, float] = {}
        self.clock = clock
        self.lock = threading.Lock()

    def dispatch(self, shards: dict[str, str], poll: Callable[[str, str], int]) -> int:
        """Start a poll of every shard that has none in flight and is not resting after an empty read
        (``poll`` returns the records it read); how many were started."""
        started = 0
        now = self.clock()
        with self.lock:
            for shard_id, iterator in list(shards.items()):
                running = self.inflight.get(shard_id)
                if (running is not None and not running.done()) or self.idle_until.get(shard_id, 0.0) > now:
                    continue
                self.inflight[shard_id] = self.pool.submit(self._polled, poll, shard_id, iterator)
                started += 1
            pending = [f for f in self.inflight.values() if not f.done()]
        if pending:  # the loop would otherwise spin: come back when a shard is free again
            wait(pending, timeout=WAIT_S, return_when=FIRST_COMPLETED)
        return started

    def _polled(self, poll: Callable[[str, str], int], shard_id: str, iterator: str) -> None:
        if poll(shard_id, iterator) == 0:
            self.idle_until[shard_id] = self.clock() + IDLE_SHARD_S
        else:
            self.idle_until.pop(shard_id, None)

    def run_parts(self, parts: list[list[dict[str, Any]]], forward: Callable[[list[dict[str, Any]]], None]) -> None:
        """Forward each part at once (the first in this thread), and wait for all of them."""
        others = [self.parts.submit(forward, part) for part in parts[1:]]
        try:
            if parts:
                forward(parts[0])
        finally:
            for other in others:
                other.result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.parts.shutdown(wait=False, cancel_futures=True)


def parallelization_factor(account: str, region: str, uuid: str | None) -> int:
    """The mapping's ParallelizationFactor, from LocalStack's Lambda store (1 when unknown)."""
    if not uuid:
        return 1
    from localstack.services.lambda_.invocation.models import lambda_stores  # noqa: PLC0415

    mapping = lambda_stores[account][region].event_source_mappings.get(uuid) or {}
    return int(mapping.get("ParallelizationFactor") or 1)


class Wrapped:
    """The StreamPoller methods that replace LocalStack's, holding the originals they call."""

    def __init__(self, threads: int, forward: Any, close: Any, internal_error: type[Exception], empty: Any) -> None:
        self.read = threading.local()
        """The records the current thread's last GetRecords returned (set by :meth:`counted`)."""
        self.threads = threads
        self.original_forward = forward
        self.original_close = close
        self.internal_error = internal_error
        self.empty = empty

    def dispatcher(self, poller: Any) -> Dispatcher:
        found: Dispatcher | None = poller.__dict__.get("_shard_dispatcher")
        if found is None:
            found = poller.__dict__.setdefault("_shard_dispatcher", Dispatcher(self.threads, str(poller.esm_uuid)[:8]))
        return found

    def counted(self, response: dict[str, Any]) -> dict[str, Any]:
        """GetRecords' answer, its record count kept for this thread's shard poll."""
        self.read.records = len(response.get("Records", []))
        return response

    def poll_one(self, poller: Any, shard_id: str, iterator: str) -> int:
        """One poll of one shard, through LocalStack's own; the records GetRecords returned."""
        self.read.records = 0
        try:
            poller.poll_events_from_shard(shard_id, iterator)
        except self.internal_error:
            pass  # as LocalStack's poll_events: the next poll retries
        except Exception:
            LOG.exception("shard poller: polling %s of %s failed", shard_id, poller.source_arn)
        records: int = self.read.records
        return records

    def poll_events(self, poller: Any) -> None:
        if not poller.shards:
            poller.shards = poller.initialize_shards()
        if not poller.shards:
            raise self.empty(service=poller.event_source(), source_arn=poller.source_arn)
        for shard_id in poller.shard_batcher.keys() - poller.shards.keys():
            poller.shard_batcher.pop(shard_id, None)
        self.dispatcher(poller).dispatch(poller.shards, lambda shard, it: self.poll_one(poller, shard, it))

    def forward(self, poller: Any, shard_id: str, records: list[dict[str, Any]]) -> None:
        factor = parallelization_factor(*arn_parts(poller.source_arn), poller.esm_uuid)
        parts = split(records, factor)
        if len(parts) <= 1:
            self.original_forward(poller, shard_id, records)
            return
        self.dispatcher(poller).run_parts(parts, lambda part: self.original_forward(poller, shard_id, part))

    def close(self, poller: Any) -> None:
        self.original_close(poller)
        found = poller.__dict__.get("_shard_dispatcher")
        if found is not None:
            found.close()


def install(threads: int) -> None:
    """Wrap LocalStack's StreamPoller (Kinesis and DynamoDB Streams) once, in LocalStack's process."""
    from localstack.services.lambda_.event_source_mapping.event_processor import (  # noqa: PLC0415
        PipeInternalError,
    )
    from localstack.services.lambda_.event_source_mapping.pollers.poller import (  # noqa: PLC0415
        EmptyPollResultsException,
    )
    from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import (  # noqa: PLC0415
        StreamPoller,
    )

    if getattr(StreamPoller, "_stream_pipeline_shard_pollers", False) or threads <= 0:
        return
    wrapped = Wrapped(
        threads, StreamPoller.forward_events_to_target, StreamPoller.close, PipeInternalError, EmptyPollResultsException
    )

    # Plain functions, not the bound methods: as class attributes they receive the poller as `self`.
    def poll_events(self: Any) -> None:
        wrapped.poll_events(self)

    def forward_events_to_target(self: Any, shard_id: str, records: list[dict[str, Any]]) -> None:
        wrapped.forward(self, shard_id, records)

    def close(self: Any) -> None:
        wrapped.close(self)

    get_records = StreamPoller.get_records  # the metrics bridge's, when it is installed first

    def counted_get_records(self: Any, shard_iterator: str) -> dict[str, Any]:
        return wrapped.counted(get_records(self, shard_iterator))

    StreamPoller.poll_events = poll_events
    StreamPoller.forward_events_to_target = forward_events_to_target
    StreamPoller.close = close
    StreamPoller.get_records = counted_get_records
    StreamPoller._stream_pipeline_shard_pollers = True
    LOG.info("shard pollers installed: %d threads", threads)


def arn_parts(arn: str) -> tuple[str, str]:
    """(account, region) of an ARN (arn:partition:service:region:account:...)."""
    parts = arn.split(":")
    return parts[4], parts[3]
