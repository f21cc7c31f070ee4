"""Redrive end to end on LocalStack, for both failure destinations and for a stream with two
consumers, with the module's own ledger.

A processor that rejects good records (MAX_RECORD_BYTES set below their size: the stand-in for a
processor that rejects a new field) sends them to the failure path; after the fixed processor is
deployed (the setting restored), ``stream-pipeline redrive --apply`` re-delivers them to the function
that failed them, with their original sequence numbers and bytes, by Invoke: the sink equals the
reference, the stream holds what it held, a second ``--apply`` changes nothing, and in = sink +
discarded.

* kinesis-alleycat: SQS destination, records fetched from the stream by sequence range.
* dynamodb-streams: S3 archive destination (LocalStack writes the records into the object), records
  fetched from the table's stream and held against the archive's copies.
* kinesis-fan-out: the leaderboard fails a record the archive took; redrive brings it to the
  leaderboard only: the archive holds it once, the standings count it once, the stream's record
  count is unchanged. A forged message naming healthy records changes nothing.

The command runs as an operator runs it: a process of its own, the stack's ``stream_pipeline``
output as ``--outputs``, LocalStack through the standard AWS variables. One run of it is killed
mid-apply; a forged queue message names another team's stream; every AWS call redrive makes is
checked against the redrive policy the stack publishes.
"""

from __future__ import annotations

import base64
import json
import signal
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aws_calls import recording
from stack_support import (
    Stack,
    client,
    empty_failure_path,
    operator,
    operator_environment,
    operator_json,
    outputs_file,
    queue_depth,
    wait_for,
)
from stream_pipeline_ops import cli
from support import expected_standings, scan, standings_in, telemetry

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator
    from pathlib import Path

ACCOUNT = "000000000000"  # LocalStack's
HOLD_S = 30  # redrive's --apply visibility hold (reading.HOLD_S)


@contextmanager
def rejecting(function: str) -> Iterator[None]:
    """Deploy a processor that rejects every record (MAX_RECORD_BYTES=8), then the fixed one."""
    lam = client("lambda")
    env = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]

    def deploy(variables: dict[str, str]) -> None:
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
        wait_for(lambda: lam.get_function_configuration(FunctionName=function).get("LastUpdateStatus"),
                 lambda s: s == "Successful")  # fmt: skip

    deploy({**env, "MAX_RECORD_BYTES": "8"})
    try:
        yield
    finally:
        deploy(env)


def command(outputs: Path, *args: str) -> subprocess.Popen[str]:
    return operator("redrive", outputs, *args)


