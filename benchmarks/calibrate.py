"""Calibrate the "no good match" threshold for the configured model: the best match's
dense cosine for in-domain queries (the query sets) vs off-topic questions.

    .venv/bin/python benchmarks/calibrate.py      # prints both distributions and a suggested cut

Set the result as CASELIB_WEAK_THRESHOLD (or weak_threshold in caselib.toml) when you use
a model other than the embedded default.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from search import pipeline  # noqa: E402
from search.settings import load_settings  # noqa: E402

OFF_TOPIC = [
    "今天股票涨了吗", "帮我写一首关于春天的诗", "火锅怎么做好吃", "明天北京天气怎么样", "我想买一台笔记本电脑",
    "足球比赛几点开始", "你好", "我家猫不吃饭怎么办", "孩子考试没考好", "办护照需要什么材料", "高铁票怎么退",
    "推荐一部电影", "怎么减肥最快", "手机屏幕碎了去哪修", "银行卡密码忘了", "英语四级怎么复习",
]


def main() -> None:
    s = pipeline.open_searcher(load_settings(REPO))
    sets = [REPO.parent / "shared" / "eval" / "dev_queries.yaml", REPO / "benchmarks" / "heldout_queries.yaml", REPO / "benchmarks" / "test_queries.yaml"]
    inside = [s.search(x["q"], k=1).hits[0].dense for f in sets if f.is_file() for x in yaml.safe_load(f.read_text(encoding="utf-8"))]
    outside = [s.search(q, k=1).hits[0].dense for q in OFF_TOPIC]
    print(f"in-domain  n={len(inside)}  min {min(inside):.3f}  p5 {np.percentile(inside, 5):.3f}  median {np.median(inside):.3f}")
    print(f"off-topic  n={len(outside)}  max {max(outside):.3f}  p95 {np.percentile(outside, 95):.3f}  median {np.median(outside):.3f}")
    cut = (np.percentile(inside, 5) + max(outside)) / 2
    print(f"suggested CASELIB_WEAK_THRESHOLD ≈ {cut:.3f} (in-domain below it are shown as 相似度低, never hidden)")


if __name__ == "__main__":
    main()
