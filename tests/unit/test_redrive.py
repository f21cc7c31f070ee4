"""stream-pipeline redrive on moto: it trusts nothing the failure path says, re-delivers to the
consumer's own function (never into the stream) exactly once, keeps a ledger nobody else can forge,
and leaves the queue as the alarms need it.

The function is the real handler, run in-process by a hook on Invoke (redrive_support), against
moto's sink: what it was invoked with, and what it applied, are read back. Each security finding has
its forged input here: a message naming another stream, a range wider than its batch, ledger entries
written by someone without the key, foreign bodies and archive objects, markup in what gets printed,
a throttled invoke, unknown sequence numbers. The trust findings of issue 21 (forged copies, deleted
ledger items, unreadable objects, limits, terminals) are in test_redrive_trust.py."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws
from rich.console import Console

from moto_stack import MotoStack, build
from redrive_support import (
    NOW,
    POISON,
    InProcessFunction,
    archive,
    archived,
    as_mapping_delivers,
    changes,
    ddb_archived,
    delivered,
    delivered_sequences,
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
from stream_pipeline_ops.redrive import delivery, ledger, paths
from support import expected_standings, scan, standings_in

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


# ------------------------------------------------------------------------------------ the world
@pytest.fixture(autouse=True)
def moto_world(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto waits out WaitTimeSeconds on an empty queue, as SQS does (every run ends on one), and
    serves DynamoDB Streams at the regional endpoint only, not at botocore's account-based one."""
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


@pytest.fixture
def ddb_stack() -> Iterator[MotoStack]:
    with mock_aws():
        yield build("orders", source_type="dynamodb", destination="s3")


