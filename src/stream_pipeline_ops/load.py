"""The Alleycat race as load: N racers, one telemetry message each per second, for T seconds.

    stream-pipeline load --racers 1000 --seconds 300 --stream alleycat        # any account or endpoint
    make load RACERS=1000 DURATION=60                                         # into `make up`'s stack

Messages have the Alleycat simulator's shape and ranges (cadence 30-90, resistance 33-86, a seeded
trend per racer, ``final`` at the last second). The partition key is the racer id, so each racer's
messages stay in order. PutRecords carries up to 500 records, paced to the target rate.

Unlike the original simulator, which only logged the entries that PutRecords reported in
``FailedPutCount``, this generator retries exactly those entries with backoff until they are
accepted, so no message is dropped; throttled and retried counts are in the summary.

With ``--table`` it writes the racers' items to a DynamoDB source table instead (the
dynamodb-streams example): one item per racer, overwritten every second.

**Aggregation (``--aggregate``), as the KPL does it.** Messages are packed into KPL aggregates with
aws-kinesis-agg's aggregator (the real format the consumer deaggregates), one aggregator per shard:
each message's shard is predicted from its partition key's MD5 and the stream's open shards
(ListShards), and each aggregate is put with the explicit hash key of its first message, so that a
racer's messages stay on one shard, in order, as the consumer's idempotency check needs. (An
aggregator that mixed shards would send a racer's messages through several shards.) An aggregate
is sent when it is full (a Kinesis record is at most 1 MiB, partition key included) or when its
oldest message has waited ``--buffer-ms`` (the KPL's RecordMaxBufferedTime, 100 ms by default).

**Producer metrics, as the KPL publishes them**, unless ``--no-producer-metrics``: in the
``KinesisProducerLibrary`` namespace, with the KPL's names (UserRecordsPut, UserRecordsDataPut,
KinesisRecordsPut, KinesisRecordsDataPut, ErrorsByCode with ErrorCode, AllErrors,
RetriesPerRecord, UserRecordExpired, BufferingTime, RequestTime, UserRecordsPerKinesisRecord,
KinesisRecordsPerPutRecordsRequest, UserRecordsPerPutRecordsRequest) at the KPL's global and
stream granularity (no dimension, and StreamName). They are statistic sets per upload interval (the
KPL's MetricsUploadDelay: 60 s by default, ``--metrics-upload-delay-ms``), stamped with the interval's
start and sent with PutMetricData at most 1,000 at a time when an interval is over and at the end: a
60 s race costs one or two calls at the default. ``make load`` uses 10 s, the period ``make report``
draws, so that what was put and what was processed are counted over the same 10 seconds. Shard
granularity (ShardId) is left out: it multiplies the series by the shard count.

The endpoint and credentials come from the usual AWS variables (``AWS_ENDPOINT_URL``,
``AWS_PROFILE``...), so the same command loads LocalStack or a real account.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TextIO

import boto3

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

PUT_RECORDS_LIMIT: Final = 500
PUT_RECORDS_BYTES: Final = 5 * 1024 * 1024
"""PutRecords takes at most 500 records and 5 MiB (data and partition keys) per request."""
MAX_RECORD_BYTES: Final = 1024 * 1024
MAX_PARTITION_KEY_BYTES: Final = 256
AGGREGATE_BYTES: Final = MAX_RECORD_BYTES - MAX_PARTITION_KEY_BYTES
"""An aggregate's data, so that with its partition key it is still a Kinesis record (1 MiB)."""
DEFAULT_BUFFER_MS: Final = 100
"""The KPL's RecordMaxBufferedTime default."""
KPL_NAMESPACE: Final = "KinesisProducerLibrary"
DEFAULT_UPLOAD_DELAY_MS: Final = 60_000
"""The KPL's MetricsUploadDelay default (1 to 60,000 ms): how long its statistic sets count before upload."""
METRICS_PER_CALL: Final = 1000
"""PutMetricData takes up to 1,000 metrics per request."""
THROTTLED: Final = "ProvisionedThroughputExceededException"
BATCH_WRITE_LIMIT: Final = 25
CADENCE: Final = (30.0, 90.0)
RESISTANCE: Final = (33.0, 86.0)
GIVE_UP_AFTER_S: Final = 300.0


