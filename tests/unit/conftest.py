"""Unit tier: moto for DynamoDB, the handler in-process, no network."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from stream_pipeline.config import load_settings
from stream_pipeline.pipeline import Pipeline
from support import SINK, create_sink_table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials first, so nothing can ever reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A moto DynamoDB client with the sink table (pk/sk strings, as the module creates it)."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_sink_table(client, SINK)
        yield client


@pytest.fixture
def make_pipeline(dynamodb: Any) -> Callable[..., Pipeline]:
    """Build a pipeline on the moto table; ``client`` wraps it, ``env`` adds settings."""

    def build(
        *, client: Any = None, sleep: Callable[[float], None] = lambda _: None, sink: bool = True, **env: str
    ) -> Pipeline:
        settings = load_settings({**({"SINK_TABLE_NAME": SINK} if sink else {}), **env})
        chosen = client if client is not None else dynamodb
        return Pipeline(settings, logging.getLogger("test"), client_factory=lambda: chosen, sleep=sleep)

    return build