def run(function: InProcessFunction, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The command as an operator runs it: ``--function`` (discovery) unless the args say otherwise."""
    target = [] if {"--outputs", "--function"} & set(args) else ["--function", function.stack.name]
    with mock.patch.object(cli, "client", function.client):
        code = cli.main(["redrive", *target, *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def target_of(stack: MotoStack) -> redrive.Target:
    return redrive.discover(stack.client, stack.name)


def a_ledger(stack: MotoStack) -> ledger.Ledger:
    macs = ledger.Macs(stack.client("kms"), f"alias/{stack.ledger}")
    return ledger.Ledger(stack.client("dynamodb"), stack.ledger, macs, writer="test", run="test")


def forge(stack: MotoStack, pk: str, sk: str, status: str, mac: bytes = b"\x00" * 32) -> dict[str, Any]:
    """A ledger item written by someone who can write the table but not use the key."""
    item = {"pk": {"S": pk}, "sk": {"S": sk}, "status": {"S": status}, "at": {"S": NOW}, "mac": {"B": mac}}
    stack.client("dynamodb").put_item(TableName=stack.ledger, Item=item)
    return item


def standings(stack: MotoStack) -> dict[tuple[str, str], dict[str, Any]]:
    return standings_in(stack.client("dynamodb"), stack.sink)


def as_events(messages: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    return [{"kinesis": {"data": base64.b64encode(data).decode()}} for _, data in messages]


# ------------------------------------------------------------------------------------ round trips
def test_a_dry_run_says_what_would_pass_and_delivers_nothing(stack: MotoStack, capsys: Any) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), good(2), POISON, good(3)])
    enqueue(stack, invocation(stack, puts))
    code, out = run(function, capsys)
    assert code == 1, "a record still fails"
    assert "would pass now" in out
    assert "still failing (1): data is not JSON" in out
    assert function.events == []
    assert len(in_stream(stack)) == 4
    assert queue(stack) == (1, 0), "left visible: a dry run hides nothing"
    assert ledger_items(stack, "RECORD#") == []


def test_apply_redelivers_the_original_records_to_the_function_and_writes_nothing_into_the_stream(
    stack: MotoStack,
) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), good(2), POISON, good(3)])
    enqueue(stack, invocation(stack, puts))
    target = target_of(stack)

    first = redrive.redrive(function.client, target, redrive.Options(apply=True))
    assert (first.redelivered, first.still_failing, first.closed) == (3, 1, 0), "the poison record keeps it open"
    assert len(in_stream(stack)) == 4, "not one record written into the stream"
    (event,) = function.events
    role = stack.client("lambda").get_function_configuration(FunctionName=stack.name)["Role"]
    raws = {raw["SequenceNumber"]: raw for raw in stream_records(stack)}
    assert [r["kinesis"]["sequenceNumber"] for r in event["Records"]] == [puts[n]["SequenceNumber"] for n in (0, 1, 3)]
    for record in event["Records"]:
        raw = raws[record["kinesis"]["sequenceNumber"]]
        assert record == {  # every field Lambda sends, the original sequence number and bytes
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw["PartitionKey"],
                "sequenceNumber": raw["SequenceNumber"],
                "data": base64.b64encode(raw["Data"]).decode(),
                "approximateArrivalTimestamp": raw["ApproximateArrivalTimestamp"].timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{puts[0]['ShardId']}:{raw['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": role,
            "awsRegion": "us-east-1",
            "eventSourceARN": stack.stream_arn,
        }
    assert standings(stack) == expected_standings(as_events([good(1), good(2), good(3)])), "each applied once"
    assert queue(stack) == (1, 0)

    second = redrive.redrive(function.client, target, redrive.Options(apply=True))
    assert (second.redelivered, second.already_done, second.closed) == (0, 3, 0), "nothing delivered twice"
    assert len(function.events) == 1

    discard = redrive.Options(apply=True, discard=frozenset({puts[2]["SequenceNumber"]}), reason="a broken device")
    third = redrive.redrive(function.client, target, discard)
    assert (third.discarded, third.already_done, third.closed) == (1, 3, 1)
    assert queue(stack) == (0, 0)
    assert len(delivered(function)) + third.discarded == 4, "in = delivered + discarded"
    (failure,) = ledger_items(stack, "FAILURE#")
    assert failure["status"]["S"] == "closed"


def test_records_the_function_fails_again_stay_in_the_failure_path_with_its_reason(
    stack: MotoStack, capsys: Any
) -> None:
    """--no-check: the function is the judge. It still rejects the records (MAX_RECORD_BYTES=8): its
    partial batch response is honoured, each record keeps the reason its handler logged."""
    function = InProcessFunction(stack)
    lam = stack.client("lambda")
    variables = lam.get_function_configuration(FunctionName=stack.name)["Environment"]["Variables"]
    lam.update_function_configuration(FunctionName=stack.name, Environment={"Variables": {**variables,
                                      "MAX_RECORD_BYTES": "8"}})  # fmt: skip
    puts = put(stack, [good(1), good(2)])
    enqueue(stack, invocation(stack, puts))

    code, out = run(function, capsys, "--apply", "--no-check")
    (logged,) = [json.loads(line) for line in function.tails[0].splitlines() if '"record failed"' in line]
    assert code == 1
    assert logged["reason"] == "payload is larger than 8 bytes"
    assert f"still failing (1): {logged['reason']}" in out, "the reason the handler logged, from the log tail"
    assert f"still failing (1): {delivery.NOT_ATTEMPTED}" in out
    assert ledger_items(stack, "RECORD#") == [], "their claims were dropped: a later run delivers them"
    assert queue(stack) == (1, 0)
    assert standings(stack) == {}

    lam.update_function_configuration(FunctionName=stack.name, Environment={"Variables": variables})  # fixed
    code, out = run(function, capsys, "--apply")
    assert code == 0, out
    assert standings(stack) == expected_standings(as_events([good(1), good(2)]))
    assert queue(stack) == (0, 0)


def test_records_gone_from_the_stream_are_expired_and_the_failure_is_kept(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1)])
    # the batch began one record earlier, which retention has trimmed: the stream holds its last record only
    enqueue(stack, invocation(stack, puts, startSequenceNumber="0", batchSize=2))
    summary = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (summary.expired, summary.redelivered, summary.closed) == (1, 1, 0)
    assert delivered(function) == [good(1)]
    assert queue(stack) == (1, 0)


KEY = "aws/lambda/6d9a3b1e/shardId-000000000000/2026/11/23/2026-11-23T08.00.00-abc"


def test_an_archived_failure_is_delivered_from_the_stream_and_moved_when_done(archive_stack: MotoStack) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    archive(stack, KEY, archived(stack, [good(4), good(5)]))
    summary = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (summary.fetched, summary.redelivered, summary.closed) == (2, 2, 1)
    assert delivered(function) == [good(4), good(5)]
    assert in_stream(stack) == [good(4), good(5)], "the stream holds what it held"
    assert keys(stack) == [f"redriven/{KEY}"]
    (failure,) = ledger_items(stack, "FAILURE#")
    assert (failure["sk"]["S"], failure["status"]["S"], "sent_at" in failure) == (KEY, "closed", False)


def audited(stack: MotoStack) -> list[str]:
    """The source keys of the INSERTs in the audit sink."""
    return sorted(i["pk"]["S"] for i in scan(stack.client("dynamodb"), stack.sink) if i["event_name"]["S"] == "INSERT")


def test_dynamodb_records_come_from_the_table_stream_and_go_through_the_function(ddb_stack: MotoStack) -> None:
    stack = ddb_stack
    function = InProcessFunction(stack)
    records = changes(stack, 3)
    archive(stack, "aws/lambda/u/shardId-1/x", ddb_archived(stack, records))
    summary = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (summary.fetched, summary.redelivered, summary.closed) == (3, 3, 1)
    assert delivered_sequences(function) == [r["dynamodb"]["SequenceNumber"] for r in records]
    (event,) = function.events
    assert [r["eventSourceARN"] for r in event["Records"]] == [stack.stream_arn] * 3
    assert audited(stack) == ['{"id":"k0"}', '{"id":"k1"}', '{"id":"k2"}']
    statuses = {i["sk"]["S"].rsplit("#", 1)[-1]: i["status"]["S"] for i in ledger_items(stack, "RECORD#")}
    assert statuses == dict.fromkeys((r["dynamodb"]["SequenceNumber"] for r in records), "done")


# ------------------------------------------------------------------------------------ finding 1: other streams
@pytest.mark.parametrize("how", ["function", "outputs"])
def test_a_message_naming_another_stream_is_foreign_and_nothing_of_it_is_delivered(
    stack: MotoStack, capsys: Any, tmp_path: Path, how: str
) -> None:
    function = InProcessFunction(stack)
    kinesis = stack.client("kinesis")
    kinesis.create_stream(StreamName="payments", ShardCount=1)
    payments = kinesis.describe_stream_summary(StreamName="payments")["StreamDescriptionSummary"]["StreamARN"]
    theirs = put(stack, [good(racer) for racer in range(1, 6)], stream="payments")  # they would pass our checks
    enqueue(stack, invocation(stack, theirs, streamArn=payments))
    args = ["--outputs", str(stack.write_outputs(tmp_path / "o.json"))] if how == "outputs" else []

    code, out = run(function, capsys, *args, "--apply")

    assert function.events == [], "not one of the other stream's records was delivered"
    assert in_stream(stack) == []
    assert len(in_stream(stack, "payments")) == 5, "and the other stream is untouched"
    assert code == 1
    assert "foreign queue item" in out
    assert f'names stream "{payments}", not this stack\'s {stack.stream_arn}' in out
    assert queue(stack) == (1, 0), "left where it was, visible"


# ------------------------------------------------------------------------------------ finding 2: ranges
def test_a_range_wider_than_its_batch_delivers_nothing(stack: MotoStack, capsys: Any) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(racer) for racer in range(1, 41)])
    enqueue(stack, invocation(stack, puts[:1], endSequenceNumber="9" * 60, batchSize=1))
    code, out = run(function, capsys, "--apply")
    assert function.events == [], "not one record delivered (the range named the whole shard)"
    assert code == 1
    assert "its range holds more than its batchSize of 1 records" in out
    assert queue(stack) == (1, 0)
    assert ledger_items(stack, "RECORD#") == []


def test_a_range_holding_fewer_or_other_records_than_its_batch_is_foreign(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(racer) for racer in range(1, 6)])
    enqueue(stack, invocation(stack, puts[:3], batchSize=2))  # three records in the range
    enqueue(stack, invocation(stack, puts[:2], batchSize=4))  # two records, not four
    summary = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert sorted(f.reason for f in summary.foreign) == [
        "its range holds 2 records, not its batchSize of 4",
        "its range holds more than its batchSize of 2 records",
    ]
    assert (summary.redelivered, function.events, len(in_stream(stack))) == (0, [], 5)
    assert queue(stack) == (2, 0)


# ------------------------------------------------------------------------------------ finding 3: the ledger
def test_a_forged_done_closes_nothing_is_reported_and_an_operator_can_retry_it(stack: MotoStack, capsys: Any) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), good(2)])
    enqueue(stack, invocation(stack, puts))
    shard = puts[0]["ShardId"]
    for p in puts:  # whoever can write the ledger table without the key can write an entry with no valid MAC
        forge(stack, f"RECORD#{stack.stream_arn}", f"{shard}#{p['SequenceNumber']}", "done")
    forged = ledger_items(stack, "RECORD#")

    code, out = run(function, capsys, "--apply")
    assert code == 1
    assert function.events == [], "the records were never delivered..."
    assert queue(stack) == (1, 0), "...so the failure is not closed"
    assert out.count("forged ledger entry") == 2
    assert ledger_items(stack, "RECORD#") == forged, "never overwritten silently"

    sequences = [arg for p in puts for arg in ("--settle", p["SequenceNumber"])]
    code, out = run(function, capsys, "--apply", *sequences, "--as", "retry", "--reason", "forged; not in the sink")
    assert code == 0, out
    assert delivered(function) == [good(1), good(2)], "each delivered once"
    assert len(in_stream(stack)) == 2
    assert queue(stack) == (0, 0)
    assert {i["status"]["S"] for i in ledger_items(stack, "RECORD#")} == {"done"}


def test_a_genuine_entry_copied_to_another_record_does_not_verify(stack: MotoStack) -> None:
    puts = put(stack, [good(1), good(2)])
    book = a_ledger(stack)
    shard, (first, second) = puts[0]["ShardId"], [p["SequenceNumber"] for p in puts]
    claim = book.claim(stack.stream_arn, shard, first)
    assert claim is not None
    assert book.confirm(claim, "a-request") is not None
    (genuine,) = ledger_items(stack, "RECORD#")
    copied = {**genuine, "sk": {"S": f"{shard}#{second}"}}  # the MAC covers pk and sk
    stack.client("dynamodb").put_item(TableName=stack.ledger, Item=copied)
    entries = book.records(stack.stream_arn, shard, [first, second])
    assert (entries[first].trusted, entries[second].trusted) == (True, False)


def test_every_ledger_item_carries_a_mac_that_kms_verifies(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1)])
    enqueue(stack, invocation(stack, puts))
    redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    kms = stack.client("kms")
    items = ledger_items(stack)
    assert [i["pk"]["S"].split("#", 1)[0] for i in items] == ["FAILURE", "RECORD"]
    for item in items:
        answer = kms.verify_mac(KeyId=stack.key_arn, Message=ledger.canonical(item), Mac=item["mac"]["B"],
                                MacAlgorithm="HMAC_SHA_256")  # fmt: skip
        assert answer["MacValid"]
    record = items[1]
    assert record["writer"]["S"].startswith("arn:aws:sts::123456789012:") or record["writer"]["S"].startswith(
        "arn:aws:iam::123456789012:"
    )
    assert record["invoked"]["S"] == function.requests[-1], "the invocation that delivered it"


def test_a_forged_failure_entry_is_reported_and_replaced_by_a_true_one(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), POISON])
    message = enqueue(stack, invocation(stack, puts))
    forge(stack, f"FAILURE#{stack.name}", message, "closed")  # would hide an open failure from the doctor
    summary = redrive.redrive(function.client, target_of(stack), redrive.Options())
    assert summary.forged == 1
    assert summary.forged_entries == [f"FAILURE#{stack.name} {message}"]
    (entry,) = ledger_items(stack, "FAILURE#")
    assert (entry["status"]["S"], entry["replaced"]["S"]) == ("open", "forged closed")


# ------------------------------------------------------------------------------------ finding 5: foreign items
def test_foreign_messages_are_reported_left_visible_and_the_run_goes_on(stack: MotoStack, capsys: Any) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), good(2)])
    ours = invocation(stack, puts)
    bad_end = invocation(stack, puts, endSequenceNumber="x")
    markup = invocation(stack, puts, streamArn="[/]")
    foreign = [
        "this is not JSON {",
        json.dumps({"Type": "Notification", "MessageId": "m", "Message": json.dumps(ours)}),
        "[1, 2, 3]",
        json.dumps(bad_end),
        '{"KinesisBatchInfo": {"batchSize": 1' + "0" * 5_000 + "}}",
        json.dumps(markup),
        json.dumps({**ours, "requestContext": {"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:other"}}),
    ]
    for body in foreign:
        enqueue(stack, body)
    enqueue(stack, ours)

    code, out = run(function, capsys, "--apply")

    assert code == 1, "foreign items are unresolved"
    assert delivered(function) == [good(1), good(2)], "our failure was redriven all the same"
    assert queue(stack) == (len(foreign), 0), "every foreign message is still there, and visible"
    for reason in [
        "not a JSON invocation record (JSONDecodeError)",
        "an SNS notification, not a Lambda invocation record",
        "not a JSON object but a JSON list",
        'endSequenceNumber "x" is not a sequence number',
        "not a JSON invocation record (ValueError)",
        'names stream "[/]"',
        'names function "arn:aws:lambda:us-east-1:123456789012:function:other"',
    ]:
        assert reason in out


def test_foreign_archive_objects_are_left_alone_and_the_others_redriven(archive_stack: MotoStack) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    numeric_id = archived(stack, [good(1)])
    numeric_id["payload"]["Records"][0]["eventID"] = 12345
    other_stream = archived(stack, [good(2)])
    other_stream["KinesisBatchInfo"]["streamArn"] = "arn:aws:kinesis:us-east-1:123456789012:stream/payments"
    too_many = archived(stack, [good(3), good(4)])
    too_many["KinesisBatchInfo"]["batchSize"] = 1
    objects = {
        "aws/lambda/a/not-an-invocation": json.dumps({"hello": "world"}).encode(),
        "aws/lambda/b/numeric-event-id": json.dumps(numeric_id).encode(),
        "aws/lambda/c/too-large": b" " * (paths.MAX_ARCHIVE_BYTES + 1),
        "aws/lambda/d/other-stream": json.dumps(other_stream).encode(),
        "aws/lambda/e/more-records-than-its-batch": json.dumps(too_many).encode(),
    }
    for key, body in objects.items():
        archive(stack, key, body)
    archive(stack, KEY, archived(stack, [good(7)]))

    summary = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))

    assert {f.ident: f.reason for f in summary.foreign} == {
        "aws/lambda/a/not-an-invocation": "no KinesisBatchInfo: not a Lambda invocation record of this stack",
        "aws/lambda/b/numeric-event-id": "record 0's eventID is not text",
        "aws/lambda/c/too-large": f"{paths.MAX_ARCHIVE_BYTES + 1:,} bytes, larger than any invocation record",
        "aws/lambda/d/other-stream": (
            'names stream "arn:aws:kinesis:us-east-1:123456789012:stream/payments", not this stack\'s '
            f"{stack.stream_arn}"
        ),
        "aws/lambda/e/more-records-than-its-batch": "it holds 2 records for a batchSize of 1",
    }
    assert delivered(function) == [good(7)]
    assert keys(stack) == sorted([*objects, f"redriven/{KEY}"])


def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The command's consoles as a terminal gets them: real rich Consoles in terminal mode (markup, a
    live status), writing into one buffer."""
    screen = io.StringIO()

    def console(*_args: Any, **kwargs: Any) -> Console:
        kwargs.pop("stderr", None)
        return Console(file=screen, force_terminal=True, width=160, **kwargs)

    monkeypatch.setattr(cli, "Console", console)
    return screen


def test_markup_in_a_key_or_a_reason_is_printed_as_text_on_a_terminal(
    archive_stack: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = archive_stack
    function = InProcessFunction(stack)
    tricky = "aws/lambda/[/]/shardId-000000000000/[bold]x"
    archive(stack, tricky, archived(stack, [good(1)]))
    document = archived(stack, [good(2)])
    document["KinesisBatchInfo"]["shardId"] = "[/]"
    archive(stack, "aws/lambda/[red]/y", document)
    screen = terminal(monkeypatch)

    with mock.patch.object(cli, "client", function.client):
        code = cli.main(["redrive", "--function", stack.name, "--apply"])

    text = screen.getvalue()
    assert code == 1, "the foreign object is unresolved"
    assert "aws/lambda/[red]/y" in text
    assert 'shardId "[/]" is not a shard id' in text
    assert keys(stack) == ["aws/lambda/[red]/y", f"redriven/{tricky}"]
    assert delivered(function) == [good(1)]


# ------------------------------------------------------------------------------------ finding 6: in doubt
def died_between_claim_and_invoke(stack: MotoStack, puts: list[dict[str, Any]]) -> str:
    """A run that claimed the first record and died before its Invoke: the ledger says claimed, the
    function never saw it."""
    claim = a_ledger(stack).claim(stack.stream_arn, puts[0]["ShardId"], puts[0]["SequenceNumber"])
    assert claim is not None
    return str(puts[0]["SequenceNumber"])


@pytest.mark.parametrize(("outcome", "copies"), [("done", [good(2)]), ("retry", [good(2), good(1)])])
def test_an_operator_settles_a_record_in_doubt_after_checking(
    stack: MotoStack, capsys: Any, outcome: str, copies: list[tuple[str, bytes]]
) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), good(2)])
    enqueue(stack, invocation(stack, puts))
    sequence = died_between_claim_and_invoke(stack, puts)

    code, out = run(function, capsys, "--apply")
    assert code == 1
    assert f"in doubt: {puts[0]['ShardId']}#{sequence}" in out
    assert "--settle SEQUENCE --as done|retry" in out
    assert queue(stack) == (1, 0)

    code, out = run(function, capsys, "--settle", sequence, "--as", outcome, "--reason", "checked the sink")
    assert code == 0, "a dry run says the settle would resolve it..."
    assert "would be settled" in out
    assert delivered(function) == [good(2)], "...and changes nothing"
    assert queue(stack) == (1, 0)

    code, out = run(function, capsys, "--apply", "--settle", sequence, "--as", outcome, "--reason", "checked the sink")
    assert code == 0, out
    assert delivered(function) == copies
    assert queue(stack) == (0, 0)
    entry = next(i for i in ledger_items(stack, "RECORD#") if i["sk"]["S"].endswith(f"#{sequence}"))
    assert entry["status"]["S"] == "done"
    assert entry.get("reason", {}).get("S") == ("checked the sink" if outcome == "done" else None)


