"""Which pipeline to look at: the ``stream_pipeline`` output of ``terraform output -json`` (a file,
stdin or a Terraform directory), or an explicit ``--function NAME``.

Outputs are a trust boundary: a command acts on what they name. So they are taken only when they
are this module's (the ``stream_pipeline`` output, whose ``module`` is exactly
``terraform-aws-stream-pipeline``), and only when every ARN in them lies in the session's region
and account; otherwise they are refused with a sentence naming both sides. The region is compared
first, offline (the outputs' ARNs against the boto3 session's region); then the account, with the
first AWS call the command makes (sts:GetCallerIdentity). With no region configured, the outputs
are read first and the region their ARNs name is used, and the command says so. With
``--function NAME`` and no outputs the commands discover the rest from the function, which the
session found in its own region and account.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

MODULE: Final = "terraform-aws-stream-pipeline"
OUTPUT: Final = "stream_pipeline"
ARN: Final = re.compile(r"arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12})?:(.+)")
"""An ARN's parts: partition, service, region, account, resource. :func:`parse_arn` adds the rule the
pattern cannot say: the account is there, 12 digits, in every ARN but an S3 bucket's."""
NOT_OURS: Final = "these outputs are not a terraform-aws-stream-pipeline stack"
NO_REGION: Final = (
    "No AWS region: set AWS_DEFAULT_REGION (or AWS_PROFILE with a region), e.g. "
    "AWS_DEFAULT_REGION=us-east-1, or give the stack's outputs (--outputs FILE or --terraform-dir DIR): the command "
    "then uses the region their ARNs name."
)


def parse_arn(text: str) -> re.Match[str] | None:
    """The ARN's parts, or None when it is not one: an S3 bucket's ARN names neither region nor account
    (``arn:aws:s3:::bucket``); every other names its 12-digit account."""
    match = ARN.fullmatch(text)
    if match is None or (match.group(4) is None and match.group(2) != "s3"):
        return None
    return match


class StackError(Exception):
    """The stack could not be found or read, or is not one to act on; the message says what to do."""


@dataclass(frozen=True)
class Consumer:
    """One consumer of the stack's stream, as the ``stream_pipeline`` output lists it."""

    key: str
    function_name: str
    function_arn: str
    event_source_arn: str
    on_failure_destination_arn: str | None = None
    event_source_mapping_uuid: str | None = None
    sink_table_arn: str | None = None


