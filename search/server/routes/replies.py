"""POST /api/check-reply: the nine forbidden phrases in a reply draft."""

from fastapi import APIRouter

from search.server.deps import ServiceDep
from search.server.schemas import ErrorResponse, ReplyRequest, ReplyResponse, reply_response
from search.settings import Settings


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["九句禁语检查"])

    @r.post("/api/check-reply", response_model=ReplyResponse, responses={422: {"model": ErrorResponse}})
    def api_check_reply(svc: ServiceDep, body: ReplyRequest):
        """检查回复草稿里有没有九句禁语（原话、变体、繁体、换了说法的都算），给出位置、伤害和更好的说法。"""
        return reply_response(svc.check_reply(body.text))

    return r
