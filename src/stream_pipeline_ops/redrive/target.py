"""What a redrive acts on: the stack's own function, stream, failure path and ledger, from the
``stream_pipeline`` output or discovered from ``--function NAME``. Nothing a failure message says
about streams, shards or places is trusted beyond what is here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stream_pipeline.records import SourceType
from stream_pipeline_ops.stack import Consumer, Stack, own_mappings, stream_of, table_name

if TYPE_CHECKING:
    from collections.abc import Callable


class RedriveError(Exception):
    """The redrive cannot start or go on; the message says what to do."""


class RequestError(RedriveError):
    """The operator asked for something the failure path does not hold (a usage error)."""


@dataclass(frozen=True)
class Target:
    """The deployed pipeline a redrive reads from and writes to, and only that."""

    function_name: str
    function_arn: str
    stream_arn: str  # the stack's own stream: a Kinesis stream, or a DynamoDB table's stream
    destination_arn: str  # the on-failure queue or archive bucket
    environment: dict[str, str]
    ledger_table: str
    ledger_key: str  # the KMS HMAC key: an ARN, or alias/NAME

    @property
    def source(self) -> SourceType:
        return SourceType.KINESIS if ":kinesis:" in self.stream_arn else SourceType.DYNAMODB

    @property
    def kinesis(self) -> bool:
        return self.source is SourceType.KINESIS


def _configuration(client: Callable[[str], Any], function: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = client("lambda").get_function_configuration(FunctionName=function)
    except ClientError as exc:
        raise RedriveError(f"Cannot read function {function}: {exc.response['Error'].get('Message', exc)}") from None
    return found


def from_stack(client: Callable[[str], Any], stack: Stack, consumer: Consumer) -> Target:
    """The target from outputs that stack.resolve has already checked against the session."""
    if not (stack.redrive_ledger_table_arn and stack.redrive_ledger_key_arn):
        raise RedriveError(
            "These outputs name no redrive ledger (redrive_ledger_table_arn, redrive_ledger_key_arn): "
            "apply version 0.3.0 or later of the module, which creates it."
        )
    if not consumer.on_failure_destination_arn:
        raise RedriveError(f"{consumer.function_name} has no on-failure destination: there is no failure path to read.")
    function = _configuration(client, consumer.function_name)
    if function.get("FunctionArn") != consumer.function_arn:
        raise RedriveError(
            f"The outputs name function {consumer.function_arn}, but AWS answers for {function.get('FunctionArn')}: "
            "refusing to act on a function the outputs do not name."
        )
    return Target(
        function_name=consumer.function_name,
        function_arn=consumer.function_arn,
        stream_arn=stream_of(stack.stream_arn or consumer.event_source_arn),
        destination_arn=consumer.on_failure_destination_arn,
        environment=function.get("Environment", {}).get("Variables", {}),
        ledger_table=table_name(stack.redrive_ledger_table_arn),
        ledger_key=stack.redrive_ledger_key_arn,
    )


def discover(client: Callable[[str], Any], function_name: str) -> Target:
    """The target from the function alone: its mapping gives the stream and the failure path, and the
    ledger follows the module's naming (``<pipeline name>-redrive-ledger``, the pipeline name being
    the function's PIPELINE_NAME, or its POWERTOOLS_SERVICE_NAME where the module set no PIPELINE_NAME)."""
    function = _configuration(client, function_name)
    try:
        mappings = client("lambda").list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
    except ClientError as exc:
        raise RedriveError(
            f"Cannot read {function_name}'s event source mappings: {exc.response['Error'].get('Message', exc)}"
        ) from None
    streams = own_mappings(mappings, function_name)
    if not streams:
        raise RedriveError(f"{function_name} has no stream event source mapping: nothing to redrive into.")
    destination = streams[0].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if not destination:
        raise RedriveError(
            f"{function_name}'s mapping has no on-failure destination: there is no failure path to read."
        )
    environment = function.get("Environment", {}).get("Variables", {})
    pipeline = environment.get("PIPELINE_NAME") or environment.get("POWERTOOLS_SERVICE_NAME")
    if not pipeline:
        raise RedriveError(
            f"{function_name} has no PIPELINE_NAME, so its redrive ledger cannot be found by name: "
            "pass the stack's outputs (--outputs FILE or --terraform-dir DIR) instead."
        )
    return Target(
        function_name=function_name,
        function_arn=function["FunctionArn"],
        stream_arn=stream_of(streams[0]["EventSourceArn"]),
        destination_arn=destination,
        environment=environment,
        ledger_table=f"{pipeline}-redrive-ledger",
        ledger_key=f"alias/{pipeline}-redrive-ledger",
    )
