"""FastAPI service: the search API under /api and the built site at /, one process.
(No `from __future__ import annotations` here: FastAPI reads the route annotations at
runtime, and `k`'s bound comes from the settings closure.)

`create_app(settings, encoder=None)` builds everything; nothing happens at import time.
The model and index load once, at start-up (lifespan). Search routes are plain `def`, so
FastAPI runs them in its worker threads and model inference never blocks the event loop.
Every error is one JSON shape: {"error": {"code", "field", "message"}}.
"""


import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from search.errors import CaselibError, IndexMissing
from search.retrieval import QueryError
from search.settings import Settings

MAX_QUERY_CHARS = 500  # longer pastes are cut: the model reads at most 512 tokens anyway


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


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    results: list[SearchHit]


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


class Health(BaseModel):
    status: str
    cases: int
    model: str
    index_built_at: str | None


def error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "field": field, "message": message}})


class SearcherHolder:
    """The current Searcher; replaced whole (one reference assignment) on reload."""

    def __init__(self):
        self.searcher = None
        self.lock = threading.Lock()


def create_app(settings: Settings, encoder=None) -> FastAPI:
    from search import pipeline

    holder = SearcherHolder()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        enc = encoder or pipeline.load_encoder(settings)  # once, at start
        app.state.encoder = enc
        try:
            holder.searcher = pipeline.open_searcher(settings, encoder=enc)
        except IndexMissing:
            holder.searcher = None  # /api/search answers 503 with the fix until an index exists
        yield

    app = FastAPI(
        title="物业客服案例库 API",
        version="1",
        description="检索相似投诉案例。查询超过 500 字会被截断（模型最多读取 512 个词元）。",
        lifespan=lifespan,
        responses={422: {"model": ErrorResponse}},
        docs_url=None,  # served below from local assets: no CDN on an intranet
        redoc_url=None,
    )
    _mount_docs(app)
    app.state.settings = settings
    app.state.holder = holder
    _install_error_handlers(app)
    _install_security_headers(app)

    def current():
        s = holder.searcher
        if s is None:
            raise IndexMissing("还没有检索索引 — 在服务器上运行 caselib build（或 caselib index）")
        return s

    @app.get("/healthz", response_model=Health, tags=["运维"])
    def healthz():
        s = holder.searcher
        return Health(
            status="ok" if s else "no-index",
            cases=s.n_cases if s else 0,
            model=settings.model,
            index_built_at=s.index.manifest.get("built_at") if s else None,
        )

    @app.get("/api/search", response_model=SearchResponse, tags=["检索"],
             responses={400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def api_search(
        q: Annotated[str, Query(description="业主反映的问题，口语即可", max_length=10000)],
        k: Annotated[int, Query(ge=1, le=settings.max_k, description="返回案例数")] = 5,
        category: Annotated[str | None, Query(description="按投诉类别过滤")] = None,
        level: Annotated[str | None, Query(description="按投诉等级过滤")] = None,
        tag: Annotated[list[str] | None, Query(description="按标签过滤，可重复")] = None,
    ):
        s = current()
        _check_filter(s, "category", category, s.categories)
        _check_filter(s, "level", level, s.levels)
        result = s.search(q[:MAX_QUERY_CHARS], k=k, category=category, level=level, tags=tag)
        return SearchResponse(query=q, took_ms=round(result.took_ms, 2), results=[h.as_dict() for h in result.hits])

    @app.get("/api/cases/{slug}", response_model=CaseResponse, tags=["案例"],
             responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def api_case(slug: str):
        s = current()
        r = s.index.cases.get(slug)
        if r is None:
            raise StarletteHTTPException(404, f"没有 slug 为“{slug}”的案例")
        return CaseResponse(
            slug=r.slug, id=r.id, title=r.title, category=r.category, level=r.level, channel=r.channel,
            outcome=r.outcome, tags=r.tags, principles=r.principles, phrases=r.phrases, summary=r.summary,
            url=r.url, agent=Agent(say=r.say, do=r.do, avoid=r.avoid),
        )

    _mount_site(app, settings.site_path)
    return app


def _check_filter(searcher, field: str, value: str | None, allowed: list[str]) -> None:
    if value is not None and value not in allowed:
        raise QueryError(field, f"{field} 的值“{value}”不存在；可选：{'、'.join(allowed)}")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueryError)
    async def _query(request: Request, exc: QueryError):
        return error(400, "bad_query", str(exc), exc.field)

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
        if exc.status_code == 404 and not isinstance(exc.detail, str) or exc.detail == "Not Found":
            return error(404, "not_found", f"没有这个地址：{request.url.path}")
        codes = {404: "not_found", 405: "method_not_allowed"}
        return error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


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
    """Serves whatever site/ points to now (the symlink is swapped by `caselib build`)."""

    def __init__(self, link: Path):
        self.link = link
        super().__init__(directory=str(link), html=True, check_dir=False)

    def lookup_path(self, path: str):
        self.all_directories = [str(self.link.resolve())]
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

    app.mount("/", _SiteFiles(site), name="site")
