"""Consumer tier: the module imported as other teams import it, offline (provider mirror, fake keys).

Every configuration here gets the module from a ``git::file://`` clone of HEAD, pinned to a commit
(``?ref=<40-hex SHA>``: no tag is created, and none is needed), in a fresh directory outside the
repository: no build step, no virtual environment, nothing but Terraform. The plan JSON is then
read for what a team would trip over: null dimensions, names that collide, a package that is not
there, a mandate that did not reach a function or a role, an error that does not name what the
team wrote.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHA = re.compile(r"[0-9a-f]{40}")
PROVIDERS = """
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

provider "aws" {
  alias                       = "eu"
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
"""


GIT = shutil.which("git") or "git"


def git(directory: Path, *args: str) -> str:
    return subprocess.run([GIT, "-C", str(directory), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of HEAD, as a team's git source is: no tag made for the tests."""
    directory = tmp_path_factory.mktemp("upstream") / "terraform-aws-stream-pipeline"
    subprocess.run([GIT, "clone", "--quiet", str(ROOT), str(directory)], check=True)
    assert not (directory / ".venv").exists()
    return directory


@pytest.fixture(scope="module")
def source(clone: Path) -> str:
    """The clone as a git URL Terraform fetches offline; REF (the clone's HEAD commit) pins it."""
    return f"git::file://{clone}"


@pytest.fixture(scope="module")
def ref(clone: Path) -> str:
    sha = git(clone, "rev-parse", "HEAD").strip()
    assert SHA.fullmatch(sha)
    return sha


def terraform(directory: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TF_WORKSPACE"}
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        env.pop("TF_CLI_CONFIG_FILE")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    result = subprocess.run(
        [os.environ.get("TF", "terraform"), f"-chdir={directory}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"terraform {' '.join(args)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


def init(directory: Path) -> None:
    plugins = os.environ.get("TF_PLUGIN_DIR")
    terraform(directory, "init", "-input=false", "-no-color", *([f"-plugin-dir={plugins}"] if plugins else []))


def plan(directory: Path, *variables: str) -> dict[str, Any]:
    init(directory)
    terraform(directory, "plan", "-input=false", "-no-color", "-out=tfplan", *variables)
    shown: dict[str, Any] = json.loads(terraform(directory, "show", "-json", "tfplan").stdout)
    return shown


def workspace(tmp_path: Path, config: str) -> Path:
    directory = tmp_path / "team-repo"
    directory.mkdir()
    (directory / "providers.tf").write_text(PROVIDERS)
    (directory / "main.tf").write_text(config)
    return directory


def planned(plan_doc: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The planned resources of a type: their known values, with ``_unknown`` for what apply decides."""
    return [
        {"address": rc["address"], "_unknown": rc["change"]["after_unknown"] or {}, **(rc["change"]["after"] or {})}
        for rc in plan_doc.get("resource_changes", [])
        if rc["type"] == resource_type and rc["change"]["actions"] != ["no-op"]
    ]


def null_dimensions(plan_doc: dict[str, Any]) -> tuple[list[str], int]:
    """Alarms with a null dimension value and dashboard metrics with a null in them (values known
    only after apply, such as a mapping's UUID, are not null), and how many dashboards were read."""
    found = []
    for alarm in planned(plan_doc, "aws_cloudwatch_metric_alarm"):
        unknown = alarm["_unknown"].get("dimensions") or {}
        for name, value in (alarm.get("dimensions") or {}).items():
            if value is None and not (unknown is True or (isinstance(unknown, dict) and unknown.get(name))):
                found.append(f"{alarm['address']}: {name}")
    bodies = [d for d in planned(plan_doc, "aws_cloudwatch_dashboard") if "dashboard_body" in d]
    for dashboard in bodies:
        for widget in json.loads(dashboard["dashboard_body"])["widgets"]:
            found.extend(
                f"{dashboard['address']}: {metric}"
                for metric in widget["properties"].get("metrics", [])
                if any(part is None for part in metric)
            )
    return found, len(bodies)


def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Use the module") :]
    return section[section.index("```hcl") + len("```hcl") : section.index("```", section.index("```hcl") + 6)]


def test_the_readme_snippet_plans_as_written_pinned_to_a_commit_of_this_repository(clone: Path, tmp_path: Path) -> None:
    """The README's source line works against this repository as written: its `ref` is a full commit
    SHA of this repository's history (no tag is needed, and the test creates none)."""
    snippet = readme_snippet()
    pinned = re.search(
        r'source = "git::https://github.com/<org>/terraform-aws-stream-pipeline.git\?ref=([^"]+)"', snippet
    )
    assert pinned, "the README snippet must pin a git source with ?ref="
    sha = pinned.group(1)
    assert SHA.fullmatch(sha), f"the README pins {sha!r}: a full commit SHA, which exists whether or not a tag does"
    assert git(clone, "cat-file", "-t", sha).strip() == "commit", f"{sha} is not a commit of this repository"
    tags_before = git(clone, "tag", "--list")
    config = snippet.replace("https://github.com/<org>/terraform-aws-stream-pipeline.git", f"file://{clone}")
    directory = workspace(tmp_path, config)
    plan_doc = plan(directory)

    (function,) = planned(plan_doc, "aws_lambda_function")
    assert function["filename"].endswith("modules/consumer/package/lambda.zip")
    assert ".terraform/modules/pipeline/" in function["filename"], "the package comes with the module download"
    committed = subprocess.run([GIT, "-C", str(clone), "show", f"{sha}:modules/consumer/package/lambda.zip"],
                               check=True, capture_output=True).stdout  # fmt: skip
    assert function["source_code_hash"] == base64.b64encode(hashlib.sha256(committed).digest()).decode(), (
        "the plan deploys the package committed at the pinned commit, with no build step"
    )
    alarms = [a["alarm_name"] for a in planned(plan_doc, "aws_cloudwatch_metric_alarm")]
    assert alarms
    assert len(alarms) == len(set(alarms))
    assert null_dimensions(plan_doc)[0] == []
    assert git(clone, "tag", "--list") == tags_before, "nothing may tag the repository for the snippet to plan"


def test_children_alone_two_instances_and_two_regions(source: str, ref: str, tmp_path: Path) -> None:
    stream_arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    config = f"""
module "alarms_with_only_a_name" {{
  source = "{source}//modules/alarms?ref={ref}"
  name   = "lonely"
}}

# The README's billing setup: a second alarms instance in us-east-1, with the billing alarm only.
module "billing" {{
  source          = "{source}//modules/alarms?ref={ref}"
  name            = "billing"
  email_addresses = ["finance@example.com"]
  billing_alarm   = {{ enabled = true, threshold_usd = 1 }}
}}

module "dashboard_of_a_function" {{
  source        = "{source}//modules/dashboard?ref={ref}"
  name          = "fn-only"
  consumers     = {{ default = {{ function_name = "someone-elses-function", handler_metrics = false }} }}
}}

module "consumer_alone" {{
  source           = "{source}//modules/consumer?ref={ref}"
  name             = "consumer-alone"
  event_source_arn = "{stream_arn}"
  stream_arn       = "{stream_arn}"
  shard_count      = 1
}}

module "stream_alone" {{
  source = "{source}//modules/stream?ref={ref}"
  name   = "stream-alone"
}}

module "first" {{
  source = "{source}?ref={ref}"
  name   = "first"
  tags   = {{ Team = "data" }}
  alarms = {{ budget = {{ enabled = true }}, email_addresses = ["oncall@example.com"] }}
}}

module "second" {{
  source = "{source}?ref={ref}"
  name   = "second"
  source_type = "dynamodb"
}}

module "first_in_europe" {{
  source    = "{source}?ref={ref}"
  providers = {{ aws = aws.eu }}
  name      = "first"
  alarms    = {{ budget = {{ enabled = true }}, email_addresses = ["oncall@example.com"] }}
}}
"""
    plan_doc = plan(workspace(tmp_path, config))
    nulls, dashboards_read = null_dimensions(plan_doc)
    assert nulls == []
    assert dashboards_read >= 1, "the standalone dashboard's body is known at plan and was read"

    alarms = planned(plan_doc, "aws_cloudwatch_metric_alarm")
    assert not [a for a in alarms if a["address"].startswith("module.alarms_with_only_a_name.")]
    billing = [a["alarm_name"] for a in alarms if a["address"].startswith("module.billing.")]
    assert billing == ["billing-estimated-charges"]
    assert [t["name"] for t in planned(plan_doc, "aws_sns_topic") if "module.billing." in t["address"]] == [
        "billing-alarms"
    ]

    (dashboard,) = [
        d for d in planned(plan_doc, "aws_cloudwatch_dashboard") if "dashboard_of_a_function" in d["address"]
    ]
    metrics = [
        m[1] for w in json.loads(dashboard["dashboard_body"])["widgets"] for m in w["properties"].get("metrics", [])
    ]
    assert "RecordsFailed" not in metrics, "handler_metrics = false: no EMF widget for someone else's function"
    assert "Errors" in metrics

    def names(resource_type: str, attribute: str, region: str | None = None) -> list[str]:
        found = []
        for resource in planned(plan_doc, resource_type):
            in_europe = resource["address"].startswith("module.first_in_europe.")
            if region is None or (region == "eu") == in_europe:
                found.append(resource[attribute])
        return found

    # Account-wide names must differ across regions, regional ones within a region.
    for resource_type, attribute in [
        ("aws_iam_role", "name"),
        ("aws_cloudwatch_dashboard", "dashboard_name"),
        ("aws_budgets_budget", "name"),
    ]:
        every = names(resource_type, attribute)
        assert len(every) == len(set(every)), (resource_type, every)
    for region in ("us", "eu"):
        for resource_type, attribute in [
            ("aws_lambda_function", "function_name"),
            ("aws_kinesis_stream", "name"),
            ("aws_sqs_queue", "name"),
            ("aws_dynamodb_table", "name"),
            ("aws_sns_topic", "name"),
            ("aws_cloudwatch_metric_alarm", "alarm_name"),
            ("aws_cloudwatch_composite_alarm", "alarm_name"),
            ("aws_kms_alias", "name"),
        ]:
            regional = names(resource_type, attribute, region)
            assert len(regional) == len(set(regional)), (region, resource_type, regional)

    (mapping,) = [
        m for m in planned(plan_doc, "aws_lambda_event_source_mapping") if m["address"].startswith("module.first.")
    ]
    assert mapping["tags"] == {"Team": "data"}
    (budget,) = [b for b in planned(plan_doc, "aws_budgets_budget") if b["address"].startswith("module.first.")]
    assert budget["tags"] == {"Team": "data"}


def test_a_child_missing_what_it_needs_is_refused_with_a_sentence(source: str, ref: str, tmp_path: Path) -> None:
    config = f"""
module "empty_dashboard" {{
  source = "{source}//modules/dashboard?ref={ref}"
  name   = "empty"
}}

module "mapping_alarms_without_the_mapping" {{
  source                       = "{source}//modules/alarms?ref={ref}"
  name                         = "half"
  consumers                    = {{ default = {{ function_name = "f", event_source_mapping_metrics = true }} }}
}}
"""
    directory = workspace(tmp_path, config)
    init(directory)
    result = terraform(directory, "plan", "-input=false", "-no-color", check=False)
    assert result.returncode != 0
    errors = " ".join(result.stderr.split())
    assert "The dashboard would be empty: give it at least one of consumers" in errors
    assert "needs the consumer's event_source_mapping_uuid (event_source_mapping_metrics is on)" in errors
    assert "Traceback" not in errors


def test_a_teams_own_processor_plans_from_the_clone(source: str, ref: str, tmp_path: Path) -> None:
    clone = Path(source.removeprefix("git::file://"))
    package = tmp_path / "lambda.zip"
    subprocess.run(
        [sys.executable, str(clone / "scripts" / "package.py"), "--out", str(package), "--build-dir",
         str(tmp_path / "build"), "--add", str(clone / "examples" / "custom-processor" / "processors" / "my_team")],
        check=True, capture_output=True,
    )  # fmt: skip
    directory = tmp_path / "custom-processor"
    shutil.copytree(clone / "examples" / "custom-processor", directory)
    main = directory / "main.tf"
    main.write_text(main.read_text().replace('source = "../.."', f'source = "{source}?ref={ref}"'))
    (directory / "provider_override.tf").write_text((clone / "local" / "provider_override.tf").read_text())
    plan_doc = plan(directory, "-var", f"package_path={package}")

    (function,) = planned(plan_doc, "aws_lambda_function")
    assert function["environment"][0]["variables"]["RECORD_PROCESSOR"] == "my_team.orders:handle"
    assert function["filename"] == str(package)
    # The role policy names the stream created in the same apply, so it is unknown at plan here;
    # tests/terraform/consumer.tftest.hcl checks the rendered statement.


def test_the_planners_tfvars_plan_as_they_are(source: str, ref: str, tmp_path: Path) -> None:
    """`stream-pipeline plan --tfvars` output, given to the module unchanged."""
    from stream_pipeline_ops import planner

    result = planner.plan(planner.Workload(avg_rps=1000, peak_rps=1000, record_bytes=200, keys=1000))
    names = list(result.tfvars())
    config = "\n".join(f'variable "{n}" {{\n  type = any\n}}' for n in names)
    config += f'\nmodule "pipeline" {{\n  source = "{source}?ref={ref}"\n  name   = "race"\n'
    config += "".join(f"  {n} = var.{n}\n" for n in names) + "}\n"
    directory = workspace(tmp_path, config)
    (directory / "race.tfvars").write_text(planner.tfvars_hcl(result))
    plan_doc = plan(directory, "-var-file=race.tfvars")

    (stream,) = planned(plan_doc, "aws_kinesis_stream")
    assert stream["shard_count"] == result.shard_count
    (mapping,) = planned(plan_doc, "aws_lambda_event_source_mapping")
    assert (mapping["batch_size"], mapping["parallelization_factor"]) == (1000, 2)
    assert mapping["maximum_record_age_in_seconds"] == result.maximum_record_age_s
    (function,) = planned(plan_doc, "aws_lambda_function")
    assert (function["memory_size"], function["reserved_concurrent_executions"]) == (
        256,
        -1,
    )  # no reservation unless asked


def test_two_consumers_of_one_stream_plan_from_the_clone(source: str, ref: str, tmp_path: Path) -> None:
    """The race with a second consumer on enhanced fan-out, as a team writes it: two functions, two
    mappings (one on a registered consumer), each consumer's own alarms and failure path, the stream's
    alarms once, one dashboard with a row each."""
    config = f"""
module "race" {{
  source  = "{source}?ref={ref}"
  name    = "race"
  kinesis = {{ shard_count = 2 }}
  consumers = {{
    archive = {{ enhanced_fan_out = true, sink = {{ create = false }} }}
  }}
}}
"""
    plan_doc = plan(workspace(tmp_path, config))
    assert null_dimensions(plan_doc)[0] == []
    assert sorted(f["function_name"] for f in planned(plan_doc, "aws_lambda_function")) == ["race", "race-archive"]
    assert len(planned(plan_doc, "aws_lambda_event_source_mapping")) == 2
    assert [c["name"] for c in planned(plan_doc, "aws_kinesis_stream_consumer")] == ["race-archive"]
    assert sorted(q["name"] for q in planned(plan_doc, "aws_sqs_queue")) == ["race-archive-failures", "race-failures"]
    assert [t["name"] for t in planned(plan_doc, "aws_dynamodb_table") if t["name"].endswith("-sink")] == ["race-sink"]
    alarms = [a["alarm_name"] for a in planned(plan_doc, "aws_cloudwatch_metric_alarm")]
    assert len(alarms) == len(set(alarms))
    assert {"race-record-age", "race-archive-record-age", "race-archive-kinesis-subscribe-rate-exceeded"} <= set(alarms)
    assert [a for a in alarms if a.endswith("kinesis-write-throughput-exceeded")] == [
        "race-kinesis-write-throughput-exceeded"
    ]
    composites = sorted(a["alarm_name"] for a in planned(plan_doc, "aws_cloudwatch_composite_alarm"))
    assert composites == sorted(f"{f}-{c}" for f in ("race", "race-archive") for c in ("behind", "failing", "lost"))
    assert len(planned(plan_doc, "aws_cloudwatch_dashboard")) == 1  # its body waits for the mappings' UUIDs


def test_the_planners_tfvars_for_two_consumers_plan_as_they_are(source: str, ref: str, tmp_path: Path) -> None:
    """`stream-pipeline plan --consumer leaderboard --consumer archive:low-latency --tfvars`, unchanged."""
    from stream_pipeline_ops import planner

    two = (planner.Consumer("leaderboard"), planner.Consumer("archive", low_latency=True))
    result = planner.plan(planner.Workload(avg_rps=1000, peak_rps=1000, record_bytes=200, keys=1000, consumers=two))
    names = list(result.tfvars())
    config = "\n".join(f'variable "{n}" {{\n  type = any\n}}' for n in names)
    config += f'\nmodule "pipeline" {{\n  source = "{source}?ref={ref}"\n  name   = "race"\n'
    config += "".join(f"  {n} = var.{n}\n" for n in names) + "}\n"
    directory = workspace(tmp_path, config)
    (directory / "race.tfvars").write_text(planner.tfvars_hcl(result))
    plan_doc = plan(directory, "-var-file=race.tfvars")

    mappings = {m["address"]: m for m in planned(plan_doc, "aws_lambda_event_source_mapping")}
    assert sorted(mappings) == [
        f'module.pipeline.module.consumer["{key}"].aws_lambda_event_source_mapping.this[0]'
        for key in ("archive", "default")
    ]
    assert {m["batch_size"] for m in mappings.values()} == {1000}, "the second consumer inherits the mapping settings"
    assert [c["name"] for c in planned(plan_doc, "aws_kinesis_stream_consumer")] == ["race-archive"]


BRING_YOUR_OWN = Path(__file__).with_name("bring_your_own.tftpl")


def taggable(directory: Path) -> set[str]:
    """The resource types whose schema in the provider has `tags`."""
    shown = json.loads(terraform(directory, "providers", "schema", "-json").stdout)
    provider = shown["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    return {name for name, schema in provider["resource_schemas"].items() if "tags" in schema["block"]["attributes"]}


def test_a_root_that_declares_its_table_stream_topic_keys_and_network_beside_the_module_plans(
    source: str, ref: str, tmp_path: Path
) -> None:
    """Every ARN and ID passed to the module is of a resource declared beside it, so unknown until
    apply: nothing the module creates may wait for one (0.3.0-dev: "Invalid count argument")."""
    directory = workspace(tmp_path, BRING_YOUR_OWN.read_text().replace("SOURCE", source).replace("REF", ref))
    plan_doc = plan(directory)
    modules = ("module.orders.", "module.events.")

    ours = [rc for rc in plan_doc["resource_changes"] if rc["address"].startswith(modules)]
    assert not [rc["address"] for rc in ours if rc["type"] in ("aws_kinesis_stream", "aws_sns_topic")]
    assert not [
        rc["address"] for rc in ours if rc["type"] == "aws_dynamodb_table" and rc["change"]["after"]["name"] == "orders"
    ]
    (efo,) = planned(plan_doc, "aws_kinesis_stream_consumer")
    assert efo["_unknown"]["stream_arn"], (
        "the archive's enhanced fan-out consumer registers on the stream passed by reference"
    )

    # The mandates, on every function and every role the module creates.
    functions = [f for f in planned(plan_doc, "aws_lambda_function") if f["address"].startswith(modules)]
    assert len(functions) == 3
    for function in functions:
        assert function["logging_config"][0]["log_format"] == "JSON", function["address"]
        assert function["logging_config"][0]["application_log_level"] == "INFO", function["address"]
        assert function["_unknown"]["vpc_config"][0]["subnet_ids"], f"{function['address']}: no VPC"
        assert function["_unknown"]["vpc_config"][0]["security_group_ids"], function["address"]
    roles = [r for r in planned(plan_doc, "aws_iam_role") if r["address"].startswith(modules)]
    assert len(roles) == 3
    for role in roles:
        assert role["path"] == "/stream-pipeline/", role["address"]
        assert role["_unknown"].get("permissions_boundary"), f"{role['address']}: no permissions boundary"
    (bucket_key,) = planned(plan_doc, "aws_s3_bucket_server_side_encryption_configuration")
    assert bucket_key["_unknown"]["rule"][0]["apply_server_side_encryption_by_default"][0]["kms_master_key_id"]
    (ledger_orders, ledger_events) = sorted(
        (t for t in planned(plan_doc, "aws_dynamodb_table") if t["name"].endswith("-redrive-ledger")),
        key=lambda t: t["name"],
    )
    for ledger in (ledger_orders, ledger_events):
        assert ledger["_unknown"]["server_side_encryption"][0]["kms_key_arn"], "the ledger under the team's key"

    # Tags on every taggable resource the module creates (the provider's schema says which are).
    kinds = taggable(directory)
    untagged = [
        rc["address"] for rc in ours
        if rc["type"] in kinds and not (rc["change"]["after"].get("tags") or {}).get("Team")
    ]  # fmt: skip
    assert untagged == []
    assert null_dimensions(plan_doc)[0] == []


def test_another_accounts_stream_plans_with_no_stream_created(source: str, ref: str, tmp_path: Path) -> None:
    foreign = "arn:aws:kinesis:us-east-1:210987654321:stream/clicks"
    config = f"""
module "clicks" {{
  source             = "{source}?ref={ref}"
  name               = "clicks-reader"
  kinesis            = {{ create_stream = false, existing_stream_arn = "{foreign}", shard_count = 4 }}
  operator_role_arns = ["arn:aws:iam::123456789012:role/oncall"]
}}

output "resource_policy" {{
  value = module.clicks.kinesis_resource_policy_json
}}
"""
    plan_doc = plan(workspace(tmp_path, config))
    assert planned(plan_doc, "aws_kinesis_stream") == []
    assert planned(plan_doc, "aws_kinesis_stream_consumer") == []
    (mapping,) = planned(plan_doc, "aws_lambda_event_source_mapping")
    assert mapping["event_source_arn"] == foreign
    alarms = [a["alarm_name"] for a in planned(plan_doc, "aws_cloudwatch_metric_alarm")]
    assert "clicks-reader-kinesis-write-throughput-exceeded" not in alarms, (
        "another account's stream has its alarms there"
    )
    assert plan_doc["planned_values"]["outputs"]["resource_policy"].get("sensitive") is False
    assert null_dimensions(plan_doc)[0] == []


def refusal(source: str, ref: str, tmp_path: Path, name: str, body: str) -> str:
    """The errors of a plan of the module with ``body``, as one line of text."""
    config = f'module "pipeline" {{\n  source = "{source}?ref={ref}"\n{body}\n}}\n'
    (tmp_path / name).mkdir()
    directory = workspace(tmp_path / name, config)
    init(directory)
    result = terraform(directory, "plan", "-input=false", "-no-color", check=False)
    assert result.returncode != 0
    errors = " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in errors
    assert "module.consumer" not in errors, "no error may point inside the module for what the user wrote"
    return errors


def test_errors_name_the_setting_the_user_wrote(source: str, ref: str, tmp_path: Path) -> None:
    errors = refusal(
        source,
        ref,
        tmp_path,
        "settings",
        """
  name     = "orders"
  function = { vpc_config = { subnet_ids = ["subnet-0a"], security_group_ids = ["sg-0c"] } }
  consumers = {
    archive = {
      function = {
        memory_mb         = 64
        policy_statements = [
          { sid = "Team", actions = ["dynamodb:PutItem"], resources = ["arn:aws:dynamodb:*:*:table/*"] },
        ]
      }
    }
    leaderboard = { event_source_mapping = { batch_size = 0 } }
  }
""",
    )
    for sentence in [
        'The consumers["archive"].function.memory_mb is 64: Lambda takes a whole number of MB from 128 to 10240.',
        'In consumers["archive"].function.policy_statements, each statement needs',
        "no `arn:*` or `arn:aws:dynamodb:*:*:table/*`",
        'The consumers["leaderboard"].event_source_mapping.batch_size is 0:',
        (
            "The function.vpc_config is not an input of this module (Terraform would drop it without a word): "
            "set function.vpc_subnet_ids and vpc_security_group_ids"
        ),
    ]:
        assert sentence in errors, f"missing: {sentence}\n{errors[-4000:]}"
    # Terraform reports one failed variable at a time here (a plan stops at the first that fails).
    errors = refusal(
        source,
        ref,
        tmp_path,
        "email",
        """
  name   = "orders"
  alarms = { email_addresses = ["oncall@example.com", "oncall at example.com"] }
""",
    )
    assert 'Not an email address: alarms.email_addresses[1] is "oncall at example.com".' in errors


def test_errors_name_the_consumer_keys_whose_names_would_collide_or_overflow(
    source: str, ref: str, tmp_path: Path
) -> None:
    """Checked first: the other checks of consumers entries wait for the keys to be valid."""
    errors = refusal(
        source,
        ref,
        tmp_path,
        "keys",
        """
  name      = "a-pipeline-name-of-forty-five-characters-long"
  consumers = { consumer = {}, archive-of-orders = {} }
""",
    )
    for sentence in [
        (
            'The consumers["consumer"] would register its enhanced fan-out consumer as '
            '"a-pipeline-name-of-forty-five-characters-long-consumer", the name of the default consumer\'s'
        ),
        (
            'The consumers["archive-of-orders"] would name its function '
            '"a-pipeline-name-of-forty-five-characters-long-archive-of-orders", 63 characters'
        ),
    ]:
        assert sentence in errors, f"missing: {sentence}\n{errors[-4000:]}"


def test_a_concurrency_below_an_existing_streams_shards_is_refused_with_its_count(
    source: str, ref: str, tmp_path: Path
) -> None:
    config = f"""
module "pipeline" {{
  source   = "{source}?ref={ref}"
  name     = "orders-reader"
  kinesis = {{
    create_stream       = false
    existing_stream_arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    shard_count         = 6
    stream_mode         = "ON_DEMAND" # the owner's stream: its given count wins over the 4 a new one starts with
  }}
  function = {{ reserved_concurrency = 4 }}
}}
"""
    directory = workspace(tmp_path, config)
    init(directory)
    result = terraform(directory, "plan", "-input=false", "-no-color", check=False)
    assert result.returncode != 0
    errors = " ".join(result.stderr.replace("│", " ").split())
    assert "below the 6 concurrent batches the stream needs (6 shards x parallelization factor 1)" in errors
