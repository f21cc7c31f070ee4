"""The command takes a stack's outputs only when they are this module's and of the session's region
and account, for every command that reads outputs (doctor, redrive, load, dashboard, report)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from moto import mock_aws

import moto_stack
from moto_stack import MotoStack, build, pipeline_outputs
from redrive_support import InProcessFunction
from stream_pipeline_ops import cli
from support import telemetry

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

COMMANDS = [
    ["doctor"],
    ["redrive", "--apply"],
    ["load", "--racers", "1", "--seconds", "1"],
    ["dashboard", "--out", "dashboard.png"],
    ["report", "--out", "report.png"],
]


@pytest.fixture
def mirrored() -> Iterator[tuple[MotoStack, MotoStack]]:
    """The same stack, same names, in two regions: what an outputs file of the wrong region would reach."""
    with mock_aws():
        yield build(region="us-east-1"), build(region="us-west-2")


def legacy(stack: MotoStack) -> dict[str, Any]:
    """The root module's other outputs, which the command used to read on their own."""
    names = {"function_name": stack.name, "stream_name": stack.name, "sink_table_name": stack.sink,
             "on_failure_queue_url": stack.queue_url, "dashboard_name": f"{stack.name}-{stack.region}"}  # fmt: skip
    return {name: {"value": v, "type": "string", "sensitive": False} for name, v in names.items()}


def fail_a_batch(stack: MotoStack) -> None:
    """A failed batch in the stack's failure path, whose records would pass now."""
    kinesis = stack.client("kinesis")
    puts = [kinesis.put_record(StreamName=stack.name, PartitionKey=str(r), Data=json.dumps(telemetry(r, 1)).encode())
            for r in (1, 2)]  # fmt: skip
    info = {"shardId": puts[0]["ShardId"], "startSequenceNumber": puts[0]["SequenceNumber"],
            "endSequenceNumber": puts[-1]["SequenceNumber"], "batchSize": 2, "streamArn": stack.stream_arn}  # fmt: skip
    body = {"requestContext": {"functionArn": stack.function_arn}, "timestamp": "2026-11-23T08:00:00Z",
            "KinesisBatchInfo": info}  # fmt: skip
    stack.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(body))