def test_a_record_in_doubt_can_be_discarded(stack: MotoStack, capsys: Any) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), good(2)])
    enqueue(stack, invocation(stack, puts))
    sequence = died_between_claim_and_invoke(stack, puts)
    code, out = run(function, capsys, "--apply", "--discard", sequence, "--reason", "the device resent it")
    assert code == 0, out
    assert delivered(function) == [good(2)]
    assert queue(stack) == (0, 0)


def test_a_throttled_invoke_releases_its_claims_and_a_later_run_delivers_them(
    ddb_stack: MotoStack, capsys: Any
) -> None:
    stack = ddb_stack
    records = changes(stack, 3)
    archive(stack, "aws/lambda/u/shardId-1/x", ddb_archived(stack, records))
    throttled = ClientError(
        {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"},
         "ResponseMetadata": {"HTTPStatusCode": 429}}, "Invoke")  # fmt: skip
    function = InProcessFunction(stack, error=throttled)
    code, out = run(function, capsys, "--apply")
    assert code == 1
    assert "delivery stopped: Invoke of orders: TooManyRequestsException: Rate exceeded" in out
    assert ledger_items(stack, "RECORD#") == [], "nothing was invoked, so nothing is claimed (or in doubt)"

    function.error = None
    code, out = run(function, capsys, "--apply")
    assert code == 0, out
    assert [len(e["Records"]) for e in function.events] == [3]
    assert keys(stack) == ["redriven/aws/lambda/u/shardId-1/x"]


