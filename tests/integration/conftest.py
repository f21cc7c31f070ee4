"""Integration tier: the examples applied on LocalStack, LocalStack's own event source mappings
driving the real handler through our local executor.

The stacks are applied in their own Terraform workspace and with their own names, so they never
touch a pipeline that `make up` brought up in the same LocalStack.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from release_stack import ReleaseStack
from stack_support import RECORD_AGE_S, Stack, empty_failure_path, remaining_resources
from stream_pipeline_local import localstack

if TYPE_CHECKING:
    from collections.abc import Iterator


# The tests that leave failures in the Kinesis stack's on-failure queue, which fire its replay-window
# alarm: they run first, so that LocalStack has seen the queue empty for a while (it clears that
# alarm up to 6 minutes after the queue empties; test_drills.lag_s) by the time the drills need
# every alarm OK.
FILL_THE_QUEUE = ("test_doctor.py", "test_kinesis_pipeline.py", "test_operator_policies.py", "test_redrive.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Drills run last: they take every alarm to ALARM and fill the failure queue, which the other
    tests of the shared stacks must not see. The tests that fill the queue run first."""
    items.sort(key=lambda item: (item.get_closest_marker("drill") is not None, item.path.name not in FILL_THE_QUEUE))


@pytest.fixture(scope="session")
def emulator() -> Iterator[None]:
    with localstack.running():
        yield


@pytest.fixture(scope="session")
def stacks(emulator: None) -> Iterator[dict[str, Any]]:
    """The three examples and the last release's stack (for the upgrade test), applied side by side
    (and destroyed so): Terraform mostly waits on LocalStack's API, so four applies at once take
    little longer than one. The tier shares them."""
    examples = {
        "kinesis": Stack("kinesis-alleycat", "it-alleycat", f"maximum_record_age_seconds={RECORD_AGE_S}"),
        "dynamodb": Stack("dynamodb-streams", "it-ddb"),
        "fanout": Stack("kinesis-fan-out", "it-fanout"),
    }
    release = ReleaseStack()
    every: list[Stack | ReleaseStack] = [*examples.values(), release]
    with ThreadPoolExecutor(max_workers=len(every)) as pool:
        for applied in [pool.submit(stack.apply) for stack in every]:
            applied.result()
    yield {**examples, "release": release}
    # The failure archive keeps its records on destroy unless told (on_failure_archive_force_destroy):
    # the tier empties the failure paths the drills filled, as an operator would after redriving.
    for stack in examples.values():
        empty_failure_path(stack)
    with ThreadPoolExecutor(max_workers=len(every)) as pool:
        for destroyed in [pool.submit(stack.destroy) for stack in every]:
            destroyed.result()
    for name in ("it-alleycat", "it-ddb", "it-fanout", release.name):
        leftovers = remaining_resources(name)
        assert leftovers == [], f"destroy left {leftovers}"


@pytest.fixture(scope="session")
def kinesis_stack(stacks: dict[str, Stack]) -> Stack:
    return stacks["kinesis"]


@pytest.fixture(scope="session")
def dynamodb_stack(stacks: dict[str, Stack]) -> Stack:
    return stacks["dynamodb"]


@pytest.fixture(scope="session")
def fanout_stack(stacks: dict[str, Stack]) -> Stack:
    return stacks["fanout"]


@pytest.fixture(scope="session")
def release_stack(stacks: dict[str, Any]) -> ReleaseStack:
    release: ReleaseStack = stacks["release"]
    return release
