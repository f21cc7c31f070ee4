"""Integration tier: the examples applied on LocalStack, LocalStack's own event source mappings
driving the real handler through our local executor.

The stacks are applied in their own Terraform workspace and with their own names, so they never
touch a pipeline that `make up` brought up in the same LocalStack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from stack_support import Stack, remaining_resources
from stream_pipeline_local import localstack

if TYPE_CHECKING:
    from collections.abc import Iterator


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Drills run last: they take every alarm to ALARM and fill the failure queue, which the other
    tests of the shared stacks must not see."""
    items.sort(key=lambda item: item.get_closest_marker("drill") is not None)


@pytest.fixture(scope="session")
def emulator() -> Iterator[None]:
    with localstack.running():
        yield


def _stack(example: str, name: str) -> Iterator[Stack]:
    stack = Stack(example, name)
    stack.apply()
    yield stack
    stack.destroy()
    leftovers = remaining_resources(name)
    assert leftovers == [], f"destroy left {leftovers}"


@pytest.fixture(scope="session")
def kinesis_stack(emulator: None) -> Iterator[Stack]:
    yield from _stack("kinesis-alleycat", "it-alleycat")


@pytest.fixture(scope="session")
def dynamodb_stack(emulator: None) -> Iterator[Stack]:
    yield from _stack("dynamodb-streams", "it-ddb")