@dataclass
class Racer:
    racer_id: int
    race_id: int
    class_id: int
    cadence: float
    resistance: float
    cadence_trend: float
    resistance_trend: float
    rng: random.Random

    @classmethod
    def seeded(cls, racer_id: int, race_id: int, seed: int) -> Racer:
        rng = random.Random(f"{seed}:{race_id}:{racer_id}")  # noqa: S311 - a reproducible simulation, not crypto
        return cls(
            racer_id=racer_id,
            race_id=race_id,
            class_id=1 + racer_id % 3,
            cadence=rng.uniform(45, 75),
            resistance=rng.uniform(45, 75),
            cadence_trend=rng.uniform(-0.3, 0.3),
            resistance_trend=rng.uniform(-0.2, 0.2),
            rng=rng,
        )

    def message(self, second: int, final: bool, now_ms: int) -> dict[str, Any]:
        self.cadence = _clamp(self.cadence + self.cadence_trend + self.rng.gauss(0, 2), CADENCE)
        self.resistance = _clamp(self.resistance + self.resistance_trend + self.rng.gauss(0, 1), RESISTANCE)
        return {
            "event": "final" if final else "update",
            "deviceTimestamp": now_ms,
            "second": second,
            "raceId": self.race_id,
            "name": f"Racer {self.racer_id}",
            "racerId": self.racer_id,
            "classId": self.class_id,
            "cadence": round(self.cadence),
            "resistance": round(self.resistance),
        }


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


@dataclass
class Summary:
    target: str
    racers: int
    seconds: int
    records_sent: int = 0
    acknowledged: int = 0
    throttled: int = 0
    retried: int = 0
    failed_after_retries: int = 0
    duration_s: float = 0.0
    first_put_epoch: float = 0.0
    last_ack_epoch: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    aggregated: bool = False
    kinesis_records: int = 0
    """Kinesis records acknowledged: as many as the messages, or the aggregates that carried them."""
    metric_calls: int = 0
    """PutMetricData calls made for the producer metrics."""
    put_calls: int = 0
    put_s: float = 0.0
    """PutRecords (or BatchWriteItem) calls, and the seconds spent waiting for their answers."""
    producer_cpu_s: float = 0.0
    """CPU seconds this process spent during the race (building messages, the SDK, the calls)."""
    endpoint: str = ""
    """The endpoint the records went to (AWS_ENDPOINT_URL, or AWS's own)."""

    @property
    def achieved_rate(self) -> float:
        return self.acknowledged / self.duration_s if self.duration_s else 0.0

    @property
    def target_rate(self) -> float:
        """Records a second asked for: each racer sends one message a second."""
        return float(self.racers)


ON_TARGET: Final = 0.95
"""A race within 5% of its target rate is on target: the pacing itself costs a little."""
HELD_BACK_SHARE: Final = 0.5
"""What held a race back: the part of the race (our CPU, or waiting for the endpoint) over half its time."""
LOCAL_HOSTS: Final = ("127.0.0.1", "localhost", "[::1]")


def is_local(endpoint: str) -> bool:
    """Whether the endpoint is an emulator on this machine (LocalStack: ``make up``'s AWS_ENDPOINT_URL)."""
    host = endpoint.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return host in LOCAL_HOSTS


