"""The benchmark suite: build throughput and memory, incremental update, query latency in
process and over HTTP, server memory, dense flat vs HNSW, BM25 alone, site build time.
Writes docs/benchmarks.md (machine, date, command, tables).

    .venv/bin/python benchmarks/run.py                       # 30 (shipped), 1000, 10000 cases
    .venv/bin/python benchmarks/run.py --sizes 30 --http-seconds 5   # quick

Libraries of N > 30 are synthetic (benchmarks/synth.py), built under benchmarks/out/
(git-ignored); they are never part of the site. Everything runs against 127.0.0.1 only,
and every load loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "benchmarks" / "out"
PY = sys.executable
CASELIB = str(Path(PY).parent / "caselib")
ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", NO_MKDOCS_2_WARNING="1")


# benchmarks/contention.py and benchmarks/quality.py write their own sections between these
# markers; regenerating the page keeps them
CONTENTION = ("<!-- contention:start -->", "<!-- contention:end -->")
QUALITY = ("<!-- quality:start -->", "<!-- quality:end -->")
PUBLISH = ("<!-- publish:start -->", "<!-- publish:end -->")  # benchmarks/publish.py
REPLICAS = ("<!-- replicas:start -->", "<!-- replicas:end -->")  # benchmarks/replicas.py
PGVECTOR = ("<!-- pgvector:start -->", "<!-- pgvector:end -->")  # benchmarks/vector_store.py
DRILLS = ("<!-- drills:start -->", "<!-- drills:end -->")  # from tests/test_shared_*.py run with -s
KEPT_SECTIONS = (QUALITY, CONTENTION, PUBLISH, REPLICAS, PGVECTOR, DRILLS)
# every query set the benchmarks report: short key -> (label on the page, file)
QUERY_SETS = {
    "dev": ("开发集（../shared/eval/dev_queries.yaml）", REPO.parent / "shared" / "eval" / "dev_queries.yaml"),
    "heldout": ("留出集一（benchmarks/heldout_queries.yaml）", REPO / "benchmarks" / "heldout_queries.yaml"),
    "test": ("测试集（benchmarks/test_queries.yaml）", REPO / "benchmarks" / "test_queries.yaml"),
    "real": ("真实投诉文本（benchmarks/real_queries.yaml）", REPO / "benchmarks" / "real_queries.yaml"),
    "real2": ("真实投诉文本第二组（benchmarks/real_queries_2.yaml，方法定下后才收集）", REPO / "benchmarks" / "real_queries_2.yaml"),
}


def write_page(out: Path, text: str) -> None:
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    for start, end in KEPT_SECTIONS:
        if start in old and end in old:
            text = text.rstrip("\n") + "\n\n" + old[old.index(start): old.index(end) + len(end)] + "\n"
    out.write_text(text, encoding="utf-8")


def write_section(out: Path, markers: tuple[str, str], section: str) -> None:
    """Replace (or append) one marked section of the page, leaving the rest as it is."""
    start, end = markers
    block = f"{start}\n{section.strip()}\n{end}"
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    out.write_text(new, encoding="utf-8")


def pct(xs, p):
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def queries() -> list[str]:
    qs = []
    for f in (REPO / "benchmarks" / "heldout_queries.yaml", REPO / "benchmarks" / "test_queries.yaml"):
        qs += [x["q"] for x in yaml.safe_load(f.read_text(encoding="utf-8"))]
    return qs


def library(n: int) -> Path:
    if n <= 30:
        return REPO
    root = OUT / f"lib-{n}"
    if not (root / "cases").is_dir() or len(list((root / "cases").glob("*.md"))) != n:
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([PY, str(REPO / "benchmarks" / "synth.py"), str(n), str(root)], check=True, env=ENV)
    return root


def timed_child(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    # a fresh child per measurement so ru_maxrss is this child's peak
    wrapper = [PY, "-c", "import resource,subprocess,sys;p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
               "print(p.stdout[-2000:]);print(p.stderr[-2000:],file=sys.stderr);"
               "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);sys.exit(p.returncode)", *cmd]
    p = subprocess.run(wrapper, cwd=cwd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{p.stdout}\n{p.stderr}")
    rss = int(p.stdout.strip().splitlines()[-1].split()[1]) / 1024
    del before
    return wall, rss, p.stdout


def build_index(root: Path, fresh: bool) -> dict:
    if fresh:
        shutil.rmtree(root / ".caselib" / "index.d", ignore_errors=True)
        (root / ".caselib" / "index").unlink(missing_ok=True)
    wall, rss, out = timed_child([CASELIB, "--root", str(root), "index", "--quiet"], root)
    manifest = json.loads((root / ".caselib" / "index" / "manifest.json").read_text())
    return {"seconds": wall, "peak_rss_mb": rss, "cases": manifest["n_cases"], "chunks": manifest["n_chunks"], "out": out.strip()}


def prebuilt(log: Path, root: Path, note: str = "") -> dict:
    """Wall time and peak memory of a full build run separately under `/usr/bin/time -v`."""
    text = log.read_text(encoding="utf-8", errors="replace")
    wall = next(line.split("):", 1)[1].strip() for line in text.splitlines() if "Elapsed (wall clock)" in line)
    rss_kb = int(next(line.split(":")[1] for line in text.splitlines() if "Maximum resident set size" in line))
    manifest = json.loads((root / ".caselib" / "index" / "manifest.json").read_text())
    parts = [float(x) for x in wall.split(":")]
    seconds = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    return {"chunks": manifest["n_chunks"], "rss": f"{rss_kb / 1024:.0f} MB",
            "text": f"{seconds / 60:.0f} 分钟（{manifest['n_cases'] / seconds:.1f} 案例/秒，"
                    f"{manifest['n_chunks'] / seconds:.1f} 片段/秒；单独运行{'，' + note if note else ''}）"}


def incremental(root: Path) -> dict:
    cases = sorted((root / "cases").glob("*.md"))
    target = cases[len(cases) // 2]
    original = target.read_text(encoding="utf-8")
    target.write_text(original.rstrip("\n") + "\n\n（基准测试改动）\n", encoding="utf-8")  # changes the last section
    try:
        wall, rss, out = timed_child([CASELIB, "--root", str(root), "index", "--quiet"], root)
    finally:
        target.write_text(original, encoding="utf-8")
    timed_child([CASELIB, "--root", str(root), "index", "--quiet"], root)  # back to the original
    return {"seconds": wall, "peak_rss_mb": rss, "out": out.strip()}


def incremental_in_server(root: Path) -> dict:
    """What a running `caselib serve` does when a trainer saves a case, through the
    service's own code path (SearchService.update_index): check (only the changed
    file is parsed again), re-embed that case, write the new version, swap it in from
    memory. Timed until the new index answers searches."""
    from search.server.service import SearchService
    from search.settings import load_settings

    settings = load_settings(root, env={}, log_searches=False)
    svc = SearchService(settings)
    try:
        svc.update_index()  # as at start-up: every file parsed once (memo primed)
        cases = sorted((root / "cases").glob("*.md"))
        target = cases[len(cases) // 3]
        original = target.read_text(encoding="utf-8")
        before = svc.loaded_from
        try:
            target.write_text(original.rstrip("\n") + "\n\n（基准测试改动二）\n", encoding="utf-8")
            t0 = time.perf_counter()
            svc.update_index()  # the site is rebuilt after this, in the background
            seconds = time.perf_counter() - t0
            assert svc.loaded_from != before, "the update was not swapped in"
        finally:
            target.write_text(original, encoding="utf-8")
            svc.update_index()
    finally:
        svc.close()
    return {"seconds": seconds}


def freshness(qs_unused=None) -> dict:
    """Seconds from saving a new case file to the running server's search returning it
    (the server re-indexes by itself), on a copy of the shipped library."""
    import httpx

    root = OUT / "freshness"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for name in ("cases", "docs"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    (root / "search").symlink_to(REPO / "search")
    subprocess.run([CASELIB, "--root", str(root), "build", "--quiet"], check=True, env=ENV, capture_output=True)
    with serving(root, ENV) as (url, _pid):
        text = (REPO / "cases" / "elevator-entrapment.md").read_text(encoding="utf-8")
        text = text.replace("id: C0020", "id: C0999").replace("elevator", "x")
        title = next(line for line in text.splitlines() if line.startswith("title:"))
        text = text.replace(title, "title: 地库暴雨积水泡车，业主要求物业赔偿损失")
        t0 = time.perf_counter()
        (root / "cases" / "garage-flood-benchmark.md").write_text(text, encoding="utf-8")
        searchable = page = None
        while time.perf_counter() - t0 < 120 and page is None:
            r = httpx.get(url + "/api/search", params={"q": "地库暴雨积水泡车", "k": 1}).json()["results"]
            if searchable is None and r and r[0]["slug"] == "garage-flood-benchmark":
                searchable = time.perf_counter() - t0
            if searchable is not None and httpx.get(url + "/cases/garage-flood-benchmark.html").status_code == 200:
                page = time.perf_counter() - t0
            time.sleep(0.1)
        return {"searchable_s": searchable, "page_s": page}


def in_process(root: Path, qs: list[str]) -> dict:
    from search import pipeline
    from search.settings import load_settings

    settings = load_settings(root, env={})
    # as the server runs it: the configured backend on settings.server_threads threads
    s = pipeline.open_searcher(settings, encoder=pipeline.load_encoder(settings, threads=settings.server_threads))
    res = {}
    for mode in ("hybrid", "dense", "bm25"):
        for q in qs[:10]:
            s.search(q, mode=mode)
        lat = []
        for q in qs:
            t0 = time.perf_counter()
            s.search(q + "。", k=5, mode=mode)  # a fresh string: no caching anywhere on this path
            lat.append((time.perf_counter() - t0) * 1000)
        res[mode] = {"p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99), "n": len(lat)}
    enc = []
    for q in qs:
        t0 = time.perf_counter()
        s.encoder.encode_queries([q + "！"])
        enc.append((time.perf_counter() - t0) * 1000)
    res["encode"] = {"p50": pct(enc, 50), "p95": pct(enc, 95), "p99": pct(enc, 99), "n": len(enc)}
    res["_searcher"] = s
    return res


def ann(searcher, qs: list[str]) -> dict:
    """Dense chunk retrieval: exact flat inner product vs IVF (what the Searcher uses past
    APPROX_MIN_CHUNKS) vs HNSW, recall@10 against flat; then whole hybrid searches with the
    IVF and the flat index side by side, to see whether agents would notice."""
    import faiss

    from search.retrieval.dense import dense_index as _dense_index
    from search.retrieval.searcher import Searcher

    vecs = np.ascontiguousarray(searcher.index.vectors, dtype=np.float32)
    qv = searcher.encoder.encode_queries(qs).astype(np.float32)
    flat = _dense_index(vecs, approx=False)
    t0 = time.perf_counter()
    ivf = _dense_index(vecs, approx=True)
    ivf_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(vecs.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(vecs)
    build_s = time.perf_counter() - t0
    hnsw.hnsw.efSearch = 64
    out = {"chunks": len(vecs), "hnsw_build_s": build_s, "ivf_build_s": ivf_s, "ivf_nlist": ivf.nlist, "ivf_nprobe": ivf.nprobe}
    _, truth = flat.search(qv, 10)
    for name, idx in (("flat", flat), ("ivf", ivf), ("hnsw", hnsw)):
        lat = []
        ids_all = []
        for i in range(len(qv)):
            t0 = time.perf_counter()
            _, ids = idx.search(qv[i : i + 1], 10)
            lat.append((time.perf_counter() - t0) * 1000)
            ids_all.append(ids[0])
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids_all, truth, strict=True)]))
        out[name] = {"p50": pct(lat, 50), "p95": pct(lat, 95), "recall@10": recall}
    exact = Searcher(searcher.index, searcher.encoder, approx=False)
    approx = Searcher(searcher.index, searcher.encoder, approx=True)
    same_top1, overlap, lat = 0, [], {"flat": [], "ivf": []}
    for q in qs:
        runs = {}
        for name, s in (("flat", exact), ("ivf", approx)):
            t0 = time.perf_counter()
            runs[name] = [h.record.slug for h in s.search(q, k=5).hits]
            lat[name].append((time.perf_counter() - t0) * 1000)
        same_top1 += runs["flat"][:1] == runs["ivf"][:1]
        overlap.append(len(set(runs["flat"]) & set(runs["ivf"])) / max(1, len(runs["flat"])))
    out["hybrid"] = {"top1_agree": same_top1 / len(qs), "overlap@5": float(np.mean(overlap)),
                     "flat_p50": pct(lat["flat"], 50), "ivf_p50": pct(lat["ivf"], 50), "n": len(qs)}
    return out


@contextlib.contextmanager
def serving(root: Path, env: dict):
    """`caselib serve` on a free loopback port, ready (healthz ok) before yielding (url, pid);
    always stopped afterwards."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([CASELIB, "--root", str(root), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                h = httpx.get(url + "/healthz", timeout=1).json()
                if h.get("status") == "ok" and not h.get("busy"):  # steady state: start-up reading done
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _search_once(client, q: str) -> tuple[float, bool]:
    """One /api/search over HTTP: (milliseconds, answered with 200)."""
    import httpx

    t0 = time.perf_counter()
    try:
        ok = (await client.get("/api/search", params={"q": q, "k": 5})).status_code == 200
    except httpx.HTTPError:
        ok = False
    return (time.perf_counter() - t0) * 1000, ok


