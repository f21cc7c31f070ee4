"""Policy tier: terraform-compliance on the examples' plan JSON, and checkov on the Terraform.

The plans are made offline (scripts/plan_json.py). Each policy must pass on the real plans and
fail on a plan mutated to break it, so a policy that checks nothing cannot pass unnoticed.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from plan_json import plan_json  # noqa: E402 - after the path is set

if TYPE_CHECKING:
    from collections.abc import Callable

FEATURES = ROOT / "tests" / "policy"
COMPLIANCE = Path(os.environ.get("POLICY_VENV", ROOT / ".venv-policy")) / "bin" / "terraform-compliance"
CHECKOV = Path(os.environ.get("CHECKOV_VENV", ROOT / ".venv-checkov")) / "bin" / "checkov"
EXAMPLES = ["kinesis-alleycat", "dynamodb-streams", "kinesis-fan-out"]


@pytest.fixture(scope="module", params=EXAMPLES)
def plan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("plans") / f"{request.param}.json"
    plan_json(request.param, out, [])
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def compliance(plan_doc: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_doc))
    return subprocess.run(
        [str(COMPLIANCE), "-f", str(FEATURES), "-p", str(path), "--no-ansi"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_examples_pass_every_policy(plan: dict[str, Any], tmp_path: Path) -> None:
    result = compliance(plan, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " failed" not in result.stdout.split("features (")[-1]
    assert "scenarios (" in result.stdout


def test_a_root_that_brings_its_own_resources_passes_every_policy(tmp_path: Path) -> None:
    """examples/bring-your-own (its own stream, topic, keys, VPC, boundary, beside the module), by
    reference: the house policies hold for what the mandates add (its plan has no `enabled` to
    switch off, so it is not among the EXAMPLES the mutations and the disabled plan run on)."""
    plan_doc = json.loads(plan_json("bring-your-own", tmp_path / "byo.json", []).read_text())
    result = compliance(plan_doc, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " failed" not in result.stdout.split("features (")[-1]


def _drop(change: dict[str, Any], key: str) -> None:
    change["after"].pop(key, None)
    change["after_unknown"].pop(key, None)
    change["_dropped_expression"] = key


def _set(change: dict[str, Any], key: str, value: Any) -> None:
    change["after"][key] = value
    change["after_unknown"].pop(key, None)
    change["_set_expression"] = (key, value)


def _planned_resources(module: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        found += _planned_resources(child)
    return found


def _sync_planned_values(plan_doc: dict[str, Any], address: str, change: dict[str, Any]) -> None:
    """terraform-compliance reads planned_values too: keep them equal to the mutated change."""
    for resource in _planned_resources(plan_doc["planned_values"]["root_module"]):
        if resource["address"] == address:
            resource["values"] = change["after"]


def _config_resources(module: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(module.get("resources", []))
    for call in module.get("module_calls", {}).values():
        found += _config_resources(call.get("module", {}))
    return found


def _rewrite_configuration(plan_doc: dict[str, Any], resource_type: str, change: dict[str, Any]) -> None:
    """terraform-compliance also reads the configuration's expressions. A plan truly without the
    attribute has no expression for it, and one with a literal value has that constant, so the
    mutation rewrites the configuration to match."""
    for resource in _config_resources(plan_doc["configuration"]["root_module"]):
        if resource["type"] != resource_type:
            continue
        expressions = resource.setdefault("expressions", {})
        if "_dropped_expression" in change:
            expressions.pop(change["_dropped_expression"], None)
        if "_set_expression" in change:
            key, value = change["_set_expression"]
            expressions[key] = {"constant_value": value}
    change.pop("_dropped_expression", None)
    change.pop("_set_expression", None)


MUTATIONS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "unencrypted queue": ("aws_sqs_queue", lambda c: _set(c, "sqs_managed_sse_enabled", value=False)),
    "unencrypted topic": ("aws_sns_topic", lambda c: _drop(c, "kms_master_key_id")),
    "unencrypted table": ("aws_dynamodb_table", lambda c: _set(c, "server_side_encryption", [{"enabled": False}])),
    "log group kept forever": ("aws_cloudwatch_log_group", lambda c: _set(c, "retention_in_days", 0)),
    "alarm that does not say what to do": (
        "aws_cloudwatch_metric_alarm",
        lambda c: _set(c, "alarm_description", "Errors above 0."),
    ),
    "mapping without on-failure destination": (
        "aws_lambda_event_source_mapping",
        lambda c: _set(c, "destination_config", []),
    ),
    "mapping with a destination block but no on_failure": (
        "aws_lambda_event_source_mapping",
        lambda c: _set(c, "destination_config", [{"on_failure": []}]),
    ),
    "mapping without partial batch response": (
        "aws_lambda_event_source_mapping",
        lambda c: _set(c, "function_response_types", []),
    ),
    "wildcard trust policy": (
        "aws_iam_role",
        lambda c: _set(
            c,
            "assume_role_policy",
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Principal": "*"}]}),
        ),
    ),
    "wildcard role policy": (
        "aws_iam_role_policy",
        lambda c: _set(
            c,
            "policy",
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            ),
        ),
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_plan_that_breaks_a_policy_fails(plan: dict[str, Any], tmp_path: Path, mutation: str) -> None:
    resource_type, mutate = MUTATIONS[mutation]
    broken = copy.deepcopy(plan)
    targets = [rc for rc in broken["resource_changes"] if rc["type"] == resource_type]
    if not targets and resource_type == "aws_sqs_queue":
        pytest.skip("this example archives failures to S3 (checkov checks the bucket), so it has no queue")
    assert targets, f"the example plans no {resource_type}"
    for target in targets:  # every instance: one configuration block stands for all of them
        mutate(target["change"])
        _rewrite_configuration(broken, resource_type, copy.deepcopy(target["change"]))
        _sync_planned_values(broken, target["address"], target["change"])
        target["change"].pop("_dropped_expression", None)
        target["change"].pop("_set_expression", None)
    result = compliance(broken, tmp_path)
    assert result.returncode != 0, f"{mutation} passed the policies:\n{result.stdout[-2000:]}"


def test_kinesis_policy_checks_the_stream(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    plan_doc = json.loads(plan_json("kinesis-alleycat", out, []).read_text())
    broken = copy.deepcopy(plan_doc)
    (stream,) = [rc for rc in broken["resource_changes"] if rc["type"] == "aws_kinesis_stream"]
    _set(stream["change"], "encryption_type", "NONE")
    _rewrite_configuration(broken, "aws_kinesis_stream", stream["change"])
    _sync_planned_values(broken, stream["address"], stream["change"])
    assert compliance(broken, tmp_path).returncode != 0


@pytest.mark.parametrize("example", EXAMPLES)
def test_disabled_example_plans_zero_resources(example: str, tmp_path: Path) -> None:
    plan_doc = json.loads(plan_json(example, tmp_path / "p.json", ["enabled=false"]).read_text())
    assert [rc["address"] for rc in plan_doc.get("resource_changes", []) if rc["change"]["actions"] != ["no-op"]] == []


def test_checkov_passes_with_every_skip_justified() -> None:
    result = subprocess.run(
        [str(CHECKOV), "-d", str(ROOT), "--framework", "terraform", "--compact", "--output", "json",
         "--skip-path", ".venv", "--skip-path", "build", "--skip-path", "dist", "--skip-path", ".localstack",
         # A terraform test fixture that stands for a team's root (its resources are the team's, mocked).
         "--skip-path", "tests/terraform/fixtures"],
        capture_output=True, text=True, check=False, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )  # fmt: skip
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"].get("failed_checks", [])]
    skipped = [c for r in reports for c in r["results"].get("skipped_checks", [])]
    assert failed == [], [(c["check_id"], c["resource"]) for c in failed]
    assert result.returncode == 0
    assert skipped, "expected the justified inline skips to be reported"
    assert all(len(c["check_result"].get("suppress_comment", "")) > 20 for c in skipped)