def redrive(outputs: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """A run of the command to its end: its exit status and its --json summary."""
    return operator_json("redrive", outputs, *args)


def failed_records(outputs: Path) -> int:
    """How many records the failure path names (a dry run, unchecked: changes nothing but the ledger's notes)."""
    return int(redrive(outputs, "--no-check")[1]["fetched"])


def ledger_items(stack: Stack, prefix: str) -> list[dict[str, Any]]:
    table = stack.outputs["stream_pipeline"]["redrive_ledger_table_arn"].rsplit("/", 1)[-1]
    return [i for i in scan(client("dynamodb"), table) if i["pk"]["S"].startswith(prefix)]


def fail(stack: Stack, outputs: Path, race: int, racers: int = 5) -> list[tuple[int, dict[str, Any]]]:
    """Race messages the rejecting processor sends to the failure path; returns them once it has."""
    function, stream = stack.outputs["function_name"], stack.outputs["stream_name"]
    messages = [(racer, telemetry(racer, second, race=race)) for second in (1, 2) for racer in range(1, racers + 1)]
    with rejecting(function):
        kinesis = client("kinesis")
        for key, message in messages:
            kinesis.put_record(StreamName=stream, PartitionKey=str(key), Data=_json(message))
        assert wait_for(lambda: failed_records(outputs), lambda n: n >= len(messages), timeout=120, every=3) == len(
            messages
        )
    return messages


def test_kinesis_failures_in_the_queue_are_redriven_from_the_stream(kinesis_stack: Stack, tmp_path: Path) -> None:
    outputs, sink = outputs_file(kinesis_stack, tmp_path), kinesis_stack.outputs["sink_table_name"]
    race = 808
    empty_failure_path(kinesis_stack)
    messages = fail(kinesis_stack, outputs, race)

    in_stream = len(_records(kinesis_stack.outputs["stream_name"]))
    code, first = redrive(outputs, "--apply")
    assert code == 0, first
    assert (first["redelivered"], first["still_failing"], first["expired"], first["in_doubt"]) == (
        len(messages), 0, 0, 0,
    )  # fmt: skip
    assert first["closed"] == first["failures"]
    assert first["foreign"] == [], "LocalStack's invocation records are Lambda's shape: none is foreign"
    assert len(_records(kinesis_stack.outputs["stream_name"])) == in_stream, "nothing written into the stream"

    expected = expected_standings([_event(m) for _, m in messages])
    in_sink = wait_for(lambda: standings_in(client("dynamodb"), sink, race=race), lambda s: s == expected, timeout=60)
    assert in_sink == expected, "the sink equals the reference"

    code, second = redrive(outputs, "--apply")
    assert (code, second["failures"], second["redelivered"]) == (0, 0, 0), "a second redrive changes nothing"
    applied = sum(entry["message_count"] for entry in in_sink.values())
    assert applied + first["discarded"] == len(messages), "records in = sink + discarded"
    closed = [i for i in ledger_items(kinesis_stack, "FAILURE#") if i["status"]["S"] == "closed"]
    assert len(closed) >= first["failures"], "each failure's ledger entry is closed"


def test_dynamodb_failures_in_the_archive_are_redriven_through_the_function(
    dynamodb_stack: Stack, tmp_path: Path
) -> None:
    outputs = outputs_file(dynamodb_stack, tmp_path)
    function = dynamodb_stack.outputs["function_name"]
    table, sink = dynamodb_stack.outputs["source_table_name"], dynamodb_stack.outputs["sink_table_name"]
    keys = [f"redrive-{n}" for n in range(4)]
    empty_failure_path(dynamodb_stack)
    dynamodb = client("dynamodb")
    with rejecting(function):
        time.sleep(1)
        for key in keys:
            dynamodb.put_item(TableName=table, Item={"id": {"S": key}, "total": {"N": "7"}})
        assert wait_for(lambda: failed_records(outputs), lambda n: n >= len(keys), timeout=120, every=3) == len(keys)
        assert not _audited(scan(dynamodb, sink), keys), "the rejecting processor wrote nothing"

    code, first = redrive(outputs, "--apply")
    assert code == 0, first
    assert (first["redelivered"], first["still_failing"], first["in_doubt"]) == (len(keys), 0, 0)
    assert first["foreign"] == [], "LocalStack's archived copies are the table stream's records"
    assert first["closed"] == first["failures"]
    audited = wait_for(lambda: _audited(scan(dynamodb, sink), keys), lambda found: len(found) == len(keys))
    assert sorted(audited) == sorted(keys), "every change is in the audit table, once"

    code, second = redrive(outputs, "--apply")
    assert (code, second["failures"], second["redelivered"]) == (0, 0, 0), "a second redrive changes nothing"
    assert len(_audited(scan(dynamodb, sink), keys)) + first["discarded"] == len(keys), "in = sink + discarded"
    bucket = dynamodb_stack.outputs["on_failure_bucket_name"]
    assert client("s3").list_objects_v2(Bucket=bucket, Prefix="aws/").get("KeyCount", 0) == 0
    moved = client("s3").list_objects_v2(Bucket=bucket, Prefix="redriven/aws/lambda/").get("KeyCount", 0)
    assert moved == first["closed"], "closed failures are moved under redriven/"
    empty_failure_path(dynamodb_stack)  # the archive is not force-destroyed: leave it empty for the teardown


def test_a_forged_message_naming_another_teams_stream_brings_nothing_of_it_into_ours(
    kinesis_stack: Stack, tmp_path: Path
) -> None:
    outputs = outputs_file(kinesis_stack, tmp_path)
    ours, queue = kinesis_stack.outputs["stream_name"], kinesis_stack.outputs["on_failure_queue_url"]
    empty_failure_path(kinesis_stack)
    kinesis = client("kinesis")
    theirs = "it-payments"  # another team's stream in the same account and region; its records would pass our checks
    kinesis.create_stream(StreamName=theirs, ShardCount=1)
    try:
        wait_for(lambda: kinesis.describe_stream_summary(StreamName=theirs)["StreamDescriptionSummary"]["StreamStatus"],
                 lambda s: s == "ACTIVE")  # fmt: skip
        arn = kinesis.describe_stream_summary(StreamName=theirs)["StreamDescriptionSummary"]["StreamARN"]
        puts = [kinesis.put_record(StreamName=theirs, PartitionKey=str(r), Data=_json(telemetry(r, 1, race=909)))
                for r in range(1, 6)]  # fmt: skip
        before = len(_records(ours))
        function = kinesis_stack.outputs["stream_pipeline"]["consumers"]["default"]["function_arn"]
        forged = {
            "requestContext": {"functionArn": function},
            "timestamp": "2026-11-23T08:00:00.000Z",
            "KinesisBatchInfo": {"shardId": puts[0]["ShardId"], "startSequenceNumber": puts[0]["SequenceNumber"],
                                 "endSequenceNumber": puts[-1]["SequenceNumber"], "batchSize": 5, "streamArn": arn},
        }  # fmt: skip
        client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(forged))

        code, summary = redrive(outputs, "--apply")

        assert code == 1, "a foreign item is unresolved"
        assert [f["reason"] for f in summary["foreign"]] == [
            f'names stream "{arn}", not this stack\'s {kinesis_stack.outputs["stream_pipeline"]["stream_arn"]}'
        ]
        assert summary["redelivered"] == 0
        assert len(_records(ours)) == before, "not one record of theirs reached our stream"
        assert standings_in(client("dynamodb"), kinesis_stack.outputs["sink_table_name"], race=909) == {}
        assert queue_depth(queue) == (1, 0), "the message is left where it was, visible"
    finally:
        kinesis.delete_stream(StreamName=theirs, EnforceConsumerDeletion=True)
        empty_failure_path(kinesis_stack)


