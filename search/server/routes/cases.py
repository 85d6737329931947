"""GET /api/cases/{slug} and GET /api/popular: one case; the most-used precedents."""

from typing import Annotated

from fastapi import APIRouter, Query

from search.server.deps import ServiceDep
from search.server.errors import ApiError
from search.server.schemas import CaseResponse, ErrorResponse, PopularResponse
from search.settings import Settings


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["案例"])

    @r.get("/api/cases/{slug}", response_model=CaseResponse,
           responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def api_case(svc: ServiceDep, slug: str):
        record = svc.require().index.cases.get(slug)
        if record is None:
            raise ApiError(404, "not_found", f"没有 slug 为“{slug}”的案例", "slug")
        return CaseResponse.of(record)

    @r.get("/api/popular", response_model=PopularResponse, responses={503: {"model": ErrorResponse}})
    def api_popular(svc: ServiceDep, k: Annotated[int, Query(ge=1, le=settings.max_k, description="返回案例数")] = 5):
        """最常用的先例（来自本地检索记录和“有用”反馈；还没有记录时，先给培训教材中的案例）。"""
        return PopularResponse(results=[CaseResponse.of(x) for x in svc.popular(k)])

    return r
