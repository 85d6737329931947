"""`caselib new`: a new case file from the template, with the next id and a unique slug.

Kept free of heavy imports (no jieba, no model): it must answer in well under a second.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from search.errors import CaselibError
from search.library.cases import SLUG_RE
from search.library.check import case_files
from search.library.reference import Reference, load_reference
from search.library.template import template_text

_ID_LINE = re.compile(r"^id:\s*C(\d{4,6})\s*$", re.M)
_STOP_AT = re.compile(r"[：:，,。；;（(]")


def next_id(cases_dir: Path) -> str:
    """One more than the highest id in any case file (valid or not, so ids never repeat)."""
    highest = 0
    for path in case_files(cases_dir):
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        except OSError:
            continue
        for m in _ID_LINE.finditer(head):
            highest = max(highest, int(m.group(1)))
    return f"C{highest + 1:04d}"


def suggest_slug(title: str, cases_dir: Path) -> str:
    """Pinyin of the title's first phrase, two syllables to a word (Chinese words are mostly
    two characters), e.g. 周末装修电钻扰民 → zhoumo-zhuangxiu-dianzuan-raomin; made unique."""
    from pypinyin import lazy_pinyin

    head = _STOP_AT.split(title.strip(), 1)[0][:10]
    syllables = [re.sub(r"[^a-z0-9]", "", s.lower()) for s in lazy_pinyin(head)]
    syllables = [s for s in syllables if s]
    words = ["".join(syllables[i : i + 2]) for i in range(0, len(syllables), 2)]
    base = "-".join(words)[:60].strip("-") or "case"
    taken = {p.stem.lower() for p in case_files(cases_dir)}
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_case(cases_dir: Path, *, title: str, slug: str, category: str, level: str, channel: str,
                when: str | None = None, reference: Reference | None = None) -> Path:
    ref = reference or load_reference()
    title = title.strip()
    if not 4 <= len(title) <= 60:
        raise CaselibError(f"标题“{title}”应为 4-60 个字 — "
                           "说清发生了什么和结果，如“周末装修电钻扰民，三次投诉后停工整改”")
    if not SLUG_RE.match(slug):
        raise CaselibError(f"slug“{slug}”不合法 — 只用小写英文字母、数字和连字符，如 garage-flooding")
    checks = [("category", category, ref.category_names), ("level", level, ref.level_names),
              ("channel", channel, ref.channels)]
    for name, value, allowed in checks:
        if value not in allowed:
            raise CaselibError(f"{name} 的值“{value}”不在允许范围内 — 可选：{'、'.join(allowed)}")
    when = when or date.today().strftime("%Y-%m")
    if not re.match(r"^(19|20)\d{2}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$", when):
        raise CaselibError(f"日期“{when}”格式不对 — 写成 YYYY-MM（如 2026-11）或 YYYY-MM-DD")
    cases_dir.mkdir(parents=True, exist_ok=True)
    path = cases_dir / f"{slug}.md"
    if path.exists() or slug.lower() in {p.stem.lower() for p in case_files(cases_dir)}:
        raise CaselibError(f"{path} 已存在 — 换一个 slug（如 {slug}-2），或直接编辑已有文件")
    text = template_text().format(
        id=next_id(cases_dir), title=title, date=when, category=category, level=level, channel=channel
    )
    with open(path, "x", encoding="utf-8") as f:  # "x": never overwrite a trainer's file
        f.write(text)
    return path
