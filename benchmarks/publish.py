"""From a reviewer's 批准发布 to an agent finding the case: the real server (`caselib serve`,
real model, a copy of the shipped library and site), driven over HTTP as the browser does.

    .venv/bin/python benchmarks/publish.py            # 3 new cases and 2 edits

For each approval: seconds until /api/search returns the case in its top 5 for a sentence
only that case contains, and until its site page (/cases/<slug>.html) is served with the
new text. Writes the section between the publish markers of docs/benchmarks.md (run.py
keeps it) and benchmarks/out/publish.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from run import ENV, OUT, PUBLISH, machine, serving, write_section  # noqa: E402

PASSWORD = "bench-password-1"
SOURCE = "elevator-entrapment"  # a shipped case the new ones are copied from


def project() -> Path:
    import subprocess

    root = OUT / "publish"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for name in ("cases", "docs"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    (root / "search").symlink_to(REPO / "search")
    subprocess.run([str(REPO / ".venv" / "bin" / "caselib"), "--root", str(root), "build", "--quiet"], check=True, env=ENV)
    from search.authoring import accounts
    from search.authoring.db import open_database
    from search.settings import load_settings

    db = open_database(load_settings(root, env={}).db_url)
    with db.session() as s:
        accounts.add_user(s, "trainer", "trainer", PASSWORD, "王培训")
        accounts.add_user(s, "reviewer", "reviewer", PASSWORD, "李审核")
    db.close()
    return root


def client(url: str, name: str):
    import httpx

    c = httpx.Client(base_url=url, timeout=30)
    r = c.post("/api/login", json={"username": name, "password": PASSWORD})
    r.raise_for_status()
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    return c


def wait(fn, limit: float = 120.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if fn():
            return time.perf_counter() - t0
        time.sleep(0.1)
    return float("nan")


def publish(t, r, text: str, slug: str | None = None) -> tuple[str, float]:
    d = t.post("/api/drafts", json={"slug": slug} if slug else {"text": text}).json()
    if slug:
        d = t.put(f"/api/drafts/{d['id']}", json={"text": text, "version": d["version"]}).json()
    sub = t.post(f"/api/drafts/{d['id']}/submit")
    assert sub.status_code == 200, sub.text
    t0 = time.perf_counter()
    ok = r.post(f"/api/drafts/{d['id']}/approve")
    assert ok.status_code == 200, ok.text
    return ok.json()["slug"], t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--new", type=int, default=3)
    ap.add_argument("--edits", type=int, default=2)
    args = ap.parse_args()
    import httpx

    root = project()
    base = (root / "cases" / f"{SOURCE}.md").read_text(encoding="utf-8")
    rows = []
    with serving(root, ENV) as (url, _pid):
        t, r = client(url, "trainer"), client(url, "reviewer")
        for i in range(args.new):
            marker = f"业主说小区东门第{i + 7}号道闸的抬杆声音像打雷一样吓哭孩子"
            text = (base.replace("id: C", f"id: C9{i}", 1).replace("title: ", f"title: 道闸{i + 1}号：", 1)
                    .replace("## 经过\n\n", f"## 经过\n\n{marker}。", 1))
            slug, t0 = publish(t, r, text)
            found = wait(lambda m=marker, s=slug: s in [x["slug"] for x in httpx.get(url + "/api/search", params={"q": m, "k": 5}).json()["results"]])
            page = wait(lambda m=marker, s=slug: m in httpx.get(f"{url}/cases/{s}.html").text)
            rows.append({"kind": "新案例", "slug": slug, "searchable_s": round(found, 2), "site_s": round(page, 2)})
            print(rows[-1], flush=True)
        for i in range(args.edits):
            marker = f"第{i + 3}次回访时业主送来一面写着服务暖人心的锦旗"
            current = (root / "cases" / f"{SOURCE}.md").read_text(encoding="utf-8")
            text = current.replace("## 处理\n\n", f"## 处理\n\n{marker}。", 1)
            slug, t0 = publish(t, r, text, slug=SOURCE)
            found = wait(lambda m=marker: SOURCE in [x["slug"] for x in httpx.get(url + "/api/search", params={"q": m, "k": 5}).json()["results"]])
            page = wait(lambda m=marker: m in httpx.get(f"{url}/cases/{SOURCE}.html").text)
            rows.append({"kind": "修改", "slug": slug, "searchable_s": round(found, 2), "site_s": round(page, 2)})
            print(rows[-1], flush=True)
    res = {"machine": machine(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "rows": rows,
           "cases": len(list((root / "cases").glob("*.md")))}
    (OUT / "publish.json").write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        "## 批准发布到可检索",
        "",
        f"审核员在 `/api/drafts/{{id}}/approve` 批准后，多久坐席能检索到（用只在这个案例里出现的一句话检索，进入前 5 条），"
        f"多久站点上的案例页换成新内容。真实服务（`caselib serve`，内置模型，{res['cases']} 个案例），"
        "`.venv/bin/python benchmarks/publish.py`，" + res["when"] + "，" + res["machine"] + "。",
        "",
        "| 类型 | 案例 | 可检索（秒） | 案例页更新（秒） |",
        "| --- | --- | --- | --- |",
    ]
    for x in rows:
        lines.append(f"| {x['kind']} | `{x['slug']}` | {x['searchable_s']:.1f} | {x['site_s']:.1f} |")
    lines += ["", "服务每秒查看一次 `cases/`，发现改动后只重新编码改过的案例、换上新索引，然后重新生成站点（整站 mkdocs 构建占了案例页更新的大部分时间）。"]
    write_section(REPO / "docs" / "benchmarks.md", PUBLISH, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
