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
import subprocess
import sys
import tempfile
from pathlib import Path

from stream_pipeline_local.localstack import init_flags, offline_env, overridden


def plan_json(example: str, out: Path, variables: list[str]) -> Path:
    terraform = os.environ.get("TF", "terraform")
    # The default workspace, always: a LocalStack workspace selected by `make up` holds state of
    # resources the offline plan would try to refresh against AWS.
    env = {**offline_env(), "TF_WORKSPACE": "default"}
    var_args = [arg for v in variables for arg in ("-var", v)]
    with overridden(example) as directory, tempfile.TemporaryDirectory() as scratch:
        plan_file = Path(scratch) / "plan.tfplan"
        for command in (
            ["init", *init_flags()],
            ["plan", "-input=false", "-no-color", "-lock=false", f"-out={plan_file}", *var_args],
        ):
            subprocess.run([terraform, f"-chdir={directory}", *command], check=True, env=env, stdout=subprocess.DEVNULL)
        shown = subprocess.run(
            [terraform, f"-chdir={directory}", "show", "-json", str(plan_file)],
            check=True,
            env=env,
            capture_output=True,
        )
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
