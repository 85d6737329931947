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
from typing import Literal

import numpy as np

from search.errors import QueryError
from search.index.records import CaseRecord
from search.index.store import Index
from search.library.textnorm import highlight_terms, normalize, tokenize

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


@dataclass
class Hit:
    record: CaseRecord
    score: float
    dense: float  # best chunk cosine (0 when not a dense candidate)
    bm25: float  # best chunk BM25 score
    section: str
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    weak: bool = False  # dense below the caller's calibrated cut: shown, marked 相似度低


@dataclass
class SearchResult:
    """What one search found. ``match`` is the weak/strong decision every face shows:
    "strong" (a close precedent first), "weak" (even the best hit is below the cut) or
    "none" (no hits). Serialised by search.server.schemas for the API and the CLI alike."""

    query: str
    took_ms: float
    hits: list[Hit]
    match: Literal["strong", "weak", "none"] = "none"


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
               tags: list[str] | None = None, mode: str = "hybrid", weak_below: float = 0.0) -> SearchResult:
        """``weak_below``: the calibrated cosine cut (Settings.weak_below); a hit whose best
        chunk is below it is marked weak, and so is the result when its first hit is. In
        bm25 mode there is no cosine, so nothing is marked weak."""
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
        cut = weak_below if mode != "bm25" else 0.0
        for h in hits:
            h.weak = h.dense < cut
        match = "none" if not hits else ("weak" if hits[0].weak else "strong")
        return SearchResult(query, (time.perf_counter() - t0) * 1000, hits, match)

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

    def _dense(self, q: str) -> tuple[np.ndarray, np.ndarray]:
        """(chunk rows, cosines) of the top candidates."""
        qv = self.encoder.encode_queries([q]).astype(np.float32)
        k = min(len(self.index.chunks), DENSE_CANDIDATES)
        scores, ids = self.faiss.search(qv, k)
        valid = ids[0] >= 0
        return ids[0][valid], scores[0][valid]

    def _bm25(self, q: str) -> tuple[np.ndarray, np.ndarray]:
        """(chunk rows, scores) of the chunks sharing a term with the query."""
        tokens = [t for t in tokenize(q) if t in self.index.bm25.vocab_dict]
        if not tokens:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores = self.index.bm25.get_scores(tokens)
        rows = np.flatnonzero(scores)
        return rows, scores[rows]

    def _fuse(self, q, dense, bm25, allowed, k) -> list[Hit]:
        """Reciprocal-rank fusion of the per-case best chunk of each side. Works on the
        sides' sparse candidates only (a few thousand chunks, not all 78,000 at 10,000
        cases): each side ranks the allowed cases it found by their best chunk (ties by
        case order), and contributes weight / (RRF_K + rank)."""
        n_chunks = len(self.index.chunks)
        fused = np.zeros(self.n_cases, dtype=np.float64)
        best_of = {}
        full = {}  # chunk scores of each side, for choosing the snippet
        for name, side in (("dense", dense), ("bm25", bm25)):
            if side is None:
                continue
            rows, vals = side
            top = float(vals.max()) if len(vals) and vals.max() > 0 else 1.0
            chunk_scores = np.zeros(n_chunks, dtype=np.float32)
            chunk_scores[rows] = np.clip(vals, 0, None) / top
            full[name] = chunk_scores
            floor = 0.0 if name == "bm25" else -1.0
            cases = self.index.chunk_case[rows]
            keep = allowed[cases] & (vals > floor)
            best = np.full(self.n_cases, -np.inf, dtype=np.float32)
            np.maximum.at(best, cases[keep], vals[keep])
            present = np.flatnonzero(np.isfinite(best))
            ranked = present[np.argsort(-best[present], kind="stable")]
            fused[ranked] += WEIGHTS[name] / (RRF_K + np.arange(1, len(ranked) + 1))
            best_of[name] = best
        candidates = np.flatnonzero(fused > 0)
        candidates = candidates[np.argsort(-fused[candidates], kind="stable")][:k]
        terms = highlight_terms(q)
        hits = []
        starts = self.index.case_starts
        ends = np.r_[starts[1:], n_chunks]
        for ci in candidates:
            a, b = starts[ci], ends[ci]
            pick = sum(f[a:b] for f in full.values())
            row = a + int(np.argmax(pick))
            chunk = self.index.chunks[row]
            snippet, marks = make_snippet(chunk.text, terms)
            slug = self.index.case_order[ci]
            scores = {name: float(best[ci]) if np.isfinite(best[ci]) else 0.0 for name, best in best_of.items()}
            hits.append(Hit(self.index.cases[slug], float(fused[ci]), scores.get("dense", 0.0), scores.get("bm25", 0.0),
                            chunk.section, snippet, marks))
        return hits


def _dense_index(vectors: np.ndarray, approx: bool):
    """Flat inner product, or IVF-Flat with √n clusters when ``approx``. A third of the
    clusters are read per query: on the 10,000-case library (278 clusters) reading 23 gave
    recall@10 0.944 but a different first case for 8% of queries; 92 give the same first
    case as flat at a third of flat's cost (benchmarks/run.py, ann section)."""
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
    ivf.nprobe = max(8, nlist // 3)
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
