"""Retrieval quality on a YAML list of {q, relevant: [slug…]}: hit@1, hit@3 and MRR for
BM25 alone, dense alone and hybrid, from the same loaded index.

An item with ``relevant: []`` has no good case in the library: it does not count for the
hit rates, but for the no-match AUC, the probability that an answerable query's
confidence (what the weak/strong cut is applied to) beats an unanswerable one's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from search.errors import CaselibError
from search.retrieval.searcher import MODES


@dataclass
class ModeScores:
    mode: str
    hit1: float
    hit3: float
    mrr: float
    misses: list[tuple[str, list[str], list[str]]]  # (query, relevant, top-3 returned) where top-1 is wrong
    answerable: int = 0
    unanswerable: int = 0
    auc: float | None = None  # no-match AUC; None without unanswerable items


def load_queries(path: Path) -> list[dict]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise CaselibError(f"{path}: 无法读取评测集：{e} — 文件应为 YAML 列表，每项含 q 和 relevant") from e
    if not isinstance(data, list) or not all(isinstance(x, dict) and "q" in x and "relevant" in x for x in data):
        raise CaselibError(f"{path}: 评测集格式不对 — 应为列表，每项形如 {{q: 查询, relevant: [slug, …]}}")
    return data


def evaluate(searcher, queries: list[dict], modes=("bm25", "dense", "hybrid"), depth: int = 10) -> list[ModeScores]:
    known = set(searcher.index.cases)
    unknown = sorted({s for x in queries for s in x["relevant"]} - known)
    if unknown:
        raise CaselibError(f"评测集引用了索引中没有的案例：{', '.join(unknown)} — 检查 slug 拼写，或先运行 caselib index")
    out = []
    for mode in modes:
        assert mode in MODES
        hit1 = hit3 = rr = 0.0
        misses = []
        conf_yes: list[float] = []
        conf_no: list[float] = []
        for x in queries:
            result = searcher.search(str(x["q"]), k=depth, mode=mode)
            got = [h.record.slug for h in result.hits]
            relevant = set(x["relevant"])
            if not relevant:
                conf_no.append(result.confidence)
                continue
            conf_yes.append(result.confidence)
            rank = next((i + 1 for i, s in enumerate(got) if s in relevant), None)
            hit1 += rank == 1
            hit3 += rank is not None and rank <= 3
            rr += 1.0 / rank if rank else 0.0
            if rank != 1:
                misses.append((str(x["q"]), list(x["relevant"]), got[:3]))
        n = max(1, len(conf_yes))
        out.append(ModeScores(mode, hit1 / n, hit3 / n, rr / n, misses, len(conf_yes), len(conf_no),
                              no_match_auc(conf_yes, conf_no)))
    return out


def no_match_auc(answerable: list[float], unanswerable: list[float]) -> float | None:
    """P(an answerable query's confidence > an unanswerable one's), ties counting half."""
    if not answerable or not unanswerable:
        return None
    wins = sum((a > u) + 0.5 * (a == u) for a in answerable for u in unanswerable)
    return wins / (len(answerable) * len(unanswerable))