def records(stack: MotoStack) -> int:
    kinesis = stack.client("kinesis")
    shard = kinesis.list_shards(StreamName=stack.name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stack.name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_outputs_of_another_region_are_refused_and_nothing_is_put_there(
    mirrored: tuple[MotoStack, MotoStack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    east, west = mirrored
    for stack in (east, west):
        fail_a_batch(stack)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({**legacy(east), **east.outputs()}))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")

    code = cli.main(["redrive", "--outputs", str(outputs), "--apply"])

    err = capsys.readouterr().err
    assert code == cli.EXIT_STACK
    assert "The outputs are of a stack in us-east-1" in err
    assert "but this session is in us-west-2" in err
    assert (records(west), records(east)) == (2, 2), "not a record put, in either region"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_every_command_refuses_outputs_of_another_region(
    mirrored: tuple[MotoStack, MotoStack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:  # fmt: skip
    east, west = mirrored
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({**legacy(east), **east.outputs()}))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.chdir(tmp_path)
    assert cli.main([command[0], "--outputs", str(outputs), *command[1:]]) == cli.EXIT_STACK
    assert "this session is in us-west-2" in capsys.readouterr().err
    assert records(west) == 0, "load wrote nothing into the other region's stream"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs.json"], "no picture drawn"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_every_command_refuses_outputs_that_are_not_this_modules(
    mirrored: tuple[MotoStack, MotoStack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:  # fmt: skip
    east, _ = mirrored
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(legacy(east)))  # another module's outputs may use the same names
    monkeypatch.chdir(tmp_path)
    assert cli.main([command[0], "--outputs", str(outputs), *command[1:]]) == cli.EXIT_STACK
    assert "these outputs are not a terraform-aws-stream-pipeline stack" in capsys.readouterr().err
    assert records(east) == 0


def test_load_does_not_write_a_table_another_modules_outputs_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        stack = build()
        payments = stack.client("dynamodb")
        payments.create_table(
            TableName="payments", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
        )  # fmt: skip
        other = pipeline_outputs(module="terraform-aws-payments")
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({**other, "source_table_name": {"value": "payments"}}))
        code = cli.main(["load", "--outputs", str(outputs), "--racers", "2", "--seconds", "1"])
        assert code == cli.EXIT_STACK
        assert 'says module "terraform-aws-payments"' in capsys.readouterr().err
        assert payments.scan(TableName="payments")["Count"] == 0


def test_outputs_of_another_account_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        build()
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps(pipeline_outputs(account="999999999999")))
        assert cli.main(["redrive", "--outputs", str(outputs)]) == cli.EXIT_STACK
        err = capsys.readouterr().err
        assert "a stack in account 999999999999" in err
        assert "these credentials are of account 123456789012" in err


def test_this_modules_outputs_of_this_region_are_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        stack = build()
        fail_a_batch(stack)
        outputs = stack.write_outputs(tmp_path / "outputs.json")
        with mock.patch.object(cli, "client", InProcessFunction(stack).client):  # the function, run in-process
            assert cli.main(["redrive", "--outputs", str(outputs), "--apply", "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert (summary["redelivered"], summary["closed"], summary["unresolved"]) == (2, 1, 0)
        assert records(stack) == 2, "delivered to the function: nothing put into the stream"


def test_a_function_the_outputs_do_not_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        stack = build()
        outputs = stack.write_outputs(tmp_path / "outputs.json")
        assert cli.main(["redrive", "--outputs", str(outputs), "--function", "payments"]) == cli.EXIT_STACK
        assert "payments is not one of this stack's consumers: default (alleycat)." in capsys.readouterr().err


def test_redrive_help_shows_the_ways_out(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["redrive", "--help"])
    text = capsys.readouterr().out
    for flag in ("--settle SEQUENCE", "--as {done,retry}", "--discard-log FILE", "--keep-payload"):
        assert flag in text
    assert "--ledger-table" not in text, "the ledger is the module's own table, never one named on the command line"


EMPTY_ZIP = b"PK\x05\x06" + b"\0" * 18  # a zip archive with nothing in it: the function is never run


def two_consumers(stack: MotoStack, path: Path, *, mappings: bool = False) -> Path:
    """The stack's outputs with a second consumer, `archive`, a function of its own on the same stream."""
    lam = stack.client("lambda")
    role = lam.get_function_configuration(FunctionName=stack.name)["Role"]
    arn = lam.create_function(
        FunctionName=f"{stack.name}-archive", Runtime="python3.13", Role=role, Handler="handler.handler",
        Code={"ZipFile": EMPTY_ZIP},
        Environment={"Variables": {"PIPELINE_NAME": stack.name, "POWERTOOLS_SERVICE_NAME": f"{stack.name}-archive"}},
    )["FunctionArn"]  # fmt: skip
    if mappings:  # the archive's mapping, and a third reader of the stream that is not this stack's
        lam.create_function(
            FunctionName="analytics", Runtime="python3.13", Role=role, Handler="handler.handler",
            Code={"ZipFile": EMPTY_ZIP},
        )  # fmt: skip
        for function in (f"{stack.name}-archive", "analytics"):
            lam.create_event_source_mapping(
                FunctionName=function, EventSourceArn=stack.stream_arn, StartingPosition="TRIM_HORIZON"
            )
        moto_stack.detach_trigger(stack.name, stack.region, stack.source_type)
    outputs = stack.outputs()
    consumers = outputs["stream_pipeline"]["value"]["consumers"]
    consumers["archive"] = {**consumers["default"], "function_name": f"{stack.name}-archive", "function_arn": arn}
    path.write_text(json.dumps(outputs))
    return path


def test_with_several_consumers_a_one_consumer_command_says_which_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        outputs = two_consumers(build(), tmp_path / "outputs.json")
        assert cli.main(["redrive", "--outputs", str(outputs)]) == cli.EXIT_STACK
        assert "This stack has 2 consumers, default (alleycat), archive (alleycat-archive): pass --consumer KEY." in (
            capsys.readouterr().err
        )
        assert cli.main(["redrive", "--outputs", str(outputs), "--consumer", "ledger"]) == cli.EXIT_STACK
        assert "ledger is not one of this stack's consumers: default (alleycat), archive (alleycat-archive)." in (
            capsys.readouterr().err
        )
        assert cli.main(["redrive", "--consumer", "archive"]) == cli.EXIT_STACK
        assert "--consumer KEY picks one of the stack's consumers: give the stack's outputs too" in (
            capsys.readouterr().err
        )


def test_the_doctor_checks_each_consumer_and_the_stream_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        outputs = two_consumers(build(), tmp_path / "outputs.json", mappings=True)
        cli.main(["doctor", "--outputs", str(outputs), "--json"])
        report = json.loads(capsys.readouterr().out)
        assert report["consumers"] == {"default": "alleycat", "archive": "alleycat-archive"}
        titles = [(f["area"], f["title"]) for f in report["findings"]]
        # Each consumer's own findings are named after it (the archive's mapping has no failure path).
        assert (
            "archive: event source mapping",
            "no on-failure destination: records given up are lost without a trace",
        ) in titles
        assert (
            "default: event source mapping",
            "no on-failure destination: records given up are lost without a trace",
        ) not in titles
        # Both consumers read the same stream, which three mappings share: said once.
        shared = "3 consumers share the stream's reads: the last sees a record ~600 ms after it arrived"
        assert titles.count(("stream", shared)) == 1, titles
        cli.main(["doctor", "--outputs", str(outputs), "--consumer", "default", "--json"])
        one = json.loads(capsys.readouterr().out)
        assert one["function"] == "alleycat"
        assert one["consumers"] == {}
        assert not [f for f in one["findings"] if f["area"].startswith(("archive: ", "default: "))]
