"""The review workflow: 草稿 → 待审核 → 已发布, or back to 草稿 with a reviewer's comment.

`Workflow` is the library API the routes and tests call: every method takes the acting
user, checks the role, does one thing in one database transaction, writes the audit log,
and raises domain errors (Forbidden, Conflict, DraftInvalid, NotFound, InvalidInput).

Stale saves never overwrite: every save carries the version it was based on (409 with both
texts otherwise), and publishing an edit checks the case file still has the hash the draft
started from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from search.authoring import audit, history
from search.authoring.db import Database
from search.authoring.models import ROLE_NAMES, STATUS_NAMES, Draft, User, now
from search.authoring.publish import file_hash, git_commit, stamp_review, write_case
from search.authoring.validate import DraftProblem, case_ids, check_slug, validate_text
from search.errors import Conflict, DraftInvalid, ForbiddenError, InvalidInput, NotFound
from search.library.check import cases_signature
from search.library.newcase import next_id, suggest_slug
from search.library.reference import Reference, load_reference
from search.library.template import template_text

MAX_TEXT = 200_000  # characters; a case is ~5,000
_TITLE = re.compile(r"^title:\s*(.*)$", re.M)
OPEN = ("draft", "in_review")


def title_of(text: str) -> str:
    m = _TITLE.search(text.split("\n---", 1)[0])
    return m.group(1).strip().strip('"').strip("'") if m else ""


def require(user: User, role: str, doing: str) -> None:
    if not user.can(role):
        raise ForbiddenError(f"{ROLE_NAMES.get(user.role, user.role)}不能{doing} — 需要“{ROLE_NAMES[role]}”或更高的角色，请联系管理员")


@dataclass
class Workflow:
    db: Database
    cases_dir: Path
    root: Path
    allow_self_approval: bool = False
    reference: Reference | None = None

    def __post_init__(self):
        self.reference = self.reference or load_reference()
        self._ids: tuple[tuple, dict[str, str]] = ((), {})  # (cases/ signature, id → slug)

    # ------------------------------------------------------------------ checks

    def problems(self, text: str, slug: str | None = None) -> list[DraftProblem]:
        return validate_text(text, self.reference, self.case_ids(), slug)

    def case_ids(self) -> dict[str, str]:
        """id → slug of the published cases, read again only when cases/ changed: live checks
        run on every pause in typing, and reading every case file each time would not scale."""
        sig = cases_signature(self.cases_dir)
        if sig != self._ids[0] or not sig:
            self._ids = (sig, case_ids(self.cases_dir))
        return self._ids[1]

    def _check_text(self, text: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("text", "草稿内容是空的 — 至少写上标题和经过")
        if len(text) > MAX_TEXT:
            raise InvalidInput("text", f"草稿太长：{len(text)} 字，上限 {MAX_TEXT} 字 — 案例只写文字，删除粘贴进来的日志或附件内容")
        return text.replace("\r\n", "\n")

    def _slug(self, slug: str | None) -> str | None:
        bad = check_slug(slug)
        if bad:
            raise InvalidInput("slug", f"{bad} — 只用小写英文字母、数字和连字符，如 garage-flooding（不能含 / 或 ..）")
        return slug

    def new_text(self, title: str = "（标题：说清事情和结果）") -> str:
        """The template with the next free id, for a blank draft."""
        t = date.today()
        return template_text().format(id=next_id(self.cases_dir), title=title, date=f"{t:%Y-%m}",
                                      category=self.reference.category_names[0], level=self.reference.level_names[-1],
                                      channel=self.reference.channels[0])

    # ------------------------------------------------------------------ drafts

    def create(self, user: User, text: str | None = None, slug: str | None = None, note: str = "",
               action: str = "draft_create") -> tuple[Draft, bool]:
        """A new draft from text (or the template), or an edit of cases/<slug>.md when only
        slug is given. Returns (draft, created): an edit of a case that already has an open
        draft returns that draft, so two people never edit two copies of one case."""
        require(user, "trainer", "写草稿")
        slug = self._slug(slug)
        with self.db.session() as s:
            if slug and text is None:
                path = self.cases_dir / f"{slug}.md"
                if not path.is_file():
                    raise NotFound("slug", f"没有案例“{slug}” — 检查 slug，新案例请不带 slug 新建草稿")
                existing = s.scalar(select(Draft).where(Draft.slug == slug, Draft.status.in_(OPEN)))
                if existing is not None:
                    return existing, False
                draft = Draft(slug=slug, kind="edit", base_hash=file_hash(path), text=path.read_text(encoding="utf-8"))
            else:
                draft = Draft(slug=slug, kind="new", base_hash=None,
                              text=self._check_text(text) if text is not None else self.new_text())
            draft.version, draft.status, draft.author_id, draft.note = 1, "draft", user.id, note
            draft.created_at = draft.updated_at = now()
            s.add(draft)
            s.flush()
            audit.record(s, action, user.username, f"草稿 {draft.id}", draft.slug or title_of(draft.text))
            s.refresh(draft)
            return draft, True

    def get(self, user: User, draft_id: int) -> Draft:
        require(user, "trainer", "查看草稿")
        with self.db.session() as s:
            return self._get(s, draft_id)

    def _get(self, s, draft_id: int) -> Draft:
        draft = s.get(Draft, draft_id)
        if draft is None:
            raise NotFound("id", f"没有编号为 {draft_id} 的草稿 — 在“编写案例”页的草稿列表里找")
        return draft

    def list(self, user: User, status: str | None = None) -> list[Draft]:
        require(user, "trainer", "查看草稿")
        if status is not None and status not in STATUS_NAMES:
            raise InvalidInput("status", f"状态“{status}”不存在 — 可选：{'、'.join(STATUS_NAMES)}")
        with self.db.session() as s:
            q = select(Draft).order_by(Draft.updated_at.desc())
            q = q.where(Draft.status == status) if status else q.where(Draft.status.in_(OPEN))
            return list(s.scalars(q).unique())

    def save(self, user: User, draft_id: int, text: str, version: int, slug: str | None = None) -> Draft:
        require(user, "trainer", "修改草稿")
        text = self._check_text(text)
        with self.db.session() as s:
            draft = self._get(s, draft_id)
            if draft.status != "draft":
                raise Conflict("status", f"草稿 {draft_id} 现在是“{STATUS_NAMES[draft.status]}”，不能再改 — "
                               "等审核员退回后再改，或新建一份草稿", draft.text, draft.version, text)
            if version != draft.version:
                saver = draft.updated_by or draft.author
                who = "你在另一个窗口" if saver.id == user.id else saver.display_name
                raise Conflict("version", f"草稿 {draft_id} 已被{who}"
                               f"保存过（现在是第 {draft.version} 版，你的修改基于第 {version} 版）— 对照两份内容合并后再保存",
                               draft.text, draft.version, text)
            if slug is not None and draft.kind == "new":
                draft.slug = self._slug(slug)
            changed = text != draft.text
            draft.text, draft.version, draft.updated_at, draft.updated_by_id = text, draft.version + 1, now(), user.id
            if changed:
                audit.record(s, "draft_save", user.username, f"草稿 {draft.id}", f"第 {draft.version} 版")
            return draft

    def submit(self, user: User, draft_id: int) -> Draft:
        require(user, "trainer", "提交审核")
        with self.db.session() as s:
            draft = self._get(s, draft_id)
            if draft.status != "draft":
                raise Conflict("status", f"草稿 {draft_id} 现在是“{STATUS_NAMES[draft.status]}”，不能提交 — 只有草稿能提交审核")
            if draft.slug is None:
                draft.slug = suggest_slug(title_of(draft.text) or "case", self.cases_dir)
            problems = self.problems(draft.text, draft.slug) + self._slug_problems(draft)
            if problems:
                raise DraftInvalid(problems)
            draft.status, draft.submitted_at, draft.updated_at = "in_review", now(), now()
            audit.record(s, "submit", user.username, f"草稿 {draft.id}", draft.slug)
            return draft

    def _slug_problems(self, draft: Draft) -> list[DraftProblem]:
        if draft.kind == "new" and (self.cases_dir / f"{draft.slug}.md").exists():
            return [DraftProblem(1, "slug", f"已有案例使用 slug“{draft.slug}”", "换一个 slug（文件名），或改为编辑那个案例")]
        return []

    def reject(self, user: User, draft_id: int, comment: str) -> Draft:
        require(user, "reviewer", "退回草稿")
        if not (comment or "").strip():
            raise InvalidInput("comment", "退回时要写明哪里需要改 — 如“经过里缺少回访时间，请补上”")
        with self.db.session() as s:
            draft = self._get(s, draft_id)
            self._reviewable(user, draft)
            draft.status, draft.comment, draft.reviewer_id, draft.updated_at = "draft", comment.strip(), user.id, now()
            audit.record(s, "reject", user.username, f"草稿 {draft.id}", comment)
            return draft

    def _reviewable(self, user: User, draft: Draft) -> None:
        if draft.status != "in_review":
            raise Conflict("status", f"草稿 {draft.id} 现在是“{STATUS_NAMES[draft.status]}”，不在待审核状态 — 刷新审核列表")
        if draft.author_id == user.id and not self.allow_self_approval:
            raise ForbiddenError("不能审核自己写的草稿 — 请另一位审核员审核；人少的服务中心可设置 CASELIB_ALLOW_SELF_APPROVAL=true")

    def approve(self, user: User, draft_id: int, comment: str = "") -> Draft:
        """Publish: re-check, refuse a case file changed since the draft began (409), stamp
        reviewed_by/at, write the file atomically, record the revision, commit to Git."""
        require(user, "reviewer", "批准发布")
        with self.db.session() as s:
            draft = self._get(s, draft_id)
            self._reviewable(user, draft)
            problems = self.problems(draft.text, draft.slug) + self._slug_problems(draft)
            if problems:
                raise DraftInvalid(problems)
            path = self.cases_dir / f"{draft.slug}.md"
            if draft.kind != "new" and file_hash(path) != draft.base_hash:
                current = path.read_text(encoding="utf-8") if path.exists() else ""
                raise Conflict("slug", f"案例 cases/{draft.slug}.md 在这份草稿开始之后被改过 — 退回草稿，让作者从最新的版本重新修改",
                               current, None, draft.text)
            old = path.read_text(encoding="utf-8") if path.exists() else None
            text = stamp_review(draft.text, user.display_name, date.today())
            if old is not None:
                history.ensure_baseline(s, self.cases_dir, draft.slug)
            summary = draft.note if draft.kind == "restore" else history.change_summary(old, text)
            history.add_revision(s, draft.slug, text, draft.author.display_name, user.display_name, summary, draft.id)
            written = write_case(self.cases_dir, draft.slug, text)
            draft.status, draft.reviewer_id, draft.text, draft.updated_at = "published", user.id, text, now()
            if comment:
                draft.comment = comment.strip()
            audit.record(s, "approve", user.username, f"草稿 {draft.id}", draft.slug)
        message = (f"案例：{title_of(text)}（{draft.slug}）\n\n{summary}\n作者：{draft.author.display_name}"
                   f"（{draft.author.username}）\n审核：{user.display_name}（{user.username}）\n草稿：{draft.id}\n")
        git_commit(self.root, written, message, draft.author.display_name, f"{draft.author.username}@caselib")
        return draft

    def restore(self, user: User, slug: str, number: int) -> Draft:
        """An earlier version as a new draft, straight into review (like any edit)."""
        require(user, "reviewer", "恢复旧版本")
        slug = self._slug(slug)
        with self.db.session() as s:
            revs = history.revisions(s, self.cases_dir, slug)
            old = history.revision_detail(revs, number, slug)
            if s.scalar(select(Draft).where(Draft.slug == slug, Draft.status.in_(OPEN))) is not None:
                raise Conflict("slug", f"案例“{slug}”已有一份未完成的草稿 — 先审核或退回那份草稿，再恢复旧版本")
            draft = Draft(slug=slug, kind="restore", base_hash=file_hash(self.cases_dir / f"{slug}.md"), text=old["text"],
                          version=1, status="in_review", author_id=user.id, note=f"恢复到第 {number} 版",
                          created_at=now(), updated_at=now(), submitted_at=now())
            s.add(draft)
            s.flush()
            audit.record(s, "restore", user.username, f"草稿 {draft.id}", f"{slug} 第 {number} 版")
            s.refresh(draft)
            return draft

    def withdraw(self, user: User, draft_id: int) -> Draft:
        """The author takes a submitted draft back to edit it (or any trainer discards one)."""
        require(user, "trainer", "撤回草稿")
        with self.db.session() as s:
            draft = self._get(s, draft_id)
            if draft.status != "in_review":
                raise Conflict("status", f"草稿 {draft_id} 现在是“{STATUS_NAMES[draft.status]}”，不在待审核状态")
            draft.status, draft.updated_at = "draft", now()
            audit.record(s, "withdraw", user.username, f"草稿 {draft.id}")
            return draft


def draft_dict(d: Draft, problems: list[DraftProblem] | None = None) -> dict:
    out = {"id": d.id, "status": d.status, "status_name": STATUS_NAMES[d.status], "version": d.version, "slug": d.slug,
           "kind": d.kind, "title": title_of(d.text), "text": d.text, "author": d.author.username,
           "author_name": d.author.display_name, "reviewer": d.reviewer.username if d.reviewer else None,
           "comment": d.comment, "note": d.note, "updated_at": d.updated_at.isoformat(timespec="seconds"),
           "submitted_at": d.submitted_at.isoformat(timespec="seconds") if d.submitted_at else None}
    if problems is not None:
        out["problems"] = [p.as_dict() for p in problems]
    return out
