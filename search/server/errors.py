"""Every error the HTTP API answers, in one JSON shape: {"error": {"code", "field", "message"}}.

Messages are Chinese, name the parameter or field, and say what was expected and what came
(pydantic's English never reaches a caller): the validation error types are mapped here.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from search.errors import (
    AuthRequired,
    CaselibError,
    Conflict,
    DraftInvalid,
    ForbiddenError,
    ImportFailed,
    IndexMissing,
    InvalidInput,
    NotFound,
    QueryError,
    StateError,
    TooManyAttempts,
)


class ApiError(Exception):
    """An HTTP error with its code and field (404 for an unknown slug, …)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        self.status, self.code, self.field = status, code, field
        super().__init__(message)


def error(status: int, code: str, message: str, field: str | None = None, headers=None, **extra) -> JSONResponse:
    """The one error shape; ``extra`` members join it (a conflict's two texts, a draft's problems)."""
    body = {"error": {"code": code, "field": field, "message": message, **extra}}
    return JSONResponse(status_code=status, content=body, headers=headers)


# domain exception → (status, code, the field when the exception names none)
DOMAIN_ERRORS = {
    QueryError: (400, "bad_query", None),
    AuthRequired: (401, "unauthorized", None),
    ForbiddenError: (403, "forbidden", None),
    NotFound: (404, "not_found", None),
    InvalidInput: (422, "invalid_parameter", None),
    ImportFailed: (422, "not_a_word_file", "file"),
    StateError: (503, "database_unavailable", None),
    IndexMissing: (503, "index_missing", None),
}


def query_problem(q: str) -> str:
    """Why a query failed the search route's pattern, in words an agent or a developer can
    act on (follows “参数 q ”)."""
    if "\ufffd" in q:
        return "不是合法的 UTF-8 编码：请检查调用方的 URL 编码"
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in q):
        return "含有控制字符：请只输入文字"
    if not q.strip():
        return "不能为空或只有空白：请输入业主反映的问题，如“暖气不热”"
    return "没有可检索的文字（只有表情或符号）：请输入业主反映的问题，如“暖气不热”"


# What to put in a missing field, by name (the message says where and what).
HINTS = {
    "q": "业主反映的问题，如“暖气不热”",
    "text": "要检查的回复草稿",
    "query": "坐席检索时输入的查询",
    "slug": "案例的 slug，如 radiator-not-warm",
    "useful": "是否有用：true 或 false",
}
_PLACES = {"query": ("参数", "查询参数"), "path": ("参数", "路径"), "header": ("请求头", "请求头"),
           "cookie": ("参数", "Cookie"), "body": ("字段", "请求体")}


def _found(v) -> str:
    """A received value, described the way JSON spells it."""
    if v is None:
        return " null"
    if isinstance(v, bool):
        return " true" if v else " false"
    if isinstance(v, int | float):
        return f"数字 {v}"
    if isinstance(v, str):
        return f"“{v[:50]}{'…' if len(v) > 50 else ''}”"
    if isinstance(v, list | tuple):
        return "一个列表"
    if isinstance(v, dict):
        return "一个对象"
    return f"“{v}”"


def _choices(expected: str) -> str:
    names = re.findall(r"'([^']*)'", expected)
    return "、".join(names) if names else expected


