"""POST /api/login, POST /api/logout, GET /api/me: signing in and out."""

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from search.authoring import accounts
from search.server.auth import COOKIE, AuthoringDep, CallerDep, client_ip, set_session_cookie
from search.server.schemas import AUTHORING_ERRORS
from search.settings import Settings


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["账号"], responses=AUTHORING_ERRORS)

    @r.post("/api/login")
    def login(body: LoginRequest, request: Request, response: Response, authoring: AuthoringDep):
        """登录：成功后设置会话 Cookie，并返回写操作要放进 X-CSRF-Token 请求头的 csrf。"""
        with authoring.db.session() as s:
            signed = accounts.login(s, body.username, body.password, authoring.settings.session_hours, client_ip(request))
            user = accounts.user_dict(signed.user)
        set_session_cookie(response, request, authoring.settings, signed.token)
        return {"user": user, "csrf": signed.csrf}

    @r.post("/api/logout")
    def logout(request: Request, response: Response, authoring: AuthoringDep):
        with authoring.db.session() as s:
            accounts.logout(s, request.cookies.get(COOKIE))
        response.delete_cookie(COOKIE, path="/")
        return {"ok": True}

    @r.get("/api/me")
    def me(caller: CallerDep, authoring: AuthoringDep):
        """当前用户；未登录时 user 为 null（坐席不登录也能检索）。"""
        if caller.user is None:
            return {"user": None, "csrf": None, "require_login": authoring.settings.require_login}
        return {"user": accounts.user_dict(caller.user), "csrf": caller.csrf, "via": caller.via,
                "review_months": authoring.settings.review_months}

    return r
