"""Latency of long complaint texts: query encoding alone against a whole in-process search.

    .venv/bin/python benchmarks/long_queries.py [--repeat 3]

For each text of benchmarks/real_queries.yaml (up to 300 characters) it times, on one
inference thread like the server: encoding the text once; the encoding a hybrid search
does (the text, then its strongest clauses in one batch); and the whole
`Searcher.search()` (normalise, split, pick clauses, encode, faiss, BM25, fusion,
snippets). Prints p50 and p95 of each and the ratio the issue asks about (search p95 /
encoding p95).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def rss_mb() -> float:
    """This process's resident memory (VmRSS), MB."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def load_encoders(settings):
    """The query encoder and the clause encoder on one inference thread, as served, and the
    resident memory each added when loaded (MB; each has encoded one text)."""
    from search import pipeline

    start = rss_mb()
    encoder = pipeline.load_encoder(settings, threads=1)
    encoder.encode_queries(["暖气不热"])
    loaded = rss_mb()
    clause = pipeline.load_clause_encoder(settings, threads=1)
    if clause is not None:
        clause.encode_queries(["暖气不热"])
    return encoder, clause, loaded - start, rss_mb() - loaded


def measure(searcher, encoder, texts: list[str], repeat: int):
    """Per text and repeat, in ms: encoding the text once; the encoding the searcher does
    (the text, then the clauses it picked as one batch); the whole search(). Plus each
    text's clause count and how many of them were encoded."""
    for t in texts[:5]:  # warm up
        searcher.search(t)
    one, method, whole, n_clauses = [], [], [], []
    for _ in range(repeat):
        for t in texts:
            s = searcher.score(t)  # which clauses a search encodes (untimed)
            q, encoded = s.query, s.encoded
            n_clauses.append((len(s.clauses), len(encoded)))
            t0 = time.perf_counter()
            encoder.encode_queries([q])
            t1 = time.perf_counter()
            encoder.encode_queries([q])
            if encoded:
                searcher.clause_encoder.encode_queries(encoded)
            t2 = time.perf_counter()
            searcher.search(t, k=5)
            t3 = time.perf_counter()
            one.append((t1 - t0) * 1000)
            method.append((t2 - t1) * 1000)
            whole.append((t3 - t2) * 1000)
    return one, method, whole, n_clauses


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from search import pipeline
    from search.settings import load_settings

    settings = load_settings(ROOT)
    encoder, clause, main_mb, clause_mb = load_encoders(settings)
    searcher = pipeline.open_searcher(settings, encoder=encoder, clause_encoder=clause)
    print(f"resident memory added: query encoder {main_mb:.0f} MB, clause encoder {clause_mb:.0f} MB")
    texts = [str(x["q"]) for x in yaml.safe_load((ROOT / "benchmarks" / "real_queries.yaml").read_text(encoding="utf-8"))]
    enc_one, enc_batch, search, n_clauses = measure(searcher, encoder, texts, args.repeat)
    print(f"{len(texts)} texts × {args.repeat}, {statistics.mean(len(t) for t in texts):.0f} characters on average, "
          f"{statistics.mean(c for c, _ in n_clauses):.1f} clauses on average, "
          f"{statistics.mean(e for _, e in n_clauses):.1f} of them encoded; backend {settings.backend}, 1 thread")
    for name, xs in (("encode the text once", enc_one), ("encode text, then the picked clauses", enc_batch),
                     ("whole search()", search)):
        print(f"{name:<36} p50 {pct(xs, 50):7.1f} ms   p95 {pct(xs, 95):7.1f} ms")
    print(f"search p95 / single-encoding p95: {pct(search, 95) / pct(enc_one, 95):.2f}")
    print(f"search p95 / text+clauses encoding p95: {pct(search, 95) / pct(enc_batch, 95):.2f}")


if __name__ == "__main__":
    main()
