"""Compare the embedded model's inference backends: torch, onnx, openvino, onnx-int8.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/backends.py            # all backends
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/backends.py --extra    # + OpenVINO bf16

Each backend is measured in its own fresh process (so RSS is that backend's alone), one
after the other, after the ONNX exports exist (they are made first, under the cache dir):

* load: seconds for ``load_encoder`` (export cached), RSS after load (VmRSS);
* query latency: one query per call, 20 warm-up calls, then 200 calls cycling through
  50 real queries (benchmarks/*_queries.yaml): median and p95;
* passage throughput: 200 chunks of ~150 characters (≤ 180) cut from cases/*.md, batch 32, after
  one warm-up batch; median chunks/s of 3 passes;
* equality with torch: cosine of the 50 query embeddings (min/mean) and of the 200 passage
  embeddings (min); top-1 agreement: for each query, is the best of the 200 chunks (by that
  backend's own query and passage embeddings) the same chunk torch picks.

The machine should be idle: the load average is printed with every row; numbers taken
with load > 1 on a 2-core machine are not comparable. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BACKENDS = ["torch", "onnx", "openvino", "onnx-int8"]
EXTRA = ["openvino-bf16"]
N_QUERIES = 50
N_CHUNKS = 200
CHUNK_CHARS = 180  # packing limit; the chunks average ~150 characters (~115 tokens)
LATENCY_RUNS = 200
WARMUP = 20
PASSES = 3


def default_cache_dir() -> Path:
    return Path(os.environ.get("CASELIB_CACHE_DIR") or Path.home() / ".cache" / "caselib")


# ------------------------------------------------------------------ data


def queries() -> list[str]:
    import yaml

    out: list[str] = []
    for name in ("test_queries.yaml", "heldout_queries.yaml"):
        items = yaml.safe_load((REPO / "benchmarks" / name).read_text(encoding="utf-8"))
        out += [it["q"] for it in items[: N_QUERIES // 2]]
    return out[:N_QUERIES]


def chunks() -> list[str]:
    """Plain text of the case files (front matter and Markdown removed), packed into pieces
    of at most CHUNK_CHARS characters; the first N_CHUNKS of at least 100 characters."""
    from search.index import _plain, _split

    out: list[str] = []
    for path in sorted((REPO / "cases").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
        out += [c for c in _split(_plain(text), limit=CHUNK_CHARS) if len(c) >= 100]
    if len(out) < N_CHUNKS:
        raise SystemExit(f"only {len(out)} chunks in cases/")
    return out[:N_CHUNKS]


# ------------------------------------------------------------------ one backend (worker)


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load(backend: str, cache_dir: Path):
    from search.encoder import OPENVINO, _intra_op_threads, load_encoder

    if backend == "openvino-bf16":  # benchmark only: OpenVINO's default precision on AMX CPUs
        import openvino as ov

        enc = load_encoder("embedded", cache_dir, backend=OPENVINO)
        config = {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": _intra_op_threads()}
        enc.session = ov.Core().compile_model(str(_onnx_path(cache_dir)), "CPU", config)
        enc.backend = backend
        return enc
    return load_encoder("embedded", cache_dir, backend=backend)


def _onnx_path(cache_dir: Path) -> Path:
    from search.encoder import ONNX_FILENAME, onnx_export_dirname

    return cache_dir / onnx_export_dirname("fp32") / ONNX_FILENAME


def worker(backend: str, cache_dir: Path, out: Path) -> None:
    qs, ps = queries(), chunks()
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    enc = _load(backend, cache_dir)
    load_s = time.perf_counter() - t0
    rss_load = _rss_mb()

    for i in range(WARMUP):
        enc.encode_queries([qs[i % len(qs)]])
    lat = []
    for i in range(LATENCY_RUNS):
        t = time.perf_counter()
        enc.encode_queries([qs[i % len(qs)]])
        lat.append(time.perf_counter() - t)

    enc.encode_passages(ps[:32])
    rates = []
    for _ in range(PASSES):
        t = time.perf_counter()
        pv = enc.encode_passages(ps)
        rates.append(len(ps) / (time.perf_counter() - t))

    qv = enc.encode_queries(qs)
    np.savez(out.with_suffix(".npz"), q=qv, p=pv)
    out.write_text(json.dumps({
        "backend": backend,
        "model_id": enc.model_id,
        "load_s": load_s,
        "rss_load_mb": rss_load,
        "rss_peak_mb": _rss_mb("VmHWM"),
        "q_median_ms": 1000 * float(np.median(lat)),
        "q_p95_ms": 1000 * float(np.percentile(lat, 95)),
        "passages_per_s": float(np.median(rates)),
        "loadavg": [load_before, os.getloadavg()[0]],
        "threads": int(os.environ.get("OMP_NUM_THREADS") or len(os.sched_getaffinity(0))),
    }))  # fmt: skip


# ------------------------------------------------------------------ orchestration


def prepare(backends: list[str], cache_dir: Path) -> None:
    """Make the embedded model and the ONNX exports (once; not part of any timing)."""
    from search.embedded_model import ensure_embedded_model
    from search.encoder import ensure_onnx_export

    path = ensure_embedded_model(cache_dir)
    if any(b != "torch" for b in backends):
        ensure_onnx_export(cache_dir, path, "fp32")
    if "onnx-int8" in backends:
        ensure_onnx_export(cache_dir, path, "int8")


def compare(ref: dict, got: dict) -> dict:
    q_cos = (ref["q"].astype(np.float64) * got["q"]).sum(1)
    p_cos = (ref["p"].astype(np.float64) * got["p"]).sum(1)
    top_ref = (ref["q"] @ ref["p"].T).argmax(1)
    top_got = (got["q"] @ got["p"].T).argmax(1)
    return {
        "q_cos_min": float(q_cos.min()),
        "q_cos_mean": float(q_cos.mean()),
        "p_cos_min": float(p_cos.min()),
        "top1": f"{int((top_ref == top_got).sum())}/{len(top_ref)}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated; torch is always measured first")
    ap.add_argument("--extra", action="store_true", help="also OpenVINO with bf16 inference precision")
    ap.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    if args.worker:
        worker(args.worker, args.cache_dir, args.out)
        return

    backends = ["torch"] + [b for b in args.backends.split(",") if b and b != "torch"] + (EXTRA if args.extra else [])
    prepare(backends, args.cache_dir)
    results = []
    with tempfile.TemporaryDirectory(prefix="caselib-backends-") as tmp:
        for b in backends:
            out = Path(tmp) / f"{b}.json"
            print(f"measuring {b} (load average {os.getloadavg()[0]:.2f}) …", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, __file__, "--worker", b, "--out", str(out), "--cache-dir", str(args.cache_dir)], check=True)
            r = json.loads(out.read_text())
            r["emb"] = dict(np.load(out.with_suffix(".npz")))
            results.append(r)
    ref = results[0]["emb"]
    base_q, base_p = results[0]["q_median_ms"], results[0]["passages_per_s"]

    print(f"{N_QUERIES} queries, {N_CHUNKS} chunks of ≤{CHUNK_CHARS} chars, {results[0]['threads']} threads, {os.cpu_count()} CPUs\n")
    print("| backend | load s | RSS after load MB | query median ms | query p95 ms | passages/s | cos vs torch: queries min / mean | passages min | top-1 = torch | model_id | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = compare(ref, r["emb"])
        same = "same" if r["model_id"] == results[0]["model_id"] else r["model_id"].split(":")[-1][:12]
        print(
            f"| {r['backend']} | {r['load_s']:.1f} | {r['rss_load_mb']:.0f} | {r['q_median_ms']:.2f} ({base_q / r['q_median_ms']:.2f}×)"
            f" | {r['q_p95_ms']:.2f} | {r['passages_per_s']:.1f} ({r['passages_per_s'] / base_p:.2f}×)"
            f" | {c['q_cos_min']:.7f} / {c['q_cos_mean']:.7f} | {c['p_cos_min']:.7f} | {c['top1']} | {same}"
            f" | {r['loadavg'][0]:.2f}→{r['loadavg'][1]:.2f} |"
        )


if __name__ == "__main__":
    main()