async def _load(url: str, qs: list[str], concurrency: int, seconds: float, pid: int) -> dict:
    import httpx

    lat, errors, peak = [], 0, 0.0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def worker(w: int):
            nonlocal errors
            i = w
            while time.perf_counter() < deadline:
                q = qs[i % len(qs)] + f"（{i}）"  # distinct strings: measures the model, not the cache
                i += concurrency
                ms, ok = await _search_once(client, q)
                lat.append(ms)
                errors += not ok

        async def sampler():
            nonlocal peak
            while time.perf_counter() < deadline:
                peak = max(peak, rss_mb(pid))
                await asyncio.sleep(0.5)

        t0 = time.perf_counter()
        await asyncio.gather(sampler(), *(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {"concurrency": concurrency, "requests": len(lat), "errors": errors, "rps": len(lat) / elapsed,
            "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99), "peak_rss_mb": peak}


async def _agents(url: str, qs: list[str], agents: int, every: float, seconds: float) -> dict:
    """Open loop: each of `agents` clients sends one search every `every` seconds (staggered),
    whether or not the others have been answered: agents on calls, not a stress test."""
    import httpx

    lat, errors = [], 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        async def agent(a: int):
            nonlocal errors
            await asyncio.sleep(every * a / agents)
            i = a
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                ms, ok = await _search_once(client, qs[i % len(qs)] + f"（坐席{a}-{i}）")
                i += agents
                lat.append(ms)
                errors += not ok
                await asyncio.sleep(max(0.0, every - (time.perf_counter() - start)))

        await asyncio.gather(*(agent(a) for a in range(agents)))
    return {"agents": agents, "every_s": every, "requests": len(lat), "errors": errors,
            "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99)}


def http(root: Path, qs: list[str], levels: list[int], seconds: float) -> dict:
    # the search log is on, as in production, except on the shipped library, whose log
    # trainers read (`caselib gaps`): benchmark queries must not show up there
    log = "false" if root == REPO else "true"
    with serving(root, dict(ENV, CASELIB_LOG_SEARCHES=log)) as (url, pid):
        idle = rss_mb(pid)
        runs = [asyncio.run(_load(url, qs, c, seconds, pid)) for c in levels]
        agents = asyncio.run(_agents(url, qs, 8, 1.0, seconds))
        return {"rss_idle_mb": idle, "rss_after_mb": rss_mb(pid), "runs": runs, "agents": agents}


def site_build(root: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([CASELIB, "--root", str(root), "build", "--quiet"], check=True, env=ENV, capture_output=True)
    return time.perf_counter() - t0


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))) / 1024 / 1024
    from importlib.metadata import version

    return (f"{os.cpu_count()} 核 {cpu}，内存 {mem:.0f} GiB，Python {platform.python_version()}，"
            f"torch {version('torch')}，onnxruntime {version('onnxruntime')}，faiss-cpu {version('faiss-cpu')}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="30,1000,10000")
    ap.add_argument("--http-seconds", type=float, default=15)
    ap.add_argument("--levels", default="1,8,32")
    ap.add_argument("--load", default="50x60", help="并发数x秒数 的稳定性压测（只在 30 个案例上），空字符串跳过")
    ap.add_argument("--reuse-index", action="store_true", help="已建好的合成库不重建（只测查询）")
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    ap.add_argument("--merge", action="store_true", help="保留上一次运行测过的其他规模")
    ap.add_argument("--prebuilt-log", help="与 --reuse-index 一起用：那次全量建索引的 /usr/bin/time -v 输出，写进表格")
    ap.add_argument("--prebuilt-note", default="", help="对那次全量建索引的说明（如“机器空闲”或“同时有其他负载”），写进表格")
    ap.add_argument("--render-only", action="store_true", help="不测量，只用 benchmarks/out/results.json 重新生成页面")
    args = ap.parse_args()
    if args.render_only:
        res = json.loads((OUT / "results.json").read_text())
        if args.prebuilt_log:  # a full build measured on its own since: replaces that size's build row
            for n in args.sizes.split(","):
                row = res["sizes"][n]
                row.pop("build", None)
                row["prebuilt"] = prebuilt(Path(args.prebuilt_log), library(int(n)), args.prebuilt_note)
            res["command"] += f"；全量建索引行：/usr/bin/time -v caselib index（{args.prebuilt_log}）"
            (OUT / "results.json").write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str))
        write_page(Path(args.out), render(res))
        print(f"wrote {args.out}")
        return
    qs = queries()
    levels = [int(x) for x in args.levels.split(",")]
    from search.models import resolve_backend
    from search.settings import load_settings

    settings = load_settings(REPO, env={})
    results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
               "backend": resolve_backend(settings.model, settings.backend), "server_threads": settings.server_threads,
               "command": "python benchmarks/run.py " + " ".join(sys.argv[1:]), "sizes": {}}
    previous = OUT / "results.json"
    if args.merge and previous.is_file():
        # sizes measured by an earlier run are kept (e.g. --sizes 10000 run separately)
        old = json.loads(previous.read_text())
        results["sizes"] = {int(k): v for k, v in old.get("sizes", {}).items()}
        results["command"] = old.get("command", "") + "；" + results["command"]
    for n in [int(x) for x in args.sizes.split(",")]:
        root = library(n)
        print(f"== {n} 个案例（{root}）", flush=True)
        r = {}
        earlier = results["sizes"].get(n, {})
        if not (args.reuse_index and (root / ".caselib" / "index").exists()):
            r["build"] = build_index(root, fresh=True)
            print("  build", r["build"], flush=True)
        elif args.prebuilt_log:
            r["prebuilt"] = prebuilt(Path(args.prebuilt_log), root, args.prebuilt_note)
        elif "build" in earlier or "prebuilt" in earlier:  # --merge: the index is that run's, so is its build row
            r.update({key: earlier[key] for key in ("build", "prebuilt") if key in earlier})
        r["incremental"] = incremental(root)
        print("  incremental", r["incremental"], flush=True)
        r["incremental_server"] = incremental_in_server(root)
        print("  incremental in server", r["incremental_server"], flush=True)
        ip = in_process(root, qs)
        searcher = ip.pop("_searcher")
        r["in_process"] = ip
        print("  in-process", ip, flush=True)
        if n >= 1000:
            r["ann"] = ann(searcher, qs)
            print("  ann", r["ann"], flush=True)
        del searcher
        r["http"] = http(root, qs, levels, args.http_seconds)
        print("  http", r["http"], flush=True)
        if n <= 30:
            r["site_seconds"] = site_build(root)
            r["freshness"] = freshness()
            print("  freshness", r["freshness"], flush=True)
            if args.load:
                c, secs = (int(x) for x in args.load.split("x"))
                r["load"] = http(root, qs, [c], secs)
                print("  load", r["load"], flush=True)
        results["sizes"][n] = r
        (OUT).mkdir(parents=True, exist_ok=True)
        (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))  # after each size
    (OUT).mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    write_page(Path(args.out), render(results))
    print(f"wrote {args.out}")


