"""Agents' query latency while the server does other inference: a trainer's save being
indexed, a long reply being checked. The real model, the server's own SearchService (one
inference worker, server_threads as configured), a copy of the shipped library.

    .venv/bin/python benchmarks/contention.py                  # 30 s per scenario
    .venv/bin/python benchmarks/contention.py --seconds 10     # quick

Agents are open-loop-ish: each sends a query, waits for it, thinks `--think` seconds, and
sends the next (every query a new string: the cache never answers). Background work runs
in a loop for the whole window; only queries sent while it is in progress are counted.
`--baseline` also measures indexing the old way (passages encoded on the watcher thread,
beside the query worker, all of a save's passages in one call) for comparison.

Writes the section between the contention markers of docs/benchmarks.md (run.py keeps it)
and benchmarks/out/contention.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from run import CONTENTION, ENV, OUT, machine, pct, queries, write_section  # noqa: E402


def project() -> Path:
    """A copy of the shipped cases (saves are simulated on it), indexed with the real model."""
    root = OUT / "contention"
    if not (root / ".caselib" / "index").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        shutil.copytree(REPO / "cases", root / "cases")
    return root


def long_reply(i: int) -> str:
    """A 5,000-character paste (the API's maximum) of many sentences, new each time."""
    base = ("您好，非常抱歉给您添麻烦了，我们马上安排维修师傅上门查看。",
            "这个问题我们已经登记，今天下午五点前给您回电话。",
            "停车场的收费标准是业主大会通过的，我把公示的文件发给您。",
            "这事你得自己去找开发商，我们管不了。",
            "电梯维保单位已经到场，预计半小时内恢复运行。",
            "您说的情况很重要，我们调一下监控核实。")
    out, n = [], 0
    while sum(map(len, out)) < 4900:
        out.append(base[n % len(base)].replace("。", f"（第{i}-{n}条）。"))
        n += 1
    return "".join(out)[:5000]


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def measure(svc, qs: list[str], seconds: float, agents: int, think: float, tag: str, background=None) -> dict:
    """Latency (ms) of agents' searches; with ``background`` (a callable run in a loop on
    its own thread), only the searches sent while it was running count."""
    lat: list[float] = []
    busy = threading.Event()
    stop = threading.Event()
    rounds = [0]

    def work():
        i = 0
        while not stop.is_set():
            busy.set()
            try:
                background(i)
            finally:
                busy.clear()
            rounds[0] += 1
            i += 1

    def agent(a: int):
        i = a
        time.sleep(think * a / agents)
        while not stop.is_set():
            during = background is None or busy.is_set()
            t0 = time.perf_counter()
            svc.search(qs[i % len(qs)] + f"（{tag}坐席{a}-{i}）", k=5)  # new strings: never the cache
            ms = (time.perf_counter() - t0) * 1000
            if during and (background is None or busy.is_set()):
                lat.append(ms)
            i += agents
            time.sleep(think)

    threads = [threading.Thread(target=agent, args=(a,)) for a in range(agents)]
    if background is not None:
        threads.append(threading.Thread(target=work))
    for t in threads:
        t.start()
    time.sleep(seconds)
    load = load_average()  # other processes on the machine (1-minute average, at the end)
    stop.set()
    for t in threads:
        t.join()
    return {"load": load, "n": len(lat), "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99),
            "max": max(lat, default=0.0), "rounds": rounds[0]}


def saving(svc, root: Path, old_way: bool = False):
    """A trainer saves the longest case again and again (alternating two versions); the
    service re-indexes it as its watcher would."""
    from search import pipeline

    target = max((root / "cases").glob("*.md"), key=lambda p: p.stat().st_size)
    original = target.read_text(encoding="utf-8")
    chunks = []

    def save(i: int):
        target.write_text(original.rstrip("\n") + f"\n\n（第 {i} 次保存）\n", encoding="utf-8")
        if old_way:  # before server/inference.py: the watcher encoded on its own thread
            current = svc.searcher.index
            result = pipeline.index(svc.settings, encoder=svc.inference.inner, progress=False,
                                    memo=svc._check_memo, previous=current)
            svc.reload(built=result.index)
        else:
            result = svc.update_index()
        chunks.append(result.embedded_chunks)

    def restore():
        target.write_text(original, encoding="utf-8")
        svc.update_index()

    return save, restore, target, chunks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--think", type=float, default=0.2, help="每个坐席两次检索之间的间隔（秒）")
    ap.add_argument("--baseline", action="store_true", help="也测旧做法：段落在监视线程上直接编码")
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    ap.add_argument("--render-only", action="store_true", help="不测量，只重新生成那一节")
    args = ap.parse_args()
    if args.render_only:
        write_section(Path(args.out), CONTENTION, render(json.loads((OUT / "contention.json").read_text())))
        return
    import os

    os.environ.update(ENV)
    from search import pipeline
    from search.models import resolve_backend
    from search.server.service import SearchService
    from search.settings import load_settings

    root = project()
    settings = load_settings(root, env={}, log_searches=False, auto_index=False)
    if not settings.index_path.exists():
        print("建索引（真实模型）…", flush=True)
        pipeline.index(settings, progress=False)
    qs = queries()
    svc = SearchService(settings)
    res = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
           "backend": resolve_backend(settings.model, settings.backend), "server_threads": settings.server_threads,
           "command": "python benchmarks/contention.py " + " ".join(sys.argv[1:]), "agents": args.agents,
           "think_s": args.think, "seconds": args.seconds, "cases": len(list((root / "cases").glob("*.md")))}
    try:
        for q in qs[:20]:
            svc.search(q, k=5)  # warm up
        res["idle"] = measure(svc, qs, args.seconds, args.agents, args.think, "空闲")
        print("idle", res["idle"], flush=True)
        save, restore, target, chunks = saving(svc, root)
        try:
            res["indexing"] = measure(svc, qs, args.seconds, args.agents, args.think, "建索引", background=save)
        finally:
            restore()
        res["indexing"]["case"] = target.name
        res["indexing"]["chunks"] = max(chunks, default=0)
        print("indexing", res["indexing"], flush=True)
        if args.baseline:
            save, restore, _, _ = saving(svc, root, old_way=True)
            try:
                res["indexing_old"] = measure(svc, qs, args.seconds, args.agents, args.think, "旧", background=save)
            finally:
                restore()
            print("indexing, old way", res["indexing_old"], flush=True)
        units = []

        def check(i: int):
            text = long_reply(i)
            units.append(len(text))
            svc.check_reply(text)

        res["reply"] = measure(svc, qs, args.seconds, args.agents, args.think, "回复", background=check)
        res["reply"]["chars"] = max(units, default=0)
        print("reply", res["reply"], flush=True)
    finally:
        svc.close()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "contention.json").write_text(json.dumps(res, ensure_ascii=False, indent=1))
    write_section(Path(args.out), CONTENTION, render(res))
    print(f"wrote {args.out}")


