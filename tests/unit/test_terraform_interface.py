"""The root re-declares its children's structured inputs; they must not drift apart."""

from __future__ import annotations

import re
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
    ("consumer", "on_failure_archive_force_destroy"),
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


@pytest.mark.parametrize("name", ["function", "event_source_mapping", "sink"])
def test_each_of_the_consumers_takes_the_consumer_modules_settings(name: str) -> None:
    """An entry of the root's consumers map takes a consumer module's function, mapping and sink, with
    the same attributes (Terraform has no type alias, so the type is written out again)."""
    child = variables(ROOT / "modules" / "consumer")[name]["type"].removeprefix("${").removesuffix("}")
    # An entry inherits the default consumer's settings: the same attributes, each optional without a
    # default (null: not given, inherited).
    inherited = re.sub(r", (\{\}|\[\]|\"[^\"]*\"|-?[0-9.]+|true|false)\)", ")", child)
    entry = variables(ROOT)["consumers"]["type"]
    assert f"{name} = optional({inherited}, {{}})" in entry, f"consumers.{name} differs from modules/consumer's {name}"


def test_every_variable_has_a_description_and_type() -> None:
    for directory in [ROOT, *(ROOT / "modules").iterdir(), *(ROOT / "examples").iterdir()]:
        for name, body in variables(directory).items():
            assert body.get("description"), f"{directory.name}: {name} has no description"
            assert body.get("type"), f"{directory.name}: {name} has no type"
