"""Checks on a draft's text, as the editor shows them: the very rules and messages of
`caselib check` (the draft is checked as the file it would become), each with the line,
the field or section it concerns, and for personal data the exact span and a one-click
replacement (privacy.mask)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from search.library.agent import Section, parse_agent
from search.library.cases import SLUG_RE, split_sections
from search.library.check import case_files, check_file
from search.library.privacy import find_personal_data, mask
from search.library.reference import Reference

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:")
_ID_LINE = re.compile(r"^id:\s*[\"']?([^\s\"']+)[\"']?\s*$", re.M)
_MISSING_FIELD = re.compile(r"缺少必填字段 (\w+)")
_MISSING_SECTION = re.compile(r"缺少必填章节“## (\S+)”")
_AGENT_PART = re.compile(r"^\*\*(先说|先做|别说)\*\*")


@dataclass
class DraftProblem:
    line: int
    field: str | None
    message: str
    fix: str
    found: str | None = None  # personal data: the text to replace…
    replacement: str | None = None  # …with this
    start: int | None = None  # character offsets of `found` in the draft text
    end: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "field"}


def line_fields(text: str) -> dict[int, str]:
    """Line number → the front-matter key or section (接听要点.先说 …) that line belongs to."""
    out: dict[int, str] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    in_fm = bool(lines) and lines[0].strip() == "---"
    current: str | None = None
    for i, line in enumerate(lines, start=1):
        if in_fm and i > 1 and line.strip() == "---":
            in_fm, current = False, None
            continue
        if in_fm:
            m = _KEY.match(line)
            if m:
                current = m.group(1)
        elif line.startswith("## "):
            current = line[3:].strip()
        elif current and current.startswith("接听要点"):
            m = _AGENT_PART.match(line)
            if m:
                current = f"接听要点.{m.group(1)}"
        if current:
            out[i] = current
    return out


def _field_of(message: str, line: int, fields: dict[int, str]) -> str | None:
    m = _MISSING_FIELD.search(message) or _MISSING_SECTION.search(message)
    if m:
        return m.group(1)
    return fields.get(line)


def check_slug(slug: str | None) -> str | None:
    if slug is None:
        return None
    if not SLUG_RE.match(slug) or len(slug) > 80:
        return f"slug“{slug[:40]}”不合法"
    return None


def validate_text(text: str, reference: Reference, ids: dict[str, str], slug: str | None = None) -> list[DraftProblem]:
    """Every problem `caselib check` would report if this text were cases/<slug>.md, plus an
    id already used by another case (``ids``: id → slug of the published cases, `case_ids`)."""
    name = slug if slug and not check_slug(slug) else "draft"
    with tempfile.TemporaryDirectory(prefix="caselib-draft-") as tmp:
        folder = Path(tmp) / "cases"
        folder.mkdir()
        path = folder / f"{name}.md"
        path.write_text(text, encoding="utf-8")
        _case, problems = check_file(path, reference, folder, root=Path(tmp))
    fields = line_fields(text)
    out = [DraftProblem(p.line, _field_of(p.message, p.line, fields), p.message, p.fix) for p in problems]
    _attach_replacements(text, out)
    m = _ID_LINE.search(text.split("\n---", 1)[0] + "\n")
    if m:
        owner = ids.get(m.group(1))
        if owner and owner != slug:
            line = text[: m.start()].count("\n") + 1
            out.append(DraftProblem(line, "id", f"id {m.group(1)} 已被 cases/{owner}.md 使用",
                                    "改成未用过的编号（新建草稿时会自动分配下一个）"))
    out.sort(key=lambda p: p.line)
    return out


def _attach_replacements(text: str, problems: list[DraftProblem]) -> None:
    hits = find_personal_data(text)
    for p in problems:
        if not p.message.startswith("含有不能公开的个人信息"):
            continue
        for h in hits:
            if text.count("\n", 0, h.start) + 1 == p.line and f"“{h.text}”" in p.message:
                p.found, p.replacement, p.start, p.end = h.text, mask(h), h.start, h.end
                p.fix = f"{p.fix}；或一键改成“{p.replacement}”"
                hits.remove(h)
                break


def case_ids(cases_dir: Path) -> dict[str, str]:
    """id → slug of every case file (from the first lines only)."""
    out: dict[str, str] = {}
    for path in case_files(cases_dir):
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        except OSError:
            continue
        m = _ID_LINE.search(head)
        if m:
            out.setdefault(m.group(1), path.stem)
    return out


def parse_parts(text: str) -> dict:
    """The draft split the way the form shows it: front-matter values (as written, valid or
    not; None when the YAML does not parse), each section's text, and 接听要点's three parts."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    meta, body_start = None, 0
    if lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            try:
                loaded = yaml.safe_load("\n".join(lines[1:end]))
                meta = loaded if isinstance(loaded, dict) else None
            except yaml.YAMLError:
                meta = None
            body_start = end + 1
    if isinstance(meta, dict):
        meta = {str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in meta.items()}
    # the same split as `caselib check` (fenced code is not a heading); problems are its business
    sections = {title: sec.text for title, sec in split_sections(lines, body_start, lambda *a: None).items()}
    agent = parse_agent(Section("接听要点", 0, sections.get("接听要点", "")), lambda *a: None)
    return {"meta": meta, "sections": sections, "agent": {"say": agent.say, "do": agent.do, "avoid": agent.avoid}}