def render(res: dict) -> str:
    from search.server.inference import PASSAGE_BATCH, REPLY_BATCH

    f = lambda x: f"{x:.1f}"  # noqa: E731
    idx, rep, idle = res["indexing"], res["reply"], res["idle"]
    rows = [("空闲时（idle p95）", idle, "—"),
            ("培训员保存的案例正在建索引时（query p95 during indexing）", idx,
             f"反复保存 {idx['case']}（每次编码 {idx['chunks']} 个片段），共 {idx['rounds']} 次"),
            ("正在检查一条长回复时（query p95 during a long reply check）", rep,
             f"反复检查 {rep['chars']} 字的回复草稿，共 {rep['rounds']} 次")]
    if "indexing_old" in res:
        old = res["indexing_old"]
        rows.insert(2, ("对照：旧做法建索引时（监视线程直接编码，一次编完一个案例的全部片段）", old,
                        f"同上，共 {old['rounds']} 次"))
    head = (f"`benchmarks/contention.py` 生成（{res['date']}，{res['machine']}；推理后端 {res['backend']}，"
            f"{res['server_threads']} 个推理线程）。")
    how = (f"服务进程内（SearchService，和 `caselib serve` 同一条路径）：{res['agents']} 个坐席各自检索、"
           f"等结果、停 {res['think_s']:g} 秒再检索，每条查询都不同（不走缓存）；{res['cases']} 个案例，"
           f"每种情形 {res['seconds']:g} 秒，只统计后台工作进行期间发出的检索。"
           "所有推理都在一个推理线程上按优先级排队：坐席的检索最先，其次回复检查，最后是建索引的片段；"
           f"长的工作切成小批（片段每批 {PASSAGE_BATCH} 段，回复每批 {REPLY_BATCH} 句），检索最多等一小批。")
    command = f"命令：`.venv/bin/{res['command'].strip()}`"
    lines = ["## 后台推理时坐席的检索延迟（毫秒）", "", head, "", command, "", how, "",
             "| 情形 | 检索数 | p50 | p95 | p99 | 最长 | 后台工作 | 机器负载 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, m, note in rows:
        cells = [m["n"], f(m["p50"]), f(m["p95"]), f(m["p99"]), f(m["max"]), note, f"{m['load']:.1f}"]
        lines.append(f"| {name} | " + " | ".join(map(str, cells)) + " |")
    lines += ["", "机器负载是每种情形结束时的 1 分钟平均负载（/proc/loadavg），包括本基准自己的线程"
              "（推理线程加后台工作，约 2）；明显高于 2 说明同机还有别的进程在用 CPU，数字偏高。"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
