"""Hybrid retrieval: dense (faiss inner product on normalised vectors) fused with BM25
over jieba tokens, per case, with filters and a highlighted snippet of the best section.

Both sides see the same normalised text (Traditional → Simplified, NFKC), so 暖氣不熱
finds 暖气不热. Fusion is reciprocal-rank fusion of the per-case rankings: it needs no
score calibration between the two very different scales, and a case that only one side
finds still gets credit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from search.errors import CaselibError
from search.index import CaseRecord, Index
from search.textnorm import highlight_terms, normalize, tokenize

RRF_K = 60  # the usual constant; larger flattens rank differences
# Dense retrieval is the stronger of the two on colloquial queries; BM25 adds exact terms
# (names of facilities, 禁语 wording) at half weight so it can break ties, not overrule.
WEIGHTS = {"dense": 1.0, "bm25": 0.5}
DENSE_CANDIDATES = 1000  # chunk candidates taken from faiss before grouping by case
# Exact (flat) search reads every vector per query: 0.4 ms at 7,800 chunks but about 6 ms at
# 78,000 (10,000 cases), where it becomes memory-bound. Past this size an IVF index searches
# the nearest clusters only. It is built at load time (k-means on a sample: under a second
# at 78,000 chunks), so nothing extra is stored and an incremental update stays cheap.
APPROX_MIN_CHUNKS = 20_000
IVF_TRAIN_PER_LIST = 64  # k-means sample size per cluster (faiss' own default is 256)
SNIPPET_CHARS = 120
MODES = ("hybrid", "dense", "bm25")


class QueryError(CaselibError):
    """The query or a filter is unusable; carries the field name for API errors."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass
class Hit:
    record: CaseRecord
    score: float
    dense: float  # best chunk cosine (0 when not a dense candidate)
    bm25: float  # best chunk BM25 score
    section: str
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        r = self.record
        return {
            "slug": r.slug, "id": r.id, "title": r.title, "category": r.category, "level": r.level,
            "score": round(self.score, 4), "section": self.section, "snippet": self.snippet, "url": r.url,
            "highlights": [list(h) for h in self.highlights], "dense": round(self.dense, 4),
            "summary": r.summary, "tags": r.tags, "agent": {"say": r.say, "do": r.do, "avoid": r.avoid},
        }


@dataclass
class SearchResult:
    query: str
    took_ms: float
    hits: list[Hit]