def test_an_invoke_that_may_have_run_is_in_doubt_until_settled(ddb_stack: MotoStack) -> None:
    stack = ddb_stack
    records = changes(stack, 2)
    archive(stack, "aws/lambda/u/shardId-1/x", ddb_archived(stack, records))
    function = InProcessFunction(stack, error=ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com"))
    first = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (first.in_doubt, first.closed) == (2, 0)
    function.error = None
    again = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (again.in_doubt, function.events) == (2, []), "in doubt is never invoked again blindly"
    sequences = frozenset(r["dynamodb"]["SequenceNumber"] for r in records)
    settle = redrive.Options(apply=True, settle=sequences, settle_as="retry", reason="not in the sink")
    settled = redrive.redrive(function.client, target_of(stack), settle)
    assert (settled.settled, settled.redelivered, settled.closed) == (2, 2, 1)
    assert [len(e["Records"]) for e in function.events] == [2]


@pytest.mark.parametrize("flag", ["--discard", "--settle"])
def test_an_unknown_sequence_is_refused_and_nothing_changes(stack: MotoStack, capsys: Any, flag: str) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), POISON])
    enqueue(stack, invocation(stack, puts))
    extra = ["--as", "done"] if flag == "--settle" else []
    code, out = run(function, capsys, "--apply", flag, "4242", *extra, "--reason", "a typo")
    assert code == cli.EXIT_USAGE
    assert "4242: no failure in the failure path holds this sequence number; nothing was changed." in out
    assert queue(stack) == (1, 0)
    assert ledger_items(stack) == []
    assert function.events == []