def test_a_killed_apply_hides_nothing_past_its_hold_and_the_next_recovers_every_record_once(
    kinesis_stack: Stack, tmp_path: Path
) -> None:
    outputs, queue = outputs_file(kinesis_stack, tmp_path), kinesis_stack.outputs["on_failure_queue_url"]
    sink, stream, race = kinesis_stack.outputs["sink_table_name"], kinesis_stack.outputs["stream_name"], 818
    empty_failure_path(kinesis_stack)
    before = len(_records(stream))
    messages = fail(kinesis_stack, outputs, race, racers=10)
    for _ in range(3):
        code, dry = redrive(outputs)
        assert code == 0, dry
        assert queue_depth(queue)[1] == 0, "a dry run hides nothing"
    failures = {i["sk"]["S"]: i for i in ledger_items(kinesis_stack, "FAILURE#") if i["status"]["S"] == "open"}
    assert len(failures) == dry["failures"] > 0
    assert all("failed_at" in i and "sent_at" in i for i in failures.values()), "both times noted, dry run included"

    with command(outputs, "--apply") as run:
        hidden = wait_for(lambda: queue_depth(queue)[1], lambda n: n > 0, timeout=60, every=0.05)
        assert hidden > 0, "the apply is working on the failures"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        killed = time.monotonic()
    depth = wait_for(lambda: queue_depth(queue), lambda d: d[1] == 0, timeout=HOLD_S + 15, every=0.5)
    waited = time.monotonic() - killed
    assert depth[1] == 0, f"still hidden {waited:.0f} s after the kill"
    assert waited <= HOLD_S + 5, f"hidden {waited:.0f} s after the kill, longer than the {HOLD_S} s hold"
    print(f"killed with {hidden} of {len(failures)} failures hidden; all visible {waited:.1f} s later")  # noqa: T201

    code, after = redrive(outputs, "--apply")
    print(f"after the kill: {after['redelivered']} delivered, {after['in_doubt']} in doubt, {after['closed']} closed")  # noqa: T201
    in_doubt = [key.rsplit("#", 1)[-1] for key in after["in_doubt_records"]]
    if in_doubt:  # the kill came between a claim and its confirmation: delivering again changes nothing applied
        settle = [arg for sequence in in_doubt for arg in ("--settle", sequence)]
        reason = "delivered again: the processor is idempotent on the sequence number"
        code, after = redrive(outputs, "--apply", *settle, "--as", "retry", "--reason", reason)
    assert code == 0, after
    assert len(_records(stream)) == len(messages) + before, "nothing written into the stream"
    expected = expected_standings([_event(m) for _, m in messages])
    in_sink = wait_for(lambda: standings_in(client("dynamodb"), sink, race=race), lambda s: s == expected, timeout=60)
    assert in_sink == expected, "every record applied exactly once"
    assert queue_depth(queue) == (0, 0)