def render(res: dict) -> str:
    f = lambda x: f"{x:.1f}"  # noqa: E731
    lines = [
        "# 性能基准",
        "",
        "本页由 `benchmarks/run.py` 生成，数字都是在下面这台机器上实测的；重跑命令即可更新。",
        "",
        f"- **机器**：{res['machine']}",
        f"- **时间**：{res['date']}",
        f"- **命令**：`.venv/bin/{res['command']}`",
        f"- **模型**：内置 multilingual-e5-small，推理后端 {res.get('backend', 'torch')}"
        f"（CPU；检索服务和进程内查询都按服务设置用 {res.get('server_threads', 1)} 个推理线程，建索引用全部核）；"
        "查询集：`benchmarks/heldout_queries.yaml` + `benchmarks/test_queries.yaml`",
        "- 超过 30 个案例的库是合成的（`benchmarks/synth.py`：用已有案例的句子重新拼接，标题带【合成】），只用于测速，不进站点。",
        "",
        "## 建索引与增量更新",
        "",
        "| 案例数 | 片段数 | 全量建索引 | 案例/秒 | 片段/秒 | 峰值内存 | 改一个案例：`caselib index` | 改一个案例：运行中的服务（模型已加载） |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    res["sizes"] = dict(sorted(res["sizes"].items(), key=lambda kv: int(kv[0])))
    for n, r in res["sizes"].items():
        b = r.get("build")
        inc = r["incremental"]
        srv = f"{r['incremental_server']['seconds']:.2f} 秒" if "incremental_server" in r else "—"
        if b:
            lines.append(f"| {n} | {b['chunks']} | {f(b['seconds'])} 秒 | {b['cases'] / b['seconds']:.1f} | {b['chunks'] / b['seconds']:.1f}"
                         f" | {b['peak_rss_mb']:.0f} MB | {f(inc['seconds'])} 秒 | {srv} |")
        else:
            pre = r.get("prebuilt", {})
            lines.append(f"| {n} | {pre.get('chunks', '—')} | {pre.get('text', '（沿用已建索引）')} | — | — | {pre.get('rss', '—')}"
                         f" | {f(inc['seconds'])} 秒 | {srv} |")
    lines += ["", "“`caselib index`”两列都包含启动进程、加载模型和校验全部案例文件（1 万个案例时校验约 4–5 秒）；"
              "运行中的服务已加载模型，并记住了每个文件的解析结果，只重新解析改过的文件。", "",
              "## 进程内查询延迟（毫秒）", "",
              "| 案例数 | 混合 p50 | p95 | p99 | 仅向量 p50 | 仅 BM25 p50 | p95 | 查询编码 p50 |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n, r in res["sizes"].items():
        ip = r["in_process"]
        lines.append(f"| {n} | {f(ip['hybrid']['p50'])} | {f(ip['hybrid']['p95'])} | {f(ip['hybrid']['p99'])} | {f(ip['dense']['p50'])} | "
                     f"{f(ip['bm25']['p50'])} | {f(ip['bm25']['p95'])} | {f(ip['encode']['p50'])} |")
    lines += ["", "## HTTP 检索（127.0.0.1，`/api/search?k=5`，每个查询都不同，不走缓存；"
                  "合成库开着检索记录，和正式运行一样，现有 30 个案例的库关掉，免得压测查询混进培训员的缺口报告）", "",
              "| 案例数 | 并发 | 请求数 | 错误 | 每秒请求 | p50 | p95 | p99 | 压测中峰值内存 |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n, r in res["sizes"].items():
        for run in r["http"]["runs"]:
            lines.append(f"| {n} | {run['concurrency']} | {run['requests']} | {run['errors']} | {run['rps']:.0f}"
                         f" | {f(run['p50'])} | {f(run['p95'])} | {f(run['p99'])} | {run['peak_rss_mb']:.0f} MB |")
    agent_rows = [(n, r["http"]["agents"]) for n, r in res["sizes"].items() if r["http"].get("agents")]
    if agent_rows:
        lines += ["", "上表是闭环压测：每个客户端收到结果立刻发下一条，测的是吞吐上限。坐席实际的用法是开环的——"
                  "边听边打字，几秒才查一次。下表是 8 个坐席各自每秒检索一次（错开发出）：", "",
                  "| 案例数 | 坐席 | 每人间隔 | 请求数 | 错误 | p50 | p95 | p99 |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for n, a in agent_rows:
            lines.append(f"| {n} | {a['agents']} | {a['every_s']:.0f} 秒 | {a['requests']} | {a['errors']}"
                         f" | {f(a['p50'])} | {f(a['p95'])} | {f(a['p99'])} |")
    lines += ["", "| 案例数 | 服务空闲内存（RSS） | 压测后内存 |", "| --- | --- | --- |"]
    for n, r in res["sizes"].items():
        lines.append(f"| {n} | {r['http']['rss_idle_mb']:.0f} MB | {r['http']['rss_after_mb']:.0f} MB |")
    for n, r in res["sizes"].items():
        if "load" in r:
            run = r["load"]["runs"][0]
            lines += ["", f"## 稳定性压测（{n} 个案例）", "",
                      f"{run['concurrency']} 个并发客户端，持续 {res['command'] and ''}{int(round(run['requests'] / max(run['rps'], 1e-9)))} 秒左右："
                      f"共 {run['requests']} 次请求，**{run['errors']} 次错误**，"
                      f"p50 {f(run['p50'])} 毫秒，p95 {f(run['p95'])} 毫秒，p99 {f(run['p99'])} 毫秒，峰值内存 {run['peak_rss_mb']:.0f} MB。"]
    for n, r in res["sizes"].items():
        if "ann" in r:
            a = r["ann"]
            ivf = a.get("ivf")
            lines += ["", f"## 向量检索：精确（flat）与近似（IVF、HNSW）对比（{n} 个案例，{a['chunks']} 个片段）", "",
                      "| 索引 | 单次检索 p50（毫秒） | p95 | recall@10（相对 flat） |", "| --- | --- | --- | --- |",
                      f"| faiss IndexFlatIP | {a['flat']['p50']:.2f} | {a['flat']['p95']:.2f} | 1.000 |"]
            if ivf:
                lines.append(f"| faiss IVF-Flat（nlist={a['ivf_nlist']}，nprobe={a['ivf_nprobe']}） | {ivf['p50']:.2f} | {ivf['p95']:.2f}"
                             f" | {ivf['recall@10']:.3f} |")
            lines += [f"| faiss HNSW（M=32，efSearch=64） | {a['hnsw']['p50']:.2f} | {a['hnsw']['p95']:.2f} | {a['hnsw']['recall@10']:.3f} |",
                      "",
                      f"HNSW 建图 {a['hnsw_build_s']:.1f} 秒" + (f"；IVF 训练加入库 {a['ivf_build_s']:.1f} 秒（加载索引时做，不存盘）。" if ivf else "。")]
            if "hybrid" in a:
                h = a["hybrid"]
                lines.append(f"完整的混合检索（k=5，{h['n']} 条查询）用 IVF 与用 flat 相比："
                             f"第一名相同 {h['top1_agree']:.3f}，前 5 名重合 {h['overlap@5']:.3f}；"
                             f"p50 {h['ivf_p50']:.1f} 毫秒对 {h['flat_p50']:.1f} 毫秒。")
    for n, r in res["sizes"].items():
        if "site_seconds" in r:
            lines += ["", "## 站点构建", "",
                      f"`caselib build`（{n} 个案例：校验 + 增量索引 + mkdocs 生成站点）用时 {f(r['site_seconds'])} 秒。"]
        if r.get("freshness"):
            fr = r["freshness"]
            lines += ["", "## 培训员保存新案例后多久能查到", "",
                      f"在运行中的 `caselib serve` 旁边往 `cases/` 保存一个新案例文件：**{fr['searchable_s']:.1f} 秒**后检索接口就能返回它"
                      "（服务自己校验、增量编码、切换索引），"
                      f"{fr['page_s']:.1f} 秒后它的案例页也生成好了（服务在后台重新生成站点）。"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
