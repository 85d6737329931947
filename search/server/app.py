"""FastAPI service: the search API under /api and the built site at /, one process.
(No `from __future__ import annotations` here: FastAPI reads the route annotations at
runtime, and `k`'s bound comes from the settings closure.)

`create_app(settings, encoder=None)` builds everything; nothing happens at import time.
The model and index load once, at start-up (lifespan). Search routes are plain `def`, so
FastAPI runs them in its worker threads and model inference never blocks the event loop.
Every error is one JSON shape: {"error": {"code", "field", "message"}}.
"""


import hmac
import unicodedata
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from search.errors import CaselibError, ForbiddenError, IndexMissing, QueryError
from search.library.reference import load_reference
from search.settings import Settings

MAX_QUERY_CHARS = 500  # longer pastes are cut: the model reads at most 512 tokens anyway
MAX_QUERY_PARAM = 2000  # beyond this a "query" is a pasted document: refuse it


_TEXT = "0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_BAD = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd"
# Part of the OpenAPI schema: readable text (at least one letter, digit or Chinese
# character), no control characters, no U+FFFD (what invalid UTF-8 in a URL decodes to).
QUERY_PATTERN = f"^[^{_BAD}]*[{_TEXT}][^{_BAD}]*$"


def query_problem(q: str) -> str:
    """Why a query failed QUERY_PATTERN, in words an agent or a developer can act on."""
    if "\ufffd" in q:
        return "不是合法的 UTF-8 编码：请检查调用方的 URL 编码"
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in q):
        return "含有控制字符：请只输入文字"
    if not q.strip():
        return "不能为空或只有空白：请输入业主反映的问题，如“暖气不热”"
    return "没有可检索的文字（只有表情或符号）：请输入业主反映的问题，如“暖气不热”"

class ErrorBody(BaseModel):
    code: str
    field: str | None = None
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class Agent(BaseModel):
    say: str
    do: list[str]
    avoid: list[str]


class SearchHit(BaseModel):
    slug: str
    id: str
    title: str
    category: str
    level: str
    score: float
    section: str
    snippet: str
    url: str
    highlights: list[list[int]]
    dense: float
    summary: str
    tags: list[str]
    agent: Agent
    weak: bool = Field(description="相似度低于校准阈值：仅供参考")


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    match: Literal["strong", "weak", "none"] = Field(description="strong：有相近先例；weak：最佳匹配也不够相近；none：没有结果")
    results: list[SearchHit]


class Feedback(BaseModel):
    query: str = Field(max_length=500)
    slug: str = Field(max_length=100)
    useful: bool


class ReplyRequest(BaseModel):
    text: str = Field(max_length=5000, description="坐席准备发给业主的回复草稿")


class PhraseHitOut(BaseModel):
    phrase: int
    start: int
    end: int
    matched: str
    why: str
    suggestion: str


class ReplyResponse(BaseModel):
    hits: list[PhraseHitOut]


class ReloadResponse(BaseModel):
    reloaded: bool
    cases: int
    index_built_at: str | None


class CaseResponse(BaseModel):
    slug: str
    id: str
    title: str
    category: str
    level: str
    channel: str
    outcome: str
    tags: list[str]
    principles: list[int]
    phrases: list[int]
    summary: str
    url: str
    agent: Agent


class PopularResponse(BaseModel):
    results: list[CaseResponse]


class Health(BaseModel):
    status: str
    cases: int
    model: str
    index_built_at: str | None
    problems: list[str] = Field(default_factory=list, description="cases/ 自动更新时发现的问题（file:line），修好后自动清空")
    busy: bool = Field(False, description="正在后台预读或更新案例（刚启动时，或刚保存了案例）；期间检索照常，只是稍慢")


def error(status: int, code: str, message: str, field: str | None = None, headers=None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "field": field, "message": message}}, headers=headers)


