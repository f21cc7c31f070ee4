"""Terraform against LocalStack: the provider override copied in for one command, the local
workspaces, apply, plan, outputs, destroy. Full output goes to .localstack/terraform.log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stream_pipeline_local.common import ENDPOINT, REGION, ROOT, STATE, WORKSPACE, LocalStackError, say

if TYPE_CHECKING:
    from collections.abc import Iterator

OVERRIDE = ROOT / "local" / "provider_override.tf"


def offline_env() -> dict[str, str]:
    """The environment for terraform without a real account: no profile, no instance metadata, and
    no TF_CLI_CONFIG_FILE that points at a missing file (terraform warns on every call)."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        env.pop("TF_CLI_CONFIG_FILE")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def init_flags() -> list[str]:
    """`terraform init` flags: the local provider mirror when TF_PLUGIN_DIR names one (the Makefile
    finds it), the registry otherwise."""
    flags = ["-input=false", "-no-color"]
    if os.environ.get("TF_PLUGIN_DIR"):
        flags.append(f"-plugin-dir={os.environ['TF_PLUGIN_DIR']}")
    return flags


def terraform_env(workspace: str = WORKSPACE) -> dict[str, str]:
    env = offline_env()
    env |= {
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TF_WORKSPACE": workspace,
        "TF_IN_AUTOMATION": "1",
    }
    return env


EXAMPLES = ROOT / "examples"


def example_dir(example: str) -> Path:
    """The folder of an example: a folder directly under examples/, never a path that leaves it."""
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not example or Path(example).is_absolute() or Path(example).name != example or example in (".", ".."):
        raise LocalStackError(
            f"--example takes the name of a folder in examples/ ({', '.join(names)}), not a path: got {example!r}."
        )
    directory = EXAMPLES / example
    if not directory.is_dir() or directory.resolve().parent != EXAMPLES.resolve():
        raise LocalStackError(f"No example named {example!r}; the examples are {', '.join(names)}.")
    return directory


@contextmanager
def overridden(example: str) -> Iterator[Path]:
    directory = example_dir(example)
    override = directory / "provider_override.tf"
    shutil.copyfile(OVERRIDE, override)
    try:
        yield directory
    finally:
        override.unlink(missing_ok=True)


def plain_hcl(value: Any) -> Any:
    """python-hcl2 keeps the quotes of strings and block names and the comments: drop them."""
    if isinstance(value, dict):
        return {k.strip('"'): plain_hcl(v) for k, v in value.items() if k != "__comments__"}
    if isinstance(value, list):
        return [plain_hcl(v) for v in value]
    return value.strip('"') if isinstance(value, str) else value


def example_module(example: str) -> dict[str, Any]:
    """The example's ``module "pipeline"`` block, as its main.tf writes it (strings unquoted)."""
    import hcl2  # noqa: PLC0415 - a development dependency, needed by the harness only

    with (example_dir(example) / "main.tf").open() as handle:
        config = plain_hcl(hcl2.load(handle))
    blocks = [block["pipeline"] for block in config.get("module", []) if "pipeline" in block]
    if len(blocks) != 1:
        raise LocalStackError(f'examples/{example}/main.tf has no single `module "pipeline"` block to read.')
    found: dict[str, Any] = blocks[0]
    return found


def planned_shards(example: str) -> int | None:
    """The Kinesis shards the example is sized for; None for an example that reads no Kinesis stream
    it makes (a DynamoDB source, or an existing stream's ARN)."""
    try:
        module = example_module(example)
    except LocalStackError:
        return None
    kinesis = module.get("kinesis")
    if module.get("source_type", "kinesis") != "kinesis" or not isinstance(kinesis, dict):
        return None
    count = kinesis.get("shard_count")
    if kinesis.get("existing_stream_arn") or not isinstance(count, int):
        return None  # no stream of its own, or a count from a variable: left as it is
    return count


