"""GET /healthz and POST /api/reload: operations."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Request

from search.errors import ForbiddenError
from search.server.deps import ServiceDep, SettingsDep
from search.server.schemas import ErrorResponse, Health, ReloadResponse
from search.settings import Settings

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["运维"])

    @r.get("/healthz", response_model=Health)
    def healthz(svc: ServiceDep, settings: SettingsDep):
        s = svc.searcher
        return Health(
            status="ok" if s else "no-index",
            cases=s.n_cases if s else 0,
            model=settings.model,
            index_built_at=s.index.manifest.get("built_at") if s else None,
            problems=svc.problems,
            busy=svc.busy,
            role="single" if svc.shared is None else ("replica" if settings.replica else "writer"),
            shared_version=svc.shared_version,
            log_pending=getattr(svc.log, "pending", 0),
            log_dropped=getattr(svc.log, "dropped", 0),
        )

    @r.post("/api/reload", response_model=ReloadResponse, responses={403: {"model": ErrorResponse}})
    def api_reload(request: Request, svc: ServiceDep, settings: SettingsDep,
                   x_caselib_token: Annotated[str | None, Header()] = None):
        """重新加载索引（caselib build 之后服务也会在一秒内自动加载）。只接受本机调用或带令牌的调用。"""
        require_local_or_token(request, settings, x_caselib_token)
        swapped = svc.reload()
        s = svc.searcher
        return ReloadResponse(reloaded=swapped, cases=s.n_cases if s else 0,
                              index_built_at=s.index.manifest.get("built_at") if s else None)

    return r


def require_local_or_token(request: Request, settings: Settings, token: str | None) -> None:
    """A caller on this machine, or one presenting the configured token. (Behind a reverse
    proxy on the same host every caller looks local: set CASELIB_TOKEN and bind 127.0.0.1.)"""
    host = request.client.host if request.client else ""
    if host in LOCAL_HOSTS:
        return
    if settings.token and token is not None and hmac.compare_digest(token.encode(), settings.token.encode()):
        return
    if settings.token:
        raise ForbiddenError("需要令牌：在请求头 X-Caselib-Token 中提供服务器 CASELIB_TOKEN 设置的值")
    raise ForbiddenError("只接受本机调用；远程调用请在服务器上设置 CASELIB_TOKEN，并在请求头 X-Caselib-Token 中提供")
