"""The review page, the admin page and a case page's 修订记录 in a real headless browser
(Debian chromium via Playwright), against a running server with the real model, a copy of
the shipped library, and the server's watcher re-indexing and rebuilding the site."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.browser_support import add_users, copy_project, plain_files

pytestmark = pytest.mark.model

PASSWORD = "correct-horse-1"
USERS = [("trainer", "trainer", "王培训"), ("reviewer", "reviewer", "李审核"), ("reviewer2", "reviewer", "孙审核"),
         ("admin", "admin", "管理员")]
SOURCE = "access-card-upgrade-delivery-riders"  # the new case is a copy of this one, with another id and title
EDITED = "dog-waste-lawn"
NEW_TITLE = "测试用新案例：单元门禁刷卡失灵九天无人处理"
XSS = "<script>alert(1)</script>"



@pytest.fixture(scope="module")
def project(tmp_path_factory, cache_dir, real_encoder):
    """A copy of the real project with its index and site built, and four accounts."""
    from search import pipeline

    settings = copy_project(tmp_path_factory.mktemp("review"), cache_dir)
    assert settings.auto_index  # the watcher re-indexes and rebuilds the site after an approval
    pipeline.build(settings, encoder=real_encoder, progress=False)
    add_users(settings, USERS, PASSWORD)
    return settings


def client(server: str, username: str) -> httpx.Client:
    """An API client signed in as username, sending the CSRF token on every request."""
    c = httpx.Client(base_url=server, timeout=30)
    r = c.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    return c


@pytest.fixture
def open_as(browser, server):
    """open_as(username or None) → a page in its own context, signed in; any dialog fails the test."""
    contexts, dialogs = [], []

    def make(username):
        ctx = browser.new_context()
        contexts.append(ctx)
        if username:
            r = ctx.request.post(f"{server}/api/login", data={"username": username, "password": PASSWORD})
            assert r.ok, r.text()
        pg = ctx.new_page()
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
    assert dialogs == [], f"unexpected dialogs: {dialogs}"


def new_case_text(project) -> str:
    text = (project.cases_dir / f"{SOURCE}.md").read_text(encoding="utf-8")
    text = re.sub(r"^id: .*$", "id: C9001", text, count=1, flags=re.M)
    text = re.sub(r"^title: .*$", f"title: {NEW_TITLE}", text, count=1, flags=re.M)
    return text.replace("## 经过\n\n", f"## 经过\n\n业主留言里写着 {XSS} 这样的字。\n\n", 1)


def poll(fn, seconds: float, every: float = 0.5):
    deadline = time.time() + seconds
    while True:
        value = fn()
        if value or time.time() > deadline:
            return value
        time.sleep(every)


def test_only_reviewers_may_review(open_as, server):
    pg = open_as(None)
    pg.goto(f"{server}/review/index.html")
    note = pg.locator("#cl-review .cl-notice", has_text="要先登录")
    note.wait_for()
    assert note.locator("a[href*='login.html?next=']").count() == 1
    pg = open_as("trainer")
    pg.goto(f"{server}/review/index.html")
    pg.locator("#cl-review .cl-notice", has_text="不能审核案例").wait_for()
    pg.goto(f"{server}/admin/index.html")
    pg.locator("#cl-admin .cl-notice", has_text="不能管理账号").wait_for()


def test_reject_then_approve_a_new_case(open_as, server, project):
    trainer = client(server, "trainer")
    r = trainer.post("/api/drafts", json={"text": new_case_text(project)})
    assert r.status_code == 201 and r.json()["problems"] == [], r.text
    draft = r.json()["id"]
    r = trainer.post(f"/api/drafts/{draft}/submit")
    assert r.status_code == 200, r.text
    slug = r.json()["slug"]

    pg = open_as("reviewer")
    pg.goto(f"{server}/review/index.html")
    row = pg.locator(".cl-review-queue tr", has_text=NEW_TITLE)
    row.wait_for()
    assert "王培训" in row.inner_text() and "新建" in row.inner_text()
    row.locator("a.cl-review-open").click()
    pg.wait_for_url(re.compile(rf"\?draft={draft}$"))
    pg.locator(".cl-checks", has_text="检查通过").wait_for()
    preview = pg.locator(".cl-review-preview")
    assert XSS in preview.inner_text()  # the markup stays text
    assert pg.locator("#cl-review script").count() == 0
    assert pg.locator(".cl-diff").count() == 0  # a new case has nothing to compare with

    pg.locator("button.cl-reject").click()  # no comment: refused before any request
    pg.locator(".cl-review-error", has_text="写明哪里需要改").wait_for()
    pg.locator("#cl-review-comment").fill("经过里缺少回访时间，请补上")
    pg.locator("button.cl-reject").click()
    pg.locator(".cl-review-done", has_text="已退回").wait_for()
    d = trainer.get(f"/api/drafts/{draft}").json()
    assert (d["status"], d["status_name"], d["comment"]) == ("draft", "草稿", "经过里缺少回访时间，请补上")

    assert trainer.post(f"/api/drafts/{draft}/submit").status_code == 200
    pg.goto(f"{server}/review/index.html?draft={draft}")
    pg.locator(".cl-review-note", has_text="上次退回的意见：经过里缺少回访时间").wait_for()
    pg.locator("button.cl-approve").click()
    done = pg.locator(".cl-review-done", has_text="已发布，约 10 秒后可检索")
    done.wait_for()
    approved = time.time()
    assert done.locator("a.cl-case-link").get_attribute("href").endswith(f"/cases/{slug}.html")
    assert "30 秒" in done.inner_text()
    assert (project.cases_dir / f"{slug}.md").is_file()

    def found():
        hits = httpx.get(f"{server}/api/search", params={"q": NEW_TITLE, "k": 10}).json()["results"]
        return slug in [h["slug"] for h in hits]

    assert poll(found, 10), "the approved case is not searchable within 10 s"
    assert time.time() - approved < 12


def test_edit_diff_history_and_restore(open_as, server, project):
    trainer = client(server, "trainer")
    d = trainer.post("/api/drafts", json={"slug": EDITED}).json()
    added = "- 当天傍晚，客服再给冯先生回了一次电话，说明新增的拾便袋放在哪里。"
    text = d["text"].replace("## 处理\n\n", f"## 处理\n\n{added}\n\n", 1)
    assert text != d["text"]
    r = trainer.put(f"/api/drafts/{d['id']}", json={"text": text, "version": d["version"]})
    assert r.status_code == 200, r.text
    assert trainer.post(f"/api/drafts/{d['id']}/submit").status_code == 200

    pg = open_as("reviewer")
    pg.goto(f"{server}/review/index.html?draft={d['id']}")
    pg.locator(".cl-diff-add", has_text="再给冯先生回了一次电话").wait_for()
    assert "修改" in pg.locator(".cl-review-meta").inner_text()
    pg.locator("#cl-review-comment").fill("写得清楚")
    pg.locator("button.cl-approve").click()
    pg.locator(".cl-review-done", has_text="已发布").wait_for()

    # the site page is rebuilt by the server's watcher (up to ~30 s)
    page_url = f"{server}/cases/{EDITED}.html"
    assert poll(lambda: "再给冯先生回了一次电话" in httpx.get(page_url).text, 60, 1), "site page not rebuilt in 60 s"
    pg.goto(page_url)
    history = pg.locator(".cl-history")
    history.locator(".cl-version").nth(1).wait_for()
    assert history.is_visible() and history.locator("h2").inner_text() == "修订记录"
    versions = history.locator(".cl-version")
    assert versions.count() == 2
    v2, v1 = versions.nth(0), versions.nth(1)
    assert "第 2 版" in v2.inner_text() and "王培训" in v2.inner_text() and "李审核" in v2.inner_text()
    assert history.locator("a.cl-history-edit").get_attribute("href").endswith(f"write/index.html?edit={EDITED}")
    v2.locator(".cl-version-show").click()
    v2.locator(".cl-diff-add", has_text="再给冯先生回了一次电话").wait_for()
    assert v2.locator(".cl-version-restore").count() == 0  # the current version cannot be "restored"
    v1.locator(".cl-version-show").click()
    v1.locator(".cl-version-first", has_text="最初的版本").wait_for()
    assert not v1.locator(".cl-version-text pre").is_visible()  # the full text, collapsed

    v1.locator(".cl-version-restore").click()
    note = v1.locator(".cl-notice-ok", has_text="已生成待审核的草稿，由另一位审核员批准后生效")
    note.wait_for()
    note.locator("a.cl-restore-link").click()
    pg.wait_for_url(re.compile(r"/review/index\.html\?draft=\d+$"))
    pg.locator(".cl-review-note", has_text="恢复到第 1 版").wait_for()
    assert "恢复" in pg.locator(".cl-review-meta").inner_text()
    pg.locator(".cl-diff-del", has_text="再给冯先生回了一次电话").wait_for()
    # the reviewer restored it, so the reviewer may not approve it
    pg.locator("button.cl-approve").click()
    pg.locator(".cl-review-error", has_text="不能审核自己写的草稿").wait_for()
    assert not pg.locator("button.cl-approve").is_disabled()  # another try stays possible

    # a trainer sees 修改这个案例 but no restore buttons; no one signed in sees neither
    pg = open_as("trainer")
    pg.goto(page_url)
    pg.locator(".cl-history .cl-version").nth(1).wait_for()
    assert pg.locator(".cl-history-edit").count() == 1 and pg.locator(".cl-version-restore").count() == 0
    pg = open_as(None)
    pg.goto(page_url)
    pg.locator(".cl-history .cl-version").nth(1).wait_for()
    assert pg.locator(".cl-history-edit").count() == 0 and pg.locator(".cl-version-restore").count() == 0


def test_admin_adds_user_and_reads_the_audit_log(open_as, server):
    pg = open_as("admin")
    pg.goto(f"{server}/admin/index.html")
    pg.locator(".cl-users-table tr[data-username='reviewer2']").wait_for()
    me = pg.locator(".cl-users-table tr[data-username='admin']")
    assert me.locator("select.cl-role").is_disabled() and me.locator(".cl-toggle").count() == 0  # no locking oneself out
    form = pg.locator(".cl-user-form")
    form.locator("input[name='username']").fill("zhangsan")
    form.locator("input[name='display_name']").fill("张三")
    form.locator("select[name='role']").select_option("trainer")
    form.locator("input[name='password']").fill("first-pass-123")
    form.locator("button[type='submit']").click()
    pg.locator(".cl-user-form-status", has_text="已新增账号 zhangsan").wait_for()
    row = pg.locator(".cl-users-table tr[data-username='zhangsan']")
    row.wait_for()
    assert "张三" in row.inner_text() and row.locator("select.cl-role").input_value() == "trainer"

    row.locator("select.cl-role").select_option("reviewer")
    pg.locator(".cl-users-status", has_text="角色改为“审核员”").wait_for()
    row.locator(".cl-toggle", has_text="停用").click()
    pg.locator(".cl-users-status", has_text="已停用 zhangsan").wait_for()
    row.locator(".cl-user-state", has_text="已停用").wait_for()
    users = {u["username"]: u for u in client(server, "admin").get("/api/users").json()["users"]}
    assert users["zhangsan"]["role"] == "reviewer" and users["zhangsan"]["disabled"] is True

    audit = pg.locator(".cl-audit-table")
    audit.locator("tr", has_text="新增账号").first.wait_for()
    approve = audit.locator("tr[data-action='approve']").first
    assert "批准发布" in approve.inner_text() and "reviewer" in approve.inner_text()
    assert audit.locator("tr[data-action='reject']").count() == 1
    assert [th.strip() for th in audit.locator("th").all_inner_texts()] == ["时间", "操作人", "操作", "对象", "说明"]
    pg.locator("select.cl-audit-since").select_option("")  # 全部 includes the accounts made before the server
    audit.locator("tr[data-action='user_add']", has_text="reviewer2").wait_for()


def test_history_stays_hidden_without_the_api(project, browser):
    """The site served as plain files: no 修订记录, no error."""
    with plain_files(project.site_path) as url:
        ctx = browser.new_context()
        pg = ctx.new_page()
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{url}/cases/{SOURCE}.html")
        pg.wait_for_load_state("networkidle")
        assert pg.locator(".cl-history").count() == 1 and not pg.locator(".cl-history").is_visible()
        assert errors == []
        ctx.close()
