"""The quiz page and the trainer's progress page in a real headless browser (Debian chromium via
Playwright) against a running server with the real model and a copy of the shipped library:
a new hire signs in, fails the day-1 quiz, reads the explanations, finds the misses in the
wrong-answer book, passes on a retry; the trainer sees the pass and the missed topic. And a
learner who is not signed in is told the progress stays in the browser.

The quiz needs no search index, so the fixture builds the site only (pipeline.site): the
index build of the real library would take a minute and nothing here searches."""

from __future__ import annotations

import base64
import json
import re

import pytest

from search.learning.questions import QuestionBank
from search.library.check import check_library
from search.library.reference import load_reference
from tests.browser_support import add_users, copy_project

pytestmark = pytest.mark.model

PASSWORD = "correct-horse-1"



@pytest.fixture(scope="module")
def project(tmp_path_factory, cache_dir):
    """A copy of the real project with its site built, a new hire and a trainer."""
    from search import pipeline

    settings = copy_project(tmp_path_factory.mktemp("quiz"), cache_dir, auto_index=False)
    pipeline.site(settings)
    add_users(settings, [("newhire", "agent", "林新人"), ("trainer", "trainer", "王培训")], PASSWORD)
    return settings


@pytest.fixture(scope="module")
def bank(project) -> QuestionBank:
    return QuestionBank(load_reference(), check_library(project.cases_dir).cases)


@pytest.fixture
def new_page(browser):
    contexts, errors = [], []

    def make():
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
        pg.on("pageerror", lambda e: errors.append(str(e)))
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
    assert errors == [], f"dialogs or script errors: {errors}"


def seed_of(quiz: dict) -> int:
    body = quiz["attempt"].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["s"]


def answer(page, bank: QuestionBank, quiz: dict, wrong=()) -> dict:
    """Tick every question of the quiz on the page: right, except the ids in ``wrong``.
    Returns {id: (question, chosen)}."""
    seed, out = seed_of(quiz), {}
    for q in quiz["questions"]:
        full = bank.question(q["id"], seed)
        chosen = (full.correct + 1) % len(full.options) if q["id"] in wrong else full.correct
        page.locator(f'fieldset[data-question="{q["id"]}"] input').nth(chosen).check()
        out[q["id"]] = (full, chosen)
    return out


