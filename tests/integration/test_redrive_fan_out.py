"""Redrive on a stream with two consumers (examples/kinesis-fan-out, the tier's shared stack), on
LocalStack: it re-delivers a record to the consumer that failed it and to nobody else, and never
writes into the stream.

* The leaderboard (the default consumer) rejects a valid record the archive consumer accepts (the
  leaderboard's MAX_RECORD_BYTES lowered through its function configuration); once the leaderboard
  is fixed (the setting restored), ``stream-pipeline redrive --apply`` run as an operator runs it:
  the archive still holds the record once, the standings count it once, and the stream's record
  count (GetRecords over every shard) is what it was.
* A forged message in the leaderboard's queue naming records both consumers applied: delivered
  again with their original sequence numbers, the leaderboard skips them, and nothing changes in
  either sink or in the stream.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from stack_support import Stack, client, operator_json, outputs_file, put, queue_depth, wait_for
from support import expected_standings, scan, standings_in, telemetry

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def stream_count(stream: str) -> int:
    """Every record the stream holds, counted with GetRecords over every shard."""
    kinesis, count = client("kinesis"), 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator: Any = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            count += len(page["Records"])
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return count


def archived(table: str, key: str) -> int:
    """The archive consumer's items for one partition key."""
    return sum(1 for item in scan(client("dynamodb"), table) if item["pk"]["S"] == f"archive#{key}")


@contextmanager
def rejecting(function: str, max_record_bytes: int) -> Iterator[None]:
    """The leaderboard deployed with a lower MAX_RECORD_BYTES (it rejects the larger records), then fixed."""
    lam = client("lambda")
    env = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]

    def deploy(variables: dict[str, str]) -> None:
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
        wait_for(lambda: lam.get_function_configuration(FunctionName=function).get("LastUpdateStatus"),
                 lambda s: s == "Successful")  # fmt: skip

    deploy({**env, "MAX_RECORD_BYTES": str(max_record_bytes)})
    try:
        yield
    finally:
        deploy(env)


def redrive(outputs: Path, *args: str) -> tuple[int, dict[str, Any]]:
    return operator_json("redrive", outputs, "--consumer", "default", *args)


def test_a_record_the_leaderboard_failed_goes_back_to_the_leaderboard_only(fanout_stack: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    outputs, consumers = outputs_file(fanout_stack, tmp_path), fanout_stack.outputs["consumers"]
    leaderboard, archive = consumers["default"], consumers["archive"]
    stream, queue = fanout_stack.outputs["stream_name"], leaderboard["on_failure_queue_url"]
    client("sqs").purge_queue(QueueUrl=queue)  # test_fan_out's poison record: not this test's
    race, key = 4242, f"redrive-{uuid.uuid4().hex[:8]}"
    message = telemetry(7, 1, race=race)
    size = len(json.dumps(message).encode())

    with rejecting(leaderboard["function_name"], size - 1):
        (sent,) = put(stream, [(key, message)])
        body = wait_for(lambda: client("sqs").receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages"),
                        bool, timeout=180, every=3)  # fmt: skip
        assert body, "the leaderboard gave the record up to its failure path"
        info = json.loads(body[0]["Body"])["KinesisBatchInfo"]
        assert int(info["startSequenceNumber"]) <= int(sent["SequenceNumber"]) <= int(info["endSequenceNumber"])
    assert wait_for(lambda: archived(archive["sink_table_name"], key), lambda n: n == 1, timeout=60) == 1
    assert standings_in(client("dynamodb"), leaderboard["sink_table_name"], race=race) == {}
    records = stream_count(stream)
    failed_at = time.monotonic()

    code, summary = redrive(outputs, "--apply")

    assert code == 0, summary
    assert (summary["redelivered"], summary["closed"], summary["foreign"]) == (info["batchSize"], 1, []), summary
    expected = expected_standings([{"kinesis": {"data": base64.b64encode(sent["Data"]).decode()}}])
    assert stream_count(stream) == records, "nothing written into the stream"
    assert standings_in(client("dynamodb"), leaderboard["sink_table_name"], race=race) == expected, "counted once"
    assert archived(archive["sink_table_name"], key) == 1, "the archive holds it once: it saw nothing again"
    assert queue_depth(queue) == (0, 0)
    print(  # noqa: T201 - what the test adds to the tier's time
        f"failure path reached in {failed_at - started:.0f} s; redrive and checks {time.monotonic() - failed_at:.0f} s"
    )


def test_a_forged_message_naming_healthy_records_changes_nothing_in_either_sink_or_the_stream(
    fanout_stack: Stack, tmp_path: Path
) -> None:
    started = time.monotonic()
    outputs, consumers = outputs_file(fanout_stack, tmp_path), fanout_stack.outputs["consumers"]
    leaderboard, archive = consumers["default"], consumers["archive"]
    stream, queue = fanout_stack.outputs["stream_name"], leaderboard["on_failure_queue_url"]
    client("sqs").purge_queue(QueueUrl=queue)
    race, key = 4343, f"forged-{uuid.uuid4().hex[:8]}"
    sent = put(stream, [(key, telemetry(racer, 1, race=race)) for racer in range(1, 6)])  # one key: one shard
    assert len({s["ShardId"] for s in sent}) == 1
    board = wait_for(lambda: standings_in(client("dynamodb"), leaderboard["sink_table_name"], race=race),
                     lambda s: len(s) == 5, timeout=90)  # fmt: skip
    assert len(board) == 5, "the leaderboard applied them"
    assert wait_for(lambda: archived(archive["sink_table_name"], key), lambda n: n == 5, timeout=90) == 5
    before = (scan(client("dynamodb"), leaderboard["sink_table_name"]), stream_count(stream))
    pipeline = fanout_stack.outputs["stream_pipeline"]
    forged = {
        "requestContext": {"functionArn": leaderboard["function_arn"]},
        "timestamp": "2026-12-05T08:00:00.000Z",
        "KinesisBatchInfo": {"shardId": sent[0]["ShardId"], "startSequenceNumber": sent[0]["SequenceNumber"],
                             "endSequenceNumber": sent[-1]["SequenceNumber"], "batchSize": 5,
                             "streamArn": pipeline["stream_arn"]},
    }  # fmt: skip
    client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(forged))

    code, summary = redrive(outputs, "--apply")

    assert code == 0, summary
    assert (summary["redelivered"], summary["skipped_by_function"]) == (5, 5), "delivered again, and skipped"
    assert (scan(client("dynamodb"), leaderboard["sink_table_name"]), stream_count(stream)) == before
    assert archived(archive["sink_table_name"], key) == 5
    print(f"forged message: {time.monotonic() - started:.0f} s")  # noqa: T201