def judgement(summary: Summary) -> str:
    """The rate achieved against the target, and when it fell short, what held it back: waiting for
    the endpoint's answers (the emulator, on LocalStack), this producer's own CPU, or neither (the
    machine's other processes had the cores). A Kinesis put returns once the record is stored, so the
    consumer never holds the producer back."""
    target, achieved = summary.target_rate, summary.achieved_rate
    asked = f"{achieved:,.0f} records/s of the {target:,.0f}/s asked ({achieved / target:.0%})" if target else ""
    if not target or achieved >= ON_TARGET * target:
        return f"on target: {asked}"
    duration = max(summary.duration_s, 1e-9)
    per_call = summary.put_s / summary.put_calls * 1000 if summary.put_calls else 0.0
    waited = (
        f"its answers took {summary.put_s:,.1f} s of the race's {summary.duration_s:,.1f} s "
        f"({summary.put_calls:,} calls, {per_call:,.0f} ms each)"
    )
    cpu = f"this producer used {summary.producer_cpu_s:,.1f} s of CPU in the race's {summary.duration_s:,.1f} s"
    throttled = f"; {summary.throttled:,} entries throttled and retried" if summary.throttled else ""
    if summary.producer_cpu_s / duration >= HELD_BACK_SHARE:
        return f"short of the target: {asked}. This producer's own CPU held it back: {cpu}"
    if summary.put_s / duration >= HELD_BACK_SHARE:
        if is_local(summary.endpoint):
            return (
                f"short of the target: {asked}. The emulator, not the pipeline, held it back: {waited} at "
                f"{summary.endpoint}{throttled} (a put returns once the record is stored, whatever the consumer does)"
            )
        return f"short of the target: {asked}. The endpoint held it back: {waited} at {summary.endpoint}{throttled}"
    others = " (LocalStack's among them)" if is_local(summary.endpoint) else ""
    return (
        f"short of the target: {asked}. The machine held it back: waiting for the endpoint took "
        f"{summary.put_s:,.1f} s and this producer's CPU {summary.producer_cpu_s:,.1f} s of the race's "
        f"{summary.duration_s:,.1f} s; the rest went to other processes on the cores{others}"
    )


class Progress:
    """A live line on a terminal; plain periodic lines otherwise (CI logs, pipes)."""

    def __init__(self, out: TextIO, every_s: float = 5.0) -> None:
        self.out = out
        self.live = out.isatty()
        self.every_s = every_s
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, summary: Summary, done: bool = False) -> None:
        now = time.monotonic()
        if not done and not self.live and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        line = (
            f"sent {summary.records_sent:,}  acknowledged {summary.acknowledged:,}  throttled {summary.throttled:,}  "
            f"rate {summary.acknowledged / elapsed:,.0f}/s"
        )
        if self.live:
            self.out.write("\r" + line.ljust(100) + ("\n" if done else ""))
        else:
            self.out.write(line + "\n")
        self.out.flush()


def race(racers: int, seconds: int, race_id: int, seed: int) -> Iterator[tuple[int, list[tuple[int, dict[str, Any]]]]]:
    """Second by second, every racer's message of that second."""
    field_ = [Racer.seeded(r, race_id, seed) for r in range(1, racers + 1)]
    for second in range(1, seconds + 1):
        now_ms = int(time.time() * 1000)
        yield second, [(r.racer_id, r.message(second, second == seconds, now_ms)) for r in field_]


def deliver(
    items: list[Any],
    attempt: Callable[[list[Any]], tuple[list[Any], int]],
    summary: Summary,
    sleep: Callable[[float], None],
    weight: Callable[[Any], int] = lambda _: 1,
) -> list[Any]:
    """Send ``items`` until every one is accepted: ``attempt`` returns the rejected ones and how many
    were throttled; those are retried with full-jitter backoff. Nothing is dropped unless the target
    refuses for GIVE_UP_AFTER_S, and then it is counted as failed after retries (and returned).
    ``weight`` is the messages an item carries (an aggregate carries many)."""
    tries = 0
    deadline = time.monotonic() + GIVE_UP_AFTER_S
    while items:
        rejected, throttled = attempt(items)
        summary.acknowledged += sum(map(weight, items)) - sum(map(weight, rejected))
        summary.throttled += throttled
        summary.last_ack_epoch = time.time()
        if not rejected:
            return []
        if time.monotonic() > deadline:
            summary.failed_after_retries += sum(map(weight, rejected))
            return rejected
        summary.retried += sum(map(weight, rejected))
        sleep(random.uniform(0, min(2.0, 0.05 * 2**tries)))  # noqa: S311 - jitter, not crypto
        tries += 1
        items = rejected
    return []


