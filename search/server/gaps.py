"""`caselib gaps`: what trainers should write next, from the local search log.

- frequent queries whose best match was weak (below the calibrated threshold) or empty;
- the categories agents search most (the filter they chose, else the top hit's category);
- results agents marked 有用 / 没用 on the search page.
No model is loaded: it reads the SQLite log and the index's case table only.
"""

from __future__ import annotations

import csv
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from search.errors import CaselibError
from search.settings import Settings


@dataclass
class GapReport:
    days: int
    searches: int
    # query, count, best slug, best score
    weak_queries: list[tuple[str, int, str | None, float | None]] = field(default_factory=list)
    categories: list[tuple[str, int]] = field(default_factory=list)
    # slug, title, 有用, 没用, queries marked 没用
    feedback: list[tuple[str, str, int, int, list[str]]] = field(default_factory=list)


def _key(q: str) -> str:
    from search.library.textnorm import normalize  # OpenCC only; no jieba

    return normalize(unicodedata.normalize("NFKC", q))


def gap_report(settings: Settings, days: int = 30, limit: int = 20) -> GapReport:
    from search.index.store import read_records
    from search.server.searchlog import SearchLog

    if settings.is_shared:
        from search.authoring.db import open_database
        from search.shared.log import SharedLog

        log = SharedLog(open_database(settings.db_url), buffer=False)
    elif not settings.log_path.exists():
        raise CaselibError(f"还没有检索记录（{settings.log_path}）— 坐席通过 caselib serve 的检索页检索后才会有；"
                           "如关闭了记录，设置 CASELIB_LOG_SEARCHES=true")
    else:
        log = SearchLog(settings.log_path)
    try:
        records = read_records(settings.index_path)
    except CaselibError:
        records = {}
    since = time.time() - days * 86400
    rows = log.searches_since(since)
    report = GapReport(days=days, searches=len(rows))
    weak: dict[str, list] = {}
    cats: Counter = Counter()
    for query, top_slug, top_score, is_weak, category in rows:
        cat = category or (records[top_slug].category if top_slug in records and not is_weak else None)
        if cat:
            cats[cat] += 1
        if is_weak:
            k = _key(query)
            entry = weak.setdefault(k, [query, 0, top_slug, top_score])
            entry[1] += 1
    report.weak_queries = sorted((tuple(v) for v in weak.values()), key=lambda r: (-r[1], r[0]))[:limit]
    report.categories = cats.most_common()
    fb = defaultdict(lambda: [0, 0, []])
    for query, slug, useful in log.feedback_since(since):
        entry = fb[slug]
        entry[0 if useful else 1] += 1
        if not useful and query not in entry[2]:
            entry[2].append(query)
    report.feedback = sorted(
        ((slug, records[slug].title if slug in records else slug, u, n, qs[:5]) for slug, (u, n, qs) in fb.items()),
        key=lambda r: (-r[3], -r[2], r[0]),
    )
    log.close()
    return report


def write_csv(report: GapReport, path: Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:  # utf-8-sig: Excel opens it correctly
        w = csv.writer(f)
        w.writerow(["类型", "内容", "次数", "最接近的案例", "相似度", "有用", "没用"])
        for q, n, slug, score in report.weak_queries:
            w.writerow(["没有好的匹配", q, n, slug or "", f"{score:.3f}" if score is not None else "", "", ""])
        for cat, n in report.categories:
            w.writerow(["检索最多的类别", cat, n, "", "", "", ""])
        for slug, title, u, n, _qs in report.feedback:
            w.writerow(["坐席反馈", title, u + n, slug, "", u, n])
