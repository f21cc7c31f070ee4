"""Where each input is declared (README, "Where each input is declared"), held to it.

A setting's type and default live once, in the child module that uses it. The root declares the
same attributes, each optional with no default (null: the child's default; in a consumers entry:
inherit), and checks what the user writes, once per check. Terraform has no type alias and no way
to name a check list twice, so what must be written twice is compared here instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
# (root variable, child module): the root passes the whole object to the child.
PASSED_WHOLE = [
    ("function", "consumer"),
    ("event_source_mapping", "consumer"),
    ("sink", "consumer"),
    ("kinesis", "stream"),
    ("dynamodb", "stream"),
]
# Names other modules give these settings: declared at the root only, to be refused with the
# input to use instead of being dropped by Terraform without a word.
REFUSED_NAMES = {"vpc_config", "logging_config", "permissions_boundary", "role_permissions_boundary", "role_path",
                 "architectures"}  # fmt: skip


def variables(directory: Path) -> dict[str, dict[str, Any]]:
    with (directory / "variables.tf").open() as handle:
        parsed = hcl2.load(handle)
    return {name.strip('"'): body for entry in parsed["variable"] for name, body in entry.items()}


def attributes(type_text: str) -> dict[str, str]:
    """The top-level attributes of an `object({...})` type and their types, as written."""
    text = type_text.removeprefix("${").removesuffix("}")
    body = text[text.index("object({") + len("object({") : text.rindex("})")]
    found, depth, start = {}, 0, 0
    for i, char in enumerate(body + ","):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            name, _, kind = body[start:i].strip().partition(" = ")
            if name:
                found[name] = kind
            start = i + 1
    return found


def without_default(kind: str) -> str:
    """optional(T, default) -> optional(T)."""
    match = re.fullmatch(r"optional\((.*)\)", kind)
    if not match:
        return kind
    inner, depth = match.group(1), 0
    for i, char in enumerate(inner):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            return f"optional({inner[:i]})"
    return kind


@pytest.mark.parametrize(("name", "module"), PASSED_WHOLE)
def test_the_root_declares_the_childs_attributes_without_defaults(name: str, module: str) -> None:
    root = attributes(variables(ROOT)[name]["type"])
    child = attributes(variables(ROOT / "modules" / module)[name]["type"])
    declared = {k: v for k, v in root.items() if k not in REFUSED_NAMES}
    assert declared == {k: without_default(v) for k, v in child.items()}
    assert all(v == without_default(v) for v in root.values()), f"{name}: a default at the root is a second copy"


@pytest.mark.parametrize("name", ["function", "event_source_mapping", "sink"])
def test_a_consumers_entry_takes_the_top_level_shape(name: str) -> None:
    top = variables(ROOT)[name]["type"].removeprefix("${").removesuffix("}")
    entry = attributes(variables(ROOT)["consumers"]["type"].removeprefix("${map(").removesuffix(")}"))[name]
    assert entry == f"optional({top}, {{}})", f"consumers.{name} differs from the top-level {name}"


def test_the_refused_names_are_refused_and_not_passed_on() -> None:
    root = attributes(variables(ROOT)["function"]["type"])
    assert set(root) >= REFUSED_NAMES
    checks = str(variables(ROOT)["function"]["validation"])
    for name in REFUSED_NAMES:
        assert f"p.f.{name} == null" in checks, f"function.{name} is declared but never refused"
    assert not REFUSED_NAMES & set(attributes(variables(ROOT / "modules" / "consumer")["function"]["type"]))


def table_validations() -> list[tuple[str, str, str]]:
    found = []
    for name, body in variables(ROOT).items():
        for validation in body.get("validation", []):
            condition, message = validation["condition"], validation["error_message"]
            if condition.startswith("${length(flatten(["):
                found.append((name, condition, message))
    return found


def test_every_check_list_is_written_the_same_for_its_condition_and_its_message() -> None:
    tables = table_validations()
    assert {name for name, _, _ in tables} >= {"function", "event_source_mapping", "sink", "consumers"}
    for name, condition, message in tables:
        listed = condition.removeprefix("${length(").removesuffix(") == 0}")
        assert message == f'${{join(" ", {listed})}}', f"{name}: the condition and the message check different things"


def test_every_variable_has_a_description_and_type() -> None:
    for directory in [ROOT, *(ROOT / "modules").iterdir(), *(ROOT / "examples").iterdir()]:
        for name, body in variables(directory).items():
            assert body.get("description"), f"{directory.name}: {name} has no description"
            assert body.get("type"), f"{directory.name}: {name} has no type"
