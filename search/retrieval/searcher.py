"""Hybrid retrieval: dense (faiss inner product on normalised vectors) and BM25 over jieba
tokens, per case, fused (search.retrieval.fusion), with filters and a highlighted snippet
of the best section.

Both sides see the same normalised text (Traditional → Simplified, NFKC), so 暖氣不熱
finds 暖气不热. A long text is also split into clauses (search.retrieval.clauses); the
clauses with the strongest BM25 evidence (at most fusion.CLAUSE_POOL of them; every clause
in dense mode) are embedded in one batch after the whole, so the clause that names the
problem is matched on its own. The clauses go to ``clause_encoder`` (by default the int8
export of the same model: only the pooled clause scores see it, never the whole text's
cosine that the weak cut is calibrated on). `score()` computes every per-case array once;
`search()` turns them into hits and `explain()` (search.retrieval.explain) into the
hit-testing view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from search.errors import QueryError
from search.index.records import CaseRecord
from search.index.store import Index
from search.library.textnorm import highlight_terms, normalize, tokenize
from search.retrieval import fusion
from search.retrieval.clauses import split_clauses, strongest
from search.retrieval.dense import APPROX_MIN_CHUNKS, dense_index
from search.retrieval.snippets import make_snippet

DENSE_CANDIDATES = 1000  # chunk candidates taken from faiss per query vector
MODES = ("hybrid", "dense", "bm25")


@dataclass
class Hit:
    record: CaseRecord
    score: float
    dense: float  # best chunk cosine of the whole query (0 when not a dense candidate)
    bm25: float  # best chunk BM25 score
    section: str
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    weak: bool = False  # below the caller's calibrated cut: shown, marked 相似度低


@dataclass
class SearchResult:
    """What one search found. ``match`` is the weak/strong decision every face shows:
    "strong" (a close precedent first), "weak" (even the best hit is below the cut) or
    "none" (no hits); ``confidence`` is what the cut was applied to. Serialised by
    search.server.schemas for the API and the CLI alike."""

    query: str
    took_ms: float
    hits: list[Hit]
    match: Literal["strong", "weak", "none"] = "none"
    confidence: float = 0.0


@dataclass
class Scores:
    """Everything one query scored, per chunk and per case (-inf: not found)."""

    query: str  # normalised
    clauses: list[str]  # more than one: a long text, scored as one
    encoded: list[str]  # the clauses the dense side embedded (a long text's strongest; else none)
    tokens: list[str]  # BM25 query tokens found in the library's vocabulary
    mode: str
    dense_chunks: np.ndarray | None  # whole-query cosine per chunk
    dense_whole: np.ndarray | None  # per case: best chunk cosine of the whole query
    dense: np.ndarray | None  # per case: the dense side's score (pooled over clauses if long)
    bm25_chunks: np.ndarray | None
    bm25: np.ndarray | None  # per case: best chunk BM25
    fused: np.ndarray

    @property
    def long(self) -> bool:
        return len(self.clauses) > 1


class Searcher:
    """Holds one loaded index and the encoder. Immutable after construction, so a server
    can swap in a new Searcher atomically when the index is rebuilt."""

    def __init__(self, index: Index, encoder, approx: bool | None = None, dense=None, clause_encoder=None):
        """``dense``: another vector index with faiss' ``search(qv, k) → (scores, ids)``
        (search/shared/vectors.py: PostgreSQL's HNSW); default faiss in memory.
        ``clause_encoder``: what a long text's clauses are encoded with (default ``encoder``;
        the int8 export of the same model by default in pipeline.open_searcher)."""
        self.index = index
        self.encoder = encoder
        self.clause_encoder = clause_encoder or encoder
        if self.clause_encoder.dim != encoder.dim:
            raise ValueError("clause_encoder must give vectors of the encoder's size")
        if approx is None:
            approx = len(index.chunks) >= APPROX_MIN_CHUNKS
        self.faiss = dense if dense is not None else dense_index(np.ascontiguousarray(index.vectors, dtype=np.float32), approx)
        self.n_cases = len(index.case_order)
        recs = [index.cases[s] for s in index.case_order]
        self._category = np.array([r.category for r in recs])
        self._level = np.array([r.level for r in recs])
        self._tags = [frozenset(r.tags) for r in recs]
        starts = index.case_starts
        self._ends = np.r_[starts[1:], len(index.chunks)].astype(np.int64) if len(starts) else np.zeros(0, np.int64)

    # ------------------------------------------------------------------ public

    def search(self, query: str, k: int = 5, category: str | None = None, level: str | None = None,
               tags: list[str] | None = None, mode: str = "hybrid", weak_below: float = 0.0) -> SearchResult:
        """``weak_below``: the calibrated cosine cut (Settings.weak_below); the result is weak
        when its confidence is below it, and so is every hit whose cosine is. In bm25 mode
        there is no cosine, so nothing is marked weak."""
        t0 = time.perf_counter()
        s = self.score(query, category, level, tags, mode)
        order = [int(c) for c in np.argsort(-s.fused, kind="stable")[:k] if np.isfinite(s.fused[c])]
        terms = highlight_terms(s.query) if order else []
        hits = [self._hit(s, ci, terms) for ci in order]
        conf = self.confidence(s, order[0]) if order else 0.0
        cut = weak_below if mode != "bm25" else 0.0
        for h in hits:
            h.weak = h.dense < cut
        if hits:
            hits[0].weak = conf < cut
        match = "none" if not hits else ("weak" if hits[0].weak else "strong")
        return SearchResult(query, (time.perf_counter() - t0) * 1000, hits, match, conf)

    def score(self, query: str, category=None, level=None, tags=None, mode: str = "hybrid") -> Scores:
        q = normalize(query or "")
        if not q:
            raise QueryError("q", "查询内容为空：请输入业主反映的问题，如“暖气不热”")
        if mode not in MODES:
            raise QueryError("mode", f"mode 只能是 {', '.join(MODES)}")
        allowed = self._case_mask(category, level, tags)
        clauses = split_clauses(q)
        empty = not len(self.index.chunks) or not allowed.any()
        dense_chunks = dense_whole = dense = bm25_chunks = bm25 = None
        tokens: list[str] = []
        encoded: list[str] = []
        if mode != "bm25" and not empty and len(clauses) > 1:
            encoded = clauses if mode == "dense" else self._strongest(clauses, allowed)
        if mode != "bm25" and not empty:
            dense_chunks, dense_whole, dense = self._dense(q, encoded, allowed)
        if mode != "dense" and not empty:
            tokens, bm25_chunks, bm25 = self._bm25(q, allowed)
        if empty:
            fused = np.full(self.n_cases, fusion.MISSING)
        else:
            fused = fusion.fuse(dense, bm25, len(clauses) > 1)
        return Scores(q, clauses, encoded, tokens, mode, dense_chunks, dense_whole, dense, bm25_chunks, bm25, fused)

    def confidence(self, s: Scores, case: int) -> float:
        """What the weak cut applies to: the case's cosine (+ the agreement bonus in hybrid
        mode); in bm25 mode its BM25 score."""
        if s.dense_whole is None:
            return float(s.bm25[case]) if s.bm25 is not None and np.isfinite(s.bm25[case]) else 0.0
        cos = float(s.dense_whole[case]) if np.isfinite(s.dense_whole[case]) else 0.0
        return fusion.confidence(cos, fusion.agree(s.dense, s.bm25))

    def best_chunk(self, s: Scores, case: int, side: str | None = None) -> int:
        """The chunk row a case is shown by: best on both sides together, or on one."""
        a, b = int(self.index.case_starts[case]), int(self._ends[case])
        pick = np.zeros(b - a)
        for name, arr in (("dense", s.dense_chunks), ("bm25", s.bm25_chunks)):
            if arr is None or (side and side != name):
                continue
            part = np.nan_to_num(arr[a:b], neginf=0.0).clip(0, None)
            top = float(np.nan_to_num(arr, neginf=0.0).max())
            pick += part / top if top > 0 else part
        return a + int(np.argmax(pick))

    # ------------------------------------------------------------------ stages

    def _hit(self, s: Scores, ci: int, terms: list[str]) -> Hit:
        chunk = self.index.chunks[self.best_chunk(s, ci)]
        snippet, marks = make_snippet(chunk.text, terms)
        rec = self.index.cases[self.index.case_order[ci]]

        def val(arr):
            return float(arr[ci]) if arr is not None and np.isfinite(arr[ci]) else 0.0

        return Hit(rec, val(s.fused), val(s.dense_whole), val(s.bm25), chunk.section, snippet, marks)

    def _case_mask(self, category, level, tags) -> np.ndarray:
        mask = np.ones(self.n_cases, dtype=bool)
        if category:
            mask &= self._category == category
        if level:
            mask &= self._level == level
        for t in tags or []:
            mask &= np.fromiter((t in ts for ts in self._tags), dtype=bool, count=self.n_cases)
        return mask

    def _per_case(self, rows: np.ndarray, vals: np.ndarray, allowed: np.ndarray, floor: float | None = None) -> np.ndarray:
        cases = self.index.chunk_case[rows]
        keep = allowed[cases] if floor is None else allowed[cases] & (vals > floor)
        best = np.full(self.n_cases, fusion.MISSING)
        np.maximum.at(best, cases[keep], vals[keep])
        return best

    def _strongest(self, clauses: list[str], allowed: np.ndarray) -> list[str]:
        """The clauses worth embedding: those whose words an allowed chunk matches best."""
        rows = allowed[self.index.chunk_case]
        bm = self.index.bm25

        def evidence(clause: str) -> float:
            tokens = [t for t in tokenize(clause) if t in bm.vocab_dict]
            return float(bm.get_scores(tokens)[rows].max()) if tokens and rows.any() else 0.0

        return strongest(clauses, [evidence(c) for c in clauses])

    def _dense(self, q: str, clauses: list[str], allowed: np.ndarray):
        """The whole text, then (if any) the given clauses as one batch."""
        long = bool(clauses)
        # two batches: padded together, every short clause would cost as much as the whole text
        qv = self.encoder.encode_queries([q]).astype(np.float32)
        if long:
            qv = np.vstack([qv, self.clause_encoder.encode_queries(clauses).astype(np.float32)])
        k = min(len(self.index.chunks), DENSE_CANDIDATES)
        scores, ids = self.faiss.search(qv, k)
        chunks = np.full(len(self.index.chunks), fusion.MISSING)
        valid = ids[0] >= 0
        chunks[ids[0][valid]] = scores[0][valid]
        whole = self._per_case(ids[0][valid], scores[0][valid], allowed)
        if not long:
            return chunks, whole, whole
        per_clause = np.stack([self._per_case(ids[j][ids[j] >= 0], scores[j][ids[j] >= 0], allowed)
                               for j in range(1, len(qv))])
        return chunks, whole, fusion.pool_clauses(whole, per_clause)

    def _bm25(self, q: str, allowed: np.ndarray):
        tokens = [t for t in tokenize(q) if t in self.index.bm25.vocab_dict]
        chunks = self.index.bm25.get_scores(tokens) if tokens else np.zeros(len(self.index.chunks), np.float32)
        rows = np.flatnonzero(chunks)
        return tokens, chunks, self._per_case(rows, chunks[rows], allowed, floor=0.0)