def test_the_discard_log_keeps_keys_and_digests_and_the_payload_only_when_asked(
    stack: MotoStack, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), POISON, good(2)])
    enqueue(stack, invocation(stack, puts))
    poison = puts[1]["SequenceNumber"]
    log = tmp_path / "discards.jsonl"
    code, out = run(function, capsys, "--apply", "--discard", poison, "--reason", "a broken device",
                    "--discard-log", str(log))  # fmt: skip
    assert code == 0, out
    (line,) = [json.loads(text) for text in log.read_text().splitlines()]
    assert (line["sequence"], line["reason"], line["bytes"]) == (poison, "a broken device", len(POISON[1]))
    assert line["sha256"] == hashlib.sha256(POISON[1]).hexdigest()
    assert "record" not in line
    assert base64.b64encode(POISON[1]).decode() not in log.read_text(), "no payload in the file"
    assert log.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["discards.jsonl"], "nothing else in the working directory"


def test_keep_payload_puts_the_record_in_the_discard_log(stack: MotoStack, capsys: Any, tmp_path: Path) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [POISON])
    enqueue(stack, invocation(stack, puts))
    log = tmp_path / "discards.jsonl"
    code, _ = run(function, capsys, "--apply", "--discard", puts[0]["SequenceNumber"], "--reason",
                  "kept for forensics", "--discard-log", str(log), "--keep-payload")  # fmt: skip
    assert code == 0
    (line,) = [json.loads(text) for text in log.read_text().splitlines()]
    assert base64.b64decode(line["record"]["kinesis"]["data"]) == POISON[1]


def test_without_a_discard_log_no_file_is_written(
    stack: MotoStack, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    function = InProcessFunction(stack)
    puts = put(stack, [POISON])
    enqueue(stack, invocation(stack, puts))
    code, _ = run(function, capsys, "--apply", "--discard", puts[0]["SequenceNumber"], "--reason", "a broken device")
    assert code == 0
    assert list(tmp_path.iterdir()) == []
    (entry,) = ledger_items(stack, "RECORD#")
    assert (entry["status"]["S"], entry["reason"]["S"]) == ("discarded", "a broken device")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--discard", "1"], "--discard and --settle need --reason"),
        (["--settle", "1", "--reason", "r"], "--settle needs --as done"),
        (["--as", "done"], "--as goes with --settle SEQUENCE"),
        (["--keep-payload"], "--keep-payload goes with --discard-log FILE"),
        (["--discard", "abc", "--reason", "r"], '"abc" is not a sequence number'),
        (["--discard", "1", "--reason", "two\nlines"], "--reason must be one line"),
        (["--limit", "0"], "--limit must be from 1 to 10,000"),
        (["--no-check", "--processor", "mine.checks"], "--no-check checks with none"),
    ],
)
def test_contradictory_requests_are_refused_before_anything_is_read(
    stack: MotoStack, capsys: Any, args: list[str], message: str
) -> None:
    code, out = run(InProcessFunction(stack), capsys, *args)
    assert code == cli.EXIT_USAGE
    assert message in out


# ------------------------------------------------------------------------------------ the queue and the alarms
def test_dry_runs_hide_nothing_and_note_each_failure_once(stack: MotoStack, capsys: Any) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1), POISON])
    enqueue(stack, invocation(stack, puts))
    sent = stack.client("sqs").receive_message(
        QueueUrl=stack.queue_url, VisibilityTimeout=0, MessageSystemAttributeNames=["SentTimestamp"]
    )["Messages"][0]["Attributes"]["SentTimestamp"]
    seen = []
    for _ in range(3):
        code, out = run(function, capsys)
        assert (code, "failures read  " in out.replace("│", " ")) == (1, True)
        assert queue(stack) == (1, 0), "visible the moment the dry run is over"
        (entry,) = ledger_items(stack, "FAILURE#")
        seen.append(entry["first_seen"]["S"])
    assert entry["status"]["S"] == "open"
    assert entry["failed_at"]["S"] == "2026-11-23T08:00:00.000+00:00"
    assert entry["sent_at"]["S"] == datetime.fromtimestamp(int(sent) / 1000, tz=UTC).isoformat(timespec="milliseconds")
    assert (entry["shard"]["S"], entry["batch_size"]["N"]) == (puts[0]["ShardId"], "2")
    assert len(set(seen)) == 1, "written the first time it was read, never again"


