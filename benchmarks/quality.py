"""Retrieval quality on the four query sets, and the latency of long texts, for the shipped
library: writes the quality section of docs/benchmarks.md (between its markers).

    .venv/bin/python benchmarks/quality.py

The same numbers as `caselib eval <the four files>`; the latency part is
benchmarks/long_queries.py's measurement (one inference thread, like the server).
"""

from __future__ import annotations

import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from long_queries import load_encoders, measure, pct  # noqa: E402
from run import QUALITY, QUERY_SETS, machine, write_section  # noqa: E402

PAGE = REPO / "docs" / "benchmarks.md"


def main() -> None:
    from search import pipeline
    from search.retrieval.evaluate import evaluate, load_queries
    from search.settings import load_settings

    settings = load_settings(REPO)
    encoder, clause, main_mb, clause_mb = load_encoders(settings)
    searcher = pipeline.open_searcher(settings, encoder=encoder, clause_encoder=clause)
    n_cases = len(searcher.index.cases)
    rows = []
    for name, path in QUERY_SETS.values():
        if not path.is_file():
            continue
        qs = load_queries(path)
        scores = {s.mode: s for s in evaluate(searcher, qs)}
        rows.append((name, qs, scores))
        print(name, {m: (round(s.hit1, 3), round(s.hit3, 3), round(s.mrr, 3), s.auc) for m, s in scores.items()}, flush=True)

    texts = [str(x["q"]) for x in yaml.safe_load(QUERY_SETS["real"][1].read_text(encoding="utf-8"))]
    one, method, whole, _ = measure(searcher, encoder, texts, 3)
    load = Path("/proc/loadavg").read_text().split()[0]

    def cell(s) -> str:
        return f"{s.hit1:.3f} / {s.hit3:.3f} / {s.mrr:.3f}"

    lines = [
        f"## 检索质量（现有 {n_cases} 个案例，`caselib eval`）", "",
        f"`benchmarks/quality.py` 生成（{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC，{machine()}；推理后端 {settings.backend}，1 个推理线程）。",
        "",
        "命令：`.venv/bin/caselib eval ../shared/eval/dev_queries.yaml benchmarks/heldout_queries.yaml "
        "benchmarks/test_queries.yaml benchmarks/real_queries.yaml benchmarks/real_queries_2.yaml`（本页这一节：`.venv/bin/python benchmarks/quality.py`）",
        "",
        "| 查询集 | 条数（无合适案例） | BM25 hit@1 / hit@3 / MRR | 向量 hit@1 / hit@3 / MRR | 混合 hit@1 / hit@3 / MRR | 无匹配 AUC（BM25 / 向量 / 混合） |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, qs, s in rows:
        none = s["hybrid"].unanswerable
        auc = " / ".join(f"{s[m].auc:.3f}" for m in ("bm25", "dense", "hybrid")) if none else "—"
        lines.append(f"| {name} | {len(qs)}（{none}） | {cell(s['bm25'])} | {cell(s['dense'])} | {cell(s['hybrid'])} | {auc} |")
    avg = statistics.mean(len(t) for t in texts)
    lines += [
        "",
        "- 命中率只算库里有合适案例的条目；`relevant: []` 的条目只进无匹配 AUC：能答的查询的置信度高于不能答的查询的概率。",
        "- 开发集用于调参；留出集一在选定 BM25 分词和融合权重时看过一次；测试集由另一人只根据案例目录编写，只用于报告。",
        "- 真实投诉文本：108 条公开网页上的投诉原文（新闻报道、投诉平台、论坛，各附来源地址），长、叙事、第三人称，"
        "截到投诉本身、不超过 300 字，其中 15 条库里没有合适的案例；只用来评测方法，从不用来写或改案例（收集说明见 `benchmarks/real_queries_notes.md`）。",
        "- 第二组真实投诉文本：62 条（15 条没有合适案例），与第一组不重复来源、小区和事件，是长文本的融合方式定下之后才收集的，"
        "没有用来调任何参数，是这套方法的独立检验（收集说明见 `benchmarks/real_queries_2_notes.md`）。",
        "- 长文本的融合方式（分句合并、分数相加）是在第一组上比较后选定的：分成两半看，"
        "两半里一致的只有“混合的 hit@3 高于向量”；hit@1 和 MRR 一半高、一半低，差别在噪声以内（比较见 `benchmarks/fusion_study.py`）。",
        "- 长文本只编码关键词证据最强的 3 个分句（每个分句的词在库里最匹配的片段的 BM25 分），用同一模型的 int8 量化版编码；"
        "整段和索引仍用原模型，weak 阈值比的仍是整段的余弦。这两步也是在第一组上选的（编码 2、3、4 个分句里取 3，和分句合并取的个数相同），"
        "第二组是选定后才看的；向量一列（只用向量）编码全部分句（也用 int8）。",
        "- 无匹配 AUC 只有 15 条不能答的文本：差一对名次就是 1/(能答条数×15)，第一组的 0.90 上下 0.01 在噪声以内。",
        "",
        f"### 长文本的查询延迟（真实投诉文本 {len(texts)} 条 × 3 遍，平均 {avg:.0f} 字，1 个推理线程，进程内）",
        "",
        "| 测的是什么 | p50（毫秒） | p95（毫秒） |",
        "| --- | --- | --- |",
        f"| 把整段编码一次 | {pct(one, 50):.1f} | {pct(one, 95):.1f} |",
        f"| 检索实际做的编码：整段一次（原模型），再把挑出的 3 个分句一批编码（int8） | {pct(method, 50):.1f} | {pct(method, 95):.1f} |",
        f"| 整个 `Searcher.search()`（繁简归一、分句、挑分句、编码、faiss、BM25、融合、片段） | {pct(whole, 50):.1f} | {pct(whole, 95):.1f} |",
        "",
        f"检索 p95 是“整段编码一次”p95 的 {pct(whole, 95) / pct(one, 95):.2f} 倍，是检索实际所做编码 p95 的 "
        f"{pct(whole, 95) / pct(method, 95):.2f} 倍：多出来的时间主要是分句的编码，其次是给每个分句打 BM25 分、挑出 3 个"
        f"（以前全部分句都用原模型编码时是 2.80 倍）。测量结束时 1 分钟平均负载 {load}。",
        "",
        f"内存：加载查询编码器（原模型）使进程常驻内存增加 {main_mb:.0f} MB，再加载分句用的 int8 编码器增加 {clause_mb:.0f} MB"
        "（两者共用一份分词器；`CASELIB_CLAUSE_ENCODER=same` 时不加载 int8 编码器）。",
    ]
    write_section(PAGE, QUALITY, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