@dataclass(frozen=True)
class Stack:
    """The stack the commands act on. From outputs, every field below the first five is set; from
    ``--function`` alone, only ``function_name`` is, and the commands discover the rest."""

    function_name: str | None = None
    stream_name: str | None = None  # the Kinesis stream (None for a DynamoDB source)
    source_table_name: str | None = None  # the DynamoDB source table (None for a Kinesis source)
    sns_topic_arn: str | None = None
    dashboard_name: str | None = None
    name: str | None = None
    version: str | None = None
    source_type: str | None = None  # "kinesis" or "dynamodb"
    stream_arn: str | None = None
    redrive_ledger_table_arn: str | None = None
    redrive_ledger_key_arn: str | None = None
    consumers: tuple[Consumer, ...] = ()
    arns: tuple[str, ...] = field(default=(), repr=False)  # every ARN the outputs name, for check_session
    # The source's ARNs (the stream, what each mapping reads): a stream the module consumes but does not
    # own (kinesis.existing_stream_arn) may be another account's, as long as it is in the session's region.
    source_arns: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> Stack:
        """The stack from ``terraform output -json`` ({"name": {"value": ...}}) or plain values; refuses
        outputs without this module's ``stream_pipeline`` output."""
        value = outputs.get(OUTPUT)
        if isinstance(value, dict) and "value" in value:
            value = value["value"]
        if not isinstance(value, dict):
            raise StackError(
                f"{NOT_OURS}: they have no `{OUTPUT}` output. Give the outputs of a stack built with the "
                f"{MODULE} module (version 0.3.0 or later), or pass --function NAME."
            )
        if value.get("module") != MODULE:
            raise StackError(
                f"{NOT_OURS}: their `{OUTPUT}` output says module {_shown(value.get('module'))}, "
                f"not {MODULE}. Refusing to act on another module's resources."
            )
        read = _Reader(value)
        source_type = read.choice("source_type", ("kinesis", "dynamodb"))
        stream_name = read.text("stream_name")
        consumers = tuple(read.consumer(key, body) for key, body in read.mapping("consumers").items())
        if not consumers:
            raise StackError(f"The `{OUTPUT}` output lists no consumer: there is no function to act on.")
        return cls(
            function_name=consumers[0].function_name if len(consumers) == 1 else None,
            stream_name=stream_name if source_type == "kinesis" else None,
            source_table_name=stream_name if source_type == "dynamodb" else None,
            sns_topic_arn=read.arn("sns_topic_arn", optional=True),
            dashboard_name=read.text("dashboard_name", optional=True),
            name=read.text("name"),
            version=read.text("version", optional=True),
            source_type=source_type,
            stream_arn=read.arn("stream_arn", source=True),
            redrive_ledger_table_arn=read.arn("redrive_ledger_table_arn", optional=True),
            redrive_ledger_key_arn=read.arn("redrive_ledger_key_arn", optional=True),
            consumers=consumers,
            arns=tuple(read.arns),
            source_arns=tuple(read.source_arns),
        )

    def consumer(self, function: str | None) -> Consumer | None:
        """The consumer named ``function`` (by function name or key), or the only one; None when the
        stack did not come from outputs."""
        if not self.consumers:
            return None
        if function is None:
            if len(self.consumers) > 1:
                keys = ", ".join(f"{c.key} ({c.function_name})" for c in self.consumers)
                raise StackError(f"This stack has {len(self.consumers)} consumers, {keys}: pass --consumer KEY.")
            return self.consumers[0]
        for candidate in self.consumers:
            if function in (candidate.function_name, candidate.key):
                return candidate
        keys = ", ".join(f"{c.key} ({c.function_name})" for c in self.consumers)
        raise StackError(f"{function} is not one of this stack's consumers: {keys}.")

    @property
    def region(self) -> str | None:
        """The region the outputs' ARNs name (the first that names one; :meth:`check_region` holds
        every other to it)."""
        for arn in self.arns:
            match = parse_arn(arn)
            if match is not None and match.group(3):
                return match.group(3)
        return None

    def check_session(self, region: str, account: str) -> None:
        """Refuse the outputs when an ARN in them lies in another region or account than the session's."""
        self.check_region(region)
        self.check_account(account)

    def check_region(self, region: str) -> None:
        """Refuse the outputs when an ARN in them lies in another region than the session's: offline,
        before any AWS call (S3 and IAM ARNs carry no region)."""
        for arn in self.arns:
            arn_region = _parts(arn).group(3)
            if arn_region and arn_region != region:
                raise StackError(
                    f"The outputs are of a stack in {arn_region} ({_shown(arn)}), but this session is in {region}: "
                    f"refusing to act on another region's stack. Set AWS_DEFAULT_REGION={arn_region}, or give the "
                    f"outputs of the stack in {region}."
                )

    def check_account(self, account: str) -> None:
        """Refuse the outputs when an ARN of the stack's own resources lies in another account than the
        credentials' (S3 bucket ARNs carry no account; the source may be another account's stream)."""
        for arn in self.arns:
            if arn in self.source_arns:
                continue
            arn_account = _parts(arn).group(4)
            if arn_account and arn_account != account:
                raise StackError(
                    f"The outputs are of a stack in account {arn_account} ({_shown(arn)}), but these credentials "
                    f"are of account {account}: refusing to act on another account's stack. Use credentials "
                    f"of account {arn_account}, or give the outputs of the stack in account {account}."
                )


def _parts(arn: str) -> re.Match[str]:
    match = parse_arn(arn)
    if match is None:  # from_outputs admits ARNs only; a Stack built by hand may hold anything
        raise StackError(f"{_shown(arn)} is not an ARN.")
    return match