@dataclass
class _Statistics:
    count: float = 0.0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")

    def add(self, count: float, total: float, minimum: float, maximum: float) -> None:
        self.count += count
        self.total += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)


class ProducerMetrics:
    """The KPL's producer metrics (names, units, namespace, global and stream granularity), kept as
    statistic sets per upload interval (``upload_delay_s``, the KPL's MetricsUploadDelay, 60 s by default)
    and sent with PutMetricData in as few calls as the limits allow."""

    UNITS: Final = {"BufferingTime": "Milliseconds", "RequestTime": "Milliseconds",
                    "UserRecordsDataPut": "Bytes", "KinesisRecordsDataPut": "Bytes"}  # fmt: skip

    def __init__(
        self,
        stream: str,
        client: Any = None,
        namespace: str = KPL_NAMESPACE,
        clock: Any = time.time,
        upload_delay_s: float = DEFAULT_UPLOAD_DELAY_MS / 1000,
    ) -> None:
        self.stream = stream
        self.namespace = namespace
        self._client = client
        self._clock = clock
        self.upload_delay_s = upload_delay_s
        self._minute: int | None = None
        """The upload interval being counted (its start is ``_minute * upload_delay_s``)."""
        self._sets: dict[tuple[str, str | None], _Statistics] = {}
        self.calls = 0

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("cloudwatch")
        return self._client

    def observe(
        self, name: str, value: float, count: float = 1, *, spread: tuple[float, float] | None = None,
        error_code: str | None = None,
    ) -> None:  # fmt: skip
        """``count`` samples of ``value`` (their mean, with ``spread`` = (min, max) when they differ)."""
        minute = int(self._clock() // self.upload_delay_s)
        if self._minute is not None and minute != self._minute:
            self.flush()
        self._minute = minute
        low, high = spread if spread is not None else (value, value)
        self._sets.setdefault((name, error_code), _Statistics()).add(count, value * count, low, high)

    def flush(self) -> None:
        """Send the interval's statistic sets (at the KPL's global and stream granularity)."""
        if not self._sets or self._minute is None:
            return
        stamp = datetime.fromtimestamp(self._minute * self.upload_delay_s, tz=UTC)
        data = [
            {
                "MetricName": name,
                "Dimensions": dimensions + ([{"Name": "ErrorCode", "Value": error_code}] if error_code else []),
                "Timestamp": stamp,
                "StatisticValues": {"SampleCount": stats.count, "Sum": stats.total,
                                    "Minimum": stats.minimum, "Maximum": stats.maximum},
                "Unit": self.UNITS.get(name, "Count"),
            }
            for (name, error_code), stats in self._sets.items()
            for dimensions in ([], [{"Name": "StreamName", "Value": self.stream}])
        ]  # fmt: skip
        for start in range(0, len(data), METRICS_PER_CALL):
            self.client.put_metric_data(Namespace=self.namespace, MetricData=data[start : start + METRICS_PER_CALL])
            self.calls += 1
        self._sets.clear()


def hash_key(partition_key: str) -> int:
    """The 128-bit hash Kinesis maps a partition key to a shard with (MD5, big-endian)."""
    return int.from_bytes(hashlib.md5(partition_key.encode(), usedforsecurity=False).digest(), "big")


class ShardMap:
    """The stream's open shards by hash key range, to predict a message's shard as the KPL does."""

    def __init__(self, ranges: list[tuple[int, int, str]]) -> None:
        self.ranges = sorted(ranges)

    @classmethod
    def of(cls, client: Any, stream: str) -> ShardMap:
        ranges, kwargs = [], {"StreamName": stream}
        while True:
            page = client.list_shards(**kwargs)
            for shard in page["Shards"]:
                if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}):  # open shards only
                    keys = shard["HashKeyRange"]
                    ranges.append((int(keys["StartingHashKey"]), int(keys["EndingHashKey"]), shard["ShardId"]))
            if "NextToken" not in page:
                return cls(ranges)
            kwargs = {"NextToken": page["NextToken"]}

    def shard_of(self, key: int) -> str:
        for start, end, shard in self.ranges:
            if start <= key <= end:
                return shard
        raise ValueError("the stream has no open shard for this hash key; was it resharded?")


