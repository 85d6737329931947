"""待复核: cases whose last review (reviewed_at) is older than the review period, or that
were never reviewed in the editor. Read from the front matter only (no full parse), so
`caselib gaps` stays fast."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from search.library.check import case_files

_FIELD = re.compile(r"^(title|reviewed_at|reviewed_by):\s*\"?(.*?)\"?\s*$", re.M)


@dataclass(frozen=True)
class ReviewDue:
    slug: str
    title: str
    reviewed_at: str | None
    reviewed_by: str | None


def months_before(today: date, months: int) -> date:
    y, m = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(y, m + 1, min(today.day, 28))


def review_due(cases_dir: Path, months: int, today: date | None = None) -> list[ReviewDue]:
    cutoff = months_before(today or date.today(), months).isoformat()
    out = []
    for path in case_files(cases_dir):
        try:
            head = path.read_text(encoding="utf-8", errors="replace").split("\n---", 1)[0]
        except OSError:
            continue
        fields = dict(_FIELD.findall(head))
        at = fields.get("reviewed_at") or None
        if at is None or at < cutoff:
            out.append(ReviewDue(path.stem, fields.get("title", path.stem), at, fields.get("reviewed_by") or None))
    return sorted(out, key=lambda r: (r.reviewed_at or "", r.slug))
