"""The trainers' case editor (/write/) in a real headless browser (Debian chromium via
Playwright), against a running server with the real model and the shipped library: sign in,
import a Word report, fix what the live checks say, submit; markup stays text in the
preview; the form and the Markdown view edit one text; autosave; a conflict between two
browsers is shown, never overwritten silently."""

from __future__ import annotations

import time

import pytest

from tests.browser_support import add_users, copy_project

pytestmark = pytest.mark.model

PASSWORD = "editor-test-pw-1"
PHONE, MASKED = "13812345678", "138****5678"



@pytest.fixture(scope="module")
def project(tmp_path_factory, cache_dir, real_encoder):
    """A copy of the real project with its index and site built, as `caselib build` does,
    and three accounts."""
    from search import pipeline

    settings = copy_project(tmp_path_factory.mktemp("editor"), cache_dir)
    pipeline.build(settings, encoder=real_encoder, progress=False)
    add_users(settings, [("trainer", "trainer", "王培训"), ("trainer2", "trainer", "赵培训"), ("agent", "agent", "坐席小张"),
                         ("reviewer", "reviewer", "李审核")], PASSWORD)
    return settings


@pytest.fixture
def open_page(browser):
    """open_page() → a page in a fresh browser context (its own cookies and localStorage),
    1280×800. Any alert/confirm dialog fails the test."""
    contexts, dialogs = [], []

    def make():
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(15000)
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
    assert dialogs == [], f"a dialog fired: {dialogs}"


def sign_in(page, server, username):
    """Open /write/ signed out, follow its link to /login.html and sign in there: the login
    page sends the trainer back to /write/."""
    page.goto(f"{server}/write/")
    link = page.locator("#cl-editor a[href*='login.html?next=']")
    link.wait_for()
    assert "需要先登录" in page.locator("#cl-editor").inner_text()
    link.click()
    page.wait_for_url("**/login.html?next=*")
    page.fill("#cl-login-user", username)
    page.fill("#cl-login-pass", PASSWORD)
    page.click("#cl-login-form button[type=submit]")
    page.wait_for_url("**/write/**")


def draft_id(page) -> int:
    page.wait_for_url("**?draft=*")
    return int(page.url.split("draft=")[1])


def server_draft(page, server, did) -> dict:
    r = page.request.get(f"{server}/api/drafts/{did}")
    assert r.ok, r.text()
    return r.json()


def wait_saved(page):
    page.locator("#cl-ed-save", has_text="已保存").wait_for()


def word_report(path):
    """A complaint report as a trainer writes it in Word: its own headings, a phone number,
    no 接听要点."""
    import docx

    doc = docx.Document()
    doc.add_heading("三号楼楼道灯坏了一周没人修", level=0)
    doc.add_heading("事件经过", level=1)
    doc.add_paragraph(f"2024年5月，三号楼的业主陈先生打来电话（{PHONE}），说楼道灯坏了一个星期，"
                      "晚上老人上下楼看不清，已经报修两次都没人来。")
    doc.add_heading("处理过程", level=1)
    doc.add_paragraph("客服主管当天派电工上门换了灯管，并回电告诉陈先生已经修好，陈先生表示满意。")
    doc.add_heading("原因分析", level=1)
    doc.add_paragraph("两次报修都没有人跟踪，修没修好也没人回访，违背了原则三。")
    doc.add_heading("整改措施", level=1)
    doc.add_paragraph("公共照明报修当天处理，修好后回访业主。", style="List Bullet")
    doc.save(path)
    return path


def test_signed_out_and_agents_are_told_what_they_need(server, open_page):
    page = open_page()
    page.goto(f"{server}/write/?draft=1")
    link = page.locator("#cl-editor a[href*='login.html?next=']")
    link.wait_for()
    assert "%2Fwrite%2F%3Fdraft%3D1" in link.get_attribute("href")  # back to this very draft after signing in
    sign_in(page, server, "agent")
    page.locator("#cl-editor", has_text="培训员").wait_for()
    assert "坐席账号" in page.locator("#cl-editor").inner_text()
    assert page.locator("#cl-editor button").count() == 0


def test_import_a_word_report_fix_it_from_the_messages_and_submit(server, open_page, tmp_path):
    page = open_page()
    sign_in(page, server, "trainer")
    page.get_by_role("heading", name="我的草稿（0）").wait_for()
    import_fix_and_submit(page, server, tmp_path)


