"""Accounts and sign-in: users with roles, argon2 password hashes, sessions with a CSRF
token each, and a limit of 5 failed sign-ins per name per minute.

The same AuthRequired message answers an unknown name, a wrong password and a disabled
account, so a caller cannot learn which names exist. Failed sign-ins are counted from the
audit log, so the limit holds across server processes sharing one database.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from search.authoring import audit
from search.authoring.models import ROLE_NAMES, ROLES, Session, User, now
from search.errors import AuthRequired, InvalidInput, NotFound, TooManyAttempts

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
MAX_FAILURES = 5  # per name, per WINDOW
WINDOW = timedelta(minutes=1)
BAD_LOGIN = "用户名或密码不对 — 检查大小写和输入法后再试；忘记密码请找管理员重设（caselib user passwd 用户名）"


def _hasher():
    from argon2 import PasswordHasher  # imported on use: `caselib user list` does not pay for it

    return PasswordHasher()


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher().hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", f"密码太短：至少 {MIN_PASSWORD} 位，现在是 {len(password)} 位 — 换一个更长的密码")


def check_role(role: str) -> str:
    if role not in ROLES:
        names = "、".join(f"{r}（{ROLE_NAMES[r]}）" for r in ROLES)
        raise InvalidInput("role", f"角色“{role}”不存在 — 可选：{names}")
    return role


def check_username(name: str) -> str:
    if not USERNAME_RE.match(name or ""):
        raise InvalidInput("username", f"用户名“{name}”不合规 — 用 2-64 位英文字母、数字、点、横线或下划线，如 wang.li")
    return name


def add_user(s, username: str, role: str, password: str | None = None, display_name: str | None = None,
             actor: str | None = None) -> User:
    check_username(username)
    check_role(role)
    if s.scalar(select(User).where(User.username == username)) is not None:
        raise InvalidInput("username", f"用户名“{username}”已经有了 — 换一个，或用 caselib user passwd {username} 重设密码")
    user = User(username=username, role=role, display_name=(display_name or username).strip()[:64],
                password_hash=hash_password(password) if password is not None else None, disabled=False,
                created_at=now(), updated_at=now())
    s.add(user)
    s.flush()
    audit.record(s, "user_add", actor, username, f"角色 {role}")
    return user


def get_user(s, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("username", f"没有用户“{username}” — 用 caselib user list 查看全部账号")
    return user


def list_users(s) -> list[User]:
    return list(s.scalars(select(User).order_by(User.username)))


def set_password(s, username: str, password: str, actor: str | None = None) -> None:
    user = get_user(s, username)
    user.password_hash = hash_password(password)
    user.updated_at = now()
    s.execute(delete(Session).where(Session.user_id == user.id))  # signed out everywhere
    audit.record(s, "user_passwd", actor, username)


def _keep_an_admin(s, user: User, field: str) -> None:
    """Refuse a change that would leave no active admin (nobody could manage accounts)."""
    others = s.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.disabled.is_(False), User.id != user.id))
    if user.role == "admin" and not user.disabled and not others:
        raise InvalidInput(field, f"“{user.username}”是最后一个管理员，不能停用或取消管理员角色 — 先给另一个人管理员角色")


def set_disabled(s, username: str, disabled: bool = True, actor: str | None = None) -> None:
    user = get_user(s, username)
    if disabled:
        _keep_an_admin(s, user, "disabled")
    user.disabled = disabled
    user.updated_at = now()
    if disabled:
        s.execute(delete(Session).where(Session.user_id == user.id))
    audit.record(s, "user_disable" if disabled else "user_enable", actor, username)


def set_role(s, username: str, role: str, actor: str | None = None) -> None:
    user = get_user(s, username)
    if check_role(role) != "admin":
        _keep_an_admin(s, user, "role")
    user.role = role
    user.updated_at = now()
    audit.record(s, "user_role", actor, username, f"角色改为 {role}")


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # the cookie value; only its hash is stored
    csrf: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(s, username: str, password: str, hours: int, ip: str | None = None) -> SignedIn:
    name = (username or "").strip()
    recent = audit.failures_since(s, "login_failed", name, now() - WINDOW)
    if len(recent) >= MAX_FAILURES:
        wait = max(1, int((recent[0] + WINDOW - now()).total_seconds()) + 1)
        raise TooManyAttempts(f"这个账号一分钟内登录失败已达 {MAX_FAILURES} 次，请 {wait} 秒后再试 — 忘记密码请找管理员重设", wait)
    user = s.scalar(select(User).where(User.username == name))
    ok = False
    if user is not None and user.password_hash and not user.disabled:
        from argon2.exceptions import VerificationError

        try:
            ok = _hasher().verify(user.password_hash, password)
        except VerificationError:
            ok = False
    else:
        _hasher().hash("timing-equaliser")  # an unknown name costs as long as a wrong password
    if not ok:
        audit.record(s, "login_failed", None, name, ip=ip)
        s.commit()  # counted even though the request fails
        raise AuthRequired(BAD_LOGIN)
    audit.record(s, "login", name, name, ip=ip)
    return open_session(s, user, hours)


def open_session(s, user: User, hours: int) -> SignedIn:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    s.execute(delete(Session).where(Session.expires_at < now()))
    s.add(Session(token_hash=_token_hash(token), user_id=user.id, csrf=csrf, created_at=now(),
                  expires_at=now() + timedelta(hours=hours)))
    return SignedIn(user, token, csrf)


def session_for(s, token: str | None) -> Session | None:
    """The live session behind a cookie value, or None (expired, signed out, disabled user)."""
    if not token:
        return None
    row = s.get(Session, _token_hash(token))
    if row is None or row.expires_at < now() or row.user.disabled:
        return None
    return row


def logout(s, token: str | None) -> None:
    row = session_for(s, token)
    if row is not None:
        audit.record(s, "logout", row.user.username, row.user.username)
        s.delete(row)


def sso_user(s, username: str, ip: str | None = None) -> User:
    """The user a trusted proxy vouches for; first seen → created as an agent (an admin raises the role)."""
    check_username(username)
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=username, role="agent", password_hash=None, disabled=False,
                    created_at=now(), updated_at=now())
        s.add(user)
        s.flush()
        audit.record(s, "user_add", None, username, "统一登录首次进入，角色 agent", ip=ip)
    if user.disabled:
        raise AuthRequired("这个账号已停用 — 请联系管理员")
    return user


def user_dict(user: User) -> dict:
    return {"username": user.username, "role": user.role, "display_name": user.display_name}