def validation_error(err: dict) -> tuple[int, str, str | None, str]:
    """(status, code, field, Chinese message) for one pydantic/FastAPI validation error."""
    t = err.get("type", "")
    loc = list(err.get("loc") or [])
    where = str(loc[0]) if loc else "body"
    field = ".".join(str(x) for x in loc[1:]) or None
    noun, place = _PLACES.get(where, ("字段", "请求"))
    ctx = err.get("ctx") or {}
    v = err.get("input")
    if t == "json_invalid":
        pos = f"（第 {loc[1] + 1} 个字符附近）" if len(loc) > 1 and isinstance(loc[1], int) else ""
        message = f"请求体不是合法的 JSON{pos}：请检查引号、逗号和括号是否成对，并使用 UTF-8 编码"
        return 400, "invalid_json", None, message
    if field is None:  # the body as a whole
        if t == "missing":
            return 422, "invalid_parameter", None, "缺少请求体：请发送一个 JSON 对象（Content-Type: application/json）"
        return 422, "invalid_parameter", None, f"请求体应为 JSON 对象（用花括号括起的字段），收到{_found(v)}"
    name = f"{noun} {field}"
    if t == "missing":
        hint = HINTS.get(field.split(".")[-1])
        msg = f"缺少必填{noun} {field}" + (f"：请在{place}中提供{hint}" if hint else "")
    elif t == "string_type":
        msg = f"{name} 应为文字（字符串），收到{_found(v)}"
    elif t in ("int_parsing", "int_type", "int_from_float"):
        msg = f"{name} 应为整数，收到{_found(v)}"
    elif t in ("float_parsing", "float_type"):
        msg = f"{name} 应为数字，收到{_found(v)}"
    elif t in ("bool_parsing", "bool_type"):
        msg = f"{name} 应为 true 或 false，收到{_found(v)}"
    elif t == "greater_than_equal":
        msg = f"{name} 不能小于 {ctx.get('ge')}，收到 {v}"
    elif t == "less_than_equal":
        msg = f"{name} 不能大于 {ctx.get('le')}，收到 {v}"
    elif t == "string_too_long":
        msg = f"{name} 太长：最多 {ctx.get('max_length')} 字，收到 {len(v) if isinstance(v, str) else '更多'} 字"
    elif t in ("string_pattern_mismatch", "string_too_short") and field == "q":
        msg = f"{name} {query_problem(str(v or ''))}"
    elif t == "string_too_short":
        msg = f"{name} 不能为空"
    elif t == "literal_error":
        msg = f"{name} 的值{_found(v)}不是可选值；可选：{_choices(str(ctx.get('expected', '')))}"
    elif t == "too_long":
        msg = f"{name} 最多 {ctx.get('max_length')} 个，收到 {ctx.get('actual_length')} 个"
    elif t == "list_type":
        msg = f"{name} 应为列表，收到{_found(v)}"
    else:
        msg = f"{name} 的值{_found(v)}无效"
    return 422, "invalid_parameter", field, msg


def install_error_handlers(app: FastAPI, site: Path) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError):
        return error(exc.status, exc.code, str(exc), exc.field)

    async def _domain_error(request: Request, exc: CaselibError):
        status, code, field = DOMAIN_ERRORS[next(c for c in type(exc).__mro__ if c in DOMAIN_ERRORS)]
        return error(status, code, str(exc), getattr(exc, "field", None) or field)

    for exc_class in DOMAIN_ERRORS:
        app.add_exception_handler(exc_class, _domain_error)

    @app.exception_handler(TooManyAttempts)
    async def _throttled(request: Request, exc: TooManyAttempts):
        return error(429, "too_many_attempts", str(exc), "username", headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict):
        return error(409, "conflict", str(exc), exc.field, current_text=exc.current_text,
                     current_version=exc.current_version, your_text=exc.your_text)

    @app.exception_handler(DraftInvalid)
    async def _draft_invalid(request: Request, exc: DraftInvalid):
        first = exc.problems[0] if exc.problems else None
        return error(422, "draft_invalid", str(exc), first.field if first else None, problems=[p.as_dict() for p in exc.problems])

    @app.exception_handler(CaselibError)
    async def _domain(request: Request, exc: CaselibError):
        return error(500, "server_error", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        status, code, field, message = validation_error(exc.errors()[0])
        return error(status, code, message, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            page = site / "404.html"
            wants_html = "text/html" in request.headers.get("accept", "")
            if wants_html and not request.url.path.startswith("/api/") and page.is_file():
                return HTMLResponse(page.read_text(encoding="utf-8"), status_code=404)  # the site's own 404 page
            return error(404, "not_found", f"没有这个地址：{request.url.path}")
        if exc.status_code == 405:
            message = f"{request.url.path} 不支持 {request.method} 请求"
            return error(405, "method_not_allowed", message, headers=exc.headers)
        if exc.status_code == 400:
            return error(400, "bad_request", "请求体无法解析：应为 JSON，且使用 UTF-8 编码", headers=exc.headers)
        return error(exc.status_code, "http_error", str(exc.detail), headers=exc.headers)
