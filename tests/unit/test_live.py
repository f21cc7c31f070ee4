"""Outputs are checked against the consumer function's live event source mapping before `redrive`
reads a failure path or `load` writes a record: outputs naming another stream (or another failure
destination) than the function really reads are refused, naming both, and nothing is written."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from moto import mock_aws

from moto_stack import MotoStack, build
from redrive_support import InProcessFunction, enqueue, good, in_stream, invocation, put, queue
from stream_pipeline_ops import cli, live
from stream_pipeline_ops.stack import Stack, StackError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def two_streams() -> Iterator[tuple[MotoStack, str]]:
    """The stack, and another team's stream in the same account and region."""
    with mock_aws():
        stack = build()
        kinesis = stack.client("kinesis")
        kinesis.create_stream(StreamName="payments", ShardCount=1)
        yield stack, kinesis.describe_stream_summary(StreamName="payments")["StreamDescriptionSummary"]["StreamARN"]


def outputs_naming(stack: MotoStack, path: Path, **changes: Any) -> Path:
    """The stack's outputs with some values changed (as a stale or hand-edited outputs file has them)."""
    outputs = stack.outputs()
    value = outputs["stream_pipeline"]["value"]
    consumer = value["consumers"]["default"]
    for name, new in changes.items():
        (consumer if name in consumer else value)[name] = new
    path.write_text(json.dumps(outputs))
    return path


def test_redrive_refuses_outputs_naming_another_stream_than_the_functions_mapping(
    two_streams: tuple[MotoStack, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, payments = two_streams
    function = InProcessFunction(stack)
    enqueue(stack, invocation(stack, put(stack, [good(1)])))
    outputs = outputs_naming(stack, tmp_path / "o.json", stream_arn=payments, stream_name="payments",
                             event_source_arn=payments)  # fmt: skip
    with mock.patch.object(cli, "client", function.client):
        code = cli.main(["redrive", "--outputs", str(outputs), "--apply"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_STACK
    assert f"The outputs name stream {payments}, but alleycat's live event source mapping {stack.mapping_uuid} " in err
    assert f"reads {stack.stream_arn}: refusing to act on a stream the function does not read" in err
    assert (function.events, queue(stack), in_stream(stack, "payments")) == ([], (1, 0), [])


def test_redrive_refuses_outputs_naming_another_failure_destination(
    two_streams: tuple[MotoStack, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, _ = two_streams
    theirs = "arn:aws:sqs:us-east-1:123456789012:payments-failures"
    stack.client("sqs").create_queue(QueueName="payments-failures")
    outputs = outputs_naming(stack, tmp_path / "o.json", on_failure_destination_arn=theirs)
    function = InProcessFunction(stack)
    with mock.patch.object(cli, "client", function.client):
        code = cli.main(["redrive", "--outputs", str(outputs), "--apply"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_STACK
    assert f"The outputs name the failure destination {theirs}, but alleycat's live event source mapping" in err
    assert f"sends its failures to {stack.failure_arn}" in err


def test_load_refuses_outputs_naming_another_stream_and_writes_nothing(
    two_streams: tuple[MotoStack, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, payments = two_streams
    outputs = outputs_naming(stack, tmp_path / "o.json", stream_arn=payments, stream_name="payments",
                             event_source_arn=payments)  # fmt: skip
    code = cli.main(["load", "--outputs", str(outputs), "--racers", "2", "--seconds", "1"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_STACK
    assert f"The outputs name stream {payments}, but alleycat's live event source mapping {stack.mapping_uuid} " in err
    assert f"reads {stack.stream_arn}" in err
    assert (in_stream(stack, "payments"), in_stream(stack)) == ([], []), "not a record written anywhere"


def test_load_refuses_an_explicit_stream_the_consumers_do_not_read(
    two_streams: tuple[MotoStack, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, _ = two_streams
    outputs = stack.write_outputs(tmp_path / "o.json")
    code = cli.main(["load", "--outputs", str(outputs), "--stream", "payments", "--racers", "2", "--seconds", "1"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_STACK
    assert (
        f"load would write into stream payments, but alleycat's live event source mapping {stack.mapping_uuid}" in err
    )
    assert in_stream(stack, "payments") == []


def test_load_writes_where_the_live_mapping_reads(
    two_streams: tuple[MotoStack, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, _ = two_streams
    from stream_pipeline_ops import load

    monkeypatch.setattr(load.time, "sleep", lambda _: None)
    outputs = stack.write_outputs(tmp_path / "o.json")
    code = cli.main(["load", "--outputs", str(outputs), "--racers", "2", "--seconds", "1", "--no-producer-metrics"])
    assert code == 0
    assert len(in_stream(stack)) == 2
    assert in_stream(stack, "payments") == []


def test_a_mapping_the_outputs_name_that_the_function_does_not_have_is_refused(
    two_streams: tuple[MotoStack, str],
) -> None:
    stack, _ = two_streams
    with pytest.raises(
        StackError, match="The outputs name event source mapping 0b7c for alleycat, but alleycat's live"
    ):
        live.mapping_of(stack.client, "alleycat", "0b7c")
    found = live.mapping_of(stack.client, "alleycat", stack.mapping_uuid)
    assert (found.stream_arn, found.destination_arn) == (stack.stream_arn, stack.failure_arn)
    assert Stack.from_outputs(stack.outputs()).consumers[0].event_source_mapping_uuid == stack.mapping_uuid
