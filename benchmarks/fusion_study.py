"""Which retrieval method holds on long, narrative complaint texts? An offline study.

For every query of every set it computes once the dense cosine of the query (and of each of
its clauses) against every chunk, and the BM25 score of every chunk, then scores methods
from those arrays: no re-encoding per method, so trying an idea costs seconds.

    .venv/bin/python benchmarks/fusion_study.py [--sets dev,heldout,test,real]

Prints hit@1 / hit@3 / MRR per method and set, and the no-match AUC on sets with `[]`
answers. The shipped method is whatever `search/retrieval/` does; this script is how its
settings were chosen (docs/benchmarks.md quotes the table).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = {
    "dev": ROOT.parent / "shared" / "eval" / "dev_queries.yaml",
    "heldout": ROOT / "benchmarks" / "heldout_queries.yaml",
    "test": ROOT / "benchmarks" / "test_queries.yaml",
    "real": ROOT / "benchmarks" / "real_queries.yaml",
}


def rrf(scores: np.ndarray, k: int = 60) -> np.ndarray:
    """Per-case scores → reciprocal-rank contributions (0 where score is -inf)."""
    out = np.zeros_like(scores, dtype=np.float64)
    present = np.flatnonzero(np.isfinite(scores))
    order = present[np.argsort(-scores[present], kind="stable")]
    out[order] = 1.0 / (k + np.arange(1, len(order) + 1))
    return out


def case_max(chunk_scores: np.ndarray, chunk_case: np.ndarray, n_cases: int, floor: float | None = None) -> np.ndarray:
    best = np.full(n_cases, -np.inf)
    keep = np.ones(len(chunk_scores), bool) if floor is None else chunk_scores > floor
    np.maximum.at(best, chunk_case[keep], chunk_scores[keep])
    return best


def auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    p, n = np.array(pos)[:, None], np.array(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def load(name: str) -> list[dict]:
    path = SETS[name]
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="dev,heldout,test,real")
    args = ap.parse_args()

    from search import pipeline
    from search.library.textnorm import normalize, tokenize
    from search.retrieval.clauses import split_clauses
    from search.settings import load_settings

    settings = load_settings(ROOT)
    searcher = pipeline.open_searcher(settings)
    index, enc = searcher.index, searcher.encoder
    V = np.asarray(index.vectors, dtype=np.float32)
    cc = index.chunk_case
    n = len(index.case_order)
    slugs = index.case_order
    owner = np.array([c.section == "业主常说" for c in index.chunks])

    def features(q: str) -> dict:
        qn = normalize(q)
        dense = V @ enc.encode_queries([qn])[0]
        clauses = split_clauses(qn)
        cl = V @ enc.encode_queries(clauses).T if len(clauses) > 1 else dense[:, None]
        toks = [t for t in tokenize(qn) if t in index.bm25.vocab_dict]
        bm = index.bm25.get_scores(toks) if toks else np.zeros(len(index.chunks))
        return {"len": len(qn), "dense": dense, "clauses": cl, "bm25": bm}

    def methods(f: dict) -> dict[str, tuple[np.ndarray, float]]:
        """method name -> (per-case scores, confidence for the no-match decision)."""
        d = case_max(f["dense"], cc, n)
        b = case_max(f["bm25"], cc, n, floor=0.0)
        per_clause = np.stack([case_max(f["clauses"][:, j], cc, n) for j in range(f["clauses"].shape[1])])
        srt = np.sort(per_clause, axis=0)[::-1]
        top2 = srt[: min(2, len(srt))].mean(axis=0)
        top3 = srt[: min(3, len(srt))].mean(axis=0)
        pooled = 0.5 * d + 0.5 * top3
        pooled2 = 0.5 * d + 0.5 * top2
        long = f["len"] > 40
        out = {
            "bm25": (b, d.max()),
            "dense": (d, d.max()),
            "hybrid (shipped: dense + 0.5 bm25 RRF)": (rrf(d) + 0.5 * rrf(b), d.max()),
            "clause-pooled dense (top3)": (pooled, pooled.max()),
            "clause-pooled dense (top2)": (pooled2, pooled2.max()),
        }
        for w_long in (0.25, 0.0):
            w = 0.5 if not long else w_long
            out[f"adaptive: bm25 {w_long} past 40 chars"] = (rrf(d) + w * rrf(b), d.max())
        for w_long in (0.5, 0.25):
            w = 0.5 if not long else w_long
            dd = pooled if long else d
            out[f"clause-pooled + bm25 {w_long} (long)"] = (rrf(dd) + w * rrf(b), dd.max())
        body = case_max(np.where(owner, -np.inf, f["dense"]), cc, n)
        for delta in (0.01, 0.02, 0.04):
            dd = case_max(np.where(owner, f["dense"] - delta, f["dense"]), cc, n)
            out[f"dense, owner chunks -{delta}; + bm25 0.5"] = (rrf(dd) + 0.5 * rrf(b), dd.max())
        out["dense w/o owner chunks; + bm25 0.5"] = (rrf(body) + 0.5 * rrf(b), body.max())
        out["dense w/o owner chunks"] = (body, body.max())
        # agreement: BM25 counts only when its top case is among dense's top 3
        agree = np.argmax(b) in np.argsort(-d)[:3] if np.isfinite(b).any() else False
        dd = pooled if long else d
        out["clause-pooled + bm25 0.5 if agree else 0.1"] = (rrf(dd) + (0.5 if agree else 0.1) * rrf(b), dd.max())
        return out

    for name in args.sets.split(","):
        queries = load(name)
        if not queries:
            print(f"{name}: no file at {SETS[name]}")
            continue
        stats: dict[str, list] = {}
        tops: dict[str, tuple[list, list]] = {}
        for x in queries:
            f = features(str(x["q"]))
            rel = set(x["relevant"])
            for m, (scores, conf) in methods(f).items():
                order = [slugs[i] for i in np.argsort(-scores, kind="stable")[:10] if np.isfinite(scores[i])]
                rank = next((i + 1 for i, s in enumerate(order) if s in rel), None)
                s = stats.setdefault(m, [0, 0, 0.0, 0])
                if rel:
                    s[0] += rank == 1
                    s[1] += rank is not None and rank <= 3
                    s[2] += 1 / rank if rank else 0
                    s[3] += 1
                tops.setdefault(m, ([], []))[0 if rel else 1].append(float(conf))
        print(f"\n{name} ({len(queries)} queries, {sum(1 for x in queries if not x['relevant'])} without a good case)")
        print(f"{'method':<48}{'hit@1':>7}{'hit@3':>7}{'MRR':>7}{'AUC':>7}")
        for m, (h1, h3, rr, k) in stats.items():
            pos, neg = tops[m]
            a = f"{auc(pos, neg):>7.3f}" if neg else "      -"
            print(f"{m:<48}{h1 / k:>7.3f}{h3 / k:>7.3f}{rr / k:>7.3f}{a}")


if __name__ == "__main__":
    main()
