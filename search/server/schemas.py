"""The response and request shapes of the HTTP API, and the one serialiser of search
results: `/api/search` and `caselib search --json` both return
``search_response(result).model_dump(mode="json")``, so the two cannot drift apart.
Field descriptions are Chinese: they are the API documentation at /docs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from search.index.store import CaseRecord
from search.retrieval.searcher import Hit, SearchResult


class ErrorBody(BaseModel):
    code: str = Field(description="错误类别，如 invalid_parameter、not_found、index_missing")
    field: str | None = Field(None, description="出错的参数或字段名；与具体字段无关时为 null")
    message: str = Field(description="中文说明：哪里不对、应当怎样改")


class ErrorResponse(BaseModel):
    error: ErrorBody


class Agent(BaseModel):
    say: str = Field(description="接起电话先说的话")
    do: list[str] = Field(description="先做的几件事")
    avoid: list[str] = Field(description="别说的话")


class SearchHit(BaseModel):
    slug: str
    id: str
    title: str
    category: str
    level: str
    score: float = Field(description="融合后的排序分（只用于排序）")
    section: str = Field(description="最相关片段所在的章节")
    snippet: str
    url: str
    highlights: list[list[int]] = Field(description="snippet 中查询词的位置 [起, 止)")
    dense: float = Field(description="最相关片段的向量相似度")
    summary: str
    tags: list[str]
    agent: Agent
    weak: bool = Field(description="相似度低于校准阈值：仅供参考")

    @classmethod
    def of(cls, h: Hit) -> SearchHit:
        r = h.record
        return cls(
            slug=r.slug, id=r.id, title=r.title, category=r.category, level=r.level, score=round(h.score, 4),
            section=h.section, snippet=h.snippet, url=r.url, highlights=[list(x) for x in h.highlights],
            dense=round(h.dense, 4), summary=r.summary, tags=r.tags, agent=agent(r), weak=h.weak,
        )


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    match: Literal["strong", "weak", "none"] = Field(
        description="strong：有相近先例；weak：最佳匹配也不够相近；none：没有结果")
    confidence: float = Field(description="判断 match 所用的置信度：第一条的向量相似度（两种检索都把它排在前列时略加一点）")
    results: list[SearchHit]


def search_response(result: SearchResult, query: str | None = None) -> SearchResponse:
    """``query``: what the caller sent, when the search ran on a shortened copy."""
    return SearchResponse(query=result.query if query is None else query, took_ms=round(result.took_ms, 2),
                          match=result.match, confidence=round(result.confidence, 4),
                          results=[SearchHit.of(h) for h in result.hits])


class ExplainCase(BaseModel):
    slug: str
    title: str
    fused_rank: int = Field(description="融合后的名次；0 表示没进候选")
    fused_score: float
    dense_rank: int = Field(description="向量检索的名次；0 表示没找到")
    dense_score: float = Field(description="向量一侧的得分（长文本为整段与分句合并后的分）")
    dense_cosine: float = Field(description="整段查询与最相近片段的余弦相似度（weak 阈值比的就是它）")
    dense_section: str = Field(description="向量最相近的片段所在章节")
    dense_excerpt: str
    bm25_rank: int = Field(description="BM25 的名次；0 表示没有共同的词")
    bm25_score: float
    bm25_terms: list[str] = Field(description="BM25 最相关片段里出现的查询词")
    bm25_section: str


class ExplainResponse(BaseModel):
    query: str = Field(description="两种检索看到的查询（繁转简、全角转半角后）")
    mode: str
    method: str = Field(description="这次用的融合方式")
    clauses: list[str] = Field(description="长文本切出的分句；只有一句时就是查询本身")
    encoded: list[str] = Field(description="长文本里实际编码、参与向量打分的分句（关键词证据最强的几个）；短查询为空")
    terms: list[str] = Field(description="BM25 用到的查询词（库里出现过的）")
    threshold: float = Field(description="weak 阈值")
    confidence: float
    agreed: bool = Field(description="BM25 的第一名是否在向量检索的前三名里（是则置信度加一点）")
    match: Literal["strong", "weak", "none"]
    cases: list[ExplainCase]


def explain_response(x) -> ExplainResponse:
    return ExplainResponse.model_validate(x, from_attributes=True)


class Feedback(BaseModel):
    query: str = Field(max_length=500, description="坐席检索时输入的查询")
    slug: str = Field(max_length=100, description="被标记的案例")
    useful: bool = Field(description="true：有用；false：没用")


class ReplyRequest(BaseModel):
    text: str = Field(max_length=5000, description="坐席准备发给业主的回复草稿")


class PhraseHitOut(BaseModel):
    phrase: int = Field(description="九句禁语的编号 1–9")
    start: int = Field(description="在回复中的位置 [start, end)")
    end: int
    matched: str
    why: str = Field(description="为什么不能这样说")
    suggestion: str = Field(description="可以这样说")


class ReplyResponse(BaseModel):
    hits: list[PhraseHitOut]


def reply_response(hits) -> ReplyResponse:
    """From the reply checker's PhraseHits (read by attribute)."""
    return ReplyResponse(hits=[PhraseHitOut.model_validate(h, from_attributes=True) for h in hits])


class ReloadResponse(BaseModel):
    reloaded: bool
    cases: int
    index_built_at: str | None


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

    @classmethod
    def of(cls, r: CaseRecord) -> CaseResponse:
        plain = {k: getattr(r, k) for k in cls.model_fields if k != "agent"}
        return cls(**plain, agent=agent(r))


class PopularResponse(BaseModel):
    results: list[CaseResponse]


class Health(BaseModel):
    status: str
    cases: int
    model: str
    index_built_at: str | None
    problems: list[str] = Field(
        default_factory=list, description="cases/ 自动更新时发现的问题（file:line），修好后自动清空")
    busy: bool = Field(False, description="正在后台预读或更新案例（刚启动时，或刚保存了案例）；期间检索照常，只是稍慢")
    role: str = Field("single", description="single 单机；writer 共享数据库的写服务；replica 只读副本")
    shared_version: int | None = Field(None, description="共享数据库里正在服务的案例库版本（单机时为空）")
    log_pending: int = Field(0, description="还没写进共享数据库的检索记录（数据库连不上时在内存里排队）")
    log_dropped: int = Field(0, description="排队超过上限而丢弃的检索记录条数")


def agent(r: CaseRecord) -> Agent:
    return Agent(say=r.say, do=r.do, avoid=r.avoid)


# what the authoring routes (sign-in, drafts, history, users) may answer besides 2xx
AUTHORING_ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 429)}