@dataclass
class _Buffered:
    """One aggregate being filled for one shard, and what the metrics need of its messages."""

    aggregator: Any
    count: int = 0
    first_added: float = 0.0
    last_added: float = 0.0
    added_total: float = 0.0
    bytes_total: int = 0
    bytes_min: int = 0
    bytes_max: int = 0

    def add(self, now: float, size: int) -> None:
        if self.count == 0:
            self.first_added, self.bytes_min, self.bytes_max = now, size, size
        self.count += 1
        self.last_added = now
        self.added_total += now
        self.bytes_total += size
        self.bytes_min, self.bytes_max = min(self.bytes_min, size), max(self.bytes_max, size)

    def taken(self, record: Any, now: float) -> _Entry:
        """The PutRecords entry of the finished aggregate ``record``, whose messages are the ones
        counted so far; the counts start again."""
        key, _, data = record.get_contents()
        request = {"Data": data, "PartitionKey": key, "ExplicitHashKey": str(hash_key(key))}
        waits = ((now * self.count - self.added_total) * 1000, (now - self.last_added) * 1000,
                 (now - self.first_added) * 1000)  # fmt: skip
        entry = _Entry(request, self.count, (self.bytes_total, self.bytes_min, self.bytes_max), waits)
        self.count, self.added_total, self.bytes_total = 0, 0.0, 0
        return entry


@dataclass
class _Entry:
    """A PutRecords entry with what the metrics need: its messages' count, their bytes and how
    long they were buffered, each as (total, min, max)."""

    request: dict[str, Any]
    users: int
    user_bytes: tuple[int, int, int]
    buffered_ms: tuple[float, float, float]
    retries: int = 0


