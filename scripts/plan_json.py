"""Write the plan JSON of an example without an AWS account.

    python scripts/plan_json.py kinesis-alleycat build/plans/kinesis-alleycat.json [-var enabled=false ...]

The example is planned with `local/provider_override.tf` copied in (fake credentials, no account
lookup), so nothing is sent to AWS: a plan of resources that do not exist yet needs no API call.
With AWS_ENDPOINT_URL set, the same override plans against a local emulator instead. The override
file is always removed again, so the example never keeps fake credentials.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVERRIDE = ROOT / "local" / "provider_override.tf"


def terraform_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    env.pop("AWS_PROFILE", None)
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        env.pop("TF_CLI_CONFIG_FILE")
    return env


def init_flags() -> list[str]:
    flags = ["-backend=false", "-input=false", "-no-color"]
    plugin_dir = os.environ.get("TF_PLUGIN_DIR")
    if plugin_dir:
        flags.append(f"-plugin-dir={plugin_dir}")
    return flags


def plan_json(example: str, out: Path, variables: list[str]) -> Path:
    directory = ROOT / "examples" / example
    if not directory.is_dir():
        raise SystemExit(f"no example named {example!r} under examples/")
    terraform = os.environ.get("TF", "terraform")
    env = terraform_env()
    override = directory / "provider_override.tf"
    shutil.copyfile(OVERRIDE, override)
    try:
        subprocess.run(
            [terraform, f"-chdir={directory}", "init", *init_flags()], check=True, env=env, stdout=subprocess.DEVNULL
        )
        with tempfile.TemporaryDirectory() as scratch:
            plan_file = Path(scratch) / "plan.tfplan"
            var_args = [arg for v in variables for arg in ("-var", v)]
            subprocess.run(
                [
                    terraform,
                    f"-chdir={directory}",
                    "plan",
                    "-input=false",
                    "-no-color",
                    "-lock=false",
                    f"-out={plan_file}",
                    *var_args,
                ],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            shown = subprocess.run(
                [terraform, f"-chdir={directory}", "show", "-json", str(plan_file)],
                check=True,
                env=env,
                capture_output=True,
            )
    finally:
        override.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(shown.stdout)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("example")
    parser.add_argument("out", type=Path)
    parser.add_argument("-var", action="append", default=[], dest="variables", help="a -var for terraform plan")
    args = parser.parse_args()
    print(plan_json(args.example, args.out, args.variables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
