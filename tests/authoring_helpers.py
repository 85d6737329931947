"""Helpers for the authoring tests: a project with three cases, accounts, signed-in clients."""

from __future__ import annotations

from fastapi.testclient import TestClient

from search.authoring import accounts
from search.authoring.db import open_database
from search.server.app import create_app
from tests.conftest import three_case_library

PASSWORD = "correct-horse-1"


def authoring_app(root, **overrides):
    (root / "site").mkdir(exist_ok=True)
    settings, enc = three_case_library(root, **{"auto_index": False, **overrides})
    db = open_database(settings.db_url)
    with db.session() as s:
        accounts.add_user(s, "trainer", "trainer", PASSWORD, "王培训")
        accounts.add_user(s, "trainer2", "trainer", PASSWORD, "赵培训")
        accounts.add_user(s, "reviewer", "reviewer", PASSWORD, "李审核")
        accounts.add_user(s, "reviewer2", "reviewer", PASSWORD, "孙审核")
        accounts.add_user(s, "admin", "admin", PASSWORD, "管理员")
        accounts.add_user(s, "agent", "agent", PASSWORD, "坐席小张")
    db.close()
    return settings, create_app(settings, encoder=enc)


def sign_in(app, username: str) -> TestClient:
    """A client with its own cookie jar, signed in, sending the CSRF token on every request."""
    c = TestClient(app)
    r = c.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    return c
