"""Hit testing: for one query, why each case ranked where it did.

What a trainer needs to see when a case is not found: each case's rank and score from
BM25 (with the query terms its best chunk matched), from dense (with the section that
matched best), the fused rank, the weak/strong decision with its threshold, and how the
query was read (its clauses, its BM25 terms, which fusion applied). Built from the same
per-case arrays `Searcher.search()` ranks by, so the view cannot disagree with search.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from search.retrieval import fusion
from search.retrieval.searcher import Scores, Searcher

EXCERPT_CHARS = 80


@dataclass
class CaseExplanation:
    slug: str
    title: str
    fused_rank: int  # 0: not a candidate
    fused_score: float
    dense_rank: int
    dense_score: float  # the dense side's score (pooled over clauses for a long text)
    dense_cosine: float  # best chunk cosine of the whole text
    dense_section: str
    dense_excerpt: str
    bm25_rank: int
    bm25_score: float
    bm25_terms: list[str] = field(default_factory=list)
    bm25_section: str = ""


@dataclass
class Explanation:
    query: str  # as normalised for both sides
    mode: str
    method: str  # which fusion applied, in words
    clauses: list[str]
    encoded: list[str]  # the clauses the dense side embedded (a long text's strongest)
    terms: list[str]  # BM25 query terms found in the library
    threshold: float
    confidence: float
    agreed: bool
    match: str
    cases: list[CaseExplanation]


def explain(searcher: Searcher, query: str, k: int = 10, weak_below: float = 0.0, mode: str = "hybrid",
            category: str | None = None, level: str | None = None, tags: list[str] | None = None) -> Explanation:
    """The first ``k`` cases by fused rank, and any case either side put in its first ``k``."""
    s = searcher.score(query, category, level, tags, mode)
    fused_r = fusion.ranks(s.fused)
    dense_r = fusion.ranks(s.dense) if s.dense is not None else np.zeros(searcher.n_cases, np.int64)
    bm25_r = fusion.ranks(s.bm25) if s.bm25 is not None else np.zeros(searcher.n_cases, np.int64)
    shown = [c for c in range(searcher.n_cases) if 0 < fused_r[c] <= k or 0 < dense_r[c] <= k or 0 < bm25_r[c] <= k]
    shown.sort(key=lambda c: (fused_r[c] == 0, fused_r[c], dense_r[c] or 1e9))
    rows = [_case(searcher, s, c, fused_r[c], dense_r[c], bm25_r[c]) for c in shown]
    first = next((c for c in shown if fused_r[c] == 1), None)
    conf = searcher.confidence(s, first) if first is not None else 0.0
    cut = weak_below if mode != "bm25" else 0.0
    match = "none" if first is None else ("weak" if conf < cut else "strong")
    agreed = fusion.agree(s.dense, s.bm25)
    return Explanation(s.query, mode, _method(s), s.clauses, s.encoded, list(dict.fromkeys(s.tokens)), cut, round(conf, 4), agreed, match, rows)


def _method(s: Scores) -> str:
    if s.mode == "dense":
        return "只用向量" + ("（长文本：整段与各分句的得分合并）" if s.long else "")
    if s.mode == "bm25":
        return "只用 BM25 关键词"
    if s.long:
        return (f"长文本（{len(s.clauses)} 个分句，编码其中关键词证据最强的 {len(s.encoded)} 个）：向量分 = 整段 × {fusion.WHOLE_SHARE:g} + "
                f"最好的 {fusion.CLAUSE_POOL} 个分句均值 × "
                f"{1 - fusion.WHOLE_SHARE:g}，再加 BM25 分（按最高分折算）× {fusion.LONG_BM25_WEIGHT:g}")
    return (f"短查询：名次融合（RRF，k={fusion.RRF_K}），向量权重 {fusion.WEIGHTS['dense']:g}、"
            f"BM25 权重 {fusion.WEIGHTS['bm25']:g}")


def _case(searcher: Searcher, s: Scores, c: int, fr: int, dr: int, br: int) -> CaseExplanation:
    index = searcher.index
    rec = index.cases[index.case_order[c]]

    def val(arr) -> float:
        return float(arr[c]) if arr is not None and np.isfinite(arr[c]) else 0.0

    dense_section = dense_excerpt = bm25_section = ""
    terms: list[str] = []
    if s.dense_chunks is not None and dr:
        chunk = index.chunks[searcher.best_chunk(s, c, side="dense")]
        dense_section, dense_excerpt = chunk.section, _excerpt(chunk.text)
    if s.bm25_chunks is not None and br:
        row = searcher.best_chunk(s, c, side="bm25")
        bm25_section = index.chunks[row].section
        bm = index.bm25
        have = set(bm.ids[bm.offsets[row] : bm.offsets[row + 1]].tolist())
        terms = [t for t in dict.fromkeys(s.tokens) if bm.vocab_dict[t] in have]
    return CaseExplanation(rec.slug, rec.title, int(fr), round(val(s.fused), 4), int(dr), round(val(s.dense), 4),
                           round(val(s.dense_whole), 4), dense_section, dense_excerpt, int(br), round(val(s.bm25), 4),
                           terms, bm25_section)


def _excerpt(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
