"""Issue 21's trust findings against redrive, each with its hostile input, on moto with the real
handler in-process (redrive_support): what the sink, the stream and the function saw is read back.

* a forged or replayed queue message naming healthy records, and ledger items deleted between two
  --apply runs: the records are delivered again with their original sequence numbers, and the
  processors' idempotency leaves the sink as it was; the stream's other consumers see nothing;
* forged archive objects (a sequence number the stream never held, bytes that differ from the
  stream's): foreign, nothing delivered;
* records past retention: only --from-archive delivers the archive's copy, after printing its
  digest, from a versioned bucket and an object written once;
* unreadable archive objects and junk keys that sort first: reported, never a crash, and the
  genuine failure is still reached; --limit; the next run resumes after a cursor nobody without
  the ledger key can move;
* escapes and markup in keys, on a terminal; the checker's imports; KMS refusing the ledger key.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from rich.console import Console

from moto_stack import MotoStack, build
from redrive_support import (
    POISON,
    InProcessFunction,
    archive,
    archived,
    as_mapping_delivers,
    delivered,
    enqueue,
    good,
    in_stream,
    invocation,
    keys,
    ledger_items,
    put,
    queue,
    stream_records,
)
from stream_pipeline_ops import cli, redrive
from stream_pipeline_ops.redrive import paths, stream
from stream_pipeline_ops.redrive.reading import BatchInfo, Failure, NotOurs
from support import scan

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(autouse=True)
def moto_world(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "RECEIVE_WAIT_S", 0)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


@pytest.fixture
def stack() -> Iterator[MotoStack]:
    with mock_aws():
        yield build()


@pytest.fixture
def archive_stack() -> Iterator[MotoStack]:
    with mock_aws():
        yield build(destination="s3")


def target_of(stack: MotoStack) -> redrive.Target:
    return redrive.discover(stack.client, stack.name)


def apply(function: InProcessFunction, **options: Any) -> redrive.Summary:
    return redrive.redrive(function.client, target_of(function.stack), redrive.Options(apply=True, **options))


def sink(stack: MotoStack) -> list[dict[str, Any]]:
    return scan(stack.client("dynamodb"), stack.sink)


def as_the_mapping_did(function: InProcessFunction, puts: list[dict[str, Any]]) -> None:
    """The mapping's own delivery of these records to the function: the first time it applies them."""
    wanted = {p["SequenceNumber"] for p in puts}
    raws = [raw for raw in stream_records(function.stack) if raw["SequenceNumber"] in wanted]
    event = as_mapping_delivers(function.stack, raws, puts[0]["ShardId"])
    answer = function.client("lambda").invoke(FunctionName=function.stack.function_arn, Payload=json.dumps(event))
    assert json.loads(answer["Payload"].read()) == {"batchItemFailures": []}


PROCESSORS = ["alleycat", "archive"]


# ------------------------------------------------------------------------------------ deliverable 1
@pytest.mark.parametrize("processor", PROCESSORS)
def test_a_forged_queue_message_naming_healthy_records_changes_nothing_in_the_sink_or_the_stream(
    processor: str,
) -> None:
    with mock_aws():
        stack = build(environment={"RECORD_PROCESSOR": processor})
        function = InProcessFunction(stack)
        puts = put(stack, [good(racer) for racer in range(1, 51)])
        as_the_mapping_did(function, puts)
        before = sink(stack)
        assert len(before) == 50
        enqueue(stack, invocation(stack, puts))  # 50 records that were processed fine

        summary = apply(function)

        assert summary.redelivered == 50, "delivered again, with their original sequence numbers..."
        assert sink(stack) == before, "...so the processor applied nothing twice"
        assert len(in_stream(stack)) == 50, "and nothing reached the stream's other consumers"
        if processor == "alleycat":
            assert summary.skipped_by_function == 50, "the function said so (DuplicatesSkipped)"