def test_an_interrupted_apply_leaves_every_message_visible_and_the_next_recovers_everything(
    stack: MotoStack, capsys: Any
) -> None:
    function = InProcessFunction(stack)
    batches = [put(stack, [good(racer), good(racer + 10)]) for racer in (1, 2, 3)]
    for puts in batches:
        enqueue(stack, invocation(stack, puts))
    for _ in range(3):
        run(function, capsys)

    class Crash(Exception):
        pass

    def crash(**_: Any) -> None:
        raise Crash

    def crashing(service: str) -> Any:
        real = function.client(service)
        if service == "kinesis":
            real.meta.events.register("before-call.kinesis.GetShardIterator", crash)
        return real

    with mock.patch.object(cli, "client", crashing), pytest.raises(Crash):  # it dies after receiving every message
        cli.main(["redrive", "--function", stack.name, "--apply"])
    assert queue(stack) == (3, 0), "made visible again as the run unwound"

    code, out = run(function, capsys, "--apply")
    assert code == 0, out
    assert sorted(delivered(function)) == sorted(r for racer in (1, 2, 3) for r in (good(racer), good(racer + 10)))
    assert len(in_stream(stack)) == 6
    assert queue(stack) == (0, 0)
    assert {e["status"]["S"] for e in ledger_items(stack, "FAILURE#")} == {"closed"}


