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

The endpoint and credentials come from the usual AWS variables (``AWS_ENDPOINT_URL``,
``AWS_PROFILE``...), so the same command loads LocalStack or a real account.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TextIO

import boto3

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

PUT_RECORDS_LIMIT: Final = 500
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

    @property
    def achieved_rate(self) -> float:
        return self.acknowledged / self.duration_s if self.duration_s else 0.0


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
) -> None:
    """Send ``items`` until every one is accepted: ``attempt`` returns the rejected ones and how many
    were throttled; those are retried with full-jitter backoff. Nothing is dropped unless the target
    refuses for GIVE_UP_AFTER_S, and then it is counted as failed after retries."""
    tries = 0
    deadline = time.monotonic() + GIVE_UP_AFTER_S
    while items:
        rejected, throttled = attempt(items)
        summary.acknowledged += len(items) - len(rejected)
        summary.throttled += throttled
        summary.last_ack_epoch = time.time()
        if not rejected:
            return
        if time.monotonic() > deadline:
            summary.failed_after_retries += len(rejected)
            return
        summary.retried += len(rejected)
        sleep(random.uniform(0, min(2.0, 0.05 * 2**tries)))  # noqa: S311 - jitter, not crypto
        tries += 1
        items = rejected


class KinesisTarget:
    def __init__(self, stream: str, client: Any = None) -> None:
        self.stream = stream
        self.client: Any = client or boto3.client("kinesis")

    def send(self, messages: list[tuple[int, dict[str, Any]]], summary: Summary, sleep: Any = time.sleep) -> None:
        for start in range(0, len(messages), PUT_RECORDS_LIMIT):
            chunk = messages[start : start + PUT_RECORDS_LIMIT]
            entries = [{"Data": json.dumps(m).encode(), "PartitionKey": str(k)} for k, m in chunk]
            summary.records_sent += len(entries)
            deliver(entries, lambda batch: self._put(batch, summary), summary, sleep)

    def _put(self, entries: list[dict[str, Any]], summary: Summary) -> tuple[list[dict[str, Any]], int]:
        response = self.client.put_records(StreamName=self.stream, Records=entries)
        rejected, throttled = [], 0
        for entry, result in zip(entries, response["Records"], strict=True):
            if "ErrorCode" in result:
                rejected.append(entry)
                code = result["ErrorCode"]
                summary.errors[code] = summary.errors.get(code, 0) + 1
                throttled += code == "ProvisionedThroughputExceededException"
        return rejected, throttled


class TableTarget:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self.client: Any = client or boto3.client("dynamodb")

    def send(self, messages: list[tuple[int, dict[str, Any]]], summary: Summary, sleep: Any = time.sleep) -> None:
        for start in range(0, len(messages), BATCH_WRITE_LIMIT):
            chunk = messages[start : start + BATCH_WRITE_LIMIT]
            requests = [{"PutRequest": {"Item": _item(m)}} for _, m in chunk]
            summary.records_sent += len(requests)
            deliver(requests, self._write, summary, sleep)

    def _write(self, requests: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        response = self.client.batch_write_item(RequestItems={self.table: requests})
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
    """Send the race, one second of messages per wall-clock second (faster only when catching up)."""
    name = target.stream if isinstance(target, KinesisTarget) else target.table
    summary = Summary(target=name, racers=racers, seconds=seconds)
    progress = Progress(out)
    started = time.monotonic()
    summary.first_put_epoch = time.time()
    for second, messages in race(racers, seconds, race_id, seed):
        target.send(messages, summary)
        progress.update(summary)
        wait = started + second - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    summary.duration_s = time.monotonic() - started
    progress.update(summary, done=True)
    return summary
