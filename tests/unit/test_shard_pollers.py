"""The shard pollers of the executor plugin (tools/localstack-executor): every shard polled at once,
one poll per shard in flight, a batch split by partition key into up to the parallelization factor,
each key's records kept in order in one part. LocalStack's poller stands in as a fake with the
attributes and methods the wrapper uses (StreamPoller's, as LocalStack 2026.3 has them)."""

from __future__ import annotations

import threading
import time
from concurrent import futures
from typing import Any

from stream_pipeline_executor import shard_pollers
from stream_pipeline_executor.shard_pollers import Dispatcher, Wrapped, split


def kinesis(key: str, n: int) -> dict[str, Any]:
    return {"PartitionKey": key, "SequenceNumber": str(n), "Data": b"x"}


def test_a_batch_is_split_by_key_into_at_most_the_factor_each_key_in_order() -> None:
    records = [kinesis(f"racer-{n % 7}", n) for n in range(70)]
    parts = split(records, 2)
    assert 1 <= len(parts) <= 2
    assert sorted(r["SequenceNumber"] for part in parts for r in part) == sorted(r["SequenceNumber"] for r in records)
    for part in parts:
        for key in {r["PartitionKey"] for r in part}:
            mine = [int(r["SequenceNumber"]) for r in part if r["PartitionKey"] == key]
            assert mine == sorted(mine)
    owners = {r["PartitionKey"]: i for i, part in enumerate(parts) for r in part}
    assert len(owners) == 7  # each key in exactly one part
    assert split(records, 1) == [records]
    assert split([], 4) == []


def test_a_dynamodb_record_is_kept_in_order_by_its_item_key() -> None:
    record = {"dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "1"}}
    assert shard_pollers.partition_key(record) == '{"id": {"S": "a"}}'


def test_the_setting_is_off_unless_a_number_of_threads_is_given() -> None:
    assert shard_pollers.threads_setting({}) == 0
    assert shard_pollers.threads_setting({"STREAM_PIPELINE_SHARD_POLLERS": "8"}) == 8
    assert shard_pollers.threads_setting({"STREAM_PIPELINE_SHARD_POLLERS": "many"}) == 0


class FakePoller:
    """StreamPoller's surface as the wrapper uses it: shards, their batchers, one shard's poll."""

    def __init__(self, shards: dict[str, str], hold: threading.Event, read: Any = None, records: int = 1) -> None:
        self.read, self.records = read, records  # GetRecords as the wrapper sees it, and what it returns
        self.shards = shards
        self.shard_batcher: dict[str, Any] = {"gone": object()}
        self.source_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        self.esm_uuid = "uuid-1"
        self.hold = hold
        self.running: set[str] = set()
        self.most_at_once = 0
        self.polls: list[str] = []
        self.lock = threading.Lock()

    def initialize_shards(self) -> dict[str, str]:
        return self.shards

    def event_source(self) -> str:
        return "aws:kinesis"

    def poll_events_from_shard(self, shard_id: str, iterator: str) -> None:
        with self.lock:
            assert shard_id not in self.running, "two polls of one shard at once"
            self.running.add(shard_id)
            self.most_at_once = max(self.most_at_once, len(self.running))
            self.polls.append(shard_id)
        self.hold.wait(5)
        if self.read is not None:
            self.read({"Records": [{}] * self.records})
        self.shards[shard_id] = iterator + "+"
        with self.lock:
            self.running.discard(shard_id)


def test_every_shard_is_polled_at_once_and_never_twice_at_the_same_time() -> None:
    hold = threading.Event()
    wrapped = Wrapped(8, lambda *_: None, lambda _: None, RuntimeError, RuntimeError)
    poller = FakePoller({f"shard-{n}": f"it-{n}" for n in range(4)}, hold, wrapped.counted)
    started = time.monotonic()
    wrapped.poll_events(poller)  # dispatches all four; waits up to 1 s for one to finish
    wrapped.poll_events(poller)  # every shard still in flight: nothing new
    assert poller.most_at_once == 4
    assert sorted(poller.polls) == [f"shard-{n}" for n in range(4)]
    assert "gone" not in poller.shard_batcher
    hold.set()
    futures.wait(wrapped.dispatcher(poller).inflight.values(), timeout=5)
    # The next poll of each shard reads on from its new iterator. A finished poll leaves the
    # in-flight set in its future's callback, which may run a moment after the wait returns: poll
    # until every shard was read again (FakePoller fails on two polls of one shard at once).
    while min(poller.polls.count(shard) for shard in poller.shards) < 2 and time.monotonic() - started < 5:
        wrapped.poll_events(poller)
    assert all(poller.polls.count(shard) >= 2 for shard in poller.shards), poller.polls
    assert time.monotonic() - started < 5
    wrapped.dispatcher(poller).close()


def test_the_parts_of_a_split_batch_are_invoked_at_once() -> None:
    dispatcher = Dispatcher(4, "t")
    inside, both = threading.Barrier(2, timeout=5), []

    def forward(part: list[dict[str, Any]]) -> None:
        inside.wait()  # fails (BrokenBarrierError) unless the two parts run at the same time
        both.append(len(part))

    dispatcher.run_parts([[kinesis("a", 1)], [kinesis("b", 2), kinesis("b", 3)]], forward)
    assert sorted(both) == [1, 2]
    dispatcher.close()


def test_a_shard_that_came_back_empty_rests_a_second_as_lambda_reads_it() -> None:
    hold = threading.Event()
    hold.set()
    wrapped = Wrapped(4, lambda *_: None, lambda _: None, RuntimeError, RuntimeError)
    poller = FakePoller({"shard-0": "it"}, hold, wrapped.counted, records=0)
    wrapped.poll_events(poller)
    wrapped.poll_events(poller)  # finished, but empty: not read again yet
    assert poller.polls == ["shard-0"]
    time.sleep(shard_pollers.IDLE_SHARD_S + 0.1)
    wrapped.poll_events(poller)
    assert poller.polls == ["shard-0", "shard-0"]
    wrapped.dispatcher(poller).close()
