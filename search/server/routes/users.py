"""Admin: GET/POST /api/users, PATCH /api/users/{username}; GET /api/audit (the audit log)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from search.authoring import accounts, audit
from search.authoring.models import ROLE_NAMES
from search.server.auth import Admin, AuthoringDep
from search.server.schemas import AUTHORING_ERRORS
from search.settings import Settings

Role = Literal["agent", "trainer", "reviewer", "admin"]


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=1024)
    display_name: str | None = Field(None, max_length=64)


class ChangeUser(BaseModel):
    role: Role | None = None
    password: str | None = Field(None, min_length=1, max_length=1024)
    disabled: bool | None = None


def _user(u) -> dict:
    return accounts.user_dict(u) | {"role_name": ROLE_NAMES[u.role], "disabled": u.disabled,
                                   "created_at": u.created_at.isoformat(timespec="seconds"), "sso": u.password_hash is None}


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["管理"], responses=AUTHORING_ERRORS)

    @r.get("/api/users")
    def list_users(admin: Admin, authoring: AuthoringDep):
        with authoring.db.session() as s:
            return {"users": [_user(u) for u in accounts.list_users(s)]}

    @r.post("/api/users", status_code=201)
    def add_user(body: NewUser, admin: Admin, authoring: AuthoringDep):
        with authoring.db.session() as s:
            u = accounts.add_user(s, body.username, body.role, body.password, body.display_name, actor=admin.username)
            return _user(u)

    @r.patch("/api/users/{username}")
    def change_user(username: str, body: ChangeUser, admin: Admin, authoring: AuthoringDep):
        with authoring.db.session() as s:
            if body.role is not None:
                accounts.set_role(s, username, body.role, actor=admin.username)
            if body.password is not None:
                accounts.set_password(s, username, body.password, actor=admin.username)
            if body.disabled is not None:
                accounts.set_disabled(s, username, body.disabled, actor=admin.username)
            return _user(accounts.get_user(s, username))

    @r.get("/api/audit")
    def audit_log(admin: Admin, authoring: AuthoringDep,
                  since: Annotated[str | None, Query(max_length=10, description="如 7d、12h、30m；不填为全部")] = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500):
        """操作记录：登录、保存、提交、批准、退回、恢复、账号变更（不含密码，个人信息已脱敏）。"""
        with authoring.db.session() as s:
            return {"entries": [audit.as_dict(e) for e in audit.entries(s, audit.parse_since(since), limit)]}

    return r
