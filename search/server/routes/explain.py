"""GET /api/explain: hit testing for trainers. For one query, each case's rank and score
from BM25 (with the matched terms) and from dense (with the matched section), the fused
rank, and the weak/strong decision with its threshold (search.retrieval.explain). For
trainers and reviewers (signed in): agents search, trainers probe."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from search.library.reference import load_reference
from search.server.auth import Trainer
from search.server.deps import ServiceDep
from search.server.routes.search import MAX_QUERY_CHARS, MAX_QUERY_PARAM, QUERY_PATTERN
from search.server.schemas import AUTHORING_ERRORS, ErrorResponse, ExplainResponse, explain_response
from search.settings import Settings


def router(settings: Settings) -> APIRouter:
    ref = load_reference()
    CategoryName = Literal[ref.category_names]  # noqa: N806
    LevelName = Literal[ref.level_names]  # noqa: N806
    r = APIRouter(tags=["命中测试"])

    @r.get("/api/explain", response_model=ExplainResponse,
           responses={400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}, **AUTHORING_ERRORS})
    def api_explain(
        svc: ServiceDep,
        user: Trainer,
        q: Annotated[str, Query(description="要测试的查询，可以是业主的一整段话", min_length=1,
                                max_length=MAX_QUERY_PARAM, pattern=QUERY_PATTERN)],
        k: Annotated[int, Query(ge=1, le=settings.max_k, description="列出融合后前 k 名，以及任一侧前 k 名的案例")] = 10,
        mode: Annotated[Literal["hybrid", "dense", "bm25"], Query(description="检索方式")] = "hybrid",
        category: Annotated[CategoryName | None, Query(description="按投诉类别过滤")] = None,
        level: Annotated[LevelName | None, Query(description="按投诉等级过滤")] = None,
    ):
        """命中测试：每个案例在 BM25、向量两侧的名次和得分、匹配到的词和章节，融合后的名次，以及强/弱判断和阈值。不记入检索记录。培训员及以上登录后可用。"""
        return explain_response(svc.explain(q[:MAX_QUERY_CHARS], k=k, category=category, level=level, mode=mode))

    return r
