"""A `<script>` in every field of a draft stays text: in the editor's preview, on the
review page's rendering, and on the published site page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from search import pipeline
from search.authoring import accounts
from search.authoring.db import open_database
from search.server.app import create_app
from search.settings import load_settings
from tests.authoring_helpers import PASSWORD
from tests.conftest import make_case
from tests.fakes import HashingEncoder

S = "<script>alert(1)</script>"
EVIL = make_case(id="C0990", **{
    "title: 测试案例：电梯停运业主投诉": f"title: 注入{S}",
    "tags: [电梯, 停运]": f'tags: [电梯, "{S}"]\nowner_says: ["{S}电梯又停了", "<img src=x onerror=alert(2)>"]',
    "summary: 一部电梯": f"summary: {S}一部电梯",
    "早上八点": f"{S}早上八点",
    "客服小李先致歉": "<iframe src=//x></iframe>客服小李先致歉",
    "符合原则一": f"{S}符合原则一",
    "- 每月检查电梯运行记录。": f"- 每月检查电梯运行记录。{S} [点我](javascript:alert(3))",
    "**先说**：“您好": f"**先说**：“{S}您好",
    "1. 记录楼栋和时间": f"1. {S}记录楼栋和时间",
    "- “不可能坏。”（禁语一）": f"- “不可能坏。{S}”（禁语一）",
})


def no_markup(html: str) -> None:
    for bad in ("<script>alert", "<img src=x", "<iframe", 'href="javascript:'):
        assert bad not in html, bad
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_script_in_every_field_stays_text_in_preview_review_and_site(site_project):
    settings = load_settings(site_project, env={}, auto_index=False)
    enc = HashingEncoder()
    db = open_database(settings.db_url)
    with db.session() as s:
        accounts.add_user(s, "trainer", "trainer", PASSWORD, "王培训")
        accounts.add_user(s, "reviewer", "reviewer", PASSWORD, "李审核")
    db.close()
    pipeline.index(settings, encoder=enc, progress=False)
    app = create_app(settings, encoder=enc)
    with TestClient(app) as t, TestClient(app) as r:
        for c, name in ((t, "trainer"), (r, "reviewer")):
            c.headers["X-CSRF-Token"] = c.post("/api/login", json={"username": name, "password": PASSWORD}).json()["csrf"]
        assert t.post("/api/validate", json={"text": EVIL}).json()["problems"] == []
        no_markup(t.post("/api/preview", json={"text": EVIL}).json()["html"])
        d = t.post("/api/drafts", json={"text": EVIL}).json()
        assert t.post(f"/api/drafts/{d['id']}/submit").status_code == 200
        no_markup(r.get(f"/api/drafts/{d['id']}").json()["preview_html"])
        slug = r.post(f"/api/drafts/{d['id']}/approve").json()["slug"]
    site = pipeline.site(settings)
    no_markup((site / "cases" / f"{slug}.html").read_text(encoding="utf-8"))
