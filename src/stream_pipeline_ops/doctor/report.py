"""What the doctor hands back: findings, each with a severity, the evidence and the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum


class Severity(IntEnum):
    """The exit status follows the worst finding: 0 nothing above info, 1 warnings, 2 critical."""

    INFO = 0
    WARNING = 1
    CRITICAL = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    severity: Severity
    area: str
    title: str
    evidence: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "severity": str(self.severity)}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def add(self, severity: Severity, area: str, title: str, evidence: str, fix: str) -> None:
        self.findings.append(Finding(severity, area, title, evidence, fix))

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (-f.severity, f.area, f.title))

    @property
    def exit_code(self) -> int:
        return max((int(f.severity) for f in self.findings), default=0)