@pytest.mark.parametrize("processor", PROCESSORS)
def test_ledger_items_deleted_between_two_applies_deliver_nothing_twice(processor: str) -> None:
    with mock_aws():
        stack = build(environment={"RECORD_PROCESSOR": processor})
        function = InProcessFunction(stack)
        puts = put(stack, [good(1), good(2), good(3)])
        message = invocation(stack, puts)
        enqueue(stack, message)
        first = apply(function)
        assert (first.redelivered, first.closed) == (3, 1)
        after_first = sink(stack)
        assert len(after_first) == 3

        dynamodb = stack.client("dynamodb")
        for item in ledger_items(stack, "RECORD#"):  # a plain DeleteItem: no key needed
            dynamodb.delete_item(TableName=stack.ledger, Key={"pk": item["pk"], "sk": item["sk"]})
        enqueue(stack, message)  # and the message replayed
        second = apply(function)

        assert second.redelivered == 3, "the ledger forgot them: they were delivered again"
        assert sink(stack) == after_first, "and the sink holds each record once"
        assert len(in_stream(stack)) == 3


# ------------------------------------------------------------------------------------ deliverable 2
def test_an_archive_object_whose_bytes_differ_from_the_streams_is_forged_and_delivers_nothing(
    archive_stack: MotoStack,
) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    document = archived(stack, [good(1), good(2)])
    document["payload"]["Records"][1]["kinesis"]["data"] = base64.b64encode(good(2, second=9)[1]).decode()
    archive(stack, "aws/lambda/forged/bytes", document)

    summary = apply(function)

    (foreign,) = summary.foreign
    sequence = document["payload"]["Records"][1]["kinesis"]["sequenceNumber"]
    assert foreign.reason == (
        f"record 1 (sequence number {sequence}) differs from the stream's record at that sequence number: a forged copy"
    )
    assert (function.events, sink(stack), len(in_stream(stack))) == ([], [], 2)
    assert keys(stack) == ["aws/lambda/forged/bytes"], "left where it was"


def test_an_archive_object_naming_a_sequence_the_stream_never_held_delivers_nothing(
    archive_stack: MotoStack,
) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    real = archived(stack, [good(1)])
    record = real["payload"]["Records"][0]
    invented = str(int(record["kinesis"]["sequenceNumber"]) + 1)  # after the shard's last record
    record["kinesis"]["sequenceNumber"], record["eventID"] = invented, f"shardId-000000000000:{invented}"
    real["KinesisBatchInfo"].update(startSequenceNumber=invented, endSequenceNumber=invented)
    archive(stack, "aws/lambda/forged/sequence", real)

    summary = apply(function)

    (foreign,) = summary.foreign
    assert foreign.reason.startswith(f"names sequence number {invented}, which shard shardId-000000000000 never held")
    assert (function.events, sink(stack)) == ([], [])


def kinesis_copy(sequence: str, message: tuple[str, bytes]) -> dict[str, Any]:
    return {"kinesis": {"partitionKey": message[0], "sequenceNumber": sequence,
                        "data": base64.b64encode(message[1]).decode()}}  # fmt: skip


def test_copies_are_held_against_the_streams_records_one_by_one() -> None:
    """Kinesis sequence numbers have gaps (moto's do not): a copy at a gap inside the range the
    stream still holds is invented, one before the stream's first retained record is expired."""
    target = redrive.Target(
        "f", "arn:f", "arn:role", "arn:aws:kinesis:us-east-1:1:stream/s", "arn:q", {}, "t", "k", 128
    )
    info = BatchInfo("shardId-000000000000", "100", "300", 3, None)
    held = stream.Fetched([kinesis_copy("200", good(2)), kinesis_copy("300", good(3))], missing=1)

    copies = [kinesis_copy("100", good(1)), kinesis_copy("200", good(2)), kinesis_copy("300", good(3))]
    assert stream.reconcile(Failure("archive", "k", "k", info, copies), held, target) == [copies[0]]

    invented = [kinesis_copy("100", good(1)), kinesis_copy("250", good(2)), kinesis_copy("300", good(3))]
    with pytest.raises(NotOurs, match="record 1 names sequence number 250, at which the stream holds no record"):
        stream.reconcile(Failure("archive", "k", "k", info, invented), held, target)

    complete = stream.Fetched([kinesis_copy(s, good(n)) for n, s in enumerate(("100", "200", "300"))], missing=0)
    with pytest.raises(NotOurs, match="record 0 names sequence number 90"):
        stream.reconcile(Failure("archive", "k", "k", info, [kinesis_copy("90", good(0)), *copies[1:]]), complete,
                         target)  # fmt: skip


