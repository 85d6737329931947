"""How the two sides' per-case scores become one ranking, and how sure the result is.

Every function here works on per-case arrays (one float per case of the library, -inf
where a side did not find the case), so the searcher and the explain view share them.

Measured with benchmarks/fusion_study.py (docs/benchmarks.md has the table):
- A short query (one clause, what an agent types) ranks by reciprocal-rank fusion: dense at
  full weight, BM25 at half weight, so exact terms break ties but do not overrule.
- A long text (several clauses: an owner's message, a complaint letter, a news story) ranks
  by the dense score pooled over its clauses plus a small share of BM25 scaled to its best
  case. On such texts RRF gave BM25's noisy long-query ranking a full rank's say and fell
  below dense alone; a score sum keeps dense's margins and lets BM25 nudge close calls.
- Confidence (for the weak/strong decision) is the first case's cosine, plus a small bonus
  when both sides put that case near the top: agreement of two independent retrievers is
  the best no-match signal measured (AUC 0.825 → 0.88 on the real-text set).
"""

from __future__ import annotations

import numpy as np

RRF_K = 60  # the usual constant; larger flattens rank differences
WEIGHTS = {"dense": 1.0, "bm25": 0.5}  # short queries
LONG_BM25_WEIGHT = 0.03  # long texts: share of BM25 (scaled to its best case) added to dense
CLAUSE_POOL = 3  # long texts: the case's mean score over its best clauses …
WHOLE_SHARE = 0.5  # … half-and-half with the whole text's score
AGREE_TOP = 3  # "near the top" for the agreement bonus
AGREE_BONUS = 0.01  # cosine points; the weak cut stays the one calibrated for cosines

MISSING = -np.inf


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each case by score (ties by case order); 0 where the score is -inf."""
    out = np.zeros(len(scores), dtype=np.int64)
    present = np.flatnonzero(np.isfinite(scores))
    order = present[np.argsort(-scores[present], kind="stable")]
    out[order] = np.arange(1, len(order) + 1)
    return out


def rrf(scores: np.ndarray, weight: float) -> np.ndarray:
    r = ranks(scores)
    return np.where(r > 0, weight / (RRF_K + r), 0.0)


def pool_clauses(whole: np.ndarray, clauses: np.ndarray) -> np.ndarray:
    """Half the whole text's case score, half the mean of the case's best CLAUSE_POOL
    clause scores. ``clauses`` is (n clauses × n cases); a case a clause's candidates
    missed counts at that clause's lowest candidate score (an upper bound)."""
    filled = clauses.copy()
    for row in filled:
        finite = np.isfinite(row)
        row[~finite] = row[finite].min() if finite.any() else 0.0
    top = np.sort(filled, axis=0)[::-1][: min(CLAUSE_POOL, len(filled))].mean(axis=0)
    return np.where(np.isfinite(whole), WHOLE_SHARE * whole + (1 - WHOLE_SHARE) * top, MISSING)


def fuse(dense: np.ndarray | None, bm25: np.ndarray | None, long: bool) -> np.ndarray:
    """Per-case fused scores (-inf for cases neither side found)."""
    if bm25 is None:
        return dense
    if dense is None:
        return bm25
    if not long:
        fused = rrf(dense, WEIGHTS["dense"]) + rrf(bm25, WEIGHTS["bm25"])
        return np.where(fused > 0, fused, MISSING)
    top = bm25[np.isfinite(bm25)].max() if np.isfinite(bm25).any() else 0.0
    share = np.where(np.isfinite(bm25), bm25 / top, 0.0) if top > 0 else np.zeros(len(bm25))
    floor = dense[np.isfinite(dense)].min() if np.isfinite(dense).any() else 0.0
    base = np.where(np.isfinite(dense), dense, np.where(np.isfinite(bm25), floor, MISSING))
    return base + LONG_BM25_WEIGHT * share


def agree(dense: np.ndarray | None, bm25: np.ndarray | None) -> bool:
    """The two sides agree: BM25's first case is among dense's first AGREE_TOP."""
    if dense is None or bm25 is None or not np.isfinite(bm25).any():
        return False
    return 0 < ranks(dense)[int(np.argmax(bm25))] <= AGREE_TOP


def confidence(cosine: float, agreed: bool) -> float:
    return cosine + (AGREE_BONUS if agreed else 0.0)
