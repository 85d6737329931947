"""Which retrieval method holds on long, narrative complaint texts? The study behind
search/retrieval/fusion.py.

    .venv/bin/python benchmarks/fusion_study.py [--sets dev,heldout,test,real] [--halves]

For every query it computes once the dense cosine of the text (and of each clause) against
every chunk and the BM25 score of every chunk, then scores each method from those arrays.
Prints hit@1 / hit@3 / MRR per method and set, and for sets with `relevant: []` items the
no-match AUC of several confidence measures. ``--halves`` repeats the real set's table on
its even and odd items, to see which differences survive a split.

"shipped" is `Searcher.search()` itself (what `caselib eval` reports); the rest are the
alternatives that were measured and kept or dropped (docs/benchmarks.md, the closing note).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import QUERY_SETS  # noqa: E402

# the narrative words every retold complaint shares (tried as BM25 stop words; dropped)
NARRATIVE = set("记者 反映 表示 居民 市民 先生 女士 小姐 称 昨日 日前 近日 今年 去年 目前 已经 一直 发现 情况 问题 时候 时间 "
                "电话 告诉 介绍 采访 本报 网友 投诉 随后 当时 后来 之后 多次 希望 要求 相关 负责人 工作人员 这位 该 小区 业主 "
                "物业 公司 物业公司 管理 服务".split())


def auc(pos: list[float], neg: list[float]) -> float:
    p, n = np.array(pos)[:, None], np.array(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="dev,heldout,test,real")
    ap.add_argument("--halves", action="store_true")
    args = ap.parse_args()

    from search import pipeline
    from search.library.textnorm import normalize, tokenize
    from search.retrieval import fusion
    from search.retrieval.clauses import split_clauses
    from search.settings import load_settings

    searcher = pipeline.open_searcher(load_settings(ROOT))
    index, enc = searcher.index, searcher.encoder
    V = np.asarray(index.vectors, dtype=np.float32)
    cc, n = index.chunk_case, len(index.case_order)

    def per_case(chunk_scores, floor=None):
        best = np.full(n, -np.inf)
        keep = np.ones(len(chunk_scores), bool) if floor is None else chunk_scores > floor
        np.maximum.at(best, cc[keep], chunk_scores[keep])
        return best

    def bm25_case(tokens):
        tokens = [t for t in tokens if t in index.bm25.vocab_dict]
        return per_case(index.bm25.get_scores(tokens), floor=0.0) if tokens else np.full(n, -np.inf)

    def share(b):
        top = b[np.isfinite(b)].max() if np.isfinite(b).any() else 0
        return np.where(np.isfinite(b), b / top, 0.0) if top > 0 else np.zeros(n)

    def pooled(d, clause_cases, top, whole):
        s = np.sort(clause_cases, axis=0)[::-1][: min(top, len(clause_cases))].mean(axis=0)
        return whole * d + (1 - whole) * s

    def methods(x):
        q = normalize(str(x["q"]))
        clauses = split_clauses(q)
        long = len(clauses) > 1
        d = per_case(V @ enc.encode_queries([q])[0])
        cl = np.stack([per_case(V @ v) for v in enc.encode_queries(clauses)]) if long else d[None, :]
        toks = tokenize(q)
        b = bm25_case(toks)
        b_narr = bm25_case([t for t in dict.fromkeys(toks) if t not in NARRATIVE])
        r = searcher.search(str(x["q"]), k=10)
        shipped = np.full(n, -np.inf)
        for i, h in enumerate(r.hits):
            shipped[index.case_order.index(h.record.slug)] = 10 - i
        rrf = fusion.rrf(d, 1.0) + fusion.rrf(b, 0.5)
        out = {
            "bm25 alone": b,
            "dense alone (whole text)": d,
            "before: RRF dense 1 + BM25 0.5": rrf,
            "shipped (caselib eval hybrid)": shipped,
            "RRF, BM25 0.25 past 40 chars (dropped)": fusion.rrf(d, 1.0) + fusion.rrf(b, 0.5 if len(q) <= 40 else 0.25),
            "RRF, narrative stop words (dropped)": fusion.rrf(d, 1.0) + fusion.rrf(b_narr, 0.5),
        }
        if long:
            out["whole text + 0.03 BM25 share (no clauses)"] = d + 0.03 * share(b)
            for top, whole in ((2, 0.5), (3, 0.5), (4, 0.5), (3, 0.3)):
                out[f"pool {top} clauses, whole {whole} + 0.03 BM25"] = pooled(d, cl, top, whole) + 0.03 * share(b)
        else:
            out["whole text + 0.03 BM25 share (no clauses)"] = rrf
            for top, whole in ((2, 0.5), (3, 0.5), (4, 0.5), (3, 0.3)):
                out[f"pool {top} clauses, whole {whole} + 0.03 BM25"] = rrf
        agree_any = np.isfinite(b).any() and 0 < fusion.ranks(d)[int(np.argmax(b))] <= 3
        first = int(np.argmax(np.where(np.isfinite(shipped), shipped, -1e9))) if r.hits else 0
        agree_first = 0 < fusion.ranks(d)[first] <= 3 and 0 < fusion.ranks(b)[first] <= 3
        conf = {
            "top cosine": d.max(),
            "top cosine + 0.01 if BM25's first is in dense's top 3 (whole-text ranks)": d.max() + 0.01 * agree_any,
            "top cosine + 0.01 if the first hit is in both top 3s (dropped)": d.max() + 0.01 * agree_first,
            "top cosine minus the library mean (dropped)": d.max() - d.mean(),
            "best clause cosine (dropped)": cl.max(),
            "shipped result.confidence (the same, on the dense side's ranks)": r.confidence,
        }
        return out, conf

    def table(name, items):
        answerable = [x for x in items if x["relevant"]]
        stats, confs = {}, {}
        for x in items:
            ms, cs = x["_m"]
            for k, v in cs.items():
                confs.setdefault(k, ([], []))[0 if x["relevant"] else 1].append(float(v))
            if not x["relevant"]:
                continue
            for m, scores in ms.items():
                order = [index.case_order[i] for i in np.argsort(-scores, kind="stable")[:10] if np.isfinite(scores[i])]
                rank = next((i + 1 for i, s in enumerate(order) if s in set(x["relevant"])), None)
                s = stats.setdefault(m, [0, 0, 0.0])
                s[0] += rank == 1
                s[1] += rank is not None and rank <= 3
                s[2] += 1 / rank if rank else 0
        k = max(1, len(answerable))
        print(f"\n{name}: {len(items)} items, {len(items) - len(answerable)} without a good case")
        print(f"{'method':<52}{'hit@1':>7}{'hit@3':>7}{'MRR':>7}")
        for m, (h1, h3, rr) in stats.items():
            print(f"{m:<52}{h1 / k:>7.3f}{h3 / k:>7.3f}{rr / k:>7.3f}")
        if len(answerable) < len(items):
            for c, (pos, neg) in confs.items():
                print(f"  no-match AUC, {c}: {auc(pos, neg):.3f}")

    for name in args.sets.split(","):
        path = QUERY_SETS[name][1]
        if not path.is_file():
            print(f"{name}: no file at {path}")
            continue
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        for x in items:
            x["_m"] = methods(x)
        table(name, items)
        if args.halves and name.startswith("real"):
            table(f"{name}, even items", items[0::2])
            table(f"{name}, odd items", items[1::2])


if __name__ == "__main__":
    main()
