"""GET /api/search: similar cases for what an owner said.
(No `from __future__ import annotations` in route modules: FastAPI reads the annotations
at runtime, and the enums and `k`'s bound are built from the settings in `router`.)"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from search.library.reference import load_reference
from search.server.deps import ServiceDep
from search.server.schemas import ErrorResponse, SearchResponse, search_response
from search.settings import Settings

MAX_QUERY_CHARS = 500  # longer pastes are cut: the model reads at most 512 tokens anyway
MAX_QUERY_PARAM = 2000  # beyond this a "query" is a pasted document: refuse it

_TEXT = ("0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
         "\uac00-\ud7af\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a")
_BAD = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd"
# Part of the OpenAPI schema: readable text (at least one letter, digit or Chinese
# character), no control characters, no U+FFFD (what invalid UTF-8 in a URL decodes to).
# server/errors.query_problem says which of these a refused query broke.
QUERY_PATTERN = f"^[^{_BAD}]*[{_TEXT}][^{_BAD}]*$"


def router(settings: Settings) -> APIRouter:
    ref = load_reference()
    # filter values are enums in the OpenAPI schema, from the one reference data file
    CategoryName = Literal[ref.category_names]  # noqa: N806
    LevelName = Literal[ref.level_names]  # noqa: N806
    r = APIRouter(tags=["检索"])

    @r.get("/api/search", response_model=SearchResponse,
           responses={400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def api_search(
        svc: ServiceDep,
        q: Annotated[str, Query(description="业主反映的问题，口语即可；超过 500 字只取前 500 字", min_length=1,
                                max_length=MAX_QUERY_PARAM, pattern=QUERY_PATTERN)],
        k: Annotated[int, Query(ge=1, le=settings.max_k, description="返回案例数")] = 5,
        category: Annotated[CategoryName | None, Query(description="按投诉类别过滤")] = None,
        level: Annotated[LevelName | None, Query(description="按投诉等级过滤")] = None,
        tag: Annotated[list[str], Query(description="按标签过滤，可重复", max_length=10)] = [],  # noqa: B006 - FastAPI copies defaults
    ):
        """检索相似先例。每条结果带 weak（相似度低于校准阈值）；match 是对第一条的判断。"""
        result = svc.search(q[:MAX_QUERY_CHARS], k=k, category=category, level=level, tags=tag or None)
        return search_response(result, query=q)

    return r
