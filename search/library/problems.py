"""`Problem`: one thing wrong in one file, with the line and the fix.

Printed as ``cases/x.md:LINE: 问题 — 怎么改`` so editors and terminals can jump to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message} — {self.fix}"