def import_fix_and_submit(page, server, tmp_path) -> int:
    """On /write/, signed in as a trainer: import the Word report, fix it from the messages
    alone, submit. Returns the draft id."""
    page.set_input_files("#cl-ed-import-file", str(word_report(tmp_path / "楼道灯投诉.docx")))
    did = draft_id(page)
    notes = page.locator(".cl-ed-notes")
    notes.wait_for()
    assert "接听要点" in notes.inner_text() and "个人信息" in notes.inner_text()

    # the phone number: listed, marked in place under 经过, one click replaces exactly it
    problems = page.locator("#cl-ed-problems")
    fix = problems.get_by_role("button", name=f"替换为 {MASKED}")
    fix.wait_for()
    assert f"手机号码“{PHONE}”" in problems.inner_text()
    passage = page.locator('[data-field="经过"]')
    assert "cl-ed-bad" in passage.get_attribute("class")
    assert passage.locator(".cl-ed-problem", has_text=PHONE).count() == 1
    assert passage.locator("mark.cl-ed-pd").inner_text() == PHONE
    fix.click()
    fix.wait_for(state="detached")
    assert f"（{MASKED}）" in page.locator("#cl-ed-s-经过").input_value()

    # autosave: nothing clicked but the replacement, and the server has it
    wait_saved(page)
    saved = server_draft(page, server, did)
    assert saved["version"] >= 2 and MASKED in saved["text"] and PHONE not in saved["text"]

    # what is left, field by field, as the messages say
    texts = problems.locator("li").all_inner_texts()
    assert any("summary 还是模板里的说明文字" in t for t in texts), texts
    assert any("“## 接听要点”还是模板里的说明文字" in t for t in texts), texts
    assert page.locator('[data-field="summary"] .cl-ed-problem').count() == 1
    agent = page.locator('[data-field="接听要点"]')
    assert "还是模板里的说明文字" in agent.locator(".cl-ed-slot").first.inner_text()
    assert "正好 3 件事" in agent.inner_text() and "至少 2 句" in agent.inner_text()  # the hints in place
    page.fill("#cl-ed-f-summary", "三号楼楼道灯坏了一周，业主两次报修没人来，客服当天派电工修好并回访。")
    page.fill("#cl-ed-a-say", "您好，楼道灯不亮让您和家里老人受累了，我马上安排电工今天过去。")
    do = agent.locator('input[data-agent="do"]')
    assert do.count() == 3
    for i, step in enumerate(["问清楼栋和楼层，记下报修时间", "通知电工当天上门更换", "修好后回电业主确认"]):
        do.nth(i).fill(step)
    avoid = agent.locator('input[data-agent="avoid"]')
    assert avoid.count() == 2
    avoid.nth(0).fill("“您再报一次修吧。”（报过两次了，再推给业主）")
    avoid.nth(1).fill("“电工忙，等着吧。”（没有给出修好的时间）")
    page.locator("#cl-ed-check-status", has_text="没有发现问题，可以提交审核").wait_for()
    assert problems.locator("li").count() == 0

    page.get_by_role("button", name="提交审核").click()
    page.locator("#cl-ed-submitted", has_text="已提交，等待审核").wait_for()
    assert page.locator("#cl-ed-status").inner_text() == "待审核"
    assert page.locator("#cl-ed-f-title").is_disabled() and not page.locator("#cl-ed-md").is_editable()  # read-only now
    after = server_draft(page, server, did)
    assert after["status"] == "in_review"
    assert "**先做**：\n\n1. 问清楼栋和楼层，记下报修时间\n2. 通知电工当天上门更换\n3. 修好后回电业主确认" in after["text"]
    assert "**别说**：\n\n- “您再报一次修吧。”" in after["text"]

    page.get_by_role("link", name="← 草稿列表").click()
    item = page.locator(f'.cl-ed-draft[data-draft-id="{did}"]')
    item.wait_for()
    assert item.locator(".cl-ed-st").inner_text() == "待审核"
    assert "王培训" in item.inner_text()
    return did


