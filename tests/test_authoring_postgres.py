"""The authoring state on a real PostgreSQL server: the same migrations and the same
workflow as on the embedded SQLite file, with only CASELIB_DATABASE_URL changed."""

from __future__ import annotations

from sqlalchemy import text

from search.authoring.db import HEAD, open_database
from tests.authoring_helpers import sign_in
from tests.conftest import make_case


def test_migrations_run_on_postgresql_and_match_the_models(pg_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from search.authoring.models import Base

    db = open_database(pg_url)
    assert db.engine.dialect.name == "postgresql"
    assert db.revision() == HEAD
    with db.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
        assert c.execute(text("select default_version from pg_available_extensions where name = 'vector'")).scalar()
    db.close()


def test_the_review_workflow_on_postgresql(tmp_path, pg_url, make_authoring_app):
    _settings, app = make_authoring_app(tmp_path, database_url=pg_url)
    t, r = sign_in(app, "trainer"), sign_in(app, "reviewer")
    text_ = make_case(id="C0950").replace("测试案例：电梯停运业主投诉", "地库积水泡车业主要求赔偿")
    d = t.post("/api/drafts", json={"text": text_}).json()
    stale = t.put(f"/api/drafts/{d['id']}", json={"text": text_ + "\n", "version": 1})
    assert stale.status_code == 200
    assert t.put(f"/api/drafts/{d['id']}", json={"text": text_, "version": 1}).status_code == 409
    assert t.post(f"/api/drafts/{d['id']}/submit").status_code == 200
    assert r.post(f"/api/drafts/{d['id']}/approve").json()["status"] == "published"
    assert (tmp_path / "cases" / "diku-jishui-paoche-yezhu-yaoqiu.md").is_file()
    versions = t.get("/api/cases/diku-jishui-paoche-yezhu-yaoqiu/history").json()["versions"]
    assert [v["approver"] for v in versions] == ["李审核"]
    for _ in range(5):
        t.post("/api/login", json={"username": "trainer2", "password": "wrong-password"})
    assert t.post("/api/login", json={"username": "trainer2", "password": "wrong-password"}).status_code == 429