class Searcher:
    """Holds one loaded index and the encoder. Immutable after construction, so a server
    can swap in a new Searcher atomically when the index is rebuilt."""

    def __init__(self, index: Index, encoder, approx: bool | None = None):
        self.index = index
        self.encoder = encoder
        if approx is None:
            approx = len(index.chunks) >= APPROX_MIN_CHUNKS
        self.faiss = _dense_index(np.ascontiguousarray(index.vectors, dtype=np.float32), approx)
        self.n_cases = len(index.case_order)
        recs = [index.cases[s] for s in index.case_order]
        self._category = np.array([r.category for r in recs])
        self._level = np.array([r.level for r in recs])
        self._tags = [frozenset(r.tags) for r in recs]

    # ------------------------------------------------------------------ public

    def search(self, query: str, k: int = 5, category: str | None = None, level: str | None = None,
               tags: list[str] | None = None, mode: str = "hybrid") -> SearchResult:
        t0 = time.perf_counter()
        q = normalize(query or "")
        if not q:
            raise QueryError("q", "查询内容为空：请输入业主反映的问题，如“暖气不热”")
        if mode not in MODES:
            raise QueryError("mode", f"mode 只能是 {', '.join(MODES)}")
        allowed = self._case_mask(category, level, tags)
        hits: list[Hit] = []
        if len(self.index.chunks) and allowed.any():
            dense_chunk = self._dense(q) if mode != "bm25" else None
            bm25_chunk = self._bm25(q) if mode != "dense" else None
            hits = self._fuse(q, dense_chunk, bm25_chunk, allowed, k)
        return SearchResult(query, (time.perf_counter() - t0) * 1000, hits)

    # ------------------------------------------------------------------ stages

    def _case_mask(self, category, level, tags) -> np.ndarray:
        mask = np.ones(self.n_cases, dtype=bool)
        if category:
            mask &= self._category == category
        if level:
            mask &= self._level == level
        for t in tags or []:
            mask &= np.fromiter((t in ts for ts in self._tags), dtype=bool, count=self.n_cases)
        return mask

    def _dense(self, q: str) -> np.ndarray:
        """Cosine per chunk; chunks outside the top candidates get -1."""
        qv = self.encoder.encode_queries([q]).astype(np.float32)
        n = len(self.index.chunks)
        k = min(n, DENSE_CANDIDATES)
        scores, ids = self.faiss.search(qv, k)
        out = np.full(n, -1.0, dtype=np.float32)
        valid = ids[0] >= 0
        out[ids[0][valid]] = scores[0][valid]
        return out

    def _bm25(self, q: str) -> np.ndarray:
        tokens = [t for t in tokenize(q) if t in self.index.bm25.vocab_dict]
        if not tokens:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(tokens), dtype=np.float32)

    def _per_case_max(self, chunk_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best score and (first) best chunk row per case, as segmented reductions."""
        starts = self.index.case_starts
        best = np.maximum.reduceat(chunk_scores, starts)
        rows_idx = np.arange(len(chunk_scores))
        candidates = np.where(chunk_scores == best[self.index.chunk_case], rows_idx, len(chunk_scores))
        rows = np.minimum.reduceat(candidates, starts)
        return best, rows

    def _fuse(self, q, dense_chunk, bm25_chunk, allowed, k) -> list[Hit]:
        fused = np.zeros(self.n_cases, dtype=np.float64)
        dense_case = np.zeros(self.n_cases, dtype=np.float32)
        bm25_case = np.zeros(self.n_cases, dtype=np.float32)
        # a chunk's relevance within its case, for choosing the snippet
        chunk_pick = np.zeros(len(self.index.chunks), dtype=np.float32)
        for name, scores, target in (("dense", dense_chunk, dense_case), ("bm25", bm25_chunk, bm25_case)):
            if scores is None:
                continue
            best, _rows = self._per_case_max(scores)
            best = np.where(allowed, best, -np.inf)
            present = np.isfinite(best) & (best > (0 if name == "bm25" else -1))
            target[present] = best[present]
            order = np.argsort(-np.where(present, best, -np.inf), kind="stable")
            ranks = np.empty(self.n_cases, dtype=np.int64)
            ranks[order] = np.arange(1, self.n_cases + 1)
            fused += np.where(present, WEIGHTS[name] / (RRF_K + ranks), 0.0)
            top = scores.max() if scores.size and scores.max() > 0 else 1.0
            chunk_pick += np.clip(scores, 0, None) / top
        candidates = np.flatnonzero(allowed & (fused > 0))
        candidates = candidates[np.argsort(-fused[candidates], kind="stable")][:k]
        terms = highlight_terms(q)
        hits = []
        starts = self.index.case_starts
        ends = np.r_[starts[1:], len(self.index.chunks)]
        for ci in candidates:
            row = starts[ci] + int(np.argmax(chunk_pick[starts[ci] : ends[ci]]))
            chunk = self.index.chunks[row]
            snippet, marks = make_snippet(chunk.text, terms)
            slug = self.index.case_order[ci]
            hits.append(Hit(self.index.cases[slug], float(fused[ci]), float(dense_case[ci]), float(bm25_case[ci]), chunk.section, snippet, marks))
        return hits


def _dense_index(vectors: np.ndarray, approx: bool):
    """Flat inner product, or IVF-Flat with √n clusters when ``approx``. nprobe is set so
    about 1/12 of the clusters are read: on the 10,000-case library this kept recall@10
    against flat above 0.95 (benchmarks/run.py, ann row)."""
    import faiss

    n, dim = vectors.shape
    if not approx or n < 2:
        flat = faiss.IndexFlatIP(dim)
        if n:
            flat.add(vectors)
        return flat
    nlist = max(1, int(np.sqrt(n)))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST  # faiss samples; its seed is fixed, so loads agree
    ivf.train(vectors)
    ivf.add(vectors)
    ivf.nprobe = max(8, nlist // 12)
    return ivf


def make_snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """A window of `text` around the first query term, with [start, end) offsets of every
    term occurrence inside it. Offsets, not markup: each face escapes and marks itself."""
    text = text.replace("\n", " ")
    norm = normalize(text) if len(normalize(text)) == len(text) else text
    first = min((i for i in (norm.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, min(first - width // 4, len(text) - width))
    end = min(len(text), start + width)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    window, nwindow = text[start:end], norm[start:end]
    marks: list[tuple[int, int]] = []
    taken = [False] * len(window)
    for t in terms:  # longest first, no overlaps
        pos = nwindow.find(t)
        while pos >= 0:
            if not any(taken[pos : pos + len(t)]):
                marks.append((pos + len(prefix), pos + len(prefix) + len(t)))
                for i in range(pos, pos + len(t)):
                    taken[i] = True
            pos = nwindow.find(t, pos + 1)
    marks.sort()
    return prefix + window + suffix, marks
