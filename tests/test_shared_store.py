"""One writer and two replicas on a real PostgreSQL: a case approved on the writer is found
by both replicas within 10 s, searches on either replica reach one `caselib gaps` report,
and two writers publishing at once each leave a complete version."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from search.atomic import write_version
from search.authoring.db import open_database
from search.server.app import create_app
from search.settings import load_settings
from search.shared import library
from tests.authoring_helpers import authoring_app, sign_in
from tests.conftest import make_case
from tests.fakes import HashingEncoder

NEW = make_case(id="C0950").replace("测试案例：电梯停运业主投诉", "地库积水泡车业主要求赔偿").replace(
    "早上八点，业主王先生来电，说电梯停在一楼不动了，他要赶去上班。", "暴雨后地下车库进水，业主的车被泡，要求物业赔偿维修费。")


def tiny_site(root):
    write_version(root / "site", lambda d: (d / "index.html").write_text("<!doctype html><title>站点</title>首页", encoding="utf-8"),
                  versions=root / ".caselib" / "site.d", replace_dir=True)


def replica(root, url):
    settings = load_settings(root, env={}, database_url=url, replica=True, auto_index=False)
    return create_app(settings, encoder=HashingEncoder())


def found(client, q, slug) -> bool:
    r = client.get("/api/search", params={"q": q, "k": 5})
    return r.status_code == 200 and slug in [x["slug"] for x in r.json()["results"]]


def test_a_case_approved_on_the_writer_is_found_on_both_replicas(tmp_path, pg_url):
    wroot, r1root, r2root = tmp_path / "writer", tmp_path / "r1", tmp_path / "r2"
    for d in (wroot, r1root, r2root):
        d.mkdir()
    tiny_site(wroot)
    settings, writer = authoring_app(wroot, database_url=pg_url, auto_index=True)  # the watcher re-indexes approved cases
    with TestClient(writer) as w:
        deadline = time.time() + 10
        while library.latest(open_database(pg_url)) is None and time.time() < deadline:
            time.sleep(0.1)  # the writer publishes what it serves when the store is empty
        with TestClient(replica(r1root, pg_url)) as a, TestClient(replica(r2root, pg_url)) as b:
            assert found(a, "电梯停在一楼不动了", "lift-stopped") and found(b, "电梯停在一楼不动了", "lift-stopped")
            assert "首页" in a.get("/").text  # the site comes with the version
            quiz = a.get("/api/quiz/day-1").json()["questions"]  # the quizzes are drawn from the published cases
            assert any(q["id"].startswith("first-") for q in quiz)
            t, r = sign_in(writer, "trainer"), sign_in(writer, "reviewer")
            d = t.post("/api/drafts", json={"text": NEW}).json()
            assert t.post(f"/api/drafts/{d['id']}/submit").status_code == 200
            slug = r.post(f"/api/drafts/{d['id']}/approve").json()["slug"]
            t0 = time.time()
            q = "暴雨后地下车库进水，车被泡了要赔偿"
            while not (found(a, q, slug) and found(b, q, slug)) and time.time() - t0 < 10:
                time.sleep(0.2)
            took = time.time() - t0
            assert found(a, q, slug) and found(b, q, slug), f"not on both replicas after {took:.1f} s"
            assert (r1root / "cases" / f"{slug}.md").is_file()
            print(f"both replicas found it {took:.1f} s after the approval")
            a.get("/api/search", params={"q": "只在一号副本上问的问题：门禁坏了"})
            b.get("/api/search", params={"q": "只在二号副本上问的问题：门禁坏了"})
        w.get("/api/search", params={"q": "写服务上问的：电梯"})
    from click.testing import CliRunner

    from search.cli import cli

    report = CliRunner().invoke(cli, ["--root", str(wroot), "gaps", "--limit", "100"], env={"CASELIB_DATABASE_URL": pg_url})
    assert report.exit_code == 0, report.output
    print(report.output)
    assert "只在一号副本上问的问题" in report.output and "只在二号副本上问的问题" in report.output


def test_two_writers_at_once_each_publish_a_complete_version(tmp_path, pg_url):
    from tests.conftest import three_case_library

    roots = [tmp_path / "w1", tmp_path / "w2"]
    settings = []
    for root in roots:
        root.mkdir()
        tiny_site(root)
        s, _enc = three_case_library(root, database_url=pg_url)
        settings.append(s)
    db = open_database(pg_url)
    ids, errors = [], []

    def go(s):
        try:
            for _ in range(3):
                ids.append(library.publish(db, s, keep=10))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=go, args=(s,)) for s in settings]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(ids) == 6 and len(set(ids)) == 6
    from sqlalchemy import func, select

    from search.shared.models import LibraryFile, LibraryVersion

    with db.session() as s:
        for vid, files in s.execute(select(LibraryVersion.id, LibraryVersion.files)):
            got = s.scalar(select(func.count()).select_from(LibraryFile).where(LibraryFile.version_id == vid))
            assert got == files, (vid, got, files)
    r = tmp_path / "replica"
    r.mkdir()
    rs = load_settings(r, env={}, database_url=pg_url, replica=True)
    assert library.sync(db, rs) == max(ids)
    assert (rs.index_path / "manifest.json").is_file() and (rs.site_path / "index.html").is_file()
    db.close()


def test_serve_replica_needs_a_shared_database(tmp_path):
    from click.testing import CliRunner

    from search.cli import cli

    r = CliRunner().invoke(cli, ["--root", str(tmp_path), "serve", "--replica"], env={})
    assert r.exit_code == 1
    assert "--replica 需要共享数据库：设置 CASELIB_DATABASE_URL=postgresql://… — 单机使用时不加 --replica" in r.output


def test_a_replica_swapping_versions_never_fails_or_answers_empty(tmp_path, pg_url):
    wroot, rroot = tmp_path / "writer", tmp_path / "replica"
    wroot.mkdir()
    rroot.mkdir()
    tiny_site(wroot)
    from tests.conftest import three_case_library

    wsettings, _enc = three_case_library(wroot, database_url=pg_url)
    db = open_database(pg_url)
    first = library.publish(db, wsettings)
    app = replica(rroot, pg_url)
    answers, stop = [], threading.Event()
    with TestClient(app) as c:
        def hammer():
            while not stop.is_set():
                r = c.get("/api/search", params={"q": "电梯停在一楼不动了"})
                answers.append((r.status_code, len(r.json().get("results", [])) if r.status_code == 200 else 0))

        t = threading.Thread(target=hammer)
        t.start()
        svc = app.state.services.get()
        for _ in range(3):
            newest = library.publish(db, wsettings)
            deadline = time.time() + 10
            while svc.shared_version != newest and time.time() < deadline:
                time.sleep(0.05)
            assert svc.shared_version == newest
        stop.set()
        t.join()
    assert newest == first + 3
    assert len(answers) >= 10  # searches ran through all three swaps
    assert {code for code, _n in answers} == {200} and min(n for _c, n in answers) > 0
    db.close()
