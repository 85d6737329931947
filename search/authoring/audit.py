"""The audit log: who signed in, saved, submitted, approved, rejected, restored, and who
changed which account. Every detail passes through privacy.redact first, and no caller
hands it a password, so the log never holds one or an unmasked phone number."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from search.authoring.models import AuditEntry, now
from search.errors import InvalidInput
from search.library.privacy import redact

ACTION_NAMES = {
    "login": "登录", "login_failed": "登录失败", "logout": "退出", "sso_login": "统一登录",
    "draft_create": "新建草稿", "draft_save": "保存草稿", "draft_import": "导入 Word", "submit": "提交审核",
    "approve": "批准发布", "reject": "退回修改", "restore": "恢复旧版本", "withdraw": "撤回草稿",
    "user_add": "新增账号", "user_passwd": "修改密码", "user_disable": "停用账号", "user_enable": "启用账号",
    "user_role": "修改角色",
}


def record(s, action: str, actor: str | None = None, target: str | None = None, detail: str = "", ip: str | None = None) -> None:
    s.add(AuditEntry(at=now(), actor=actor, action=action, target=redact(target) if target else target,
                     detail=redact(detail)[:2000], ip=ip))


def failures_since(s, action: str, target: str, since: datetime) -> list[datetime]:
    rows = s.execute(select(AuditEntry.at).where(AuditEntry.action == action, AuditEntry.target == target,
                                                 AuditEntry.at >= since).order_by(AuditEntry.at))
    return [r[0] for r in rows]


_SINCE_RE = re.compile(r"^(\d+)\s*([dhm])$")


def parse_since(text: str | None) -> datetime | None:
    """'7d', '12h', '30m' → that long ago; None → everything."""
    if not text:
        return None
    m = _SINCE_RE.match(text.strip())
    if not m:
        raise InvalidInput("since", f"since 的值“{text}”看不懂 — 写成 7d（7 天）、12h（12 小时）或 30m（30 分钟）")
    n, unit = int(m.group(1)), m.group(2)
    unit_name = {"d": "days", "h": "hours", "m": "minutes"}[unit]
    return now() - timedelta(**{unit_name: n})


def entries(s, since: datetime | None = None, limit: int = 500) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    return list(s.scalars(q))


def count(s) -> int:
    return s.scalar(select(func.count()).select_from(AuditEntry))


def as_dict(e: AuditEntry) -> dict:
    return {"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
            "action_name": ACTION_NAMES.get(e.action, e.action), "target": e.target, "detail": e.detail, "ip": e.ip}
