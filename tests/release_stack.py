"""The last release's stack, applied as a team applies it, for the upgrade test of the integration
tier (tests/integration/test_upgrade.py): the v0.2.0 example with the module at v0.2.0 (commit
b8cb8da, whose package is the one the CHANGELOG's 0.2.0 entry names). The tier applies it beside the
examples, in the same pool, so the upgrade costs a plan, not a serial apply."""

from __future__ import annotations

import io
import json
import secrets
import shutil
import subprocess
import tarfile
from typing import Any

from stream_pipeline_local.common import ROOT, STATE
from stream_pipeline_local.terraform import OVERRIDE, init, terraform

RELEASE = "b8cb8da691715b36477cd689fb8d02c97c681f6d"  # 0.2.0: its package is B+YD92..., as the CHANGELOG says
WORKSPACE = "upgrade-test"


class ReleaseStack:
    def __init__(self) -> None:
        # A name of its own per run: LocalStack 2026.3 can keep a KMS alias after DeleteAlias
        # answered 200, and the next run's CreateAlias then fails.
        self.name = f"it-upgrade-{secrets.token_hex(2)}"
        # The example's own 300 s alarm periods: LocalStack evaluates them rarely, so the stack costs the
        # drills that share the emulator next to nothing while it waits for its plan.
        self.variables = ["-var", f"name={self.name}"]
        self.work = STATE / "upgrade"
        self.release = self.work / "release-0.2.0"
        self.team = self.work / "team"
        self.missing: str | None = None  # why there is no release to upgrade from, if so
        self.applied = False

    def apply(self) -> None:
        """Apply the release's example with the release's module (nothing if the commit is missing)."""
        if not self._release_tree():
            return
        shutil.rmtree(self.team, ignore_errors=True)
        shutil.copytree(self.release / "examples" / "kinesis-alleycat", self.team)
        shutil.copyfile(OVERRIDE, self.team / "provider_override.tf")
        self._point_at(self.release)
        init(self.team, WORKSPACE)
        terraform(self.team, "apply", "-auto-approve", "-input=false", "-no-color", *self.variables,
                  workspace=WORKSPACE)  # fmt: skip
        self.applied = True

    def upgrade_plan(self) -> dict[str, Any]:
        """The same configuration with this checkout's module: the plan an upgrade would apply."""
        self._point_at(ROOT)
        init(self.team, WORKSPACE)
        plan_file = self.team / "upgrade.tfplan"
        terraform(self.team, "plan", "-input=false", "-no-color", f"-out={plan_file}", *self.variables,
                  workspace=WORKSPACE)  # fmt: skip
        shown: dict[str, Any] = json.loads(
            terraform(self.team, "show", "-json", str(plan_file), capture=True, workspace=WORKSPACE)
        )
        return shown

    def destroy(self) -> None:
        if self.applied:
            terraform(self.team, "destroy", "-auto-approve", "-input=false", "-no-color", *self.variables,
                      workspace=WORKSPACE)  # fmt: skip

    def _point_at(self, module_source: Any) -> None:
        """The team's root module: the release's Kinesis example, its module block at ``module_source``."""
        main = (self.release / "examples" / "kinesis-alleycat" / "main.tf").read_text()
        (self.team / "main.tf").write_text(main.replace('source = "../.."', f'source = "{module_source}"', 1))

    def _release_tree(self) -> bool:
        """The repository at the release commit (git archive), as a team's module source would be."""
        git = shutil.which("git") or "git"
        present = subprocess.run([git, "-C", str(ROOT), "cat-file", "-e", f"{RELEASE}^{{commit}}"], check=False,
                                 capture_output=True).returncode == 0  # fmt: skip
        if not present:
            shallow = subprocess.run([git, "-C", str(ROOT), "rev-parse", "--is-shallow-repository"], check=False,
                                     capture_output=True, text=True).stdout.strip() == "true"  # fmt: skip
            if not shallow:
                raise AssertionError(f"the v0.2.0 commit {RELEASE} is not in this repository")
            self.missing = f"a shallow clone lacks the v0.2.0 commit {RELEASE[:7]}: `git fetch --unshallow` to run this"
            return False
        shutil.rmtree(self.release, ignore_errors=True)
        self.release.mkdir(parents=True)
        archive = subprocess.run([git, "-C", str(ROOT), "archive", "--format=tar", RELEASE], check=True,
                                 capture_output=True).stdout  # fmt: skip
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(self.release, filter="data")
        return True
