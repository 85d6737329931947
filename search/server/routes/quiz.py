"""New hires' quizzes (generated from reference.yaml and the cases), the wrong-answer book and
the trainer's progress view.

GET /api/quiz (the modules), GET /api/quiz/{module} (questions without answers, and a signed
attempt token), POST /api/quiz/{module}/attempts (graded from the token, saved for a
signed-in learner), GET /api/progress (one's own), GET /api/progress/team (trainer and up;
``?format=csv``). Anyone can take a quiz; only a signed-in learner's attempts are stored,
and a signed-in submission needs the session's X-CSRF-Token like every other write.
"""

from __future__ import annotations

import hmac
import random
import secrets
import threading
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from search.authoring.models import User
from search.errors import AuthRequired, ForbiddenError, InvalidInput
from search.learning import modules as quiz_modules
from search.learning import progress, tokens
from search.learning.questions import QuestionBank
from search.library.check import check_library
from search.library.reference import load_reference
from search.server.auth import CSRF_HEADER, SIGN_IN, AuthoringDep, CallerDep, need
from search.server.schemas import AUTHORING_ERRORS
from search.settings import Settings

ModuleId = Annotated[str, PathParam(max_length=32, description="测验模块：day-1、week-1、week-2、month-1")]
Learner = Annotated[User, Depends(need("agent", "查看学习进度"))]
TeamViewer = Annotated[User, Depends(need("trainer", "查看团队的学习进度"))]


class ModuleOut(BaseModel):
    id: str
    title: str
    questions: int = Field(description="一次测验的题数")
    covers: str = Field(description="考什么")
    url: str = Field(description="学习路径上对应的一节")


class ModulesOut(BaseModel):
    modules: list[ModuleOut]
    pass_mark: float = Field(description="及格线：答对的比例")


class QuestionOut(BaseModel):
    id: str = Field(description="题目的稳定编号（由出处生成），交卷时作 answers 的键")
    kind: str
    kind_name: str
    stem: str = Field(description="题干；换行处用 \\n")
    options: list[str]
    review: bool = Field(False, description="错题本里的题：上次答错了，答对两次才移出")


class QuizOut(BaseModel):
    module: str
    title: str
    attempt: str = Field(description="签名的测验编号：交卷时原样带回，服务器据此判分")
    pass_mark: float
    signed_in: bool = Field(description="false：成绩不在服务器保存，只留在浏览器里")
    questions: list[QuestionOut]


class AttemptIn(BaseModel):
    attempt: str = Field(max_length=8000, description="GET /api/quiz/{module} 给的 attempt")
    answers: dict[str, Annotated[int, Field(ge=0, le=20)]] = Field(
        default_factory=dict, max_length=100, description="题目编号 → 选的选项序号（从 0 起）；没答的题不写，不属于这份测验的编号不计")


class ResultOut(BaseModel):
    id: str
    correct: bool
    answer: int = Field(description="正确选项的序号（从 0 起）")
    chosen: int | None = Field(description="选的序号；没答为 null")
    answer_text: str
    why: str = Field(description="为什么：一两句话")
    url: str = Field(description="出处（案例或培训页面），相对站点根目录")
    topic: str


class GradedOut(BaseModel):
    score: float = Field(description="答对的比例 0–1")
    passed: bool
    correct: int
    total: int
    pass_mark: float
    saved: bool = Field(description="true：已记入你的学习进度（登录时）")
    results: list[ResultOut]


