"""What every part of the local harness shares: where things are, the endpoint, errors, output."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".localstack"
HOST: Final = "127.0.0.1"
PORT: Final = int(os.environ.get("LOCALSTACK_PORT", "4566"))
ENDPOINT: Final = f"http://{HOST}:{PORT}"
REGION: Final = "us-east-1"
WORKSPACE: Final = "localstack"
LOCAL_WORKSPACES: Final = ("localstack", "integration-tests", "bench")
"""Terraform workspaces that only ever point at this ephemeral LocalStack (PERSISTENCE=0)."""

EMULATOR_SHARDS: Final = 64
"""Emulator setting (``make up`` and ``make bench``, never a sizing): the Kinesis stream opened with this
many shards on LocalStack. kinesis-mock spends time on every put in proportion to the records already in
the shard: PutRecords(500) took 5.9 s with 29,500 records in 2 shards and stayed at 0.1-0.35 s in 64
(docs/BENCHMARKS.md, "P5 ingest")."""
POLL_INTERVAL_VARIABLE: Final = "LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC"
POLL_INTERVAL_S: Final = "0.02"
"""Emulator setting: LocalStack's event source mapping polls one shard per poll and waits
``POLL_INTERVAL_VARIABLE`` (1 s by default) after each; with 64 shards each would be read once a minute.
Lambda's pollers read every shard continuously."""


class LocalStackError(RuntimeError):
    """A clear, actionable failure of the local environment."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)
