"""Published versions of a case: every approval adds a Revision. A case written before the
editor existed has one implicit first version (the file as it is), stored as revision 1
the first time an edit of it is approved, so its history always starts where it began."""

from __future__ import annotations

import difflib
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from search.authoring.models import AuditEntry, Revision
from search.errors import NotFound

BEFORE = "（启用编辑器之前）"


def _baseline(cases_dir: Path, slug: str) -> Revision | None:
    path = cases_dir / f"{slug}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    reviewer = next((ln.split(":", 1)[1].strip().strip('"') for ln in text.split("\n")[:40] if ln.startswith("reviewed_by:")), "—")
    return Revision(slug=slug, number=1, text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), author=BEFORE,
                    approver=reviewer or "—", summary="最初的版本", draft_id=None,
                    created_at=datetime.fromtimestamp(path.stat().st_mtime, UTC))


def revisions(s, cases_dir: Path, slug: str) -> list[Revision]:
    rows = list(s.scalars(select(Revision).where(Revision.slug == slug).order_by(Revision.number)))
    if rows:
        return rows
    base = _baseline(cases_dir, slug)
    if base is None:
        raise NotFound("slug", f"没有案例“{slug}” — 检查地址里的 slug，或在案例库里搜索标题")
    return [base]


def ensure_baseline(s, cases_dir: Path, slug: str) -> None:
    """Before the first approved edit of a pre-existing case, keep the file as revision 1."""
    if s.scalar(select(func.count()).select_from(Revision).where(Revision.slug == slug)):
        return
    base = _baseline(cases_dir, slug)
    if base is not None:
        s.add(base)
        s.flush()


def add_revision(s, slug: str, text: str, author: str, approver: str, summary: str, draft_id: int | None) -> Revision:
    n = (s.scalar(select(func.max(Revision.number)).where(Revision.slug == slug)) or 0) + 1
    rev = Revision(slug=slug, number=n, text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(),
                   author=author, approver=approver, summary=summary, draft_id=draft_id)
    s.add(rev)
    s.flush()
    return rev


def diff(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name))


def change_summary(old: str | None, new: str) -> str:
    if old is None:
        return "新建案例"
    plus = minus = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            plus += 1
        elif line.startswith("-") and not line.startswith("---"):
            minus += 1
    return f"修改 {plus} 行新增、{minus} 行删除" if plus or minus else "内容未变"


REVIEW_ACTIONS = {"submit": "提交审核", "reject": "退回修改", "approve": "批准发布", "restore": "恢复旧版本", "withdraw": "撤回"}


def review_trail(s, draft_id: int | None) -> list[dict]:
    """How the version got through review: each submission, rejection (with its comment) and
    the approval, from the audit log (already free of personal data)."""
    if draft_id is None:
        return []
    rows = s.scalars(select(AuditEntry).where(AuditEntry.target == f"草稿 {draft_id}",
                                              AuditEntry.action.in_(REVIEW_ACTIONS)).order_by(AuditEntry.at, AuditEntry.id))
    return [{"time": e.at.isoformat(timespec="seconds"), "who": e.actor, "action": e.action,
             "action_name": REVIEW_ACTIONS[e.action], "comment": e.detail if e.action == "reject" else ""} for e in rows]


def revision_dict(rev: Revision, s=None) -> dict:
    out = {"number": rev.number, "author": rev.author, "approver": rev.approver,
           "time": rev.created_at.isoformat(timespec="seconds"), "summary": rev.summary}
    if s is not None:
        out["reviews"] = review_trail(s, rev.draft_id)
    return out


def revision_detail(revs: list[Revision], number: int, slug: str, s=None) -> dict:
    by_n = {r.number: r for r in revs}
    if number not in by_n:
        raise NotFound("number", f"案例“{slug}”没有第 {number} 版 — 共 {len(revs)} 版")
    rev = by_n[number]
    prev = by_n.get(number - 1)
    d = diff(prev.text, rev.text, f"第 {number - 1} 版", f"第 {number} 版") if prev else ""
    return {**revision_dict(rev, s), "slug": slug, "text": rev.text, "diff": d}
