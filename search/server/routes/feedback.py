"""POST /api/feedback: an agent marks a result 有用 / 没用."""

from fastapi import APIRouter

from search.server.deps import ServiceDep
from search.server.errors import ApiError
from search.server.schemas import ErrorResponse, Feedback
from search.settings import Settings


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["检索"])

    @r.post("/api/feedback", status_code=204, responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}})
    def api_feedback(svc: ServiceDep, body: Feedback):
        """坐席在检索页标记某条结果“有用/没用”，只记在本机的检索记录里，供培训员分析。"""
        if body.slug not in svc.require().index.cases:
            raise ApiError(404, "not_found", f"没有 slug 为“{body.slug}”的案例", "slug")
        svc.log.record_feedback(body.query, body.slug, body.useful)

    return r