def test_the_whole_path_from_a_word_report_to_an_agents_search(server, open_page, tmp_path, project):
    """Issue 14's walk: import, fix, submit; rejected with a comment; fixed and resubmitted;
    approved; an agent's search finds it; its page's 修订记录 shows the version and how it
    got through review (the rejected submission and the approved one)."""
    import re

    trainer = open_page()
    sign_in(trainer, server, "trainer")
    did = import_fix_and_submit(trainer, server, tmp_path)

    reviewer = open_page()
    reviewer.goto(f"{server}/login.html?next=/review/index.html?draft={did}")
    reviewer.fill("#cl-login-user", "reviewer")
    reviewer.fill("#cl-login-pass", PASSWORD)
    reviewer.click("#cl-login-form button[type=submit]")
    reviewer.wait_for_url(re.compile(rf"/review/index\.html\?draft={did}$"))
    reviewer.locator(".cl-checks", has_text="检查通过").wait_for()
    reviewer.locator("#cl-review-comment").fill("处理里写明电工几点到的现场")
    reviewer.locator("button.cl-reject").click()
    reviewer.locator(".cl-review-done", has_text="已退回").wait_for()

    trainer.goto(f"{server}/write/")
    item = trainer.locator(f'.cl-ed-draft[data-draft-id="{did}"]')
    item.wait_for()
    assert "处理里写明电工几点到的现场" in item.inner_text()  # the comment, in the trainer's list
    trainer.goto(f"{server}/write/?draft={did}")
    handling = trainer.locator("#cl-ed-s-处理")
    handling.wait_for()
    trainer.wait_for_function("() => document.querySelector('#cl-ed-s-处理').value.length > 0")
    handling.fill(handling.input_value().replace("客服主管当天派电工上门", "客服主管当天派电工下午三点上门"))
    trainer.locator("#cl-ed-check-status", has_text="没有发现问题，可以提交审核").wait_for()
    wait_saved(trainer)
    trainer.get_by_role("button", name="提交审核").click()
    trainer.locator("#cl-ed-submitted", has_text="已提交，等待审核").wait_for()

    reviewer.goto(f"{server}/review/index.html?draft={did}")
    reviewer.locator(".cl-review-note", has_text="处理里写明电工几点到的现场").wait_for()
    reviewer.locator("button.cl-approve").click()
    reviewer.locator(".cl-review-done", has_text="已发布").wait_for()
    slug = server_draft(trainer, server, did)["slug"]
    assert "下午三点上门" in (project.cases_dir / f"{slug}.md").read_text(encoding="utf-8")

    agent = open_page()  # not signed in: agents search without an account
    agent.goto(f"{server}/tools/search.html")
    deadline = time.time() + 10
    found = False
    while not found and time.time() < deadline:
        agent.locator("#cl-q").fill("楼道灯坏了一个星期，报修两次都没人来" + " " * int(time.time() % 3))
        agent.locator("#cl-status", has_text="找到").wait_for()
        found = agent.locator(".cl-result .cl-title", has_text="三号楼楼道灯坏了一周没人修").count() > 0
        if not found:
            time.sleep(0.5)
    assert found, "the approved case is not found by an agent's search within 10 s"

    page_url = f"{server}/cases/{slug}.html"
    deadline = time.time() + 60  # the server rebuilds the site after re-indexing
    while httpx_get(page_url) != 200 and time.time() < deadline:
        time.sleep(1)
    agent.goto(page_url)
    history = agent.locator(".cl-history")
    history.locator(".cl-version").first.wait_for()
    trail = history.locator(".cl-version-trail").inner_text()
    assert "退回修改：处理里写明电工几点到的现场" in trail and "批准发布" in trail
    assert trail.count("提交审核") == 2  # both submissions: the one sent back and the one approved
    assert "作者 王培训 · 审核 李审核" in history.inner_text()


def httpx_get(url: str) -> int:
    import httpx

    return httpx.get(url).status_code


