"""The upgrade from the last release, as a team makes it: their configuration applied with the module
at v0.2.0 (tests/release_stack.py, applied by the tier beside the examples), then the same
configuration with the module of this checkout. The plan must move state (the `moved` blocks) and
replace nothing that holds records or runs the consumer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from release_stack import ReleaseStack

KEPT = {
    # What must never be replaced by an upgrade: the records (stream, sink, failure queue), the
    # consumer (function, mapping, role) and its logs.
    "aws_kinesis_stream", "aws_dynamodb_table", "aws_sqs_queue", "aws_lambda_function",
    "aws_lambda_event_source_mapping", "aws_iam_role", "aws_cloudwatch_log_group",
}  # fmt: skip
MOVED = ("aws_lambda_function.this[0]", "aws_lambda_event_source_mapping.this[0]", "aws_sqs_queue.on_failure[0]")


def test_a_stack_of_the_last_release_upgrades_without_replacing_what_holds_records(release_stack: ReleaseStack) -> None:
    if release_stack.missing:  # a shallow CI checkout has no release to upgrade from: say so rather than pass
        pytest.skip(release_stack.missing)
    plan = release_stack.upgrade_plan()
    changes = [c for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]]
    replaced = sorted(c["address"] for c in changes if "delete" in c["change"]["actions"] and c["type"] in KEPT)
    assert replaced == [], f"the upgrade would replace {replaced}"
    moved = {c["previous_address"]: c["address"] for c in plan["resource_changes"] if c.get("previous_address")}
    for resource in MOVED:
        old = f"module.pipeline.module.consumer.{resource}"
        assert moved.get(old) == f'module.pipeline.module.consumer["default"].{resource}', (old, sorted(moved))
    assert plan["errored"] is False
