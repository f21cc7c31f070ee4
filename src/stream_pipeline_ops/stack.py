"""Which pipeline to look at: from ``terraform output -json`` (a file, stdin or a Terraform
directory) or from explicit names. Only the function is needed; the rest (mapping, stream,
failure destination, sink, alarms) is discovered from the AWS APIs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class StackError(Exception):
    """The stack could not be found or read; the message says what to do."""


@dataclass(frozen=True)
class Stack:
    function_name: str | None = None
    stream_name: str | None = None
    source_table_name: str | None = None
    sns_topic_arn: str | None = None
    dashboard_name: str | None = None

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any]) -> Stack:
        """Outputs as ``terraform output -json`` prints them ({"name": {"value": ...}}) or plain."""
        values = {k: (v.get("value") if isinstance(v, dict) and "value" in v else v) for k, v in outputs.items()}
        text = {k: v for k, v in values.items() if isinstance(v, str)}
        return cls(
            function_name=text.get("function_name"),
            stream_name=text.get("stream_name"),
            source_table_name=text.get("source_table_name"),
            sns_topic_arn=text.get("sns_topic_arn"),
            dashboard_name=text.get("dashboard_name") or _dashboard_from_url(text.get("dashboard_url")),
        )


def kinesis_stream_name(arn: str) -> str:
    """arn:aws:kinesis:REGION:ACCOUNT:stream/NAME (or a consumer ARN below it) -> NAME."""
    return arn.split(":stream/", 1)[-1].split("/", 1)[0]


def _dashboard_from_url(url: str | None) -> str | None:
    """The name in a console URL ending in ``#dashboards:name=NAME``."""
    return url.rsplit("name=", 1)[-1] if url and "#dashboards:name=" in url else None


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
    except json.JSONDecodeError:
        raise StackError("The outputs are not JSON: give the output of `terraform output -json`.") from None
    if not isinstance(loaded, dict):
        raise StackError("The outputs are not a JSON object: give the output of `terraform output -json`.")
    return loaded


def resolve(
    outputs: str | None = None,
    terraform_dir: str | None = None,
    function: str | None = None,
    stream: str | None = None,
    table: str | None = None,
) -> Stack:
    """Explicit names win over outputs."""
    found = Stack.from_outputs(read_outputs(outputs, terraform_dir))
    return Stack(
        function_name=function or found.function_name,
        stream_name=stream or found.stream_name,
        source_table_name=table or found.source_table_name,
        sns_topic_arn=found.sns_topic_arn,
        dashboard_name=found.dashboard_name,
    )
