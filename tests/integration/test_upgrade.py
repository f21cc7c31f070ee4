"""The upgrade from the last release, as a team makes it: their configuration applied with the module
at v0.2.0 (commit b8cb8da, whose package is the one the CHANGELOG's 0.2.0 entry names), then the same
configuration with the module of this checkout. The plan must move state (the `moved` blocks) and
replace nothing that holds records or runs the consumer."""

from __future__ import annotations

import io
import json
import secrets
import shutil
import subprocess
import tarfile
from typing import TYPE_CHECKING, Any

import pytest

from stack_support import ALARM_PERIOD
from stream_pipeline_local import localstack
from stream_pipeline_local.common import ROOT, STATE
from stream_pipeline_local.terraform import OVERRIDE, init, terraform

if TYPE_CHECKING:
    from pathlib import Path

RELEASE = "b8cb8da691715b36477cd689fb8d02c97c681f6d"  # 0.2.0: its package is B+YD92..., as the CHANGELOG says
WORKSPACE = "upgrade-test"
KEPT = {
    # What must never be replaced by an upgrade: the records (stream, sink, failure queue), the
    # consumer (function, mapping, role) and its logs.
    "aws_kinesis_stream", "aws_dynamodb_table", "aws_sqs_queue", "aws_lambda_function",
    "aws_lambda_event_source_mapping", "aws_iam_role", "aws_cloudwatch_log_group",
}  # fmt: skip
# A name of its own per run: LocalStack 2026.3 can keep a KMS alias after DeleteAlias answered 200, and
# the next run's CreateAlias then fails.
NAME = f"it-upgrade-{secrets.token_hex(2)}"
VARIABLES = ["-var", f"name={NAME}", "-var", f"alarm_period_seconds={ALARM_PERIOD}", "-var", "local_emulator=true"]


def release_tree(target: Path) -> Path:
    """The repository at the release commit (git archive), as a team's module source would be."""
    git = shutil.which("git") or "git"
    present = subprocess.run([git, "-C", str(ROOT), "cat-file", "-e", f"{RELEASE}^{{commit}}"], check=False,
                             capture_output=True).returncode == 0  # fmt: skip
    if not present:
        shallow = subprocess.run([git, "-C", str(ROOT), "rev-parse", "--is-shallow-repository"], check=False,
                                 capture_output=True, text=True).stdout.strip() == "true"  # fmt: skip
        if shallow:  # a shallow CI checkout has no release to upgrade from; say so rather than pass
            pytest.skip(f"a shallow clone lacks the v0.2.0 commit {RELEASE[:7]}: `git fetch --unshallow` to run this")
        raise AssertionError(f"the v0.2.0 commit {RELEASE} is not in this repository")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run([git, "-C", str(ROOT), "archive", "--format=tar", RELEASE], check=True,
                             capture_output=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def team_config(team: Path, module_source: Path) -> None:
    """The team's root module: the release's Kinesis example, its module block pointing at ``module_source``."""
    main = (team / "main.tf").read_text()
    (team / "main.tf").write_text(main.replace('source = "../.."', f'source = "{module_source}"', 1))


def test_a_stack_of_the_last_release_upgrades_without_replacing_what_holds_records(emulator: None) -> None:
    work = STATE / "upgrade"
    release = release_tree(work / "release-0.2.0")
    team = work / "team"
    shutil.rmtree(team, ignore_errors=True)
    shutil.copytree(release / "examples" / "kinesis-alleycat", team)
    shutil.copyfile(OVERRIDE, team / "provider_override.tf")
    team_config(team, release)
    init(team, WORKSPACE)
    terraform(team, "apply", "-auto-approve", "-input=false", "-no-color", *VARIABLES, workspace=WORKSPACE)
    try:
        # The upgrade: the same configuration, the module of this checkout.
        (team / "main.tf").write_text((release / "examples" / "kinesis-alleycat" / "main.tf").read_text())
        team_config(team, ROOT)
        init(team, WORKSPACE)
        plan = plan_json(team)
        changes = [c for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]]
        replaced = sorted(c["address"] for c in changes if "delete" in c["change"]["actions"] and c["type"] in KEPT)
        assert replaced == [], f"the upgrade would replace {replaced}"
        moved = {c["previous_address"]: c["address"] for c in plan["resource_changes"] if c.get("previous_address")}
        for resource in (
            "aws_lambda_function.this[0]",
            "aws_lambda_event_source_mapping.this[0]",
            "aws_sqs_queue.on_failure[0]",
        ):
            old = f"module.pipeline.module.consumer.{resource}"
            assert moved.get(old) == f'module.pipeline.module.consumer["default"].{resource}', (old, sorted(moved))
        terraform(team, "apply", "-auto-approve", "-input=false", "-no-color", *VARIABLES, workspace=WORKSPACE)
    finally:
        terraform(team, "destroy", "-auto-approve", "-input=false", "-no-color", *VARIABLES, workspace=WORKSPACE)
    left = [f["FunctionName"] for f in localstack.client("lambda").list_functions()["Functions"]]
    assert not [name for name in left if name.startswith(NAME)]


def plan_json(directory: Path) -> dict[str, Any]:
    plan_file = directory / "upgrade.tfplan"
    terraform(directory, "plan", "-input=false", "-no-color", f"-out={plan_file}", *VARIABLES, workspace=WORKSPACE)
    shown: dict[str, Any] = json.loads(terraform(directory, "show", "-json", str(plan_file), capture=True,
                                                 workspace=WORKSPACE))  # fmt: skip
    return shown
