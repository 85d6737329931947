"""The agent's search page in a real headless browser (Debian chromium via Playwright),
against a running server with the real model and the shipped library."""

from __future__ import annotations

import pytest

from tests.browser_support import add_users, copy_project, plain_files

pytestmark = pytest.mark.model
PASSWORD = "browser-test-pw-1"




@pytest.fixture(scope="module")
def project(tmp_path_factory, cache_dir, real_encoder):
    """A copy of the real project with its index and site built, as `caselib build` does."""
    from search import pipeline

    settings = copy_project(tmp_path_factory.mktemp("browser"), cache_dir)
    pipeline.build(settings, encoder=real_encoder, progress=False)
    add_users(settings, [("trainer", "trainer", "王培训")], PASSWORD)  # hit testing is for trainers
    return settings


@pytest.fixture
def page(browser):
    ctx = browser.new_context()
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()


def test_type_see_expected_case_first_and_open_it(server, page):
    page.goto(f"{server}/tools/search.html")
    page.locator(".cl-result").first.wait_for()  # popular precedents before any typing
    assert page.locator("#cl-q:focus").count() == 1  # focused on load
    page.keyboard.type("家里暖气片一点都不热，打电话也没人管")
    page.locator("#cl-status", has_text="找到").wait_for()
    first = page.locator(".cl-result").first
    assert first.locator(".cl-title").inner_text().startswith("降温后暖气不热")
    assert "先说：" in first.locator(".cl-say").inner_text()
    assert first.locator(".cl-do li").count() == 3
    assert first.locator(".cl-snippet mark").count() >= 1
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/cases/radiator-not-warm.html")
    assert "相似案例" in page.content()


def test_traditional_query_and_filters(server, page):
    page.goto(f"{server}/tools/search.html")
    page.locator("#cl-level").select_option("重大")
    page.locator("#cl-q").fill("停水了也不通知一聲")
    page.locator("#cl-status", has_text="找到").wait_for()
    levels = page.locator(".cl-result .cl-level-major").all_inner_texts()
    assert levels and all(x == "重大投诉" for x in levels)
    assert page.locator(".cl-result .cl-title").first.inner_text().startswith("停水")


def test_off_topic_query_says_no_good_match(server, page):
    page.goto(f"{server}/tools/search.html")
    page.locator("#cl-q").fill("明天北京天气怎么样")
    page.locator(".cl-notice", has_text="没有足够相近的先例").wait_for()
    assert page.locator(".cl-result.cl-weak").count() >= 1
    assert page.locator(".cl-notice a[href$='training/reception.html']").count() == 1


def test_query_with_markup_is_shown_as_text(server, page):
    page.goto(f"{server}/tools/search.html")
    page.locator("#cl-q").fill('<img src=x onerror=alert(1)><script>alert(2)</script>暖气不热')
    page.locator("#cl-status", has_text="找到").wait_for()
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.locator(".cl-results img").count() == 0 and page.locator(".cl-results script").count() == 0


def test_static_site_without_api_degrades_gracefully(project, browser):
    with plain_files(project.site_path) as url:
        ctx = browser.new_context()
        pg = ctx.new_page()
        pg.goto(f"{url}/tools/search.html")
        notice = pg.locator(".cl-notice-offline")
        notice.wait_for()
        assert "caselib serve" in notice.inner_text()
        assert notice.locator("a[href$='cases/index.html']").count() == 1
        ctx.close()


def test_reply_checker_page_marks_forbidden_phrases(server, page):
    page.goto(f"{server}/tools/reply-check.html")
    page.locator("#rc-text").fill("您好，这种墙体裂缝是开发商的问题，你得自己去找开发商。<b>粗体</b>")
    page.locator("#rc-hits li").first.wait_for()
    assert "禁语3" in page.locator("#rc-hits .rc-num").first.inner_text()
    assert page.locator("#rc-preview mark").count() >= 1
    assert page.locator("#rc-preview b").count() == 0  # the draft is shown as text, never as markup
    page.locator("#rc-text").fill("我们帮您联系开发商并跟进，明天下午给您回电话。")
    page.locator("#rc-hits li").first.wait_for(state="detached")
    assert page.locator("#rc-preview mark").count() == 0


def test_hit_testing_page_shows_why_a_case_ranks(server, page):
    page.goto(f"{server}/trainers/hit-testing.html")
    page.fill("#cl-x-q", "暖气不热")
    page.click("#cl-x-form button")  # signed out: told to sign in, with the way there
    page.locator("#cl-x-status a", has_text="去登录").wait_for()
    assert "请先登录" in page.locator("#cl-x-status").inner_text()
    assert page.request.post(f"{server}/api/login", data={"username": "trainer", "password": PASSWORD}).ok  # the page's cookies
    page.fill("#cl-x-q", "楼上那户常年不在家，水从我家卫生间顶上一直往下滴，一个多星期了，物业说联系不上楼上业主就不管了")
    page.click("#cl-x-form button")
    page.locator("#cl-x-table:not([hidden]) tbody tr").first.wait_for()
    first = page.locator("#cl-x-table tbody tr").first
    cells = first.locator("td")
    assert cells.nth(0).inner_text() == "1"
    assert "upstairs-water-leak" in cells.nth(3).inner_text()
    assert "余弦" in cells.nth(4).inner_text()
    assert "匹配的词：" in cells.nth(5).inner_text()
    summary = page.locator("#cl-x-summary").inner_text()
    assert "判断：有相近先例" in summary and "阈值 0.875" in summary
    page.fill("#cl-x-q", "你好，我是8栋的住户。我家卫生间的吊顶从上周开始往下滴水，一圈黄印子越来越大。"
                         "楼上那家人在外地工作，房子一直空着，敲门没人。找了你们物业三次，每次都说联系不上业主。"
                         "现在石膏板都泡软了，你们到底管不管？")
    page.click("#cl-x-form button")
    page.locator("#cl-x-summary", has_text="参与向量打分的分句（3").wait_for()  # the clauses a search encoded
    assert "upstairs-water-leak" in page.locator("#cl-x-table tbody tr").first.locator("td").nth(3).inner_text()
    page.fill("#cl-x-q", "<img src=x onerror=alert(1)>电梯坏了")
    page.click("#cl-x-form button")
    page.locator("#cl-x-summary", has_text="融合方式").wait_for()
    assert page.locator("#cl-x-table img").count() == 0


def test_a_long_pasted_complaint_finds_its_precedent(server, page):
    """An agent pastes an owner's whole message mid-call (written for this test)."""
    page.goto(f"{server}/tools/search.html")
    page.locator(".cl-result").first.wait_for()
    page.fill("#cl-q", "你好，我是8栋的住户。我家卫生间的吊顶从上周开始往下滴水，一圈黄印子越来越大。"
                       "楼上那家人在外地工作，房子一直空着，敲门没人。找了你们物业三次，每次都说联系不上业主，"
                       "让我自己想办法。现在石膏板都泡软了，我每天上厕所都提心吊胆，你们到底管不管？")
    first = page.locator(".cl-result").first
    page.wait_for_function(
        "() => { const a = document.querySelector('.cl-result .cl-title');"
        " return a && a.getAttribute('href').includes('upstairs-water-leak'); }", timeout=20000)
    assert "先说：" in first.locator(".cl-say").inner_text()