class _Reader:
    """Typed reads of the ``stream_pipeline`` value, each failure a sentence naming the field."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value
        self.arns: list[str] = []
        self.source_arns: list[str] = []

    def _get(self, body: dict[str, Any], name: str, where: str, *, optional: bool) -> str | None:
        found = body.get(name)
        if found is None and optional:
            return None
        if not isinstance(found, str) or not found:
            raise StackError(f"The `{OUTPUT}` output's {where}{name} is {_shown(found)}, not a name or an ARN.")
        return found

    def text(self, name: str, *, optional: bool = False, body: dict[str, Any] | None = None, where: str = "") -> Any:
        return self._get(self.value if body is None else body, name, where, optional=optional)

    def arn(
        self,
        name: str,
        *,
        optional: bool = False,
        body: dict[str, Any] | None = None,
        where: str = "",
        source: bool = False,
    ) -> Any:
        found = self._get(self.value if body is None else body, name, where, optional=optional)
        if found is None:
            return None
        if not parse_arn(found):
            raise StackError(
                f"The `{OUTPUT}` output's {where}{name} is {_shown(found)}, not an ARN (every ARN but an S3 "
                "bucket's names its 12-digit account)."
            )
        self.arns.append(found)
        if source:
            self.source_arns.append(found)
        return found

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        found = self.value.get(name)
        if found not in allowed:
            raise StackError(f"The `{OUTPUT}` output's {name} is {_shown(found)}, not one of {', '.join(allowed)}.")
        return str(found)

    def mapping(self, name: str) -> dict[str, Any]:
        found = self.value.get(name)
        if not isinstance(found, dict):
            raise StackError(f"The `{OUTPUT}` output's {name} is {_shown(found)}, not an object.")
        return found

    def consumer(self, key: str, body: Any) -> Consumer:
        if not isinstance(body, dict):
            raise StackError(f"The `{OUTPUT}` output's consumers.{key} is {_shown(body)}, not an object.")
        where = f"consumers.{key}."
        return Consumer(
            key=key,
            function_name=self.text("function_name", body=body, where=where),
            function_arn=self.arn("function_arn", body=body, where=where),
            event_source_arn=self.arn("event_source_arn", body=body, where=where, source=True),
            on_failure_destination_arn=self.arn("on_failure_destination_arn", body=body, where=where, optional=True),
            event_source_mapping_uuid=self.text("event_source_mapping_uuid", body=body, where=where, optional=True),
            sink_table_arn=self.arn("sink_table_arn", body=body, where=where, optional=True),
        )


def _shown(value: object, limit: int = 120) -> str:
    """A value from the outputs, quoted, printable and bounded, for an error message."""
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def function_name_of(name_or_arn: str) -> str:
    """A Lambda function's name from its name, ``name:qualifier`` or ARN (``...:function:NAME[:QUALIFIER]``)."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn  # arn:partition:lambda:region:account:function:NAME
    return name_or_arn.split(":", 1)[0]


def own_mappings(mappings: list[dict[str, Any]], function: str) -> list[dict[str, Any]]:
    """The stream event source mappings of ``function`` itself. ListEventSourceMappings(FunctionName)
    is exact in AWS, but LocalStack 2026.3 also returns the mappings of every function whose name
    starts with it (``fanout`` gets ``fanout-archive``'s): filtering on FunctionArn holds on both."""
    wanted = function_name_of(function)
    return [
        m
        for m in mappings
        if ":sqs:" not in m.get("EventSourceArn", "") and function_name_of(str(m.get("FunctionArn", wanted))) == wanted
    ]


def kinesis_stream_name(arn: str) -> str:
    """arn:aws:kinesis:REGION:ACCOUNT:stream/NAME (or a consumer ARN below it) -> NAME."""
    return arn.split(":stream/", 1)[-1].split("/", 1)[0]


def stream_of(event_source_arn: str) -> str:
    """The stream an event source mapping reads: a Kinesis enhanced fan-out consumer's ARN
    (``...:stream/NAME/consumer/C:123``) gives its stream's; a stream ARN is its own."""
    if ":kinesis:" in event_source_arn and "/consumer/" in event_source_arn:
        return event_source_arn.split("/consumer/", 1)[0]
    return event_source_arn


def table_name(arn: str) -> str:
    """arn:aws:dynamodb:REGION:ACCOUNT:table/NAME[/stream/LABEL] -> NAME."""
    return arn.split(":table/", 1)[-1].split("/", 1)[0]


