"""The root re-declares its children's structured inputs; they must not drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = [
    ("stream", "source_type"),
    ("stream", "kinesis"),
    ("stream", "dynamodb"),
    ("stream", "tags"),
    ("consumer", "function"),
    ("consumer", "event_source_mapping"),
    ("consumer", "sink"),
    ("consumer", "on_failure_queue_kms_key_arn"),
    ("consumer", "on_failure_destination"),
    ("consumer", "on_failure_archive_days"),
]


def variables(directory: Path) -> dict[str, dict[str, Any]]:
    with (directory / "variables.tf").open() as handle:
        parsed = hcl2.load(handle)
    return {name.strip('"'): body for entry in parsed["variable"] for name, body in entry.items()}


@pytest.mark.parametrize(("module", "name"), SHARED)
def test_root_variable_matches_the_child(module: str, name: str) -> None:
    root, child = variables(ROOT)[name], variables(ROOT / "modules" / module)[name]
    for field in ("type", "default", "description", "validation"):
        assert root.get(field) == child.get(field), f"{name}.{field} differs between the root and modules/{module}"


def test_every_variable_has_a_description_and_type() -> None:
    for directory in [ROOT, *(ROOT / "modules").iterdir(), *(ROOT / "examples").iterdir()]:
        for name, body in variables(directory).items():
            assert body.get("description"), f"{directory.name}: {name} has no description"
            assert body.get("type"), f"{directory.name}: {name} has no type"