class KinesisTarget:
    """PutRecords into a stream: one record per message, or KPL aggregates (``aggregate=True``)."""

    def __init__(
        self,
        stream: str,
        client: Any = None,
        *,
        aggregate: bool = False,
        buffer_ms: int = DEFAULT_BUFFER_MS,
        metrics: ProducerMetrics | None = None,
        clock: Any = time.monotonic,
    ) -> None:
        self.stream = stream
        self.client: Any = client or boto3.client("kinesis")
        self.aggregate = aggregate
        self.buffer_s = buffer_ms / 1000
        self.metrics = metrics
        self.clock = clock
        self._shards: ShardMap | None = None
        self._buffers: dict[str, _Buffered] = {}

    # ------------------------------------------------------------------ sending
    def send(self, messages: list[tuple[int, dict[str, Any]]], summary: Summary, sleep: Any = time.sleep) -> None:
        now = self.clock()
        summary.records_sent += len(messages)
        if not self.aggregate:
            entries = []
            for key, message in messages:
                data = json.dumps(message).encode()
                request = {"Data": data, "PartitionKey": str(key)}
                entries.append(_Entry(request, 1, (len(data), len(data), len(data)), (0.0, 0.0, 0.0)))
            self._put_all(entries, summary, sleep, sent_at=now)
            return
        ready = [
            entry for key, message in messages if (entry := self._add(str(key), json.dumps(message).encode(), now))
        ]
        ready += self._due(now, force=False)
        self._put_all(ready, summary, sleep, sent_at=None)

    def flush(self, summary: Summary, sleep: Any = time.sleep, *, force: bool = True) -> None:
        """Send the aggregates whose buffering time is up (every one, with ``force``)."""
        if self.aggregate:
            self._put_all(self._due(self.clock(), force=force), summary, sleep, sent_at=None)

    def next_deadline(self) -> float | None:
        """When the oldest buffered message's buffering time is up (None: nothing buffered)."""
        firsts = [b.first_added for b in self._buffers.values() if b.count]
        return min(firsts) + self.buffer_s if firsts else None

    # -------------------------------------------------------------- aggregation
    def _add(self, key: str, data: bytes, now: float) -> _Entry | None:
        """Add one message to its shard's aggregate; return the aggregate it filled, if it did."""
        from aws_kinesis_agg.aggregator import RecordAggregator  # type: ignore[import-untyped]  # noqa: PLC0415 - only with --aggregate

        if self._shards is None:
            self._shards = ShardMap.of(self.client, self.stream)
        shard = self._shards.shard_of(hash_key(key))
        buffered = self._buffers.get(shard)
        if buffered is None:
            buffered = self._buffers[shard] = _Buffered(RecordAggregator(max_size=AGGREGATE_BYTES))
        full = buffered.aggregator.add_user_record(key, data)
        # A full aggregate comes back without this message, which starts the next one.
        entry = buffered.taken(full, now) if full is not None else None
        buffered.add(now, len(data))
        return entry

    def _due(self, now: float, *, force: bool) -> list[_Entry]:
        return [
            buffered.taken(buffered.aggregator.clear_and_get(), now)
            for buffered in self._buffers.values()
            if buffered.count and (force or now - buffered.first_added >= self.buffer_s)
        ]

    # ---------------------------------------------------------------- PutRecords
    def _put_all(self, entries: list[_Entry], summary: Summary, sleep: Any, sent_at: float | None) -> None:
        for chunk in _requests(entries):
            if sent_at is not None and self.metrics is not None:  # plain records: buffered from creation to now
                waited = (self.clock() - sent_at) * 1000
                for entry in chunk:
                    entry.buffered_ms = (waited, waited, waited)
            rejected = deliver(chunk, lambda batch: self._put(batch, summary), summary, sleep, weight=_users)
            self._record(chunk, rejected, summary)

    def _put(self, entries: list[_Entry], summary: Summary) -> tuple[list[_Entry], int]:
        started = time.monotonic()
        response = self.client.put_records(StreamName=self.stream, Records=[e.request for e in entries])
        took = time.monotonic() - started
        summary.put_calls += 1
        summary.put_s += took
        if self.metrics is not None:
            self.metrics.observe("RequestTime", took * 1000)
            self.metrics.observe("KinesisRecordsPerPutRecordsRequest", len(entries))
            self.metrics.observe("UserRecordsPerPutRecordsRequest", sum(e.users for e in entries))
        rejected, throttled = [], 0
        for entry, result in zip(entries, response["Records"], strict=True):
            if "ErrorCode" in result:
                rejected.append(entry)
                entry.retries += 1
                code = result["ErrorCode"]
                summary.errors[code] = summary.errors.get(code, 0) + 1
                throttled += code == THROTTLED
                if self.metrics is not None:
                    self.metrics.observe("ErrorsByCode", 1, error_code=str(code))
                    self.metrics.observe("AllErrors", 1)
            else:
                summary.kinesis_records += 1
        return rejected, throttled

    def _record(self, chunk: list[_Entry], rejected: list[_Entry], summary: Summary) -> None:  # noqa: ARG002 - the summary is counted in _put
        if self.metrics is None:
            return
        given_up = {id(e) for e in rejected}
        for entry in chunk:
            if id(entry) in given_up:
                self.metrics.observe("UserRecordExpired", 1, entry.users)
                continue
            total, low, high = entry.buffered_ms
            data_total, data_min, data_max = entry.user_bytes
            self.metrics.observe("UserRecordsPut", 1, entry.users)
            self.metrics.observe(
                "UserRecordsDataPut", data_total / entry.users, entry.users, spread=(data_min, data_max)
            )
            self.metrics.observe("KinesisRecordsPut", 1)
            self.metrics.observe("KinesisRecordsDataPut", len(entry.request["Data"]))
            self.metrics.observe("UserRecordsPerKinesisRecord", entry.users)
            self.metrics.observe("RetriesPerRecord", entry.retries, entry.users)
            self.metrics.observe("BufferingTime", total / entry.users, entry.users, spread=(low, high))


