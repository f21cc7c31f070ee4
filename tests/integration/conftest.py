"""Integration tier: the examples applied on LocalStack, LocalStack's own event source mappings
driving the real handler through our local executor.

The stacks are applied in their own Terraform workspace and with their own names, so they never
touch a pipeline that `make up` brought up in the same LocalStack.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

import drills as drilling
import efo_switch as switching
import lag_backlog as lagging
from release_stack import ReleaseStack
from stack_support import RECORD_AGE_S, Stack, client, empty_failure_path, remaining_resources
from stream_pipeline_local import localstack

if TYPE_CHECKING:
    from collections.abc import Iterator
    from concurrent.futures import Future


DRILLED = pytest.StashKey[bool]()
SWITCHED = pytest.StashKey[bool]()
IN_BACKGROUND = ("drill", "efo_switch")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that wait for work started with the tier (the drills, the fan-out switch) last."""
    items.sort(key=lambda item: any(item.get_closest_marker(marker) for marker in IN_BACKGROUND))
    config.stash[DRILLED] = any(item.get_closest_marker("drill") for item in items)
    config.stash[SWITCHED] = any(item.get_closest_marker("efo_switch") for item in items)


@pytest.fixture(scope="session")
def emulator() -> Iterator[None]:
    with localstack.running():
        yield


@pytest.fixture(scope="session")
def stacks(emulator: None, pytestconfig: pytest.Config) -> Iterator[dict[str, Any]]:
    """The three examples and the last release's stack (for the upgrade test), applied side by side
    (and destroyed so): Terraform mostly waits on LocalStack's API, so several applies at once take
    little longer than one. The tier shares them."""
    examples = {
        "kinesis": Stack("kinesis-alleycat", "it-alleycat", f"maximum_record_age_seconds={RECORD_AGE_S}"),
        "dynamodb": Stack("dynamodb-streams", "it-ddb"),
        "fanout": Stack("kinesis-fan-out", "it-fanout"),
    }
    release = ReleaseStack()
    every: list[Stack | ReleaseStack] = [*examples.values(), release]
    # A second stack consuming the fan-out stack's stream (examples/bring-your-own), applied as soon
    # as that stream exists, beside the others. (Not the Kinesis stack's: its tests read every
    # standing in its sink and every failure of its consumer, which the second stack's test records
    # would add to.)
    byo = byo_stack()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(every) + 1) as pool:
        applying = {stack.name: pool.submit(stack.apply) for stack in every}
        second = pool.submit(apply_consuming, byo, examples["fanout"], applying[examples["fanout"].name])
        for applied in applying.values():
            applied.result()
        others = time.monotonic() - started
        took = second.result()
    later = time.monotonic() - started - others
    say(pytestconfig, f"stacks applied in {others:.0f} s; {byo.name} (its apply {took:.0f} s) done {later:.0f} s later")
    yield {**examples, "release": release, "byo": byo}
    started = time.monotonic()
    destroy([byo, *every])
    say(pytestconfig, f"stacks destroyed in {time.monotonic() - started:.0f} s")


def destroy(stacks: list[Stack | ReleaseStack]) -> None:
    """Destroy side by side, and check that nothing of them is left. The failure archive keeps its
    records on destroy unless told (on_failure_archive_force_destroy): the tier first empties the
    failure paths the tests filled, as an operator would after redriving (the release stack has
    none the tests fill)."""
    for stack in stacks:
        if isinstance(stack, Stack):
            empty_failure_path(stack)
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        for destroyed in [pool.submit(stack.destroy) for stack in stacks]:
            destroyed.result()
    for stack in stacks:
        leftovers = remaining_resources(stack.name)
        assert leftovers == [], f"destroy left {leftovers}"


@pytest.fixture(scope="session", autouse=True)
def drills(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Future[None]]]:
    """The drills, when they are among the collected tests: started with the tier's first test, once
    the shared stacks are up, on a Kinesis and a DynamoDB stack of their own that each drill applies
    first. The drills take every alarm to ALARM and fill the failure path, which the other tests must
    not see, and they mostly wait for LocalStack's alarm evaluation (the replay-window alarm takes up
    to 4 minutes to fire and 6 to clear there): on stacks of their own they run beside the other
    tests instead of after them. Waited for, and their stacks destroyed, at the end of the tier."""
    if not request.config.stash.get(DRILLED, False):
        yield []
        return
    request.getfixturevalue("stacks")  # the shared stacks first: the tests wait for them
    own = drilling.stacks()
    pool, running = drilling.start(*own, tmp_path_factory.mktemp("drills"))
    try:
        with pool:
            yield running
    finally:
        destroy(list(own))


@pytest.fixture(scope="session", autouse=True)
def efo_switch(request: pytest.FixtureRequest) -> Iterator[Future[switching.Outcome] | None]:
    """The switch of a consumer to enhanced fan-out while records are put (tests/efo_switch.py), when
    its test is among the collected tests: started once the shared stacks are up, in a thread beside
    the other tests (it mostly waits on LocalStack), on a small stack of its own that it applies and
    destroys itself. tests/integration/test_efo_switch.py waits for it."""
    if not request.config.stash.get(SWITCHED, False):
        yield None
        return
    request.getfixturevalue("emulator")
    if any("stacks" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("stacks")  # the shared stacks first: the tests wait for them
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=switching.THREAD) as pool:
        yield pool.submit(switching.run)


@pytest.fixture(scope="session", autouse=True)
def lag_backlog(request: pytest.FixtureRequest) -> Iterator[Future[lagging.Behind] | None]:
    """A consumer falling behind (tests/lag_backlog.py), made from the tier's start in a thread of its
    own when tests/integration/test_doctor_lag.py is among the collected tests: its 40 s wait runs beside
    the other tests. Removed at the end of the tier."""
    if not any(item.nodeid.split("::")[0].endswith("test_doctor_lag.py") for item in request.session.items):
        yield None
        return
    request.getfixturevalue("emulator")
    with lagging.started() as future:
        yield future


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


def byo_stack() -> Stack:
    """examples/bring-your-own under the tier's name: the team's own topic, keys, VPC, boundary and
    operator role beside the module, consuming another stack's stream (set by apply_consuming)."""
    return Stack("bring-your-own", "it-byo")


def apply_consuming(stack: Stack, owner: Stack, owner_applied: Future[None]) -> float:
    """Apply ``stack`` on the stream of ``owner`` as soon as that stream is active (``owner``'s own
    apply goes on beside it: the stream is among the first things it creates); how long it took."""
    kinesis = client("kinesis")
    while not owner_applied.done():
        try:
            summary = kinesis.describe_stream_summary(StreamName=owner.name)["StreamDescriptionSummary"]
        except kinesis.exceptions.ResourceNotFoundException:
            summary = {}
        if summary.get("StreamStatus") == "ACTIVE":
            break
        time.sleep(2)
    if owner_applied.done():
        owner_applied.result()  # a failed owner fails this too
    arn = kinesis.describe_stream_summary(StreamName=owner.name)["StreamDescriptionSummary"]["StreamARN"]
    stack.variables += ["-var", f"existing_stream_arn={arn}", "-var", "shard_count=2"]
    started = time.monotonic()
    stack.apply()
    return time.monotonic() - started


@pytest.fixture(scope="session")
def byo(stacks: dict[str, Any]) -> Stack:
    stack: Stack = stacks["byo"]
    return stack


def say(config: pytest.Config, line: str) -> None:
    """A line on the tier's own output (not captured): what the stacks cost, for the record."""
    reporter, capture = (config.pluginmanager.get_plugin(name) for name in ("terminalreporter", "capturemanager"))
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n{line}")
