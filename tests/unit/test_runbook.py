"""The runbook is generated from the alarm definitions: every alarm has a section, and it is fresh."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

    import pytest

ROOT = Path(__file__).resolve().parents[2]


def runbook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runbook", ROOT / "scripts" / "runbook.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["runbook"] = module
    spec.loader.exec_module(module)
    return module


def test_every_alarm_the_module_can_create_has_a_complete_catalog_entry() -> None:
    module = runbook()
    defined = module.definitions()
    # The definitions the module can create (read from main.tf), not a list kept here.
    assert {"lambda-errors", "consumer-stopped", "failure-replay-window", "stream-silent"} <= set(defined)
    assert module.problems() == []


def test_the_committed_runbook_is_what_the_definitions_give() -> None:
    module = runbook()
    committed = (ROOT / "docs" / "RUNBOOK.md").read_text()
    assert committed == module.render(), "docs/RUNBOOK.md is stale: run `python scripts/runbook.py`"
    sections = re.findall(r"^## ([a-z-]+)$", committed, re.MULTILINE)
    assert sections == list(module.definitions())


def test_an_alarm_without_an_entry_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = runbook()
    source = (ROOT / "modules" / "alarms" / "main.tf").read_text()
    new_alarm = '        brand-new-alarm = {\n          namespace = "AWS/Lambda", metric = "Errors"\n        }\n'
    extra = source.replace("        lambda-errors = {", new_alarm + "        lambda-errors = {", 1)
    alarms = tmp_path / "alarms"
    alarms.mkdir()
    (alarms / "main.tf").write_text(extra)
    (alarms / "catalog.tf").write_text((ROOT / "modules" / "alarms" / "catalog.tf").read_text())
    monkeypatch.setattr(module, "ALARMS", alarms)
    assert "alarm brand-new-alarm has no entry in modules/alarms/catalog.tf" in module.problems()
