"""Who is calling, for the routes: the signed-in user from the session cookie, or from a
trusted company proxy's header (CASELIB_AUTH_HEADER, honoured only from
CASELIB_TRUSTED_PROXIES); and the CSRF token every state-changing request of a signed-in
user must send as X-CSRF-Token.

`Authoring` holds the database and the review workflow for the app (created at start-up,
when the migrations run). Dependencies: `CallerDep` (a user or None), `need(role)`
(401 without a session, 403 for a role that may not, 403 without the CSRF token on a write).
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from search.authoring import accounts, audit
from search.authoring.db import Database, open_database
from search.authoring.drafts import Workflow, require
from search.authoring.models import User
from search.errors import AuthRequired, ForbiddenError
from search.settings import Settings

COOKIE = "caselib_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SIGN_IN = "请先登录 — 在页面右上角“登录”，或打开 /login.html；没有账号请找管理员开通"


class Authoring:
    """The authoring database and workflow of one app, opened once (lazily, under a lock)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._db: Database | None = None
        self._workflow: Workflow | None = None

    def open(self) -> Database:
        return self.db

    @property
    def db(self) -> Database:
        if self._db is None:
            with self._lock:
                if self._db is None:
                    self._db = open_database(self.settings.db_url)  # runs the migrations
        return self._db

    @property
    def workflow(self) -> Workflow:
        if self._workflow is None:
            s = self.settings
            self._workflow = Workflow(self.db, s.cases_dir, s.root, allow_self_approval=s.allow_self_approval)
        return self._workflow

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


@dataclass
class Caller:
    user: User | None
    csrf: str | None = None  # the session's token; None for an anonymous caller
    via: str = "anonymous"  # session, proxy


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def from_trusted_proxy(request: Request, settings: Settings) -> bool:
    return client_ip(request) in settings.trusted_proxy_set


def is_https(request: Request, settings: Settings) -> bool:
    if request.url.scheme == "https":
        return True
    return from_trusted_proxy(request, settings) and request.headers.get("x-forwarded-proto", "").lower() == "https"


def set_session_cookie(response: Response, request: Request, settings: Settings, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=settings.session_hours * 3600, httponly=True, samesite="lax",
                        secure=is_https(request, settings), path="/")


def get_authoring(request: Request) -> Authoring:
    return request.app.state.authoring


AuthoringDep = Annotated[Authoring, Depends(get_authoring)]


def get_caller(request: Request, response: Response, authoring: AuthoringDep) -> Caller:
    settings = authoring.settings
    token = request.cookies.get(COOKIE)
    proxied = None
    if settings.auth_header and from_trusted_proxy(request, settings):
        proxied = (request.headers.get(settings.auth_header) or "").strip() or None
    with authoring.db.session() as s:
        row = accounts.session_for(s, token)
        if proxied is not None:
            if row is not None and row.user.username == proxied:
                return Caller(row.user, row.csrf, "proxy")
            user = accounts.sso_user(s, proxied, client_ip(request))
            signed = accounts.open_session(s, user, settings.session_hours)
            audit.record(s, "sso_login", user.username, user.username, ip=client_ip(request))
            set_session_cookie(response, request, settings, signed.token)
            return Caller(user, signed.csrf, "proxy")
        if row is not None:
            return Caller(row.user, row.csrf, "session")
    return Caller(None)


CallerDep = Annotated[Caller, Depends(get_caller)]


def need(role: str, doing: str):
    """A dependency: a signed-in user whose role reaches `role`; writes also need the CSRF token."""

    def dep(request: Request, caller: CallerDep) -> User:
        if caller.user is None:
            raise AuthRequired(SIGN_IN)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not caller.csrf or not hmac.compare_digest(sent.encode(), caller.csrf.encode()):
                raise ForbiddenError(f"缺少或错误的 {CSRF_HEADER}（防跨站请求伪造）— 刷新页面后重试；"
                                     "调用接口时把登录返回的 csrf 放进这个请求头")
        require(caller.user, role, doing)
        return caller.user

    return dep


Trainer = Annotated[User, Depends(need("trainer", "编写案例"))]
Reviewer = Annotated[User, Depends(need("reviewer", "审核案例"))]
Admin = Annotated[User, Depends(need("admin", "管理账号"))]


OPEN_PATHS = ("/api/login", "/api/logout", "/api/me", "/healthz", "/login.html", "/404.html", "/favicon.ico")
OPEN_PREFIXES = ("/assets/", "/javascripts/", "/stylesheets/", "/_docs-assets/")


def install_login_gate(app, authoring: Authoring) -> None:
    """CASELIB_REQUIRE_LOGIN=true: nothing but the sign-in page and its assets without a
    session (or a trusted proxy's header). The API answers 401; a page redirects to sign-in."""
    from urllib.parse import quote

    from fastapi.responses import RedirectResponse
    from starlette.concurrency import run_in_threadpool

    from search.server.errors import error

    settings = authoring.settings

    def signed_in(request: Request) -> bool:
        if settings.auth_header and from_trusted_proxy(request, settings) and request.headers.get(settings.auth_header):
            return True
        with authoring.db.session() as s:
            return accounts.session_for(s, request.cookies.get(COOKIE)) is not None

    @app.middleware("http")
    async def gate(request: Request, call_next):
        path = request.url.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or await run_in_threadpool(signed_in, request):
            return await call_next(request)
        if path.startswith("/api/") or path in ("/openapi.json", "/docs"):
            return error(401, "unauthorized", SIGN_IN)
        return RedirectResponse(f"/login.html?next={quote(path)}", status_code=303)