def test_every_call_redrive_makes_is_allowed_by_the_published_redrive_policy(
    kinesis_stack: Stack, dynamodb_stack: Stack, tmp_path: Path, monkeypatch: Any
) -> None:
    """A dry run and an apply of each stack, with a failure of its own in the failure path, in this
    process so every call is recorded, and on the archive a --from-archive run over a failure past the
    stream's retention; each (action, resource) must be allowed by the redrive policy the stack
    publishes (operator_policies.redrive)."""
    for name, value in operator_environment().items():
        monkeypatch.setenv(name, value)
    refused: dict[str, list[str]] = {}
    for stack in (kinesis_stack, dynamodb_stack):
        empty_failure_path(stack)
        (_queue_failure if stack is kinesis_stack else _archived_failure)(stack)
        outputs = outputs_file(stack, tmp_path)
        policy = json.loads(stack.outputs["operator_policies"]["redrive"])
        with recording() as calls:
            assert cli.main(["redrive", "--outputs", str(outputs)]) == 0
            assert cli.main(["redrive", "--outputs", str(outputs), "--apply"]) == 0
        if stack is dynamodb_stack:
            _expired_failure(stack)
            with recording() as from_archive:
                cli.main(["redrive", "--outputs", str(outputs), "--apply", "--from-archive"])
            assert from_archive.count("s3:GetBucketVersioning") > 0, "--from-archive asked if the bucket is versioned"
            calls.calls += from_archive.calls
        assert calls.count("lambda:InvokeFunction") > 0, "the runs delivered a record"
        assert calls.count("kinesis:PutRecord") + calls.count("kinesis:PutRecords") == 0, "never into the stream"
        refused[stack.example] = calls.not_allowed(policy, ACCOUNT)
        print(f"{stack.example}:\n{calls.table()}")  # noqa: T201 - the calls, for the policy's readers
        empty_failure_path(stack)
    assert refused == {"kinesis-alleycat": [], "dynamodb-streams": []}


