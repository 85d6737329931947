"""Does batching queries make encoding cheaper on this CPU? (It decides what a busy server
can gain from micro-batching, and so the throughput bound in docs/scaling.md.)

    .venv/bin/python benchmarks/encode_batch.py            # default backend, 1 and 2 threads

Prints the median time per batch and per query for batch sizes 1, 4, 8 and 16, each query
a distinct string (no cache anywhere on this path).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    from search.models import load_encoder
    from search.settings import load_settings

    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--sizes", default="1,4,8,16")
    ap.add_argument("--backend", default=None, help="默认用设置里的（auto）")
    args = ap.parse_args()
    settings = load_settings(REPO, env={})
    qs = [q["q"] for q in yaml.safe_load((REPO / "benchmarks" / "test_queries.yaml").read_text(encoding="utf-8"))]
    for threads in (int(x) for x in args.threads.split(",")):
        enc = load_encoder(settings.model, settings.cache_dir, backend=args.backend or settings.backend, threads=threads)
        enc.encode_queries(qs[:4])  # warm-up
        for size in (int(x) for x in args.sizes.split(",")):
            times = []
            for start in range(0, len(qs) - size + 1, size):
                batch = [f"{q}（{start}）" for q in qs[start : start + size]]
                t0 = time.perf_counter()
                enc.encode_queries(batch)
                times.append((time.perf_counter() - t0) * 1000)
            med = float(np.median(times))
            print(f"{getattr(enc, 'backend', 'torch')} 线程 {threads} 批大小 {size:>2}：每批 {med:6.1f} 毫秒，每条 {med / size:5.1f} 毫秒（{len(times)} 批）")


if __name__ == "__main__":
    main()
