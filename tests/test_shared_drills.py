"""Failure drills on a real PostgreSQL: a writer killed with SIGKILL in the middle of
publishing, and the database stopped and started again under a serving replica."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from search.authoring.db import open_database
from search.server.app import create_app
from search.settings import load_settings
from search.shared import library
from tests import pg
from tests.conftest import REPO, three_case_library
from tests.fakes import HashingEncoder
from tests.test_shared_store import tiny_site

KILLED_WRITER = r"""
import os, signal, sys
from search.authoring.db import open_database
from search.settings import load_settings
from search.shared import library
batches = []
real_insert = library.insert
def insert(table):
    batches.append(1)
    if len(batches) == 2:  # the version row and the first 50 files are written: die now
        os.kill(os.getpid(), signal.SIGKILL)
    return real_insert(table)
library.insert = insert
settings = load_settings(sys.argv[1], env={}, database_url=sys.argv[2])
library.publish(open_database(sys.argv[2]), settings)
"""


def test_a_writer_killed_mid_publish_leaves_the_last_complete_version(tmp_path, pg_url):
    root = tmp_path / "writer"
    root.mkdir()
    tiny_site(root)
    for i in range(120):  # enough site files for several insert batches
        (root / "site" / f"page{i}.html").write_text(f"页面 {i}", encoding="utf-8")
    settings, _enc = three_case_library(root, database_url=pg_url)
    db = open_database(pg_url)
    first = library.publish(db, settings)
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(root), pg_url], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=60)
    assert proc.returncode == -9, proc.stderr
    assert library.latest(db) == first  # the killed transaction left nothing behind
    rroot = tmp_path / "replica"
    rroot.mkdir()
    rsettings = load_settings(rroot, env={}, database_url=pg_url, replica=True)
    assert library.sync(db, rsettings) == first
    assert len(list((rsettings.site_path).glob("page*.html"))) == 120
    second = library.publish(db, settings)  # the next publish completes
    assert second > first and library.sync(db, rsettings) == second
    db.close()


@pytest.fixture
def own_postgres():
    """A server of this test's own, since the test stops and starts it."""
    server, data = pg.start()
    yield server, data
    pg.stop(server, data)


def test_replicas_answer_from_memory_while_postgresql_is_down_and_recover(tmp_path, own_postgres):
    server, data = own_postgres
    url = pg.fresh_database(server)
    wroot, rroot = tmp_path / "writer", tmp_path / "replica"
    wroot.mkdir()
    rroot.mkdir()
    tiny_site(wroot)
    wsettings, _enc = three_case_library(wroot, database_url=url)
    db = open_database(url)
    library.publish(db, wsettings)
    rsettings = load_settings(rroot, env={}, database_url=url, replica=True, auto_index=False)
    app = create_app(rsettings, encoder=HashingEncoder())
    with TestClient(app) as c:
        assert c.get("/api/search", params={"q": "电梯停了"}).status_code == 200
        pg.stop_server_only(data)  # PostgreSQL goes away; the replica keeps its loaded version
        for i in range(3):
            r = c.get("/api/search", params={"q": f"数据库停了也要能查：电梯停了{i}"})
            assert r.status_code == 200 and r.json()["results"][0]["slug"] == "lift-stopped"
        down = c.post("/api/login", json={"username": "someone", "password": "whatever1"})
        assert down.status_code == 503
        assert down.json()["error"]["message"].startswith("数据库暂时连不上，这次操作没有保存")
        svc = app.state.services.get()
        assert svc.log.pending >= 3
        health = c.get("/healthz").json()
        assert (health["role"], health["status"]) == ("replica", "ok") and health["log_pending"] >= 3 and health["log_dropped"] == 0
        t0 = time.time()
        pg.restart(server)  # PostgreSQL is back, same socket
        while svc.log.pending and time.time() - t0 < 30:
            time.sleep(0.2)
        assert svc.log.pending == 0, "search-log rows were not written after the database came back"
        with db.session() as s:
            from sqlalchemy import select

            from search.shared.models import SharedSearch

            logged = [q for (q,) in s.execute(select(SharedSearch.query))]
        assert [q for q in logged if q.startswith("数据库停了也要能查")] == [f"数据库停了也要能查：电梯停了{i}" for i in range(3)]
        (wroot / "site" / "new.html").write_text("新页面", encoding="utf-8")
        newest = library.publish(db, wsettings)
        while svc.shared_version != newest and time.time() - t0 < 30:
            time.sleep(0.2)
        assert svc.shared_version == newest, "the replica did not follow a publication after the database came back"
        assert c.get("/new.html").text == "新页面"
        print(f"recovered {time.time() - t0:.1f} s after PostgreSQL came back")
    db.close()


KILLED_REPLICA = r"""
import os, pathlib, signal, sys
from search.authoring.db import open_database
from search.settings import load_settings
from search.shared import library
written = []
real = pathlib.Path.write_bytes
def write_bytes(self, data):
    written.append(self)
    if len(written) == 40:  # half way through the new site version: die now
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, data)
pathlib.Path.write_bytes = write_bytes
settings = load_settings(sys.argv[1], env={}, database_url=sys.argv[2], replica=True)
library.sync(open_database(sys.argv[2]), settings)
"""


def test_a_replica_killed_during_a_swap_comes_up_on_a_complete_version(tmp_path, pg_url):
    root = tmp_path / "writer"
    root.mkdir()
    tiny_site(root)
    for i in range(120):
        (root / "site" / f"page{i}.html").write_text(f"第一版 {i}", encoding="utf-8")
    settings, _enc = three_case_library(root, database_url=pg_url)
    db = open_database(pg_url)
    first = library.publish(db, settings)
    rroot = tmp_path / "replica"
    rroot.mkdir()
    rsettings = load_settings(rroot, env={}, database_url=pg_url, replica=True)
    assert library.sync(db, rsettings) == first
    for i in range(120):
        (root / "site" / f"page{i}.html").write_text(f"第二版 {i}", encoding="utf-8")
    second = library.publish(db, settings)
    proc = subprocess.run([sys.executable, "-c", KILLED_REPLICA, str(rroot), pg_url], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=60)
    assert proc.returncode == -9, proc.stderr
    # what a restarted replica finds on disk: the first version, whole (the killed copy is an unpublished temp dir)
    assert library.local_version(rsettings) == first
    assert {p.read_text(encoding="utf-8") for p in rsettings.site_path.glob("page*.html")} == {f"第一版 {i}" for i in range(120)}
    app = create_app(rsettings.model_copy(update={"auto_index": False}), encoder=HashingEncoder())
    with TestClient(app) as c:  # a restart: it comes up on the newest complete version
        assert app.state.services.get().shared_version == second
        assert c.get("/page7.html").text == "第二版 7"
        assert c.get("/api/search", params={"q": "电梯停了"}).status_code == 200
    db.close()