def read_outputs(outputs: str | None, terraform_dir: str | None) -> dict[str, Any]:
    """The outputs from a file (``-`` for stdin) or by running ``terraform output -json``."""
    if outputs is not None:
        try:
            text = sys.stdin.read() if outputs == "-" else Path(outputs).read_text()
        except OSError as exc:
            raise StackError(f"Cannot read the outputs file {outputs}: {exc.strerror}.") from None
    elif terraform_dir is not None:
        terraform = os.environ.get("TF", "terraform")
        if shutil.which(terraform) is None:
            raise StackError("terraform is not on PATH; pass --outputs FILE (terraform output -json > FILE) instead.")
        result = subprocess.run(  # noqa: S603 - terraform with fixed arguments
            [terraform, f"-chdir={terraform_dir}", "output", "-json"], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise StackError(f"`terraform output -json` failed in {terraform_dir}: {result.stderr.strip()[:300]}")
        text = result.stdout
    else:
        return {}
    try:
        loaded = json.loads(text)
    except (ValueError, RecursionError):
        raise StackError("The outputs are not JSON: give the output of `terraform output -json`.") from None
    if not isinstance(loaded, dict):
        raise StackError("The outputs are not a JSON object: give the output of `terraform output -json`.")
    if not loaded:
        where = f"`terraform output -json` in {terraform_dir} gives" if outputs is None else f"{outputs} holds"
        raise StackError(
            f"{where} no outputs at all: the stack there was never applied (or its state is in a backend "
            "this directory has not been initialized with). Run `terraform apply` there first (with the module's "
            f"`{OUTPUT}` output re-exported from your root module), or pass --function NAME."
        )
    return loaded


def session_region() -> str | None:
    """The region the standard chain gives (AWS_DEFAULT_REGION, the profile's), if any; boto3 does not
    read AWS_REGION."""
    region: str | None = boto3.session.Session().region_name
    return region


def use_region(region: str) -> None:
    """Make ``region`` the session's for every client created from now on (the command's own and
    boto3's default session), as if AWS_DEFAULT_REGION had been set."""
    os.environ["AWS_DEFAULT_REGION"] = region


def session_account(client: Callable[[str], Any] | None = None) -> str:
    """The credentials' account (sts:GetCallerIdentity): the first AWS call a command makes."""
    sts = client("sts") if client is not None else boto3.client("sts")
    try:
        return str(sts.get_caller_identity()["Account"])
    except ClientError as exc:
        message = exc.response["Error"].get("Message", exc)
        raise StackError(f"Cannot read who these credentials are (sts:GetCallerIdentity): {message}") from None


def session_identity(client: Callable[[str], Any] | None = None) -> tuple[str, str]:
    """The session's region and account (sts:GetCallerIdentity)."""
    region = session_region()
    if region is None:
        raise StackError(NO_REGION)
    return region, session_account(client)


def resolve(
    outputs: str | None = None,
    terraform_dir: str | None = None,
    function: str | None = None,
    stream: str | None = None,
    table: str | None = None,
    *,
    client: Callable[[str], Any] | None = None,
    note: Callable[[str], None] | None = None,
) -> Stack:
    """The stack from the outputs (checked against the session) and the explicit names. An explicit
    ``function`` must be one of the outputs' consumers; explicit ``stream``/``table`` win. With no
    region configured, the outputs' region is used and ``note`` told so; the region is checked
    before any AWS call, the account with the first (sts:GetCallerIdentity)."""
    loaded = read_outputs(outputs, terraform_dir)
    if not loaded and outputs is None and terraform_dir is None:
        if session_region() is None:
            raise StackError(NO_REGION)
        return Stack(function_name=function, stream_name=stream, source_table_name=table)
    found = Stack.from_outputs(loaded)
    region = session_region()
    if region is None:
        region = found.region
        if region is None:
            raise StackError(NO_REGION)
        use_region(region)
        if note is not None:
            note(
                f"No AWS region is set: using {region}, the region the outputs' ARNs name "
                f"(set AWS_DEFAULT_REGION to choose another)."
            )
    found.check_region(region)
    found.check_account(session_account(client))
    chosen = found.consumer(function) if function is not None or len(found.consumers) == 1 else None
    return Stack(
        function_name=chosen.function_name if chosen else None,
        stream_name=stream or found.stream_name,
        source_table_name=table or found.source_table_name,
        sns_topic_arn=found.sns_topic_arn,
        dashboard_name=found.dashboard_name,
        name=found.name,
        version=found.version,
        source_type=found.source_type,
        stream_arn=found.stream_arn,
        redrive_ledger_table_arn=found.redrive_ledger_table_arn,
        redrive_ledger_key_arn=found.redrive_ledger_key_arn,
        consumers=(chosen,) if chosen else found.consumers,
        arns=found.arns,
        source_arns=found.source_arns,
    )