def test_markup_is_text_in_the_preview_and_form_and_markdown_stay_in_sync(server, open_page):
    page = open_page()
    sign_in(page, server, "trainer")
    page.get_by_role("button", name="新建案例").click()
    did = draft_id(page)
    page.locator("#cl-ed-check-status", has_text="发现").wait_for()

    page.fill("#cl-ed-s-经过", "业主在电话里念了一句 <script>alert(1)</script> 说门禁又坏了。")
    page.locator("#cl-ed-preview p", has_text="<script>alert(1)</script>").wait_for()
    assert page.locator("#cl-ed-preview script").count() == 0

    # form → text
    page.fill("#cl-ed-f-title", "门禁坏了业主进不了单元门")
    page.get_by_role("tab", name="Markdown 文本").click()
    md = page.locator("#cl-ed-md")
    text = md.input_value()
    assert 'title: "门禁坏了业主进不了单元门"' in text.split("\n")
    assert "## 经过\n\n业主在电话里念了一句 <script>alert(1)</script> 说门禁又坏了。\n\n## 处理" in text

    # text → form (plain YAML in, form shows it; an untouched line stays as written)
    text = (text.replace('title: "门禁坏了业主进不了单元门"', "title: 在文本里改的标题：门禁")
                .replace("phrases: []", "phrases: [3, 7]").replace("1. 第一件事", "1. 先派人去开门"))
    md.fill(text)
    page.get_by_role("tab", name="表单").click()
    page.wait_for_function("() => document.querySelector('#cl-ed-f-title').value === '在文本里改的标题：门禁'")
    checked = page.locator('[data-field="phrases"] input:checked')
    assert [checked.nth(i).get_attribute("value") for i in range(checked.count())] == ["3", "7"]
    assert page.locator("#cl-ed-a-do-1").input_value() == "先派人去开门"
    page.locator('[data-field="principles"] label', has_text="原则一").click()
    page.get_by_role("tab", name="Markdown 文本").click()
    lines = md.input_value().split("\n")
    assert "principles: [1]" in lines and "title: 在文本里改的标题：门禁" in lines and "phrases: [3, 7]" in lines

    # a reload of ?draft=<id> reopens it from the server, autosaved
    wait_saved(page)
    assert "principles: [1]" in server_draft(page, server, did)["text"]
    page.reload()
    page.locator("#cl-ed-f-title").wait_for()
    page.wait_for_function("() => document.querySelector('#cl-ed-f-title').value === '在文本里改的标题：门禁'")

    # a copy in localStorage newer than the server's is offered back
    page.evaluate("""(id) => {
        const text = document.querySelector('#cl-ed-md').value.replace('在文本里改的标题：门禁', '浏览器里没来得及保存的标题');
        localStorage.setItem('caselib-draft-' + id, JSON.stringify({text: text, at: Date.now() + 2000, version: 1}));
    }""", did)
    page.reload()
    page.get_by_role("button", name="恢复未保存的修改").click()
    page.wait_for_function("() => document.querySelector('#cl-ed-f-title').value === '浏览器里没来得及保存的标题'")
    wait_saved(page)
    assert "title: 浏览器里没来得及保存的标题" in server_draft(page, server, did)["text"]

    # leaving the page before the autosave is due still saves (pagehide, fetch keepalive)
    page.fill("#cl-ed-f-title", "离开页面前的最后一笔")
    page.goto(f"{server}/index.html")
    deadline = time.time() + 5
    while "离开页面前的最后一笔" not in server_draft(page, server, did)["text"] and time.time() < deadline:
        time.sleep(0.1)
    assert 'title: "离开页面前的最后一笔"' in server_draft(page, server, did)["text"]


def test_a_second_browser_saving_first_shows_the_conflict(server, open_page):
    mine, theirs = open_page(), open_page()
    sign_in(mine, server, "trainer")
    mine.get_by_role("button", name="新建案例").click()
    did = draft_id(mine)
    mine.locator("#cl-ed-check-status", has_text="发现").wait_for()

    sign_in(theirs, server, "trainer2")
    theirs.goto(f"{server}/write/?draft={did}")
    theirs.locator("#cl-ed-check-status", has_text="发现").wait_for()
    theirs.fill("#cl-ed-f-title", "赵培训先保存的标题")
    wait_saved(theirs)

    mine.fill("#cl-ed-f-title", "王培训后改的标题")
    conflict = mine.locator("#cl-ed-conflict")
    conflict.wait_for()
    assert "赵培训" in conflict.inner_text()
    assert 'title: "王培训后改的标题"' in conflict.locator(".cl-ed-conflict-mine").inner_text()
    assert 'title: "赵培训先保存的标题"' in conflict.locator(".cl-ed-conflict-theirs").inner_text()
    assert mine.locator("#cl-ed-f-title").is_disabled()  # nothing more is typed over it meanwhile
    assert "赵培训先保存的标题" in server_draft(mine, server, did)["text"]  # not overwritten
    mine.get_by_role("button", name="用我的覆盖").click()
    wait_saved(mine)
    assert 'title: "王培训后改的标题"' in server_draft(mine, server, did)["text"]

    theirs.fill("#cl-ed-f-summary", "赵培训写的摘要，这时还不知道别人改了标题。")
    theirs.locator("#cl-ed-conflict").wait_for()
    theirs.get_by_role("button", name="放弃我的，载入最新").click()
    theirs.wait_for_function("() => document.querySelector('#cl-ed-f-title').value === '王培训后改的标题'")
    assert "赵培训写的摘要" not in theirs.locator("#cl-ed-md").input_value()
    final = server_draft(theirs, server, did)
    assert final["version"] == 3 and "赵培训写的摘要" not in final["text"]