def _queue_failure(stack: Stack) -> None:
    """Two records in the stream (one partition key, so one shard) and Lambda's invocation record for them."""
    kinesis = client("kinesis")
    puts = [kinesis.put_record(StreamName=stack.outputs["stream_name"], PartitionKey="828",
                               Data=_json(telemetry(r, 1, race=828))) for r in (1, 2)]  # fmt: skip
    pipeline = stack.outputs["stream_pipeline"]
    body = {
        "requestContext": {"functionArn": pipeline["consumers"]["default"]["function_arn"]},
        "timestamp": "2026-11-23T08:00:00.000Z",
        "KinesisBatchInfo": {"shardId": puts[0]["ShardId"], "startSequenceNumber": puts[0]["SequenceNumber"],
                             "endSequenceNumber": puts[-1]["SequenceNumber"], "batchSize": len(puts),
                             "streamArn": pipeline["stream_arn"]},
    }  # fmt: skip
    client("sqs").send_message(QueueUrl=stack.outputs["on_failure_queue_url"], MessageBody=json.dumps(body))


def _change_record(stack: Stack, key: str) -> tuple[str, dict[str, Any]]:
    """A change put into the source table, as its stream holds it: (shard, the record in Lambda's shape)."""
    pipeline = stack.outputs["stream_pipeline"]
    client("dynamodb").put_item(TableName=stack.outputs["source_table_name"],
                                Item={"id": {"S": key}, "total": {"N": "7"}})  # fmt: skip

    def find() -> tuple[str, dict[str, Any]] | None:
        streams = client("dynamodbstreams")
        for shard in streams.describe_stream(StreamArn=pipeline["stream_arn"])["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(StreamArn=pipeline["stream_arn"], ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
            for raw in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
                if raw["dynamodb"]["Keys"] == {"id": {"S": key}}:
                    created = raw["dynamodb"]["ApproximateCreationDateTime"].timestamp()
                    record = {**raw, "dynamodb": {**raw["dynamodb"], "ApproximateCreationDateTime": created},
                              "eventSourceARN": pipeline["stream_arn"]}  # fmt: skip
                    return shard["ShardId"], record
        return None

    found = wait_for(find, lambda f: f is not None, timeout=30)
    assert found is not None, f"{key} is not in the table's stream"
    return found


def _archive(stack: Stack, key: str, shard: str, record: dict[str, Any]) -> None:
    """Lambda's archived invocation record of a failed batch of one change."""
    pipeline = stack.outputs["stream_pipeline"]
    sequence = record["dynamodb"]["SequenceNumber"]
    document = {
        "requestContext": {"functionArn": pipeline["consumers"]["default"]["function_arn"]},
        "timestamp": "2026-11-23T08:00:00.000Z",
        "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": sequence, "endSequenceNumber": sequence,
                               "batchSize": 1, "streamArn": pipeline["stream_arn"]},
        "payload": {"Records": [record]},
    }  # fmt: skip
    client("s3").put_object(Bucket=stack.outputs["on_failure_bucket_name"], Key=key, Body=json.dumps(document).encode())


def _archived_failure(stack: Stack) -> None:
    """An archived failure of one change the table's stream holds."""
    _archive(stack, "aws/lambda/policy/shard/x", *_change_record(stack, "policy-1"))


def _expired_failure(stack: Stack) -> None:
    """An archived failure of a shard the stream no longer holds (only the archive has its record)."""
    _, record = _change_record(stack, "policy-expired")
    _archive(stack, "aws/lambda/policy/expired/x", "shardId-00000001763885700000-policy01", record)


def _records(stream: str) -> list[tuple[str, bytes]]:
    """(sequence number, data) of every record the stream holds."""
    kinesis = client("kinesis")
    found: list[tuple[str, bytes]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator: Any = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            found += [(record["SequenceNumber"], record["Data"]) for record in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return found


def _json(message: Any) -> bytes:
    return json.dumps(message).encode()


def _event(message: Any) -> dict[str, Any]:
    return {"kinesis": {"data": base64.b64encode(_json(message)).decode()}}


def _audited(items: list[dict[str, Any]], keys: list[str]) -> list[str]:
    wanted = {f'{{"id":"{key}"}}': key for key in keys}
    return [wanted[i["pk"]["S"]] for i in items if i["pk"]["S"] in wanted and i["event_name"]["S"] == "INSERT"]
