"""The case editor's API: live checks, preview, the form's schema, drafts and their review
(submit, approve, reject, withdraw), and Word import. Roles: trainer writes, reviewer
approves/rejects; every write needs the session's X-CSRF-Token."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from search.authoring.drafts import MAX_TEXT, draft_dict
from search.authoring.history import diff
from search.authoring.validate import parse_parts
from search.library.editor_schema import editor_schema
from search.server.auth import AuthoringDep, Reviewer, Trainer
from search.server.schemas import AUTHORING_ERRORS
from search.settings import Settings
from search.site.preview import render_draft

MAX_UPLOAD = 20 * 1024 * 1024


class TextBody(BaseModel):
    text: str = Field(max_length=MAX_TEXT)
    slug: str | None = Field(None, max_length=80)


class NewDraft(BaseModel):
    text: str | None = Field(None, max_length=MAX_TEXT)
    slug: str | None = Field(None, max_length=80)


class SaveDraft(BaseModel):
    text: str = Field(max_length=MAX_TEXT)
    version: int = Field(ge=1)
    slug: str | None = Field(None, max_length=80)


class Comment(BaseModel):
    comment: str = Field("", max_length=2000)


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["编写与审核"], responses=AUTHORING_ERRORS)

    def full(authoring, d, with_review: bool = False) -> dict:
        wf = authoring.workflow
        out = draft_dict(d, wf.problems(d.text, d.slug))
        if with_review:
            out["preview_html"] = render_draft(d.text, wf.reference, d.slug or "draft")
            path = wf.cases_dir / f"{d.slug}.md" if d.slug else None
            if d.kind != "new" and path is not None and path.is_file():
                out["diff"] = diff(path.read_text(encoding="utf-8"), d.text, "已发布", "草稿")
            else:
                out["diff"] = None
        return out

    @r.get("/api/schema")
    def schema(authoring: AuthoringDep):
        """案例表单的结构：字段、可选值及含义、各章节的写法说明（与 caselib check 同一份定义）。"""
        return editor_schema(authoring.workflow.reference)

    @r.post("/api/validate")
    def validate(body: TextBody, user: Trainer, authoring: AuthoringDep):
        """与 caselib check 相同的规则和提示；个人信息附带一键替换。"""
        problems = authoring.workflow.problems(body.text, body.slug)
        return {"problems": [p.as_dict() for p in problems], "parsed": parse_parts(body.text)}

    @r.post("/api/preview")
    def preview(body: TextBody, user: Trainer, authoring: AuthoringDep):
        """按站点的样子渲染草稿（HTML 已转义：草稿里的 <script> 只显示为文字）。"""
        return {"html": render_draft(body.text, authoring.workflow.reference, body.slug or "draft")}

    @r.get("/api/drafts")
    def list_drafts(user: Trainer, authoring: AuthoringDep,
                    status: Annotated[Literal["draft", "in_review", "published", "withdrawn"] | None, Query()] = None):
        drafts = authoring.workflow.list(user, status)
        return {"drafts": [{k: v for k, v in draft_dict(d).items() if k != "text"} for d in drafts]}

    @r.post("/api/drafts", status_code=201)
    def create(body: NewDraft, user: Trainer, authoring: AuthoringDep, response: Response):
        """{"text"} 新案例草稿；{"slug"} 修改已发布的案例（已有未完成的草稿时返回那一份，状态码 200）。"""
        d, created = authoring.workflow.create(user, text=body.text, slug=body.slug)
        if not created:
            response.status_code = 200
        return full(authoring, d)

    @r.get("/api/drafts/{draft_id}")
    def get(draft_id: int, user: Trainer, authoring: AuthoringDep):
        return full(authoring, authoring.workflow.get(user, draft_id), with_review=True)

    @r.put("/api/drafts/{draft_id}")
    def save(draft_id: int, body: SaveDraft, user: Trainer, authoring: AuthoringDep):
        """保存（自动保存也走这里）。version 是这份内容所基于的版本；别人先保存过时返回 409 和两份内容。"""
        return full(authoring, authoring.workflow.save(user, draft_id, body.text, body.version, body.slug))

    @r.post("/api/drafts/{draft_id}/submit")
    def submit(draft_id: int, user: Trainer, authoring: AuthoringDep):
        """提交审核；还有问题时返回 422 和全部问题。"""
        d = authoring.workflow.submit(user, draft_id)
        return {"status": d.status, "id": d.id, "slug": d.slug}

    @r.post("/api/drafts/{draft_id}/withdraw")
    def withdraw(draft_id: int, user: Trainer, authoring: AuthoringDep):
        d = authoring.workflow.withdraw(user, draft_id)
        return {"status": d.status, "id": d.id}

    @r.post("/api/drafts/{draft_id}/approve")
    def approve(draft_id: int, user: Reviewer, authoring: AuthoringDep, body: Comment | None = None):
        """批准发布：写入 cases/<slug>.md（Git 仓库里同时提交），10 秒内可检索。"""
        d = authoring.workflow.approve(user, draft_id, body.comment if body else "")
        return {"status": d.status, "slug": d.slug}

    @r.post("/api/drafts/{draft_id}/reject")
    def reject(draft_id: int, body: Comment, user: Reviewer, authoring: AuthoringDep):
        """退回修改：必须写明要改什么。"""
        d = authoring.workflow.reject(user, draft_id, body.comment)
        return {"status": d.status, "id": d.id}

    @r.post("/api/import", status_code=201,
            openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def import_docx(request: Request, user: Trainer, authoring: AuthoringDep,
                          filename: Annotated[str, Query(max_length=200, description="原文件名，用于提示")] = "报告.docx"):
        """上传一份 Word（.docx）投诉报告（请求体就是文件本身），生成一份草稿。"""
        from starlette.concurrency import run_in_threadpool

        from search.errors import ImportFailed
        from search.library.docx_import import import_docx as convert

        data = await request.body()
        if len(data) > MAX_UPLOAD:
            raise ImportFailed(f"文件“{filename}”太大（{len(data) // 1024 // 1024} MB，上限 20 MB）— 删除文档里的图片后再导入")
        wf = authoring.workflow

        def work():
            from search.library.newcase import next_id

            imported = convert(data, wf.reference, filename=filename, case_id=next_id(wf.cases_dir), cases_dir=wf.cases_dir)
            note = "；".join(imported.notes)
            d, _ = wf.create(user, text=imported.text, slug=imported.slug, note=note, action="draft_import")
            return full(authoring, d) | {"notes": imported.notes, "suggested_slug": imported.slug}

        return await run_in_threadpool(work)

    return r