def test_apply_keeps_the_messages_it_works_on_hidden_with_a_heartbeat(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    puts = put(stack, [good(1)])
    enqueue(stack, invocation(stack, puts))
    seen: list[tuple[int, int]] = []

    def watching(service: str) -> Any:
        real = function.client(service)
        if service == "lambda":

            def pause(**_: Any) -> None:
                import time

                time.sleep(1.5)  # longer than the hold: only the heartbeat keeps the message hidden
                seen.append(queue(stack))

            real.meta.events.register("before-parameter-build.lambda.Invoke", pause)
        return real

    summary = redrive.redrive(watching, target_of(stack), redrive.Options(apply=True, hold_s=1))
    assert seen == [(0, 1)], "hidden while the run works on it"
    assert summary.closed == 1


def test_a_dry_run_over_a_large_queue_says_how_many_it_saw(stack: MotoStack, capsys: Any) -> None:
    function = InProcessFunction(stack)
    for racer in range(1, 16):
        enqueue(stack, invocation(stack, put(stack, [good(racer)])))
    code, out = run(function, capsys)
    assert code == 0
    assert "Read 10 of about 15 queued messages" in out, "moto, like SQS, returns the same messages again"
    summary = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (summary.failures, summary.closed) == (15, 15), "--apply reads them all"


# ------------------------------------------------------------------------------------ KPL aggregates
def aggregate(records: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """A KPL aggregate built with aws-kinesis-agg's own aggregator (the oracle)."""
    from aws_kinesis_agg.aggregator import RecordAggregator

    aggregator = RecordAggregator()
    for key, data in records:
        aggregator.add_user_record(key, data)
    partition_key, _hash_key, data = aggregator.clear_and_get().get_contents()
    return partition_key, data


def test_an_aggregate_goes_back_as_the_aggregate_exactly_once(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    whole = aggregate([good(1), good(2), good(3)])
    puts = put(stack, [whole])
    enqueue(stack, invocation(stack, puts))
    first = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    again = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (first.would_pass, first.redelivered, first.closed, again.failures) == (1, 1, 1, 0)
    assert delivered(function) == [whole], "the original bytes and partition key, once"
    assert delivered_sequences(function) == [puts[0]["SequenceNumber"]]
    assert in_stream(stack) == [whole]
    assert standings(stack) == expected_standings(as_events([good(1), good(2), good(3)])), "each user record once"


def test_the_checker_evaluates_the_user_records_inside_an_aggregate(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    poisoned = aggregate([good(1), POISON, good(2)])
    enqueue(stack, invocation(stack, put(stack, [poisoned])))
    enqueue(stack, invocation(stack, put(stack, [aggregate([good(3), good(4)])])))
    summary = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert summary.reasons == {"user record 1 of a KPL aggregate: data is not JSON": 1}
    assert (summary.redelivered, summary.closed, summary.still_failing) == (1, 1, 1)
    assert delivered(function) == [aggregate([good(3), good(4)])], "only the aggregate whose user records pass"


def test_the_dry_run_refuses_an_aggregate_over_the_functions_memory_cap_as_the_function_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An aggregate of one user record more than a 128 MB function takes (issue 21, 4): the function
    reports it, so the dry run must not say it would pass; at 256 MB (the function's MemorySize,
    read from AWS) the same aggregate passes both."""
    from memory_probe import kpl_aggregate
    from stream_pipeline.limits import max_user_records_per_aggregate

    with mock_aws():
        stack = build(environment={"RECORD_PROCESSOR": "archive"})
        function = InProcessFunction(stack)
        cap = max_user_records_per_aggregate(128)
        puts = put(stack, [("k", kpl_aggregate([b"x"] * (cap + 1)))])
        enqueue(stack, invocation(stack, puts))
        refused = (
            f"aggregated record (KPL) holds {cap + 1:,} user records, more than the {cap:,} this function's memory "
            "allows (README, KPL aggregates: raise the function's memory)"
        )

        event = as_mapping_delivers(stack, stream_records(stack), puts[0]["ShardId"])
        answer = json.loads(
            function.client("lambda").invoke(FunctionName=stack.name, Payload=json.dumps(event))["Payload"].read()
        )
        assert answer == {"batchItemFailures": [{"itemIdentifier": puts[0]["SequenceNumber"]}]}, (
            "the function refuses it"
        )
        assert refused in function.tails[-1]

        summary = redrive.redrive(function.client, target_of(stack), redrive.Options())
        assert (summary.would_pass, summary.still_failing, summary.reasons) == (0, 1, {refused: 1})
        code, out = run(function, capsys)
        assert code == 1
        assert f"still failing (1): {refused}" in " ".join(out.split())

        stack.client("lambda").update_function_configuration(FunctionName=stack.name, MemorySize=256)
        answer = json.loads(
            function.client("lambda").invoke(FunctionName=stack.name, Payload=json.dumps(event))["Payload"].read()
        )
        assert answer == {"batchItemFailures": []}, "at 256 MB the function takes it"
        summary = redrive.redrive(function.client, target_of(stack), redrive.Options())
        assert (summary.would_pass, summary.still_failing) == (1, 0)


# ------------------------------------------------------------------------------------ the ledger's reads
def test_the_ledger_is_read_with_one_batch_get_per_hundred_records(stack: MotoStack) -> None:
    from aws_calls import recording

    puts = put(stack, [good(racer) for racer in range(1, 251)])
    enqueue(stack, invocation(stack, puts))
    book, shard = a_ledger(stack), puts[0]["ShardId"]
    claim = book.claim(stack.stream_arn, shard, puts[7]["SequenceNumber"])
    assert claim is not None
    assert book.confirm(claim, "a-request") is not None
    assert book.discard(stack.stream_arn, shard, puts[201]["SequenceNumber"], "a reason", None) is not None
    with recording() as calls:
        summary = redrive.redrive(stack.client, target_of(stack), redrive.Options())
    assert (summary.fetched, summary.already_done, summary.would_pass) == (250, 2, 248)
    assert calls.count("dynamodb:BatchGetItem") == 3
    assert calls.count("kms:VerifyMac") == 2 + 0, "one per ledger item read (the failure entry was new)"


class UnprocessedHalf:
    """A DynamoDB client whose BatchGetItem answers the first half of the keys and returns the rest as
    UnprocessedKeys, `times` times in a row (a throttled table); everything else goes to moto."""

    def __init__(self, real: Any, times: int) -> None:
        self.real = real
        self.times = times
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls += 1
        ((table, request),) = RequestItems.items()
        if self.calls > self.times:
            return self.real.batch_get_item(RequestItems=RequestItems)
        half = len(request["Keys"]) // 2
        answered: dict[str, Any] = {"Responses": {table: []}}
        if half:
            answered = self.real.batch_get_item(RequestItems={table: {**request, "Keys": request["Keys"][:half]}})
        return {**answered, "UnprocessedKeys": {table: {**request, "Keys": request["Keys"][half:]}}}


def test_unprocessed_ledger_keys_are_asked_again_and_a_table_that_never_answers_is_a_clear_error(
    stack: MotoStack,
) -> None:
    book = a_ledger(stack)
    for n in range(40):
        assert book.discard(stack.stream_arn, "shardId-1", str(1000 + n), "r", None) is not None
    sequences = [str(1000 + n) for n in range(60)]

    def flaky_ledger(times: int) -> tuple[UnprocessedHalf, ledger.Ledger]:
        flaky = UnprocessedHalf(stack.client("dynamodb"), times)
        return flaky, ledger.Ledger(flaky, stack.ledger, book.macs, writer="t", run="t", sleep=lambda _s: None)

    flaky, reader = flaky_ledger(3)
    entries = reader.records(stack.stream_arn, "shardId-1", sequences)
    assert {s: (e.status, e.trusted) for s, e in entries.items()} == {
        str(1000 + n): ("discarded", True) for n in range(40)
    }
    assert flaky.calls == 4

    _, stuck = flaky_ledger(100)
    with pytest.raises(redrive.RedriveError, match=r"kept \d+ keys unprocessed after 8 tries"):
        stuck.records(stack.stream_arn, "shardId-1", sequences)


def test_a_message_that_cannot_be_deleted_is_reported_and_seen_again(stack: MotoStack) -> None:
    function = InProcessFunction(stack)
    enqueue(stack, invocation(stack, put(stack, [good(1)])))

    def expired(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ReceiptHandleIsInvalid", "Message": "expired"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, "DeleteMessage")  # fmt: skip

    def refusing(service: str) -> Any:
        real = function.client(service)
        if service == "sqs":
            real.meta.events.register("before-call.sqs.DeleteMessage", expired)
        return real

    first = redrive.redrive(refusing, target_of(stack), redrive.Options(apply=True))
    assert (first.redelivered, first.closed) == (1, 0)
    (error,) = first.errors
    assert error.startswith("closing ")
    assert error.endswith(": ReceiptHandleIsInvalid: expired")
    assert queue(stack) == (1, 0)
    second = redrive.redrive(function.client, target_of(stack), redrive.Options(apply=True))
    assert (second.redelivered, second.already_done, second.closed) == (0, 1, 1), "nothing delivered twice; closed"
    assert delivered(function) == [good(1)]
    assert len(in_stream(stack)) == 1


def test_without_the_ledger_table_the_run_says_to_apply_the_module(stack: MotoStack) -> None:
    stack.client("dynamodb").delete_table(TableName=stack.ledger)
    enqueue(stack, invocation(stack, put(stack, [good(1)])))
    with pytest.raises(redrive.RedriveError, match="redrive ledger table alleycat-redrive-ledger does not exist"):
        redrive.redrive(stack.client, target_of(stack), redrive.Options())
    assert queue(stack) == (1, 0)


# ------------------------------------------------------------------------------------ what redrive calls
KINESIS_DRY_RUN = {
    "sts:GetCallerIdentity", "lambda:GetFunctionConfiguration", "lambda:ListEventSourceMappings",
    "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "dynamodb:GetItem", "dynamodb:PutItem",
    "dynamodb:BatchGetItem", "kms:GenerateMac", "kinesis:GetShardIterator", "kinesis:GetRecords",
}  # fmt: skip
KINESIS_APPLY = {*KINESIS_DRY_RUN, "kms:VerifyMac", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage",
                 "lambda:InvokeFunction"}  # fmt: skip
ARCHIVE_DRY_RUN = {
    "sts:GetCallerIdentity", "lambda:GetFunctionConfiguration", "lambda:ListEventSourceMappings", "s3:ListBucket",
    "s3:GetObject", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem", "kms:GenerateMac",
    "dynamodb:GetShardIterator", "dynamodb:GetRecords",
}  # fmt: skip
ARCHIVE_APPLY = {*ARCHIVE_DRY_RUN, "kms:VerifyMac", "lambda:InvokeFunction", "s3:PutObject", "s3:DeleteObject"}


def recorded(stack: MotoStack, tmp_path: Path, *args: str) -> Any:
    from aws_calls import recording

    outputs = stack.write_outputs(tmp_path / "outputs.json")
    function = InProcessFunction(stack)
    with recording() as calls, mock.patch.object(cli, "client", function.client):
        cli.main(["redrive", "--outputs", str(outputs), *args])
    return calls


def own(stack: MotoStack) -> set[str]:
    """Every resource identifier a redrive of this stack may name."""
    return {
        f"TableName={stack.ledger}", f"StreamName={stack.name}", f"StreamArn={stack.stream_arn}",
        f"QueueUrl={stack.queue_url}", f"QueueName={stack.name}-failures", f"Bucket={stack.bucket}",
        f"FunctionName={stack.name}", f"FunctionName={stack.function_arn}", f"KeyId={stack.key_arn}", "(none)",
    }  # fmt: skip


def test_redrive_of_a_kinesis_stack_calls_these_actions_on_its_own_resources_only(
    stack: MotoStack, tmp_path: Path
) -> None:
    enqueue(stack, invocation(stack, put(stack, [good(1), good(2)])))
    enqueue(stack, invocation(stack, put(stack, [POISON])))  # stays open: released at the end
    dry = recorded(stack, tmp_path)
    apply = recorded(stack, tmp_path, "--apply")
    assert dry.actions() == KINESIS_DRY_RUN
    assert apply.actions() == KINESIS_APPLY
    assert apply.count("kinesis:PutRecord") + apply.count("kinesis:PutRecords") == 0, "never into the stream"
    for calls in (dry, apply):
        assert {name for names in calls.resources().values() for name in names} <= own(stack)
        assert calls.regions() == {"us-east-1"}


def test_redrive_of_a_dynamodb_stack_calls_these_actions_on_its_own_resources_only(
    ddb_stack: MotoStack, tmp_path: Path
) -> None:
    stack = ddb_stack
    archive(stack, "aws/lambda/u/shardId-1/x", ddb_archived(stack, changes(stack, 3)))
    dry = recorded(stack, tmp_path)
    apply = recorded(stack, tmp_path, "--apply")
    assert dry.actions() == ARCHIVE_DRY_RUN
    assert apply.actions() == ARCHIVE_APPLY
    for calls in (dry, apply):
        assert {name for names in calls.resources().values() for name in names} <= own(stack) | {
            "Key=aws/lambda/u/shardId-1/x", "Key=redriven/aws/lambda/u/shardId-1/x",
            f"CopySource={stack.bucket}/aws/lambda/u/shardId-1/x",
        }  # fmt: skip


def least_privilege(stack: MotoStack) -> dict[str, Any]:
    """A redrive policy for the Kinesis stack as the module publishes it: each action on its resources."""
    queue = stack.failure_arn
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"],
         "Resource": [stack.function_arn]},
        {"Effect": "Allow", "Action": ["lambda:ListEventSourceMappings"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem",
                                       "dynamodb:DeleteItem"],
         "Resource": [f"arn:aws:dynamodb:us-east-1:123456789012:table/{stack.ledger}"]},
        {"Effect": "Allow", "Action": ["kms:GenerateMac", "kms:VerifyMac"], "Resource": [stack.key_arn]},
        {"Effect": "Allow", "Action": ["kinesis:GetShardIterator", "kinesis:GetRecords"],
         "Resource": [stack.stream_arn]},
        {"Effect": "Allow", "Action": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage",
                                       "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"], "Resource": [queue]},
    ]}  # fmt: skip


def test_the_call_recorder_tells_a_call_the_policy_does_not_allow(stack: MotoStack, tmp_path: Path) -> None:
    enqueue(stack, invocation(stack, put(stack, [good(1)])))
    enqueue(stack, invocation(stack, put(stack, [POISON])))
    calls = recorded(stack, tmp_path, "--apply")
    policy = least_privilege(stack)
    assert calls.not_allowed(policy, "123456789012") == []
    policy["Statement"][0]["Action"].remove("lambda:InvokeFunction")
    policy["Statement"].append({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})
    assert calls.not_allowed(policy, "123456789012") == [
        f"kms:GenerateMac on {stack.key_arn}",
        f"lambda:InvokeFunction on {stack.function_arn}",
    ]


def test_discovery_takes_the_functions_own_mapping_not_a_namesakes(stack: MotoStack) -> None:
    """LocalStack lists `alleycat-archive`'s mapping for FunctionName=alleycat too (first): redrive
    must read alleycat's failure path, not the namesake's."""

    class Namesakes:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def get_paginator(self, name: str) -> Any:
            real, outer = self.real, self

            class Pages:
                def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                    return [outer.list_event_source_mappings(**kwargs)]

            return Pages() if name == "list_event_source_mappings" else real.get_paginator(name)

        def list_event_source_mappings(self, **kwargs: Any) -> dict[str, Any]:
            found = self.real.list_event_source_mappings(**kwargs)["EventSourceMappings"]
            other = {**found[0], "UUID": "0b7c1d2e", "FunctionArn": f"{found[0]['FunctionArn']}-archive",
                     "DestinationConfig": {"OnFailure": {"Destination": f"{stack.failure_arn}-archive"}}}  # fmt: skip
            return {"EventSourceMappings": [other, *found]}

    def client(service: str) -> Any:
        real = stack.client(service)
        return Namesakes(real) if service == "lambda" else real

    assert redrive.discover(client, stack.name).destination_arn == stack.failure_arn