def test_a_new_hire_fails_learns_from_the_book_and_passes_then_the_trainer_sees_it(server, bank, new_page):
    page = new_page()
    page.goto(f"{server}/login.html?next=%2Fnewcomer%2Fquiz.html%3Fmodule%3Dday-1")
    page.fill("#cl-login-user", "newhire")
    page.fill("#cl-login-pass", PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/quiz/day-1") and r.request.method == "GET") as got:
        page.click("#cl-login-form button[type=submit]")
    quiz = got.value.json()
    page.wait_for_selector("fieldset.cl-quiz-q")
    assert page.locator("fieldset.cl-quiz-q").count() == 10
    assert page.inner_text(".cl-quiz-who") == "已登录为 林新人：成绩和错题本保存在你的账号里，培训员能看到你的学习进度。"
    assert "why" not in got.value.text() and "correct" not in got.value.text()

    missed = [q["id"] for q in quiz["questions"] if q["kind"] == "phrase"][:3]
    ticked = answer(page, bank, quiz, wrong=missed)
    page.click("#cl-quiz-form button[type=submit]")
    page.wait_for_selector("#cl-quiz-score")
    assert page.inner_text("#cl-quiz-score strong") == "得分 70%（10 题答对 7 题）：还没通过，及格线是 80%。"

    # the explanation of a miss, on the question itself
    q, chosen = ticked[missed[0]]
    box = page.locator(f'fieldset[data-question="{missed[0]}"]')
    assert "cl-quiz-wrong" in box.get_attribute("class")
    assert box.locator(".cl-quiz-explain strong").inner_text() == f"答错了。正确答案：{q.options[q.correct]}。"
    assert box.locator(".cl-quiz-explain .cl-quiz-why").inner_text() == q.why
    assert box.locator(".cl-quiz-explain a").get_attribute("href").endswith(q.url)
    assert box.locator(".cl-quiz-option-chosen").inner_text() == q.options[chosen]

    # … and in the wrong-answer book
    page.wait_for_selector(f'#cl-quiz-book li[data-question="{missed[0]}"]')
    book = page.locator("#cl-quiz-book li.cl-quiz-book-item")
    assert sorted(book.evaluate_all("els => els.map(e => e.dataset.question)")) == sorted(missed)
    item = page.locator(f'#cl-quiz-book li[data-question="{missed[0]}"]')
    assert item.locator(".cl-quiz-answer").inner_text() == f"正确答案：{q.options[q.correct]}"
    assert item.locator(".cl-quiz-why").inner_text() == q.why
    assert "答错 1 次，之后答对 0/2 次" in item.locator(".cl-quiz-meta").inner_text()

    # retry: the misses come back first, the rest is new; all right this time
    with page.expect_response(lambda r: "/api/quiz/day-1" in r.url and r.request.method == "GET") as got:
        page.click("button:has-text('再做一次（换一组题）')")
    retry = got.value.json()
    page.wait_for_selector("fieldset.cl-quiz-q")
    again = [q["id"] for q in retry["questions"] if q["review"]]
    assert sorted(again) == sorted(missed)
    assert page.locator("fieldset.cl-quiz-q .cl-quiz-review").count() == 3
    answer(page, bank, retry)
    page.click("#cl-quiz-form button[type=submit]")
    page.wait_for_selector("#cl-quiz-score")
    assert page.inner_text("#cl-quiz-score strong") == "得分 100%（10 题答对 10 题）：通过！"
    page.wait_for_selector("text=已通过（最好 100%）")
    assert "之后答对 1/2 次" in page.locator(f'#cl-quiz-book li[data-question="{missed[0]}"] .cl-quiz-meta').inner_text()

    # the trainer's view: the pass, and what was confused
    trainer = new_page()
    r = trainer.context.request.post(f"{server}/api/login", data={"username": "trainer", "password": PASSWORD})
    assert r.ok, r.text()
    trainer.goto(f"{server}/trainers/progress.html")
    row = trainer.locator('#cl-progress-team tr[data-user="newhire"]')
    row.wait_for()
    cells = row.locator("td")
    assert cells.nth(0).inner_text().startswith("林新人")
    assert cells.nth(1).inner_text() == "通过\n最好 100% · 最近 100% · 2 次"
    assert cells.nth(2).inner_text() == "没做"
    label = q.misses[chosen]
    assert re.match(r"^把“.+”当成“.+”$", label)
    assert f"{label} ×1" in cells.nth(6).inner_text().split("\n")
    assert cells.nth(7).inner_text() == "3"
    assert trainer.locator("a:has-text('下载 CSV')").get_attribute("href").endswith("api/progress/team?format=csv")

    # an agent sees only their own progress there
    page.goto(f"{server}/trainers/progress.html")
    page.wait_for_selector(".cl-progress-own")
    assert page.inner_text("#cl-progress .cl-notice") == "你只能看到自己的学习进度。团队的进度由培训员查看。"


def test_without_signing_in_the_quiz_works_and_says_progress_stays_in_the_browser(server, bank, new_page):
    page = new_page()
    with page.expect_response(lambda r: "/api/quiz/week-2" in r.url and r.request.method == "GET") as got:
        page.goto(f"{server}/newcomer/quiz.html?module=week-2")
    quiz = got.value.json()
    page.wait_for_selector("fieldset.cl-quiz-q")
    assert page.inner_text(".cl-quiz-who") == ("你还没有登录：测验照常可以做，但成绩和错题本只保存在这台电脑的浏览器里，"
                                               "换电脑或清除浏览器数据就没有了，培训员也看不到。登录后成绩会记到你的账号。")
    missed = quiz["questions"][0]["id"]
    answer(page, bank, quiz, wrong=[missed])
    page.click("#cl-quiz-form button[type=submit]")
    page.wait_for_selector("#cl-quiz-score")
    assert page.inner_text("#cl-quiz-score strong") == "得分 90%（10 题答对 9 题）：通过！"
    assert "成绩只保存在这台电脑的浏览器里。" in page.inner_text("#cl-quiz-score")
    page.wait_for_selector(f'#cl-quiz-book li[data-question="{missed}"]')
    stored = json.loads(page.evaluate("localStorage.getItem('caselib.quiz.v1')"))
    assert list(stored["book"]) == [missed] and stored["modules"]["week-2"]["passed"] is True

    with page.expect_response(lambda r: "/api/quiz/week-2" in r.url and r.request.method == "GET") as got:
        page.click("button:has-text('再做一次（换一组题）')")
    assert f"review={missed}" in got.value.url and "after=" in got.value.url
    assert [q["id"] for q in got.value.json()["questions"] if q["review"]] == [missed]
