"""Compare the embedded model's inference backends: torch, onnx, openvino, onnx-int8.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/backends.py                # all backends
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/backends.py --rounds 2 --extra
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/backends.py --backends onnx

``--extra`` adds two variants that are not backends of load_encoder: OpenVINO with bf16
inference precision (its default on CPUs with AMX/AVX512-BF16) and the ONNX graph after
onnxruntime's transformer fusions (Attention, SkipLayerNorm, BiasGelu; roughly optimum's
O2), written to a temporary directory.

Each backend is measured in its own fresh process (so RSS is that backend's alone), one
after the other, after the ONNX exports exist (they are made first, under the cache dir):

* load: seconds for ``load_encoder`` (export cached), RSS after load (VmRSS) and peak
  (VmHWM, at the end);
* query latency: one query per call, 20 warm-up calls, then 200 calls cycling through
  50 real queries (benchmarks/*_queries.yaml): median and p95;
* passage throughput: 200 chunks of ~150 characters (≤ 180) cut from cases/*.md, batch 32, after
  one warm-up batch; median chunks/s of 3 passes;
* equality with torch: cosine of the 50 query embeddings (min/mean) and of the 200 passage
  embeddings (min); the largest change of any query–chunk score (50 × 200); top-1
  agreement: for each query, is the best of the 200 chunks (by that backend's own query and
  passage embeddings) the same chunk torch picks, and is it from the same case.

The machine should be idle: before each measurement the script waits (``--wait-idle``
seconds at most) until other processes use < 0.15 cores, and every row shows how many
cores other processes used while it ran (from /proc/stat minus our own children); rows
well above 0 are not comparable. ``--rounds N`` repeats everything and keeps each
backend's quietest round. Prints a Markdown table.
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
EXTRA = ["openvino-bf16", "onnx-fused"]
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


def chunks_with_cases() -> list[tuple[str, str]]:
    """(case slug, text): plain text of the case files (front matter and Markdown removed),
    packed into pieces of at most CHUNK_CHARS characters; the first N_CHUNKS of at least
    100 characters."""
    from search.index.records import _plain, _split

    out: list[tuple[str, str]] = []
    for path in sorted((REPO / "cases").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
        out += [(path.stem, c) for c in _split(_plain(text), limit=CHUNK_CHARS) if len(c) >= 100]
    if len(out) < N_CHUNKS:
        raise SystemExit(f"only {len(out)} chunks in cases/")
    return out[:N_CHUNKS]


def chunks() -> list[str]:
    return [text for _, text in chunks_with_cases()]


# ------------------------------------------------------------------ one backend (worker)


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load(backend: str, cache_dir: Path, fused: Path | None = None):
    from search.models import load_encoder
    from search.models.base import OPENVINO
    from search.models.onnx import OnnxEncoder
    from search.models.runtime import intra_op_threads as _intra_op_threads

    if backend == "openvino-bf16":  # benchmark only: OpenVINO's default precision on AMX CPUs
        import openvino as ov

        enc = load_encoder("embedded", cache_dir, backend=OPENVINO)
        config = {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": _intra_op_threads()}
        enc.session = ov.Core().compile_model(str(_onnx_path(cache_dir)), "CPU", config)
        enc.backend = backend
        return enc
    if backend == "onnx-fused":
        from search.models.embedded import embedded_model_id, ensure_embedded_model
        from search.models.spec import PASSAGE_PROMPT, QUERY_PROMPT

        model_dir = ensure_embedded_model(cache_dir)
        return OnnxEncoder(fused, model_dir, embedded_model_id(model_dir), QUERY_PROMPT, PASSAGE_PROMPT, backend=backend)
    return load_encoder("embedded", cache_dir, backend=backend)


def _onnx_path(cache_dir: Path) -> Path:
    from search.models.onnx_export import ONNX_FILENAME, onnx_export_dirname

    return cache_dir / onnx_export_dirname("fp32") / ONNX_FILENAME


def worker(backend: str, cache_dir: Path, out: Path) -> None:
    qs, ps = queries(), chunks()
    t0 = time.perf_counter()
    enc = _load(backend, cache_dir, out.parent / "fused" / "model.onnx")
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
        "threads": int(os.environ.get("OMP_NUM_THREADS") or len(os.sched_getaffinity(0))),
    }))  # fmt: skip


# ------------------------------------------------------------------ orchestration


def prepare(backends: list[str], cache_dir: Path, tmp: Path) -> None:
    """Make the embedded model and the ONNX exports (once; not part of any timing), and the
    fused graph for ``onnx-fused`` in ``tmp``."""
    from search.models.embedded import ensure_embedded_model
    from search.models.onnx_export import ensure_onnx_export

    path = ensure_embedded_model(cache_dir)
    if any(b != "torch" for b in backends):
        ensure_onnx_export(cache_dir, path, "fp32")
    if "onnx-int8" in backends:
        ensure_onnx_export(cache_dir, path, "int8")
    if "onnx-fused" in backends:
        from onnxruntime.transformers.optimizer import optimize_model

        (tmp / "fused").mkdir()
        m = optimize_model(str(_onnx_path(cache_dir)), model_type="bert", num_heads=12, hidden_size=384, opt_level=1)
        m.save_model_to_file(str(tmp / "fused" / "model.onnx"), use_external_data_format=True)


def compare(ref: dict, got: dict, slugs: list[str]) -> dict:
    q_cos = (ref["q"].astype(np.float64) * got["q"]).sum(1)
    p_cos = (ref["p"].astype(np.float64) * got["p"]).sum(1)
    s_ref = ref["q"].astype(np.float64) @ ref["p"].T
    s_got = got["q"].astype(np.float64) @ got["p"].T
    top_ref, top_got = s_ref.argmax(1), s_got.argmax(1)
    case_ref = [slugs[i] for i in top_ref]
    case_got = [slugs[i] for i in top_got]
    return {
        "q_cos_min": float(q_cos.min()),
        "q_cos_mean": float(q_cos.mean()),
        "p_cos_min": float(p_cos.min()),
        "score_diff": float(np.abs(s_ref - s_got).max()),  # query–chunk similarity, all pairs
        "top1": f"{int((top_ref == top_got).sum())}/{len(top_ref)}",
        "top1_case": f"{sum(a == b for a, b in zip(case_ref, case_got, strict=True))}/{len(case_ref)}",
    }


# ------------------------------------------------------------------ how idle the machine was


def _busy_seconds() -> float:
    """CPU seconds spent by everything on the machine (all non-idle time in /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_seconds() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wait_idle(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (up to max_wait s) for a 2-second window in which other processes use less than
    ``threshold`` cores; returns the last window's value."""
    deadline = time.monotonic() + max_wait
    while True:
        b0 = _busy_seconds()
        time.sleep(2)
        others = (_busy_seconds() - b0) / 2
        if others < threshold or time.monotonic() > deadline:
            return others
        print(f"  waiting for an idle machine (others use {others:.2f} cores) …", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated; torch is always measured first")
    ap.add_argument("--extra", action="store_true", help="also OpenVINO with bf16 inference precision")
    ap.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    ap.add_argument("--rounds", type=int, default=1, help="measure every backend this often; report each one's quietest round")
    ap.add_argument("--wait-idle", type=float, default=120, help="seconds to wait for an idle machine before each measurement")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    if args.worker:
        worker(args.worker, args.cache_dir, args.out)
        return

    backends = ["torch"] + [b for b in args.backends.split(",") if b and b != "torch"] + (EXTRA if args.extra else [])
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="caselib-backends-") as tmp:
        prepare(backends, args.cache_dir, Path(tmp))
        for rnd in range(args.rounds):
            for b in backends:
                out = Path(tmp) / f"{b}-{rnd}.json"
                wait_idle(args.wait_idle)
                print(f"measuring {b} (round {rnd + 1}/{args.rounds}) …", file=sys.stderr, flush=True)
                b0, c0, t0 = _busy_seconds(), _children_seconds(), time.monotonic()
                cmd = [sys.executable, __file__, "--worker", b, "--out", str(out), "--cache-dir", str(args.cache_dir)]
                subprocess.run(cmd, check=True)
                wall = time.monotonic() - t0
                r = json.loads(out.read_text())
                # CPU used by other processes while this backend ran, in cores (0 = idle machine)
                r["others_cores"] = max(0.0, (_busy_seconds() - b0) - (_children_seconds() - c0)) / wall
                r["emb"] = dict(np.load(out.with_suffix(".npz")))
                if b not in best or r["others_cores"] < best[b]["others_cores"]:
                    best[b] = r
    results = [best[b] for b in backends]
    slugs = [slug for slug, _ in chunks_with_cases()]
    ref = results[0]["emb"]
    base_q, base_p = results[0]["q_median_ms"], results[0]["passages_per_s"]

    print(f"{N_QUERIES} queries, {N_CHUNKS} chunks of ≤{CHUNK_CHARS} chars, {results[0]['threads']} threads, {os.cpu_count()} CPUs\n")
    print(
        "| backend | load s | RSS after load / peak MB | query median ms | query p95 ms | passages/s | cos vs torch: queries min / mean | passages min"
        " | max \|Δ score\| | top-1 chunk / case = torch | model_id | others' CPU (cores) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = compare(ref, r["emb"], slugs)
        same = "same" if r["model_id"] == results[0]["model_id"] else r["model_id"].split(":")[-1][:12]
        print(
            f"| {r['backend']} | {r['load_s']:.1f} | {r['rss_load_mb']:.0f} / {r['rss_peak_mb']:.0f}"
            f" | {r['q_median_ms']:.2f} ({base_q / r['q_median_ms']:.2f}×)"
            f" | {r['q_p95_ms']:.2f} | {r['passages_per_s']:.1f} ({r['passages_per_s'] / base_p:.2f}×)"
            f" | {c['q_cos_min']:.7f} / {c['q_cos_mean']:.7f} | {c['p_cos_min']:.7f} | {c['score_diff']:.1e} | {c['top1']} / {c['top1_case']} | {same}"
            f" | {r['others_cores']:.2f} |"
        )


if __name__ == "__main__":
    main()
