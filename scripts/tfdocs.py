"""Generate the Inputs/Outputs tables of every Terraform README, in terraform-docs' marker format.

    python scripts/tfdocs.py          # rewrite the tables between the markers
    python scripts/tfdocs.py --check  # exit 1 when a table is stale (make test runs this)

terraform-docs itself cannot be installed on these machines, so this reads the variables and
outputs with python-hcl2 and renders the same markdown layout between
``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
MISSING = object()


def module_dirs() -> list[Path]:
    return [ROOT, *sorted((ROOT / "modules").iterdir()), *sorted((ROOT / "examples").iterdir())]


def _text(value: Any) -> str:
    """hcl2 keeps string quotes and heredoc markers; strip them and dedent."""
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    heredoc = re.match(r"^<<-?(\w+)\n(.*)\n\s*\1$", text, re.DOTALL)
    if heredoc:
        text = textwrap.dedent(heredoc.group(2))
    return text.replace('\\"', '"').replace("\\n", "\n").strip()


def _type(value: Any) -> str:
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text


def _default(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(_text(value))
    return json.dumps(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def blocks(directory: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.tf")):
        if path.name.endswith("_override.tf"):
            continue
        with path.open() as handle:
            parsed = hcl2.load(handle)
        for entry in parsed.get(kind, []):
            for name, body in entry.items():
                found.append((name.strip('"'), body))
    return sorted(found)


def render(directory: Path) -> str:
    lines = [BEGIN, "## Inputs", ""]
    variables = blocks(directory, "variable")
    if variables:
        lines += [
            "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|",
        ]
        for name, body in variables:
            default = body.get("default", MISSING)
            lines.append(
                f'| <a name="input_{name}"></a> [{name}](#input_{name}) '
                f"| {_cell(_text(body.get('description', '')))} "
                f"| `{_cell(_type(body.get('type', 'any')))}` "
                f"| {'n/a' if default is MISSING else '`' + _cell(_default(default)) + '`'} "
                f"| {'yes' if default is MISSING else 'no'} |"
            )
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    outputs = blocks(directory, "output")
    if outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        lines += [
            f'| <a name="output_{name}"></a> [{name}](#output_{name}) | {_cell(_text(body.get("description", "")))} |'
            for name, body in outputs
        ]
    else:
        lines.append("No outputs.")
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail when a README's tables are stale")
    args = parser.parse_args()
    stale = []
    for directory in module_dirs():
        readme = directory / "README.md"
        if not readme.exists():
            stale.append(f"{readme.relative_to(ROOT)} is missing")
            continue
        text = readme.read_text()
        if BEGIN not in text or END not in text:
            stale.append(f"{readme.relative_to(ROOT)} has no {BEGIN} ... {END} markers")
            continue
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        updated = head + render(directory) + tail
        if updated != text:
            if args.check:
                stale.append(f"{readme.relative_to(ROOT)}: inputs/outputs tables are stale")
            else:
                readme.write_text(updated)
                print(f"updated {readme.relative_to(ROOT)}")
    for problem in stale:
        print(problem, file=sys.stderr)
    if stale and args.check:
        print("Run `make docs` to regenerate the tables.", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
