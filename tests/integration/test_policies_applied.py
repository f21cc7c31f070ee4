"""The policy scenarios on the plans of the applied stacks, where every value is known.

A fresh plan cannot know the policies whose ARNs are created in the same apply (the trust policy,
the role, topic, queue and bucket policies), so those scenarios skip there ("When it has policy");
here none does. Each hardening scenario is also run on the applied plan broken in exactly its
way, and must fail: a scenario that checks nothing cannot pass unnoticed.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from stack_support import Stack

ROOT = Path(__file__).resolve().parents[2]
COMPLIANCE = ROOT / ".venv-policy" / "bin" / "terraform-compliance"


FEATURES = [
    *sorted((ROOT / "tests" / "policy").glob("*.feature")),
    *sorted(Path(__file__).parent.glob("policies/*.feature")),
]


def compliance(plan: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """tests/policy (what a fresh plan can check) and tests/integration/policies (what only an applied
    stack's plan knows), in one run."""
    with tempfile.TemporaryDirectory() as scratch:
        features = Path(scratch) / "features"
        features.mkdir()
        for feature in FEATURES:
            shutil.copyfile(feature, features / f"{feature.parent.name}-{feature.name}")
        (Path(scratch) / "plan.json").write_text(json.dumps(plan))
        return subprocess.run(
            [str(COMPLIANCE), "-f", str(features), "-p", str(Path(scratch) / "plan.json"), "--no-ansi"],
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture(scope="module")
def plans(kinesis_stack: Stack, dynamodb_stack: Stack) -> dict[str, dict[str, Any]]:
    return {"kinesis": kinesis_stack.plan(), "dynamodb": dynamodb_stack.plan()}


def scenarios(output: str) -> tuple[int, int, int]:
    """(passed, failed, skipped) scenarios from terraform-compliance's summary line."""
    line = re.search(r"(\d+) scenarios \(([^)]*)\)", output)
    assert line, output[-2000:]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped)", line.group(2))}
    return counts.get("passed", 0), counts.get("failed", 0), counts.get("skipped", 0)


def test_every_policy_passes_on_both_applied_stacks(plans: dict[str, dict[str, Any]]) -> None:
    kinesis = compliance(plans["kinesis"])
    assert kinesis.returncode == 0, kinesis.stdout[-3000:]
    # The Kinesis stack has no failure archive (its failures go to the queue): that one scenario skips.
    assert scenarios(kinesis.stdout) == (16, 0, 1), kinesis.stdout[-1500:]
    dynamodb = compliance(plans["dynamodb"])
    assert dynamodb.returncode == 0, dynamodb.stdout[-3000:]
    # The DynamoDB stack has no Kinesis stream and no queue (its failures go to the archive): the
    # stream's, the queue's encryption and the queue's TLS scenarios skip.
    assert scenarios(dynamodb.stdout) == (14, 0, 3), dynamodb.stdout[-1500:]


def policy_edit(
    resource_type: str, attribute: str, edit: Callable[[dict[str, Any]], None]
) -> Callable[[dict[str, Any]], None]:
    """A mutation: decode the JSON policy of every resource of this type, edit it, encode it back,
    in the resource changes and the planned values alike (terraform-compliance reads both)."""

    def mutate(plan: dict[str, Any]) -> None:
        def rewrite(values: dict[str, Any]) -> None:
            document = json.loads(values[attribute])
            edit(document)
            values[attribute] = json.dumps(document)

        changed = 0
        for change in plan["resource_changes"]:
            if change["type"] == resource_type:
                rewrite(change["change"]["after"])
                changed += 1
        stack = [plan["planned_values"]["root_module"]]
        while stack:
            module = stack.pop()
            stack += module.get("child_modules", [])
            for resource in module.get("resources", []):
                if resource["type"] == resource_type:
                    rewrite(resource["values"])
        assert changed, f"the plan has no {resource_type}"

    return mutate


def drop_statement(sid: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]

    return edit


def drop_condition(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        for statement in document["Statement"]:
            condition = statement.get("Condition", {})
            condition.pop(key, None)
            if not condition:
                statement.pop("Condition", None)

    return edit


def whole_bucket(document: dict[str, Any]) -> None:
    for statement in document["Statement"]:
        if statement.get("Sid") == "WriteTheFailureArchive":
            statement["Resource"] = [r.replace("/aws/lambda/*", "/*") for r in statement["Resource"]]


MUTATIONS = {
    "the topic takes plain HTTP": ("kinesis", policy_edit("aws_sns_topic_policy", "policy", drop_statement("TlsOnly"))),
    "any alarm of the account publishes to the topic": (
        "kinesis",
        policy_edit("aws_sns_topic_policy", "policy", drop_condition("ArnLike")),
    ),
    "the queue takes plain HTTP": ("kinesis", policy_edit("aws_sqs_queue_policy", "policy", drop_statement("TlsOnly"))),
    "the archive takes plain HTTP": (
        "dynamodb",
        policy_edit("aws_s3_bucket_policy", "policy", drop_statement("TlsOnly")),
    ),
    "any account's Lambda assumes the role": (
        "kinesis",
        policy_edit("aws_iam_role", "assume_role_policy", drop_condition("StringEquals")),
    ),
    "the role writes anywhere in the archive": ("dynamodb", policy_edit("aws_iam_role_policy", "policy", whole_bucket)),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_an_applied_plan_broken_in_one_way_fails_its_scenario(plans: dict[str, dict[str, Any]], mutation: str) -> None:
    stack, mutate = MUTATIONS[mutation]
    broken = copy.deepcopy(plans[stack])
    mutate(broken)
    result = compliance(broken)
    assert result.returncode != 0, f"{mutation}: the policies passed:\n{result.stdout[-2000:]}"
    assert scenarios(result.stdout)[1] == 1, f"{mutation} should fail exactly one scenario:\n{result.stdout[-2000:]}"