@contextmanager
def emulator_shards(example: str, shard_count: int, sizing: dict[str, dict[str, Any]] | None = None) -> Iterator[Path]:
    """An emulator setting, not a sizing: the example's Kinesis stream opened with ``shard_count``
    shards on LocalStack, for the block only.

    LocalStack's Kinesis emulator (kinesis-mock) spends time on every put in proportion to the records
    already in the shard, so a local race of 60,000 records needs far more shards than AWS does to
    take 1,000 records/s (docs/BENCHMARKS.md). A Terraform override file in the example sets
    ``kinesis.shard_count`` and, when the example reserves concurrency, raises
    ``function.reserved_concurrency`` to shards x parallelization factor (the module refuses less);
    every other value is the example's own, read from its main.tf. ``sizing`` (the planner's
    ``tfvars()``, for a race the example is not sized for: KPL aggregates) replaces the example's
    ``kinesis``, ``function`` and ``event_source_mapping`` settings it names, before that.
    """
    directory = example_dir(example)
    module = example_module(example)
    planned = sizing or {}
    mapping = {**module["event_source_mapping"], **planned.get("event_source_mapping", {})}
    factor = int(mapping.get("parallelization_factor", 1))
    kinesis = {**module["kinesis"], **planned.get("kinesis", {}), "shard_count": shard_count}
    function = {**module["function"], **planned.get("function", {})}
    reserved = int(function.get("reserved_concurrency", -1))
    if reserved != -1:  # a reservation must cover every concurrent batch; none (the default) needs nothing
        function["reserved_concurrency"] = max(reserved, shard_count * factor)
    override = directory / "emulator_override.tf.json"
    settings: dict[str, Any] = {"kinesis": kinesis, "function": function}
    if "event_source_mapping" in planned:
        settings["event_source_mapping"] = mapping
    override.write_text(json.dumps({"module": {"pipeline": settings}}, indent=2))
    try:
        yield override
    finally:
        override.unlink(missing_ok=True)


def terraform(directory: Path, *args: str, capture: bool = False, workspace: str = WORKSPACE) -> str:
    """Run terraform; its full output goes to .localstack/terraform.log, a summary line to the screen."""
    command = [os.environ.get("TF", "terraform"), f"-chdir={directory}", *args]
    result = subprocess.run(command, env=terraform_env(workspace), check=False, capture_output=True, text=True)
    with (STATE / "terraform.log").open("a") as log:
        log.write(f"$ terraform {' '.join(args)}  ({directory.relative_to(ROOT)}, workspace {workspace})\n")
        log.write(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise LocalStackError(f"`terraform {' '.join(args)}` failed in {directory.relative_to(ROOT)}:\n{tail}")
    if capture:
        return result.stdout
    for line in result.stdout.splitlines():
        if line.startswith(("Apply complete!", "Destroy complete!")):
            say(line)
    return ""


def init(directory: Path, workspace: str = WORKSPACE) -> None:
    env = {k: v for k, v in terraform_env().items() if k != "TF_WORKSPACE"}
    tf = os.environ.get("TF", "terraform")
    subprocess.run([tf, f"-chdir={directory}", "init", *init_flags()], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([tf, f"-chdir={directory}", "workspace", "select", "-or-create", workspace], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def apply(example: str, *extra: str, workspace: str = WORKSPACE) -> dict[str, object]:
    with overridden(example) as directory:
        init(directory, workspace)
        say(f"terraform apply examples/{example} on LocalStack")
        terraform(directory, "apply", "-auto-approve", "-input=false", "-no-color", *extra, workspace=workspace)
        return outputs_of(directory, workspace)


def outputs_of(directory: Path, workspace: str = WORKSPACE) -> dict[str, object]:
    raw = json.loads(terraform(directory, "output", "-json", capture=True, workspace=workspace))
    return {name: value["value"] for name, value in raw.items()}


def plan_json(example: str, *extra: str, workspace: str = WORKSPACE) -> dict[str, object]:
    """The plan of an applied example, as JSON (for drift checks and the policies)."""
    with overridden(example) as directory, tempfile.TemporaryDirectory() as scratch:
        init(directory, workspace)
        plan_file = str(Path(scratch) / "plan.tfplan")
        terraform(directory, "plan", "-input=false", "-no-color", f"-out={plan_file}", *extra, workspace=workspace)
        shown: dict[str, object] = json.loads(
            terraform(directory, "show", "-json", plan_file, capture=True, workspace=workspace)
        )
        return shown


def outputs(example: str) -> dict[str, object]:
    with overridden(example) as directory:
        init(directory)
        return outputs_of(directory)


def destroy(example: str, *extra: str, workspace: str = WORKSPACE) -> None:
    with overridden(example) as directory:
        init(directory, workspace)
        say(f"terraform destroy examples/{example} on LocalStack")
        terraform(directory, "destroy", "-auto-approve", "-input=false", "-no-color", *extra, workspace=workspace)


def deployed_examples(workspace: str = WORKSPACE) -> list[str]:
    found = []
    for state in (ROOT / "examples").glob(f"*/terraform.tfstate.d/{workspace}/terraform.tfstate"):
        resources = json.loads(state.read_text()).get("resources", [])
        if resources:
            found.append(state.parents[2].name)
    return sorted(found)
