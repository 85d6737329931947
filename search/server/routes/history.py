"""GET /api/cases/{slug}/history (every published version), one version with its diff,
and POST …/restore (a reviewer brings back an earlier version; it goes through review)."""

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from search.authoring import history
from search.authoring.drafts import draft_dict
from search.server.auth import AuthoringDep, Reviewer
from search.server.schemas import AUTHORING_ERRORS
from search.settings import Settings

Slug = Annotated[str, PathParam(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80, description="案例的 slug，如 radiator-not-warm")]


class RestoreBody(BaseModel):
    version: int = Field(ge=1)


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["修订记录"], responses=AUTHORING_ERRORS)

    @r.get("/api/cases/{slug}/history")
    def case_history(slug: Slug, authoring: AuthoringDep):
        """每个已发布版本：作者、审核人、时间、摘要，以及它的审核经过（提交、退回意见、批准）；公开：坐席也能看到案例怎么改过。"""
        with authoring.db.session() as s:
            revs = history.revisions(s, authoring.settings.cases_dir, slug)
            return {"slug": slug, "versions": [history.revision_dict(x, s) for x in reversed(revs)]}

    @r.get("/api/cases/{slug}/history/{number}")
    def case_version(slug: Slug, number: Annotated[int, PathParam(ge=1, le=100000)], authoring: AuthoringDep):
        """某一版的全文，以及与上一版的差异（unified diff）。"""
        with authoring.db.session() as s:
            revs = history.revisions(s, authoring.settings.cases_dir, slug)
            return history.revision_detail(revs, number, slug, s)

    @r.post("/api/cases/{slug}/restore", status_code=201)
    def restore(slug: Slug, body: RestoreBody, user: Reviewer, authoring: AuthoringDep):
        """恢复到某一版：生成一份待审核的草稿（由另一位审核员批准后生效）。"""
        d = authoring.workflow.restore(user, slug, body.version)
        return draft_dict(d)

    return r
