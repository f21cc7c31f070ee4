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


class LocalStackError(RuntimeError):
    """A clear, actionable failure of the local environment."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)
