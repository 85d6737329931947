"""Who may do what: every write route without a session (401), with a role that may not
(403), without the CSRF token (403); the sign-in limit (429); trusted-proxy single sign-on;
unsafe slugs; and no password or unmasked phone number in the audit or search logs."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from tests.authoring_helpers import PASSWORD, authoring_app, sign_in
from tests.conftest import make_case

NEW = make_case(id="C0950").replace("测试案例：电梯停运业主投诉", "地库积水泡车业主要求赔偿")
# open to anyone by design: agents search and give feedback without signing in; anyone may take
# a quiz (a signed-in learner's submission needs the CSRF token: tests/test_quiz_api.py)
OPEN_WRITES = {"/api/login", "/api/logout", "/api/feedback", "/api/check-reply", "/api/reload", "/api/quiz/{module}/attempts"}
# the least role each write needs
NEEDS = {"/api/users": "admin", "/api/users/{username}": "admin", "/api/drafts/{draft_id}/approve": "reviewer",
         "/api/drafts/{draft_id}/reject": "reviewer", "/api/cases/{slug}/restore": "reviewer"}
BODIES = {"/api/validate": {"text": NEW}, "/api/preview": {"text": NEW}, "/api/drafts": {"text": NEW},
          "/api/drafts/{draft_id}": {"text": NEW, "version": 1}, "/api/drafts/{draft_id}/reject": {"comment": "改"},
          "/api/cases/{slug}/restore": {"version": 1}, "/api/users": {"username": "x1", "role": "agent", "password": PASSWORD},
          "/api/users/{username}": {"role": "agent"}}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    _settings, app = authoring_app(tmp_path_factory.mktemp("security"))
    yield app
    app.state.services.close()
    app.state.authoring.close()


def write_routes(app):
    """Every state-changing route the app serves (from its OpenAPI description)."""
    return sorted((m.upper(), path) for path, ops in app.openapi()["paths"].items() if path not in OPEN_WRITES
                  for m in ops if m.upper() not in ("GET", "HEAD"))


def url(path: str) -> str:
    return path.replace("{draft_id}", "1").replace("{slug}", "lift-stopped").replace("{username}", "agent")


def call(client, method, path, **kw):
    body = BODIES.get(path)
    if path == "/api/import":
        return client.request(method, url(path), content=b"not a word file", **kw)
    return client.request(method, url(path), json=body, **kw)


def test_the_write_routes_are_the_ones_this_file_covers(app):
    assert write_routes(app) == [
        ("PATCH", "/api/users/{username}"), ("POST", "/api/cases/{slug}/restore"), ("POST", "/api/drafts"),
        ("POST", "/api/drafts/{draft_id}/approve"), ("POST", "/api/drafts/{draft_id}/reject"),
        ("POST", "/api/drafts/{draft_id}/submit"), ("POST", "/api/drafts/{draft_id}/withdraw"), ("POST", "/api/import"),
        ("POST", "/api/preview"), ("POST", "/api/users"), ("POST", "/api/validate"), ("PUT", "/api/drafts/{draft_id}"),
    ]


def test_every_write_route_without_a_session_is_401(app):
    anon = TestClient(app)
    for method, path in write_routes(app):
        r = call(anon, method, path)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"] == {"code": "unauthorized", "field": None,
                                     "message": "请先登录 — 在页面右上角“登录”，或打开 /login.html；没有账号请找管理员开通"}


def test_every_write_route_with_a_role_that_may_not_is_403(app):
    agent, trainer, reviewer = sign_in(app, "agent"), sign_in(app, "trainer"), sign_in(app, "reviewer")
    for method, path in write_routes(app):
        r = call(agent, method, path)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["message"].startswith("坐席不能"), r.text
        need = NEEDS.get(path)
        if need in ("reviewer", "admin"):
            assert call(trainer, method, path).status_code == 403, (method, path)
        if need == "admin":
            r = call(reviewer, method, path)
            assert r.status_code == 403 and r.json()["error"]["message"] == "审核员不能管理账号 — 需要“管理员”或更高的角色，请联系管理员"


def test_every_write_route_without_the_csrf_token_is_403(app):
    admin = sign_in(app, "admin")
    token = admin.headers.pop("X-CSRF-Token")
    for method, path in write_routes(app):
        r = call(admin, method, path)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["message"].startswith("缺少或错误的 X-CSRF-Token")
        r = call(admin, method, path, headers={"X-CSRF-Token": token[:-1] + "x"})
        assert r.status_code == 403, (method, path)


def test_unknown_user_and_wrong_password_get_the_same_401_and_the_sixth_try_is_429(app):
    c = TestClient(app)
    unknown = c.post("/api/login", json={"username": "nobody", "password": "whatever1"})
    wrong = c.post("/api/login", json={"username": "trainer2", "password": "wrong-password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    for _ in range(4):
        assert c.post("/api/login", json={"username": "trainer2", "password": "wrong-password"}).status_code == 401
    sixth = c.post("/api/login", json={"username": "trainer2", "password": PASSWORD})  # even the right one now
    assert sixth.status_code == 429
    assert int(sixth.headers["Retry-After"]) > 0
    assert sixth.json()["error"]["message"].startswith("这个账号一分钟内登录失败已达 5 次")
    assert c.post("/api/login", json={"username": "trainer", "password": PASSWORD}).status_code == 200  # per name


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_only_over_https(app):
    r = TestClient(app).post("/api/login", json={"username": "trainer", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    r = TestClient(app, base_url="https://testserver").post("/api/login", json={"username": "trainer", "password": PASSWORD})
    assert "Secure" in r.headers["set-cookie"]


def test_logout_ends_the_session(app):
    c = sign_in(app, "trainer")
    assert c.get("/api/me").json()["user"]["username"] == "trainer"
    c.post("/api/logout")
    assert c.get("/api/me").json()["user"] is None
    assert c.post("/api/validate", json={"text": NEW}).status_code == 401


@pytest.mark.parametrize("slug", ["../../x", "..%2F..%2Fx", "a/b", "UPPER", "x" * 81])
def test_a_slug_that_could_leave_cases_is_refused(app, slug):
    t = sign_in(app, "trainer")
    r = t.post("/api/drafts", json={"slug": slug})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "slug"
    h = t.get(f"/api/cases/{slug}/history")
    assert h.status_code in (404, 422)


def test_a_disabled_user_is_signed_out_everywhere(tmp_path, make_authoring_app):
    _s, app = make_authoring_app(tmp_path)
    t, admin = sign_in(app, "trainer"), sign_in(app, "admin")
    assert admin.patch("/api/users/trainer", json={"disabled": True}).json()["disabled"] is True
    assert t.get("/api/me").json()["user"] is None
    assert TestClient(app).post("/api/login", json={"username": "trainer", "password": PASSWORD}).status_code == 401


def test_single_sign_on_header_counts_only_from_a_trusted_proxy(tmp_path, make_authoring_app):
    _s, app = make_authoring_app(tmp_path, auth_header="X-Remote-User", trusted_proxies="10.0.0.5")
    stranger = TestClient(app, client=("192.168.1.9", 5000))
    assert stranger.get("/api/me", headers={"X-Remote-User": "admin"}).json()["user"] is None
    proxy = TestClient(app, client=("10.0.0.5", 5000))
    me = proxy.get("/api/me", headers={"X-Remote-User": "reviewer"}).json()
    assert me["user"]["username"] == "reviewer" and me["via"] == "proxy"
    proxy.headers.update({"X-Remote-User": "reviewer", "X-CSRF-Token": me["csrf"]})
    assert proxy.post("/api/validate", json={"text": NEW}).status_code == 200
    first = TestClient(app, client=("10.0.0.5", 5000)).get("/api/me", headers={"X-Remote-User": "new.person"}).json()
    assert first["user"] == {"username": "new.person", "role": "agent", "display_name": "new.person"}


def test_require_login_closes_search_and_pages_but_not_the_sign_in_page(tmp_path, make_authoring_app):
    _s, app = make_authoring_app(tmp_path, require_login=True)
    anon = TestClient(app, follow_redirects=False)
    r = anon.get("/api/search", params={"q": "电梯停了"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    page = anon.get("/cases/index.html")
    assert page.status_code == 303 and page.headers["location"] == "/login.html?next=/cases/index.html"
    assert anon.get("/api/me").json()["require_login"] is True
    c = sign_in(app, "agent")
    assert c.get("/api/search", params={"q": "电梯停了"}).status_code == 200


def test_no_password_or_unmasked_phone_reaches_the_audit_or_search_log(tmp_path, make_authoring_app):
    settings, app = make_authoring_app(tmp_path)
    with TestClient(app) as anon:
        anon.post("/api/login", json={"username": "trainer", "password": "secret-typo-13812345678"})
        t, r = sign_in(app, "trainer"), sign_in(app, "reviewer")
        d = t.post("/api/drafts", json={"text": NEW.replace("早上八点", "早上八点业主13812345678来电")}).json()
        t.put(f"/api/drafts/{d['id']}", json={"text": NEW, "version": 1})
        t.post(f"/api/drafts/{d['id']}/submit")
        r.post(f"/api/drafts/{d['id']}/reject", json={"comment": "业主电话13812345678不能写进去"})
        anon.get("/api/search", params={"q": "我电话13812345678，电梯又停了"})
        admin = sign_in(app, "admin")
        admin.post("/api/users", json={"username": "newbie", "role": "trainer", "password": "another-secret-pw"})
        admin.patch("/api/users/newbie", json={"password": "third-secret-pw"})
    dump = ""
    for db in (settings.state_dir / "caselib.sqlite3", settings.log_path):
        con = sqlite3.connect(db)
        for (table,) in con.execute("select name from sqlite_master where type='table'"):
            if table in ("drafts", "revisions"):
                continue  # the draft text itself: the trainer's work, checked before publishing
            dump += repr(con.execute(f"select * from {table}").fetchall())  # noqa: S608 - table names from sqlite_master
        con.close()
    for secret in ("13812345678", PASSWORD, "secret-typo", "another-secret-pw", "third-secret-pw"):
        assert secret not in dump, secret
    assert "〔手机号码〕" in dump  # the comment was kept, masked


def test_the_last_admin_cannot_lock_everyone_out(tmp_path, make_authoring_app):
    _s, app = make_authoring_app(tmp_path)
    admin = sign_in(app, "admin")
    for body, field in (({"role": "agent"}, "role"), ({"disabled": True}, "disabled")):
        r = admin.patch("/api/users/admin", json=body)
        assert r.status_code == 422
        assert r.json()["error"] == {"code": "invalid_parameter", "field": field,
                                     "message": "“admin”是最后一个管理员，不能停用或取消管理员角色 — 先给另一个人管理员角色"}
    assert admin.patch("/api/users/reviewer", json={"role": "admin"}).status_code == 200
    assert admin.patch("/api/users/admin", json={"role": "reviewer"}).json()["role"] == "reviewer"
