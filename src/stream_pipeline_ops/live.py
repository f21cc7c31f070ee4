"""What a consumer function really reads, and where its failures really go: its live event source
mapping (lambda:ListEventSourceMappings), never the outputs alone.

Outputs can be stale or wrong (another stack's, edited by hand); a command that wrote where they
point could write into a stream nobody of this stack reads, or read another team's failures. So
``redrive`` and ``load`` take the stream and the failure destination from the function's own
mapping, and refuse outputs that disagree with it, naming both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.stack import (
    Consumer,
    Stack,
    StackError,
    kinesis_stream_name,
    own_mappings,
    stream_of,
    table_name,
)

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class Mapping:
    """A function's stream event source mapping, as Lambda answers for it."""

    uuid: str
    function: str
    event_source_arn: str  # the stream's ARN, or a Kinesis enhanced fan-out consumer's below it
    destination_arn: str | None  # the on-failure destination
    batch_size: int | None

    @property
    def stream_arn(self) -> str:
        return stream_of(self.event_source_arn)


def mapping_of(client: Callable[[str], Any], function: str, uuid: str | None = None) -> Mapping:
    """The function's one stream event source mapping (the one ``uuid`` names, when given)."""
    try:
        pages = client("lambda").get_paginator("list_event_source_mappings").paginate(FunctionName=function)
        listed = [m for page in pages for m in page.get("EventSourceMappings", [])]
    except ClientError as exc:
        message = exc.response["Error"].get("Message", exc)
        raise StackError(
            f"Cannot read {function}'s event source mappings (lambda:ListEventSourceMappings): {shown(message, 300)}"
        ) from None
    own = own_mappings(listed, function)
    if uuid is not None:
        named = [m for m in own if m.get("UUID") == uuid]
        if not named:
            live = ", ".join(shown(m.get("UUID"), 40) for m in own) or "none"
            raise StackError(
                f"The outputs name event source mapping {shown(uuid, 64)} for {function}, but {function}'s live stream "
                f"mappings are: {live}. Give the outputs of the stack that deployed {function}."
            )
        own = named
    if not own:
        raise StackError(f"{function} has no stream event source mapping: it reads no stream.")
    if len(own) > 1:
        uuids = ", ".join(shown(m.get("UUID"), 40) for m in own)
        raise StackError(
            f"{function} has {len(own)} stream event source mappings ({uuids}): give the stack's outputs, which "
            "name the module's own (event_source_mapping_uuid)."
        )
    (found,) = own
    size = found.get("BatchSize")
    destination = found.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return Mapping(
        uuid=shown(found.get("UUID", ""), 64),
        function=function,
        event_source_arn=str(found.get("EventSourceArn", "")),
        destination_arn=destination if isinstance(destination, str) and destination else None,
        batch_size=size if isinstance(size, int) else None,
    )


def _arn(value: str | None) -> str:
    return shown(value, 300)


def check_consumer(stack: Stack, consumer: Consumer, mapping: Mapping) -> None:
    """Refuse outputs whose stream, event source or failure destination differ from the live mapping's."""
    where = f"{consumer.function_name}'s live event source mapping {mapping.uuid}"
    if stack.stream_arn is not None and stack.stream_arn != mapping.stream_arn:
        raise StackError(
            f"The outputs name stream {_arn(stack.stream_arn)}, but {where} reads {_arn(mapping.stream_arn)}: "
            "refusing to act on a stream the function does not read. Give the outputs of the stack that deployed it."
        )
    if consumer.event_source_arn != mapping.event_source_arn:
        raise StackError(
            f"The outputs say {consumer.function_name} reads {_arn(consumer.event_source_arn)}, but {where} reads "
            f"{_arn(mapping.event_source_arn)}: refusing to act on outputs the live stack contradicts."
        )
    if consumer.on_failure_destination_arn != mapping.destination_arn:
        raise StackError(
            f"The outputs name the failure destination {_arn(consumer.on_failure_destination_arn)}, but {where} "
            f"sends its failures to {_arn(mapping.destination_arn)}: refusing to act on a failure path the function "
            "does not use."
        )


def check_load(client: Callable[[str], Any], stack: Stack) -> None:
    """Before ``load`` writes: each consumer the outputs list reads, live, the stream (or source table)
    the outputs name and ``load`` is about to write into. Without outputs there is nothing to check."""
    for consumer in stack.consumers:
        mapping = mapping_of(client, consumer.function_name, consumer.event_source_mapping_uuid)
        check_consumer(stack, consumer, mapping)
        where = f"{consumer.function_name}'s live event source mapping {mapping.uuid} reads {_arn(mapping.stream_arn)}"
        if stack.stream_name is not None and kinesis_stream_name(mapping.stream_arn) != stack.stream_name:
            raise StackError(
                f"load would write into stream {_arn(stack.stream_name)}, but {where}: refusing to write where the "
                "stack does not read."
            )
        if stack.source_table_name is not None and table_name(mapping.stream_arn) != stack.source_table_name:
            raise StackError(
                f"load would write into table {_arn(stack.source_table_name)}, but {where}: refusing to write where "
                "the stack does not read."
            )
