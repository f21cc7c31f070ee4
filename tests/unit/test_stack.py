"""Outputs are a trust boundary: only this module's, only the session's region and account."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

from moto_stack import pipeline_outputs
from stream_pipeline_ops.stack import Stack, StackError, resolve, stream_of

if TYPE_CHECKING:
    from pathlib import Path


def value(outputs: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = outputs["stream_pipeline"]["value"]
    return result


def test_the_stack_is_read_from_the_stream_pipeline_output() -> None:
    stack = Stack.from_outputs(pipeline_outputs())
    assert (stack.name, stack.source_type, stack.function_name, stack.stream_name) == (
        "alleycat", "kinesis", "alleycat", "alleycat",
    )  # fmt: skip
    assert stack.source_table_name is None
    assert stack.redrive_ledger_table_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/alleycat-redrive-ledger"
    (consumer,) = stack.consumers
    assert consumer.on_failure_destination_arn == "arn:aws:sqs:us-east-1:123456789012:alleycat-failures"
    ddb = Stack.from_outputs(pipeline_outputs("orders", source_type="dynamodb", destination="s3"))
    assert (ddb.stream_name, ddb.source_table_name) == (None, "orders"), "load writes a DynamoDB stack's table"


def test_plain_values_are_read_as_well() -> None:
    """`make up` saves the outputs as plain values ({"name": value})."""
    plain = {"stream_pipeline": value(pipeline_outputs()), "example": "kinesis-alleycat"}
    assert Stack.from_outputs(plain).function_name == "alleycat"


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"function_name": {"value": "alleycat"}, "stream_name": {"value": "alleycat"}}, "no `stream_pipeline` output"),
        ({"stream_pipeline": {"value": {**value(pipeline_outputs()), "module": "terraform-aws-payments"}}},
         'says module "terraform-aws-payments", not terraform-aws-stream-pipeline'),
        ({"stream_pipeline": {"value": {**value(pipeline_outputs()), "module": None}}}, "says module null"),
        ({"stream_pipeline": {"value": None}}, "no `stream_pipeline` output"),
    ],
)  # fmt: skip
def test_outputs_that_are_not_this_modules_are_refused(outputs: dict[str, Any], message: str) -> None:
    with pytest.raises(StackError, match="these outputs are not a terraform-aws-stream-pipeline stack") as refused:
        Stack.from_outputs(outputs)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stream_arn": "alleycat"}, 'stream_arn is "alleycat", not an ARN'),
        ({"stream_arn": 7}, "stream_arn is 7, not a name or an ARN"),
        ({"source_type": "kafka"}, 'source_type is "kafka", not one of kinesis, dynamodb'),
        ({"consumers": {}}, "lists no consumer"),
        ({"consumers": {"default": {"function_name": "f"}}}, "consumers.default.function_arn is null"),
    ],
)
def test_malformed_outputs_are_refused_with_the_field_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(StackError) as refused:
        Stack.from_outputs({"stream_pipeline": {"value": {**value(pipeline_outputs()), **change}}})
    assert message in str(refused.value)


def test_outputs_of_another_region_or_account_are_refused_naming_both() -> None:
    stack = Stack.from_outputs(pipeline_outputs(region="us-east-1"))
    stack.check_session("us-east-1", "123456789012")
    with pytest.raises(StackError) as region:
        stack.check_session("us-west-2", "123456789012")
    assert "a stack in us-east-1" in str(region.value)
    assert "this session is in us-west-2" in str(region.value)
    assert "AWS_DEFAULT_REGION=us-east-1" in str(region.value)
    with pytest.raises(StackError) as account:
        stack.check_session("us-east-1", "999999999999")
    assert "account 123456789012" in str(account.value)
    assert "credentials are of account 999999999999" in str(account.value)


def test_every_arn_is_checked_not_only_the_functions() -> None:
    outputs = pipeline_outputs()
    value(outputs)["redrive_ledger_table_arn"] = "arn:aws:dynamodb:eu-west-1:123456789012:table/alleycat-redrive-ledger"
    with pytest.raises(StackError, match=r"a stack in eu-west-1 .*redrive-ledger"):
        Stack.from_outputs(outputs).check_session("us-east-1", "123456789012")
    value(outputs)["redrive_ledger_table_arn"] = None
    value(outputs)["consumers"]["default"]["on_failure_destination_arn"] = "arn:aws:sqs:us-east-1:210987654321:f"
    with pytest.raises(StackError, match="account 210987654321"):
        Stack.from_outputs(outputs).check_session("us-east-1", "123456789012")


def test_a_bucket_arn_carries_neither_region_nor_account_and_passes() -> None:
    Stack.from_outputs(pipeline_outputs(destination="s3")).check_session("us-east-1", "123456789012")


def test_resolve_checks_the_outputs_against_the_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(pipeline_outputs(region="us-east-1")))
    with mock_aws():
        assert resolve(str(path)).function_name == "alleycat"
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
        with pytest.raises(StackError, match="this session is in us-west-2"):
            resolve(str(path))


def test_several_consumers_need_a_choice(tmp_path: Path) -> None:
    outputs = pipeline_outputs()
    consumers = value(outputs)["consumers"]
    consumers["audit"] = {**consumers["default"], "function_name": "alleycat-audit",
                          "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:alleycat-audit"}  # fmt: skip
    stack = Stack.from_outputs(outputs)
    assert stack.function_name is None
    with pytest.raises(StackError, match="This stack has 2 consumers, default \\(alleycat\\), audit"):
        stack.consumer(None)
    chosen = stack.consumer("alleycat-audit")
    assert chosen is not None
    assert chosen.key == "audit"
    assert stack.consumer("audit") == chosen, "by key or by function name"
    with pytest.raises(StackError, match="payments is not one of this stack's consumers: "):
        stack.consumer("payments")
    path = tmp_path / "o.json"
    path.write_text(json.dumps(outputs))
    with mock_aws():
        assert resolve(str(path), function="alleycat-audit").function_name == "alleycat-audit"


def test_an_enhanced_fan_out_consumer_reads_its_stream() -> None:
    consumer = "arn:aws:kinesis:us-east-1:123456789012:stream/alleycat/consumer/efo:1763885700"
    assert stream_of(consumer) == "arn:aws:kinesis:us-east-1:123456789012:stream/alleycat"
    assert stream_of("arn:aws:kinesis:us-east-1:123456789012:stream/alleycat") == (
        "arn:aws:kinesis:us-east-1:123456789012:stream/alleycat"
    )