def create_app(settings: Settings, encoder=None) -> FastAPI:
    from search.server.service import SearchService

    ref = load_reference()
    # Filter values are enums in the OpenAPI schema, from the one reference data file.
    CategoryName = Literal[ref.category_names]  # noqa: N806
    LevelName = Literal[ref.level_names]  # noqa: N806
    lock = threading.Lock()

    def get_service() -> SearchService:
        # Created at start-up by the lifespan; lazily (once, under a lock) for a host that
        # calls the app without running the lifespan.
        svc = getattr(app.state, "service", None)
        if svc is None:
            with lock:
                svc = getattr(app.state, "service", None)
                if svc is None:
                    svc = app.state.service = SearchService(settings, encoder=encoder)
                    svc.watch()  # pick up a rebuilt index without a restart
        return svc

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        get_service()  # the model loads once, here, before the first request
        yield
        with lock:
            svc, app.state.service = app.state.service, None
        if svc is not None:
            svc.close()

    app = FastAPI(
        title="物业客服案例库 API",
        version="1",
        description="检索相似投诉案例。查询超过 500 字会被截断（模型最多读取 512 个词元）。",
        lifespan=lifespan,
        responses={400: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
        docs_url=None,  # served below from local assets: no CDN on an intranet
        redoc_url=None,
    )
    _mount_docs(app)
    _install_error_handlers(app, settings.site_path)
    _install_security_headers(app)

    def service(request: Request) -> SearchService:
        return get_service()

    @app.get("/healthz", response_model=Health, tags=["运维"])
    def healthz(request: Request):
        svc = service(request)
        s = svc.searcher
        return Health(
            status="ok" if s else "no-index",
            cases=s.n_cases if s else 0,
            model=settings.model,
            index_built_at=s.index.manifest.get("built_at") if s else None,
            problems=svc.problems,
            busy=svc.busy,
        )

    @app.get("/api/search", response_model=SearchResponse, tags=["检索"],
             responses={400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def api_search(
        request: Request,
        q: Annotated[str, Query(description="业主反映的问题，口语即可；超过 500 字只取前 500 字", min_length=1, max_length=MAX_QUERY_PARAM, pattern=QUERY_PATTERN)],
        k: Annotated[int, Query(ge=1, le=settings.max_k, description="返回案例数")] = 5,
        category: Annotated[CategoryName | None, Query(description="按投诉类别过滤")] = None,
        level: Annotated[LevelName | None, Query(description="按投诉等级过滤")] = None,
        tag: Annotated[list[str], Query(description="按标签过滤，可重复", max_length=10)] = [],  # noqa: B006 - FastAPI copies defaults
    ):
        svc = service(request)
        answer = svc.search(q[:MAX_QUERY_CHARS], k=k, category=category, level=level, tags=tag or None)
        results = [dict(h.as_dict(), weak=w) for h, w in zip(answer.result.hits, answer.weak)]
        return SearchResponse(query=q, took_ms=round(answer.result.took_ms, 2), match=answer.match, results=results)

    @app.get("/api/cases/{slug}", response_model=CaseResponse, tags=["案例"],
             responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def api_case(request: Request, slug: str):
        r = service(request).require().index.cases.get(slug)
        if r is None:
            raise StarletteHTTPException(404, f"没有 slug 为“{slug}”的案例")
        return _case_response(r)

    @app.get("/api/popular", response_model=PopularResponse, tags=["案例"], responses={503: {"model": ErrorResponse}})
    def api_popular(request: Request, k: Annotated[int, Query(ge=1, le=settings.max_k)] = 5):
        """最常用的先例（来自本地检索记录和“有用”反馈；还没有记录时，先给培训教材中的案例）。"""
        return PopularResponse(results=[_case_response(r) for r in service(request).popular(k)])

    @app.post("/api/feedback", status_code=204, tags=["检索"],
              responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})
    def api_feedback(request: Request, body: Feedback):
        """坐席在检索页标记某条结果“有用/没用”，只记在本机的检索记录里，供培训员分析。"""
        svc = service(request)
        if body.slug not in svc.require().index.cases:
            raise StarletteHTTPException(404, f"没有 slug 为“{body.slug}”的案例")
        svc.log.record_feedback(body.query, body.slug, body.useful)

    @app.post("/api/check-reply", response_model=ReplyResponse, tags=["九句禁语检查"])
    def api_check_reply(request: Request, body: ReplyRequest):
        """检查回复草稿里有没有九句禁语（原话、变体、繁体、换了说法的都算），给出位置、伤害和更好的说法。"""
        return ReplyResponse(hits=[h.as_dict() for h in service(request).check_reply(body.text)])

    @app.post("/api/reload", response_model=ReloadResponse, tags=["运维"],
              responses={403: {"model": ErrorResponse}})
    def api_reload(request: Request, x_caselib_token: Annotated[str | None, Header()] = None):
        """重新加载索引（caselib build 之后服务也会在一秒内自动加载）。只接受本机调用或带令牌的调用。"""
        _require_local_or_token(request, settings, x_caselib_token)
        svc = service(request)
        swapped = svc.reload()
        s = svc.searcher
        return ReloadResponse(reloaded=swapped, cases=s.n_cases if s else 0,
                              index_built_at=s.index.manifest.get("built_at") if s else None)

    _mount_site(app, settings.site_path)
    return app


LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


def _require_local_or_token(request: Request, settings: Settings, token: str | None) -> None:
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


def _case_response(r) -> "CaseResponse":
    plain = {k: getattr(r, k) for k in CaseResponse.model_fields if k != "agent"}
    return CaseResponse(**plain, agent=Agent(say=r.say, do=r.do, avoid=r.avoid))


def _install_error_handlers(app: FastAPI, site: Path) -> None:
    @app.exception_handler(QueryError)
    async def _query(request: Request, exc: QueryError):
        return error(400, "bad_query", str(exc), exc.field)

    @app.exception_handler(ForbiddenError)
    async def _forbidden(request: Request, exc: ForbiddenError):
        return error(403, "forbidden", str(exc))

    @app.exception_handler(IndexMissing)
    async def _missing(request: Request, exc: IndexMissing):
        return error(503, "index_missing", str(exc))

    @app.exception_handler(CaselibError)
    async def _domain(request: Request, exc: CaselibError):
        return error(500, "server_error", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        err = exc.errors()[0]
        loc = [str(x) for x in err.get("loc", []) if x not in ("query", "path", "body")]
        field = ".".join(loc) or None
        return error(422, "invalid_parameter", f"参数 {field} 无效：{_zh(err)}", field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404 and exc.detail == "Not Found":
            page = site / "404.html"
            wants_html = "text/html" in request.headers.get("accept", "")
            if wants_html and not request.url.path.startswith("/api/") and page.is_file():
                return HTMLResponse(page.read_text(encoding="utf-8"), status_code=404)  # the site's own 404 page
            return error(404, "not_found", f"没有这个地址：{request.url.path}")
        if exc.status_code == 405:
            return error(405, "method_not_allowed", f"{request.url.path} 不支持 {request.method} 请求", headers=exc.headers)
        if exc.status_code == 400:
            return error(400, "bad_request", "请求体无法解析：应为 JSON，且使用 UTF-8 编码", headers=exc.headers)
        return error(exc.status_code, "not_found" if exc.status_code == 404 else "http_error", str(exc.detail), headers=exc.headers)


def _zh(err: dict) -> str:
    t = err.get("type", "")
    ctx = err.get("ctx") or {}
    if t == "missing":
        return "缺少必填参数"
    if t in ("int_parsing", "int_type"):
        return f"应为整数，收到“{err.get('input')}”"
    if t == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if t == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if t == "string_too_long":
        return f"太长（最多 {ctx.get('max_length')} 字）"
    if t == "string_pattern_mismatch" or t == "string_too_short":
        return query_problem(str(err.get("input", "")))
    if t == "literal_error":
        return f"“{err.get('input')}”不是可选值；可选：{ctx.get('expected', '')}"
    return err.get("msg", "格式不对")


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Material uses small inline scripts; everything else comes from this origin only.
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
}


def _install_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response


def _mount_docs(app: FastAPI) -> None:
    """OpenAPI UI at /docs with Swagger UI from the swagger-ui-bundle package (no CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/_docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=app.title,
            swagger_js_url="/_docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/_docs-assets/swagger-ui.css",
            swagger_favicon_url="/_docs-assets/favicon-32x32.png",
        )


class _SiteFiles(StaticFiles):
    """Serves whatever site/ points to now (the symlink is swapped by `caselib build`).
    A missing site is a 404 like any missing file, never a server error."""

    def __init__(self, link: Path, app: FastAPI):
        self.link = link
        self.api = app
        super().__init__(directory=str(link), html=True, check_dir=False)

    async def check_config(self) -> None:
        return None

    async def __call__(self, scope, receive, send):
        # A request that reached the catch-all site mount with an API path used a wrong
        # method or a wrong path: answer as the API would, not as a file server.
        path = scope["path"]
        allowed = {m for r in self.api.routes if isinstance(r, APIRoute) and r.path_regex.match(path) for m in r.methods}
        if allowed:
            raise StarletteHTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        if path.startswith("/api/"):
            raise StarletteHTTPException(404)
        await super().__call__(scope, receive, send)

    def lookup_path(self, path: str):
        target = self.link.resolve()
        if not target.is_dir():
            return "", None
        self.all_directories = [str(target)]
        return super().lookup_path(path)


def _mount_site(app: FastAPI, site: Path) -> None:
    @app.get("/", include_in_schema=False)
    def home():
        index = site / "index.html"
        if index.is_file():
            return HTMLResponse(index.read_text(encoding="utf-8"))
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>物业客服案例库</title>"
            "<h1>站点尚未构建</h1><p>在项目目录运行 <code>caselib build</code> 生成站点；检索接口在 <a href='/docs'>/docs</a>。</p>",
            status_code=503,
        )

    app.mount("/", _SiteFiles(site, app), name="site")
