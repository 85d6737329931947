"""docs/deploy.md's nginx configuration, as written there: `nginx -t` accepts it, and a real
nginx (Debian's) in front of a writer and two replicas on a real PostgreSQL sends reads to
both replicas and writes to the writer."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from search.authoring.db import open_database
from search.server.app import create_app
from search.settings import load_settings
from search.shared.models import SharedSearch
from tests.authoring_helpers import authoring_app
from tests.conftest import REPO, make_case
from tests.fakes import HashingEncoder
from tests.test_shared_store import tiny_site

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not shutil.which("nginx") and not __import__("os").path.exists(NGINX),
                                reason="Debian's nginx is not installed (.ci/test installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def documented_config() -> str:
    page = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = page.split("<!-- deploy:nginx:start -->")[1].split("<!-- deploy:nginx:end -->")[0]
    return re.search(r"```nginx\n(.*?)```", block, re.S).group(1)


def nginx_conf(tmp_path, ports: dict[int, int]) -> str:
    snippet = documented_config()
    for old, new in ports.items():
        snippet = re.sub(rf"\b{old}\b", str(new), snippet)
    for d in ("logs", "tmp"):
        (tmp_path / d).mkdir(exist_ok=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/logs/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {tmp_path}/logs/access.log;
    client_body_temp_path {tmp_path}/tmp/body;
    proxy_temp_path {tmp_path}/tmp/proxy;
    fastcgi_temp_path {tmp_path}/tmp/fastcgi;
    uwsgi_temp_path {tmp_path}/tmp/uwsgi;
    scgi_temp_path {tmp_path}/tmp/scgi;
{snippet}
}}
""", encoding="utf-8")
    return str(conf)


def serve(app, port):
    import uvicorn

    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    srv.thread = threading.Thread(target=srv.run, daemon=True)
    srv.thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    return srv


def test_nginx_accepts_the_documented_configuration(tmp_path):
    conf = nginx_conf(tmp_path, {8000: free_port(), 8001: free_port(), 8002: free_port(), 8080: free_port()})
    out = subprocess.run([NGINX, "-t", "-c", conf, "-p", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "syntax is ok" in out.stderr and "test is successful" in out.stderr


def test_nginx_sends_reads_to_both_replicas_and_writes_to_the_writer(tmp_path, pg_url):
    ports = {8000: free_port(), 8001: free_port(), 8002: free_port(), 8080: free_port()}
    wroot = tmp_path / "writer"
    wroot.mkdir()
    tiny_site(wroot)
    wsettings, writer = authoring_app(wroot, database_url=pg_url, port=ports[8000], auto_index=True)
    servers = [serve(writer, ports[8000])]
    deadline = time.time() + 10
    db = open_database(pg_url)
    from search.shared import library

    while library.latest(db) is None and time.time() < deadline:
        time.sleep(0.1)
    for n in (8001, 8002):
        root = tmp_path / f"replica{n}"
        root.mkdir()
        rs = load_settings(root, env={}, database_url=pg_url, replica=True, auto_index=False, port=ports[n])
        servers.append(serve(create_app(rs, encoder=HashingEncoder()), ports[n]))
    conf = nginx_conf(tmp_path, ports)
    nginx = subprocess.Popen([NGINX, "-c", conf, "-p", str(tmp_path), "-g", "daemon off;"], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{ports[8080]}"
    try:
        for _ in range(50):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        codes = [httpx.get(base + "/api/search", params={"q": f"电梯停了 {i}"}).status_code for i in range(20)]
        assert codes == [200] * 20
        c = httpx.Client(base_url=base, timeout=30)
        csrf = c.post("/api/login", json={"username": "trainer", "password": "correct-horse-1"}).json()["csrf"]
        c.headers["X-CSRF-Token"] = csrf
        text = make_case(id="C0950").replace("测试案例：电梯停运业主投诉", "经由代理提交的新案例：地库积水")
        d = c.post("/api/drafts", json={"text": text}).json()
        assert c.post(f"/api/drafts/{d['id']}/submit").status_code == 200
        r = httpx.Client(base_url=base, timeout=30)
        r.headers["X-CSRF-Token"] = r.post("/api/login", json={"username": "reviewer", "password": "correct-horse-1"}).json()["csrf"]
        slug = r.post(f"/api/drafts/{d['id']}/approve").json()["slug"]
        assert (wroot / "cases" / f"{slug}.md").is_file()  # the approval reached the writer
        t0 = time.time()
        hits = []
        while time.time() - t0 < 10:
            hits = [x["slug"] for x in httpx.get(base + "/api/search", params={"q": "经由代理提交的新案例：地库积水"}).json()["results"]]
            if slug in hits:
                break
            time.sleep(0.2)
        assert slug in hits
        time.sleep(1.5)  # the replicas' search-log flush
        with db.session() as s:
            answered = {x for (x,) in s.execute(select(SharedSearch.replica).distinct())}
        assert {a.rsplit(":", 1)[1] for a in answered} >= {str(ports[8001]), str(ports[8002])}
        assert str(ports[8000]) not in {a.rsplit(":", 1)[1] for a in answered}  # reads never went to the writer
    finally:
        nginx.terminate()
        nginx.wait(10)
        for srv in servers:
            srv.should_exit = True
        for srv in servers:
            srv.thread.join(10)
        writer.state.authoring.close()
        db.close()
