"""The dashboard JSON the module renders for the examples, kept as fixtures for the renderer's tests.

    .venv/bin/python tests/dashboard_bodies.py            # rewrites tests/fixtures/dashboards/*.json
    .venv/bin/python tests/dashboard_bodies.py --check    # exit 1 if a fixture is not the module's output

Regenerate after any change to ``modules/dashboard`` or to an example. Each fixture is the real
``dashboard_body`` of ``module.pipeline.module.dashboard``: the example is copied, with the root
module and ``modules/``, into a scratch directory, and a ``terraform test`` run *applies* it there
with the mock provider of ``tests/terraform/mocks`` (nothing is sent to AWS, no account or
credentials are needed). The body is read from the state that ``terraform test -json -verbose``
prints. A plain ``terraform plan`` cannot give it: the body holds the alarm ARNs and the mapping's
UUID, which a plan leaves unknown. The working tree is never written to, except the fixtures.

The ARNs and the UUID in the fixtures are the mocks' values (fixed here, so regenerating gives the
same bytes); every widget, metric, dimension, statistic, id and expression is the module's own.
``terraform`` and the AWS provider come from ``TF`` and ``TF_PLUGIN_DIR``, or the provider mirror the
Makefile looks for.

``FROZEN`` fixtures are kept as the module rendered them at a named commit and are never rewritten:
``dynamodb-streams-at-442a7e1.json`` is the body whose source and sink widgets both said ``cw``,
``cr``, ``wps`` and ``rps``, which one GetMetricData call refused (the console scopes ids to a
widget, so any dashboard may repeat them; the renderer must cope whatever the module does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
FIXTURES: Final = ROOT / "tests" / "fixtures" / "dashboards"
MIRRORS: Final = ("/opt/tf-plugins", "~/.terraform.d/plugins", "/usr/share/terraform/plugins")
ESM_UUID: Final = "6d9a3b1e-0c3f-4d8e-9a51-1f0c2b7e4a11"

# fixture name -> (example, module arguments merged over the example's own)
VARIANTS: Final[dict[str, tuple[str, dict[str, dict[str, Any]]]]] = {
    "kinesis-alleycat": ("kinesis-alleycat", {}),
    "kinesis-alleycat-efo": ("kinesis-alleycat", {"kinesis": {"enhanced_fan_out": True}}),
    "dynamodb-streams": ("dynamodb-streams", {}),
}

# fixture name -> the commit whose module rendered it (kept, never regenerated)
FROZEN: Final[dict[str, str]] = {"dynamodb-streams-at-442a7e1": "442a7e1"}

TEST_FILE: Final = f"""\
# Written by tests/dashboard_bodies.py into a scratch copy; never committed.
mock_provider "aws" {{
  source = "../../tests/terraform/mocks"

  mock_resource "aws_lambda_event_source_mapping" {{
    defaults = {{ uuid = "{ESM_UUID}" }}
  }}
}}

run "dashboard_body" {{
  command = apply
}}
"""


def plugin_dir() -> str | None:
    """The provider mirror: TF_PLUGIN_DIR, else the first of the Makefile's candidates that holds one."""
    if os.environ.get("TF_PLUGIN_DIR"):
        return os.environ["TF_PLUGIN_DIR"]
    for candidate in MIRRORS:
        path = Path(candidate).expanduser()
        if (path / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return str(path)
    return None


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        env.pop("TF_CLI_CONFIG_FILE")  # terraform only warns about it, on every call
    return env | {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}


def _scratch_copy(example: str, scratch: Path) -> Path:
    """The root module, modules/, the mocks and one example, as the example's relative paths expect."""
    ignore = shutil.ignore_patterns(".terraform", "terraform.tfstate*", "*_override.tf*", "provider_override.tf")
    for tf in [*ROOT.glob("*.tf"), ROOT / "VERSION"]:  # the module reads its version from VERSION
        shutil.copy2(tf, scratch / tf.name)
    shutil.copytree(ROOT / "modules", scratch / "modules", ignore=ignore)
    shutil.copytree(ROOT / "tests" / "terraform" / "mocks", scratch / "tests" / "terraform" / "mocks")
    directory = scratch / "examples" / example
    shutil.copytree(ROOT / "examples" / example, directory, ignore=ignore)
    return directory


def _module_arguments(directory: Path) -> dict[str, Any]:
    import hcl2

    from stream_pipeline_local.terraform import plain_hcl

    with (directory / "main.tf").open() as handle:
        config = plain_hcl(hcl2.load(handle))
    (module,) = [block["pipeline"] for block in config["module"] if "pipeline" in block]
    return dict(module)


def body(example: str, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The example's dashboard body, from a mocked apply in a scratch directory."""
    terraform = os.environ.get("TF", "terraform")
    with tempfile.TemporaryDirectory(prefix="dashboard-bodies-") as scratch:
        directory = _scratch_copy(example, Path(scratch))
        if overrides:
            own = _module_arguments(directory)
            merged = {name: {**own.get(name, {}), **values} for name, values in overrides.items()}
            (directory / "fixture_override.tf.json").write_text(json.dumps({"module": {"pipeline": merged}}))
        tests = directory / "dashboard_fixture"
        tests.mkdir()
        (tests / "body.tftest.hcl").write_text(TEST_FILE)
        mirror = plugin_dir()
        init = ["init", "-backend=false", "-input=false", "-no-color", "-test-directory=dashboard_fixture"]
        init += [f"-plugin-dir={mirror}"] if mirror else []
        env = _env()
        subprocess.run([terraform, f"-chdir={directory}", *init], check=True, env=env, capture_output=True)
        shown = subprocess.run(
            [terraform, f"-chdir={directory}", "test", "-test-directory=dashboard_fixture", "-json", "-verbose"],
            check=False,
            env=env,
            capture_output=True,
            text=True,
        )
    messages = [json.loads(line) for line in shown.stdout.splitlines() if line.startswith("{")]
    states = [m["test_state"] for m in messages if m.get("type") == "test_state"]
    if shown.returncode != 0 or not states:
        errors = [m.get("@message", "") for m in messages if m.get("@level") == "error"]
        raise RuntimeError(f"terraform test failed for examples/{example}: {errors or shown.stderr.strip()}")
    for resource in _resources(states[-1]["root_module"]):
        if resource["address"] == "module.pipeline.module.dashboard.aws_cloudwatch_dashboard.this[0]":
            decoded: dict[str, Any] = json.loads(resource["values"]["dashboard_body"])
            return decoded
    raise RuntimeError(f"examples/{example} made no dashboard: is dashboard.enabled false?")


def _resources(module: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        found.extend(_resources(child))
    return found


def render_fixture(name: str) -> str:
    example, overrides = VARIANTS[name]
    return json.dumps(body(example, overrides), indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    stale = []
    for name in VARIANTS:
        path = FIXTURES / f"{name}.json"
        text = render_fixture(name)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(ROOT))
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")  # noqa: T201 - a command-line program: say what it wrote
    for path in stale:
        print(f"{path} is not the module's output: run .venv/bin/python tests/dashboard_bodies.py", file=sys.stderr)  # noqa: T201
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
