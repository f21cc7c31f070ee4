"""What a redrive acts on: the stack's own function, the stream and the failure path its live event
source mapping names, and the ledger, from the ``stream_pipeline`` output or discovered from
``--function NAME``. Outputs that disagree with the live mapping are refused, naming both; nothing a
failure message says about streams, shards or places is trusted beyond what is here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stream_pipeline.limits import LAMBDA_MIN_MEMORY_MB
from stream_pipeline.records import SourceType
from stream_pipeline_ops import live
from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.stack import Consumer, Stack, StackError, table_name

if TYPE_CHECKING:
    from collections.abc import Callable


class RedriveError(Exception):
    """The redrive cannot start or go on; the message says what to do."""


class RequestError(RedriveError):
    """The operator asked for something the failure path does not hold (a usage error)."""


@dataclass(frozen=True)
class Target:
    """The deployed pipeline a redrive reads from and delivers to, and only that."""

    function_name: str
    function_arn: str
    role_arn: str  # the function's execution role: the invokeIdentityArn of the events Lambda sends it
    stream_arn: str  # the stack's own stream: a Kinesis stream, or a DynamoDB table's stream
    destination_arn: str  # the on-failure queue or archive bucket
    environment: dict[str, str]
    ledger_table: str
    ledger_key: str  # the KMS HMAC key: an ARN, or alias/NAME
    memory_mb: int  # the function's MemorySize: its cap on user records per KPL aggregate follows from it

    @property
    def source(self) -> SourceType:
        return SourceType.KINESIS if ":kinesis:" in self.stream_arn else SourceType.DYNAMODB

    @property
    def kinesis(self) -> bool:
        return self.source is SourceType.KINESIS

    @property
    def region(self) -> str:
        """The stream's region (arn:PARTITION:SERVICE:REGION:...): the awsRegion of its records."""
        return self.stream_arn.split(":")[3]


def _configuration(client: Callable[[str], Any], function: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = client("lambda").get_function_configuration(FunctionName=function)
    except ClientError as exc:
        raise RedriveError(
            f"Cannot read function {function}: {shown(exc.response['Error'].get('Message', exc), 300)}"
        ) from None
    return found


def _memory(function: dict[str, Any]) -> int:
    """The function's memory in MB, as Lambda gives it to the function (AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
    Lambda's default, 128, if the configuration names none."""
    return int(function.get("MemorySize") or LAMBDA_MIN_MEMORY_MB)


def _mapping(client: Callable[[str], Any], function: str, uuid: str | None) -> live.Mapping:
    try:
        mapping = live.mapping_of(client, function, uuid)
    except StackError as exc:
        raise RedriveError(str(exc)) from None
    if not mapping.destination_arn:
        raise RedriveError(
            f"{function}'s event source mapping {mapping.uuid} has no on-failure destination: there is no failure "
            "path to read."
        )
    return mapping


def from_stack(client: Callable[[str], Any], stack: Stack, consumer: Consumer) -> Target:
    """The target from outputs that stack.resolve has already checked against the session, and that
    must agree with the function's live event source mapping."""
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
            f"The outputs name function {consumer.function_arn}, but AWS answers for "
            f"{shown(function.get('FunctionArn'), 200)}: refusing to act on a function the outputs do not name."
        )
    mapping = _mapping(client, consumer.function_name, consumer.event_source_mapping_uuid)
    try:
        live.check_consumer(stack, consumer, mapping)
    except StackError as exc:
        raise RedriveError(str(exc)) from None
    return Target(
        function_name=consumer.function_name,
        function_arn=consumer.function_arn,
        role_arn=str(function.get("Role", "")),
        stream_arn=mapping.stream_arn,
        destination_arn=str(mapping.destination_arn),
        environment=function.get("Environment", {}).get("Variables", {}),
        ledger_table=table_name(stack.redrive_ledger_table_arn),
        ledger_key=stack.redrive_ledger_key_arn,
        memory_mb=_memory(function),
    )


def discover(client: Callable[[str], Any], function_name: str) -> Target:
    """The target from the function alone: its mapping gives the stream and the failure path, and the
    ledger follows the module's naming (``<pipeline name>-redrive-ledger``, the pipeline name being
    the function's PIPELINE_NAME, or its POWERTOOLS_SERVICE_NAME where the module set no PIPELINE_NAME)."""
    function = _configuration(client, function_name)
    mapping = _mapping(client, function_name, None)
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
        role_arn=str(function.get("Role", "")),
        stream_arn=mapping.stream_arn,
        destination_arn=str(mapping.destination_arn),
        environment=environment,
        ledger_table=f"{pipeline}-redrive-ledger",
        ledger_key=f"alias/{pipeline}-redrive-ledger",
        memory_mb=_memory(function),
    )
