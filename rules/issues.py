"""Problems found in a rule-set file, each at its file:line:column."""
from __future__ import annotations

from dataclasses import dataclass

from dangjian.errors import ValidationFailed


@dataclass(frozen=True, order=True)
class RuleIssue:
    file: str
    line: int        # 1-based
    column: int      # 1-based
    message: str     # Chinese

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RuleSetError(ValidationFailed):
    """Every problem of a rule-set file at once, sorted by position."""

    def __init__(self, issues: list[RuleIssue]):
        self.issues = sorted(set(issues))
        first = self.issues[0].file if self.issues else "规则文件"
        super().__init__(
            f"规则文件 {first} 有 {len(self.issues)} 处问题", details=[str(i) for i in self.issues]
        )