class _Bank:
    """The question bank of the library as it is now: cases re-read at most every 2 s, and
    only changed files parsed again (check_library's memo)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._memo: dict = {}
        self._bank: QuestionBank | None = None
        self._key: tuple | None = None
        self._checked = 0.0

    def get(self) -> QuestionBank:
        with self._lock:
            if self._bank is None or time.monotonic() - self._checked > 2.0:
                ref = load_reference()
                report = check_library(self.settings.cases_dir, ref, self.settings.root, memo=self._memo)
                key = tuple((c.slug, c.content_hash) for c in report.cases)
                if key != self._key:
                    self._bank, self._key = QuestionBank(ref, report.cases), key
                self._checked = time.monotonic()
            return self._bank


def _check_csrf(request: Request, csrf: str | None) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not csrf or not hmac.compare_digest(sent.encode(), csrf.encode()):
        raise ForbiddenError(f"缺少或错误的 {CSRF_HEADER}（防跨站请求伪造）— 刷新页面后重试；"
                             "调用接口时把登录返回的 csrf 放进这个请求头")


def router(settings: Settings) -> APIRouter:
    r = APIRouter(tags=["学习与测验"], responses=AUTHORING_ERRORS)
    banks = _Bank(settings)
    keys: dict[str, bytes] = {}

    def secret(authoring) -> bytes:
        if "quiz" not in keys:
            with authoring.db.session() as s:
                keys["quiz"] = tokens.install_secret(s)
        return keys["quiz"]

    def mark(authoring) -> float:
        return quiz_modules.pass_mark(authoring.settings)

    @r.get("/api/quiz", response_model=ModulesOut)
    def list_quizzes(authoring: AuthoringDep):
        """学习路径上每个模块的测验：题数、考什么、及格线。"""
        bank = banks.get()
        return {"modules": [{"id": m.id, "title": m.title, "questions": m.size(bank), "covers": m.covers, "url": m.anchor}
                            for m in quiz_modules.MODULES], "pass_mark": mark(authoring)}

    @r.get("/api/quiz/{module}", response_model=QuizOut)
    def take(module: ModuleId, caller: CallerDep, authoring: AuthoringDep,
             after: Annotated[str | None, Query(max_length=8000, description="未登录时：上一次的 attempt，这次换一组题")] = None,
             review: Annotated[str | None, Query(max_length=2000, description="未登录时：浏览器错题本里的题目编号，逗号分隔")] = None):
        """一次测验：题目和选项（不含答案），以及交卷用的 attempt。登录时错题本里的题优先回来，并避开上一次的题。"""
        m = quiz_modules.get_module(module)
        bank = banks.get()
        key = secret(authoring)
        if caller.user is not None:
            with authoring.db.session() as s:
                again = [e.question_id for e in progress.wrong_book(s, caller.user.id, m.id)]
                last = progress.last_attempt_ids(s, caller.user.id, m.id)
        else:
            again = [q.strip() for q in (review or "").split(",") if q.strip()][:50]
            previous = tokens.peek(key, after)
            last = list(previous.ids) if previous is not None and previous.module == m.id else []
        seed = secrets.randbits(31)
        ids = quiz_modules.assemble(bank, m, random.Random(seed), review=again, exclude=last)
        _attempt, token = tokens.new_attempt(key, m.id, ids, seed, caller.user.id if caller.user else 0)
        questions = [bank.question(q, seed).public() | {"review": q in again} for q in ids]
        return {"module": m.id, "title": m.title, "attempt": token, "pass_mark": mark(authoring),
                "signed_in": caller.user is not None, "questions": questions}

    @r.post("/api/quiz/{module}/attempts", response_model=GradedOut)
    def submit(module: ModuleId, body: AttemptIn, request: Request, caller: CallerDep, authoring: AuthoringDep):
        """交卷：服务器按 attempt 重新生成题目并判分（不信任浏览器）；登录时记入学习进度和错题本。"""
        m = quiz_modules.get_module(module)
        if caller.user is not None:
            _check_csrf(request, caller.csrf)
        a = tokens.read_attempt(secret(authoring), body.attempt)
        if a.module != m.id:
            raise InvalidInput("attempt", f"这份 attempt 是测验 {a.module} 的，不是 {m.id} 的 — 交到 /api/quiz/{a.module}/attempts")
        uid = caller.user.id if caller.user else 0
        if a.user_id and uid == 0:
            raise AuthRequired(f"这份测验是登录后打开的，现在登录已失效 — {SIGN_IN}，再重新打开测验")
        if a.user_id != uid:
            raise InvalidInput("attempt", "这份测验是用另一个登录状态打开的 — 重新打开测验再做，成绩才会记到现在的账号")
        graded = quiz_modules.grade(banks.get(), a.ids, a.seed, body.answers)
        if not graded:
            raise InvalidInput("attempt", "这份测验的题目已随案例库更新失效 — 重新打开测验再做一次")
        right = sum(g.correct for g in graded)
        pm = mark(authoring)
        if caller.user is not None:
            with authoring.db.session() as s:
                progress.record(s, caller.user, a, graded, pm)
        return {"score": round(right / len(graded), 4), "passed": quiz_modules.passed(right, len(graded), pm),
                "correct": right, "total": len(graded), "pass_mark": pm, "saved": caller.user is not None,
                "results": [g.result() for g in graded]}

    @r.get("/api/progress")
    def my_progress(user: Learner, authoring: AuthoringDep):
        """自己的学习进度：各模块是否通过、成绩、最近的测验、错题本（每题带答案、解释和出处）。"""
        with authoring.db.session() as s:
            return progress.own(s, user, banks.get(), mark(authoring))

    @r.get("/api/progress/team", responses={200: {"content": {"application/json": {}, "text/csv": {}}}})
    def team_progress(user: TeamViewer, authoring: AuthoringDep,
                      format: Annotated[Literal["json", "csv"], Query(description="csv：下载表格（Excel 可直接打开）")] = "json"):
        """培训员看团队：每位新员工通过了哪些模块、成绩、最近活动、最常错的地方（如把“热点”当成“重要”）。"""
        with authoring.db.session() as s:
            view = progress.team(s, mark(authoring))
        if format == "csv":
            return Response(progress.team_csv(view), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="learning-progress.csv"'})
        return view

    return r