def _users(entry: _Entry) -> int:
    return entry.users


def _requests(entries: list[_Entry]) -> Iterator[list[_Entry]]:
    """PutRecords requests: at most 500 records and 5 MiB each."""
    chunk: list[_Entry] = []
    size = 0
    for entry in entries:
        entry_size = len(entry.request["Data"]) + len(entry.request["PartitionKey"].encode())
        if chunk and (len(chunk) == PUT_RECORDS_LIMIT or size + entry_size > PUT_RECORDS_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += entry_size
    if chunk:
        yield chunk


class TableTarget:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self.client: Any = client or boto3.client("dynamodb")

    def send(self, messages: list[tuple[int, dict[str, Any]]], summary: Summary, sleep: Any = time.sleep) -> None:
        for start in range(0, len(messages), BATCH_WRITE_LIMIT):
            chunk = messages[start : start + BATCH_WRITE_LIMIT]
            requests = [{"PutRequest": {"Item": _item(m)}} for _, m in chunk]
            summary.records_sent += len(requests)
            deliver(requests, lambda batch: self._write(batch, summary), summary, sleep)

    def _write(self, requests: list[dict[str, Any]], summary: Summary) -> tuple[list[dict[str, Any]], int]:
        started = time.monotonic()
        response = self.client.batch_write_item(RequestItems={self.table: requests})
        summary.put_calls += 1
        summary.put_s += time.monotonic() - started
        unprocessed: list[dict[str, Any]] = response.get("UnprocessedItems", {}).get(self.table, [])
        return unprocessed, len(unprocessed)


def _item(message: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"id": {"S": f"race-{message['raceId']}-racer-{message['racerId']}"}}
    for key, value in message.items():
        item[key] = {"N": str(value)} if isinstance(value, int | float) else {"S": str(value)}
    return item


def run(
    target: KinesisTarget | TableTarget,
    *,
    racers: int,
    seconds: int,
    race_id: int = 1,
    seed: int = 7,
    out: TextIO = sys.stdout,
) -> Summary:
    """Send the race, one second of messages per wall-clock second (faster only when catching up).
    Aggregates are flushed when their buffering time is up, also while waiting for the next second."""
    name = target.stream if isinstance(target, KinesisTarget) else target.table
    kinesis = target if isinstance(target, KinesisTarget) else None
    summary = Summary(target=name, racers=racers, seconds=seconds, aggregated=bool(kinesis and kinesis.aggregate))
    summary.endpoint = str(getattr(getattr(target.client, "meta", None), "endpoint_url", "") or "")
    progress = Progress(out)
    cpu_started = time.process_time()
    started = time.monotonic()
    summary.first_put_epoch = time.time()
    for second, messages in race(racers, seconds, race_id, seed):
        target.send(messages, summary)
        progress.update(summary)
        while (wait := started + second - time.monotonic()) > 0:
            deadline = kinesis.next_deadline() if kinesis is not None else None
            time.sleep(wait if deadline is None else max(0.0, min(wait, deadline - time.monotonic())))
            if kinesis is not None:
                kinesis.flush(summary, force=False)
    if kinesis is not None:
        kinesis.flush(summary)
        if kinesis.metrics is not None:
            kinesis.metrics.flush()
            summary.metric_calls = kinesis.metrics.calls
    summary.duration_s = time.monotonic() - started
    summary.producer_cpu_s = time.process_time() - cpu_started
    progress.update(summary, done=True)
    return summary