EXPIRED_SHARD = "shardId-000000000009"  # closed and past retention: the stream no longer lists it


def expired_object(stack: MotoStack, key: str) -> dict[str, Any]:
    """An archived failure of a shard the stream no longer holds: only the archive has its records."""
    document = archived(stack, [good(7), good(8)])
    for record in document["payload"]["Records"]:
        record["eventID"] = f"{EXPIRED_SHARD}:{record['kinesis']['sequenceNumber']}"
    document["KinesisBatchInfo"]["shardId"] = EXPIRED_SHARD
    archive(stack, key, document)
    return document


def test_records_past_retention_are_delivered_from_the_archive_only_with_from_archive(
    archive_stack: MotoStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    document = expired_object(stack, "aws/lambda/old/one")
    digests = [hashlib.sha256(good(n)[1]).hexdigest() for n in (7, 8)]

    without = apply(function)
    assert (without.expired, without.redelivered, without.closed, function.events) == (2, 0, 0, [])

    printed: list[str] = []
    unversioned = redrive.redrive(
        function.client, target_of(stack), redrive.Options(apply=True, from_archive=True), announce=printed.append
    )
    assert [line.rsplit(" sha256 ", 1)[1].split()[0] for line in printed] == digests, "each copy's digest, first"
    assert unversioned.refused == [
        (
            f"--from-archive aws/lambda/old/one: the archive bucket {stack.bucket} is not versioned (versioning never "
            "enabled): an overwritten object leaves no trace there, so no archived copy is trusted. Enable versioning "
            "first."
        )
    ]
    assert (unversioned.expired, function.events) == (2, [])

    stack.client("s3").put_bucket_versioning(Bucket=stack.bucket, VersioningConfiguration={"Status": "Enabled"})
    overwritten = expired_object(stack, "aws/lambda/old/two")
    archive(stack, "aws/lambda/old/two", overwritten)  # a second version of the same key
    with mock.patch.object(cli, "client", function.client):
        code = cli.main(["redrive", "--function", stack.name, "--apply", "--from-archive"])
    out = capsys.readouterr().out
    assert code == 1, "the overwritten object is refused"
    sequences = [r["kinesis"]["sequenceNumber"] for r in document["payload"]["Records"]]
    for sequence, sha in zip(sequences, digests, strict=True):
        assert f"{EXPIRED_SHARD}#{sequence} sha256 {sha} ({len(good(7)[1]):,} bytes)" in out
    assert "--from-archive aws/lambda/old/two: the archive object has 2 versions: it was overwritten" in out
    assert delivered(function) == [good(7), good(8)], "the copies of the object written once, once"
    assert keys(stack) == ["aws/lambda/old/two", "redriven/aws/lambda/old/one"]


# ------------------------------------------------------------------------------------ deliverable 3
def s3_refusing(function: InProcessFunction, answers: dict[str, ClientError]) -> Any:
    """The stack's clients, S3 answering GetObject of these keys as AWS does for an object this role
    cannot read (moto stores SSE-C and foreign-KMS objects but serves them to anyone)."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        key = params["url_path"].split("/", 2)[-1]
        for name, error in answers.items():
            if key.endswith(name.rsplit("/", 1)[-1]):
                raise error

    def client(service: str) -> Any:
        made = function.client(service)
        if service == "s3":
            made.meta.events.register("before-call.s3.GetObject", refuse)
        return made

    return client


def s3_error(code: str, status: int, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "GetObject")  # fmt: skip


UNREADABLE = {
    "aws/lambda/0001/sse-c": s3_error(
        "InvalidRequest", 400,
        "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to "
        "retrieve the object.",
    ),
    "aws/lambda/0002/foreign-kms": s3_error(
        "AccessDenied", 403,
        "User: arn:aws:sts::123456789012:assumed-role/operator/o is not authorized to perform: kms:Decrypt on "
        "resource: arn:aws:kms:us-east-1:999999999999:key/0b5f",
    ),
    "aws/lambda/0003/odd": s3_error("SlowDown", 503, "Please reduce your request rate."),
}  # fmt: skip


def test_unreadable_objects_and_junk_that_sorts_first_are_reported_and_the_genuine_failure_is_reached(
    archive_stack: MotoStack,
) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    for n in range(30):
        archive(stack, f"aws/lambda/0000/junk-{n:03}", b"junk")
    archive(stack, "aws/lambda/0001/glacier", archived(stack, [good(1)]), StorageClass="GLACIER")
    archive(stack, "aws/lambda/0001/deep", archived(stack, [good(2)]), StorageClass="DEEP_ARCHIVE")
    for key in UNREADABLE:
        archive(stack, key, archived(stack, [good(3)]))
    archive(stack, "aws/lambda/9999/genuine-1", archived(stack, [good(4)]))
    archive(stack, "aws/lambda/9999/genuine-2", archived(stack, [good(5)]))
    refusing = s3_refusing(function, UNREADABLE)

    first = redrive.redrive(refusing, target_of(stack), redrive.Options(apply=True, limit=1))
    assert (first.failures, first.closed, first.more) == (1, 1, True), "junk does not count against --limit"
    assert delivered(function) == [good(4)]
    reasons = {f.ident: f.reason for f in first.foreign}
    assert len(reasons) == 35
    assert reasons["aws/lambda/0001/glacier"] == (
        "unreadable: stored in GLACIER; restore it (s3api restore-object) first"
    )
    assert reasons["aws/lambda/0001/deep"].startswith("unreadable: stored in DEEP_ARCHIVE")
    assert reasons["aws/lambda/0001/sse-c"] == (
        "unreadable: InvalidRequest (encrypted with a customer-provided key (SSE-C), which Lambda never uses)"
    )
    assert reasons["aws/lambda/0002/foreign-kms"] == (
        "unreadable: AccessDenied (encrypted with a KMS key this role may not use)"
    )
    assert reasons["aws/lambda/0003/odd"] == "unreadable: SlowDown (Please reduce your request rate.)"

    second = redrive.redrive(refusing, target_of(stack), redrive.Options(apply=True, limit=1))
    assert (second.seen, second.failures, second.closed) == (1, 1, 1), "resumed after genuine-1: no junk read again"
    assert delivered(function) == [good(4), good(5)]

    third = redrive.redrive(refusing, target_of(stack), redrive.Options(apply=True, limit=1))
    assert (third.seen, third.failures, third.more) == (35, 0, False), "around to the start, then a full pass"
    (cursor,) = ledger_items(stack, "CURSOR#")
    assert cursor["after"]["S"] == "", "the next run starts from the start"


def test_a_cursor_written_without_the_key_is_reported_and_moves_nothing(archive_stack: MotoStack) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    archive(stack, "aws/lambda/1/genuine", archived(stack, [good(1)]))
    stack.client("dynamodb").put_item(TableName=stack.ledger, Item={
        "pk": {"S": f"CURSOR#{stack.name}"}, "sk": {"S": "archive"}, "after": {"S": "aws/lambda/zzz"},
        "mac": {"B": b"\x00" * 32},
    })  # fmt: skip
    summary = apply(function)
    assert summary.forged_entries == [f"CURSOR#{stack.name} archive"]
    assert (summary.failures, summary.closed) == (1, 1), "read from the start, not after the forged key"
    assert delivered(function) == [good(1)]


def test_limit_counts_only_this_stacks_failures_on_the_queue_too(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    for n in range(25):
        enqueue(stack, f"junk {n}")
    for racer in (1, 2, 3):
        enqueue(stack, invocation(stack, put(stack, [good(racer)])))
    summary = apply(function, limit=2)
    assert (summary.failures, summary.closed, len(summary.foreign), summary.more) == (2, 2, 25, True)
    assert queue(stack) == (26, 0), "the junk and the third failure, visible again"
    rest = apply(function, limit=2)
    assert (rest.failures, rest.closed) == (1, 1)
    assert sorted(delivered(function)) == [good(1), good(2), good(3)]


ESCAPES = {
    "clear": "aws/lambda/\x1b[2J\x1b[H/shardId-000000000000/x",
    "link": "aws/lambda/\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\/y",
    "markup": "aws/lambda/[bold]loud[/bold]/z",
}


def test_escapes_and_markup_in_keys_never_reach_a_terminal_raw(
    archive_stack: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    archive(stack, ESCAPES["link"], b"not an invocation record")  # a foreign item, in the notes
    archive(stack, ESCAPES["markup"], b"[1]")
    archive(stack, ESCAPES["clear"], archived(stack, [good(1)]))  # a genuine failure: the progress line shows it
    screen = io.StringIO()

    def console(*_args: Any, **kwargs: Any) -> Console:
        kwargs.pop("stderr", None)
        return Console(file=screen, force_terminal=True, width=200, **kwargs)

    monkeypatch.setattr(cli, "Console", console)
    with mock.patch.object(cli, "client", function.client):
        code = cli.main(["redrive", "--function", stack.name, "--apply"])

    text = screen.getvalue()
    assert code == 1
    assert "\x1b[2J" not in text, "no clear screen"
    assert "\x1b]8;" not in text, "no hyperlink"
    assert "archive aws/lambda/\\x1b[2J\\x1b[H/shardId-000000000000/x" in text, "the progress line, escaped"
    assert "aws/lambda/\\x1b]8;;https://evil.example/\\x1b\\click me\\x1b]8;;\\x1b\\/y" in text
    assert "aws/lambda/[bold]loud[/bold]/z" in text, "markup printed as text"
    assert delivered(function) == [good(1)]


def test_the_progress_line_escapes_the_key(archive_stack: MotoStack) -> None:
    stack = archive_stack
    archive(stack, ESCAPES["clear"], archived(stack, [good(1)]))
    shown: list[str] = []
    redrive.redrive(InProcessFunction(stack).client, target_of(stack), redrive.Options(),
                    progress=lambda f: shown.append(redrive.shown(f.ident, 60)))  # fmt: skip
    assert shown == ["aws/lambda/\\x1b[2J\\x1b[H/shardId-000000000000/x"]


# ------------------------------------------------------------------------------------ what the checker imports
CANARY = """
from stream_pipeline.records import PoisonRecord
IMPORTED = True

def check(record):
    if record.payload(1_000_000).startswith(b"\\xff"):
        raise PoisonRecord("the canary refuses it")
"""


@pytest.fixture
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A custom processor module: importing it is running its code."""
    (tmp_path / "redrive_canary.py").write_text(CANARY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "redrive_canary", raising=False)
    return "redrive_canary:check"


def test_a_custom_processor_is_imported_only_when_the_operator_names_it(
    canary: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        stack = build(environment={"RECORD_PROCESSOR": canary})
        enqueue(stack, invocation(stack, put(stack, [good(1), POISON])))
        function = InProcessFunction(stack)
        with mock.patch.object(cli, "client", function.client):
            code = cli.main(["redrive", "--function", stack.name])
            err = capsys.readouterr().err
            assert code == cli.EXIT_STACK
            assert (
                f"alleycat runs the custom processor {canary}, which redrive imports on this machine only when" in err
            )
            assert "redrive_canary" not in sys.modules, "not imported"

            assert cli.main(["redrive", "--function", stack.name, "--processor", "other.module"]) == cli.EXIT_STACK
            assert "--processor other.module is not the processor alleycat runs" in capsys.readouterr().err
            assert "redrive_canary" not in sys.modules

            assert cli.main(["redrive", "--function", stack.name, "--processor", canary]) == 0, "a dry run..."
            assert "redrive_canary" in sys.modules, "...imported it, as asked"
            assert function.events == []

            # A per-record function judges at apply time only, in the function: it fails the record again.
            assert cli.main(["redrive", "--function", stack.name, "--processor", canary, "--apply"]) == 1
            assert "still failing (1): redrive_canary:check: the canary refuses it" in capsys.readouterr().out
        assert delivered(function) == [good(1), POISON]
        assert queue(stack) == (1, 0)


def test_a_built_in_processor_needs_no_processor_flag(stack: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    with mock.patch.object(cli, "client", InProcessFunction(stack).client):
        assert cli.main(["redrive", "--function", stack.name, "--processor", "mine.checks"]) == cli.EXIT_STACK
    assert "runs the built-in alleycat processor: leave --processor out" in capsys.readouterr().err


def test_events_stay_within_lambdas_synchronous_payload(canary: str) -> None:
    with mock_aws():
        stack = build(environment={"RECORD_PROCESSOR": canary, "MAX_RECORD_BYTES": "1048576"})
        big = [(str(n), bytes([65 + n]) * 900_000) for n in range(8)]  # 8 x 900 KB: 9.6 MB as base64
        enqueue(stack, invocation(stack, put(stack, big)))
        function = InProcessFunction(stack)
        summary = apply(function, processor=canary)
        sizes = [len(json.dumps(event, separators=(",", ":"))) for event in function.events]
        assert len(sizes) >= 2
        assert max(sizes) <= 6 * 1024 * 1024
        assert (summary.redelivered, delivered(function)) == (8, big), "in order, each once"


# ------------------------------------------------------------------------------------ the ledger key
def test_kms_refusing_the_ledger_key_says_to_add_the_caller_to_operator_role_arns(
    stack: MotoStack, capsys: pytest.CaptureFixture[str]
) -> None:
    function = InProcessFunction(stack)
    enqueue(stack, invocation(stack, put(stack, [good(1)])))

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": (
            "User: arn:aws:sts::123456789012:assumed-role/oncall/x is not authorized to perform: kms:GenerateMac on "
            "this resource because the resource does not exist in this Region, no resource-based policies allow "
            "access, or a resource-based policy explicitly denies access")},
            "ResponseMetadata": {"HTTPStatusCode": 400}}, "GenerateMac")  # fmt: skip

    def client(service: str) -> Any:
        made = function.client(service)
        if service == "kms":
            made.meta.events.register("before-call.kms.GenerateMac", denied)
        return made

    with mock.patch.object(cli, "client", client):
        code = cli.main(["redrive", "--function", stack.name, "--apply"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_STACK
    assert "KMS refused kms:GenerateMac on the ledger key alias/alleycat-redrive-ledger to this caller" in err
    assert "add the role you redrive as to operator_role_arns and apply the stack" in err
    assert "Traceback" not in err
    assert (function.events, queue(stack)) == ([], (1, 0))


WRAPPED = (
    "exception while calling dynamodbstreams.GetShardIterator: An error occurred (ResourceNotFoundException) when "
    "calling the GetShardIterator operation: Could not find shardId shardId-policy01 in stream __ddb_stream_it-ddb"
)  # LocalStack's answer for a shard the table's stream does not have


@pytest.mark.parametrize(
    ("code", "message", "held"),
    [
        ("TrimmedDataAccessException", "trimmed", False),
        ("ResourceNotFoundException", "Shard shardId-9 does not exist", False),
        ("InternalError", WRAPPED, False),
        ("InternalError", "We encountered an internal error. Please try again.", True),
        ("AccessDeniedException", "not authorized to perform: kinesis:GetShardIterator", True),
    ],
)  # fmt: skip
def test_only_a_shards_own_not_held_answers_make_a_record_expired(code: str, message: str, held: bool) -> None:
    """LocalStack's DynamoDB Streams wraps its backend's ResourceNotFoundException in an InternalError;
    any other 500, or a refusal, is an error, never an expired record."""
    error = ClientError({"Error": {"Code": code, "Message": message}}, "GetShardIterator")
    assert stream.not_held(error) is not held


def test_a_dynamodb_failure_naming_ids_the_stream_api_refuses_is_foreign_not_a_crash() -> None:
    """DynamoDB Streams shard ids are 28 to 65 characters and sequence numbers 21 to 40 digits: botocore
    refuses shorter ones before any request is sent (ParamValidationError, not a ClientError)."""
    with mock_aws():
        stack = build("orders", source_type="dynamodb", destination="s3")
        record = {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                  "awsRegion": "us-east-1", "eventSourceARN": stack.stream_arn,
                  "dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "500", "SizeBytes": 10}}  # fmt: skip
        document = {"requestContext": {"functionArn": stack.function_arn}, "timestamp": "2026-11-23T08:00:00Z",
                    "DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": "500",
                                           "endSequenceNumber": "500", "batchSize": 1, "streamArn": stack.stream_arn},
                    "payload": {"Records": [record]}}  # fmt: skip
        archive(stack, "aws/lambda/short/ids", document)
        function = InProcessFunction(stack)
        summary = apply(function)
        (foreign,) = summary.foreign
        assert foreign.reason == (
            "names shard shardId-1 at sequence number 500, which DynamoDB Streams does not take for one of its own"
        )
        assert function.events == []
