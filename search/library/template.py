"""The case template: what `caselib new` fills in, and the guidance sentences `caselib check`
recognises when a new case was never filled in. Its own module, so that check and new
both depend on it and not on each other."""

from __future__ import annotations

import re
from functools import lru_cache

from search.library.reference import DATA_DIR

TEMPLATE = DATA_DIR / "case_template.md"


def template_text() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def guidance() -> tuple[dict[str, str], str]:
    """(section title → its guidance sentence, the summary's guidance sentence)."""
    raw = template_text()
    summary = re.search(r"^summary: (.*)$", raw, re.M).group(1).strip()
    sections = dict(re.findall(r"^## (\S+)\n\n(.+?)$", raw, re.M))
    return sections, summary
