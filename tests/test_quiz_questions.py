"""Quiz questions generated from reference.yaml and the cases: exactly one right option under
the data (checked by an oracle written from the data, not from the generator), no answer in
what the browser gets, stable for a seed, different on a retry, and still generated when
cases come and go."""

from __future__ import annotations

import random
import re
from collections import defaultdict

import pytest

from search.learning.modules import MODULES, assemble, get_module, grade, passed
from search.learning.questions import MASK, QuestionBank, split_avoid, unquote
from search.library.check import check_library
from search.library.reference import CN_NUM, load_reference
from tests.conftest import REPO, make_case, write_case

REF = load_reference()


@pytest.fixture(scope="module")
def shipped() -> QuestionBank:
    report = check_library(REPO / "cases", REF)
    assert report.ok
    return QuestionBank(REF, report.cases)


def _number(label: str, word: str) -> int:
    return CN_NUM.index(re.match(rf"^{word}([一二三四五六七八九十])", label).group(1))


def right_options(bank: QuestionBank, q) -> list[int]:
    """Which options are right, judged from the data alone."""
    cases = {c.slug: c for c in bank.cases}
    case = cases.get(q.url.removeprefix("cases/").removesuffix(".html"))
    if q.kind == "phrase":
        reply = re.search(r"“(.+)”\n", q.stem).group(1)
        found = bank.found(reply)
        return [i for i, o in enumerate(q.options) if _number(o, "禁语") in found]
    if q.kind == "better":
        return [i for i, o in enumerate(q.options) if not bank.found(o)]
    if q.kind == "level":
        return [i for i, o in enumerate(q.options) if o == case.meta.level]
    if q.kind == "principle":
        return [i for i, o in enumerate(q.options) if _number(o, "原则") in case.meta.principles]
    if q.kind == "first":
        return [i for i, o in enumerate(q.options) if o == unquote(case.agent.say)]
    if q.kind == "rule":
        level = re.match(r"^(\S+?)投诉（", q.stem).group(1)
        return [i for i, o in enumerate(q.options) if o == next(x.rule for x in REF.levels if x.name == level)]
    if q.kind == "customer":
        name = re.match(r"^遇到(\S+?)的业主", q.stem).group(1)
        return [i for i, o in enumerate(q.options) if o == next(t.tip for t in REF.customer_types if t.name == name)]
    if q.kind == "category":
        return [i for i, o in enumerate(q.options)
                if any(c.name == o and (c.definition in q.stem or c.remedy in q.stem) for c in REF.categories)]
    raise AssertionError(q.kind)


def test_every_question_has_exactly_one_right_option(shipped):
    kinds = set()
    for kind, ids in shipped.by_kind.items():
        for qid in ids:
            for seed in (0, 1, 2):
                q = shipped.question(qid, seed)
                kinds.add(kind)
                assert 3 <= len(q.options) <= 4, qid
                assert len(set(q.options)) == len(q.options), (qid, q.options)
                assert right_options(shipped, q) == [q.correct], (qid, q.stem, q.options, q.correct)
                assert q.misses[q.correct] is None and all(q.misses[i] for i in range(len(q.options)) if i != q.correct)
    assert kinds == {"phrase", "better", "first", "level", "principle", "rule", "customer", "category"}


def test_distractors_are_never_also_right(shipped):
    """The rules behind the oracle, spelled out: no distractor phrase is in the reply, every
    wrong wording is flagged, no level word is left in a level question, a 先说 question's
    wrong options are other cases' 别说 lines."""
    avoid = defaultdict(set)
    for c in shipped.cases:
        for a in c.agent.avoid:
            avoid[split_avoid(a)[0]].add(c.slug)
    says = {unquote(c.agent.say) for c in shipped.cases}
    for qid in shipped.ids("phrase"):
        q = shipped.question(qid, 5)
        reply = re.search(r"“(.+)”\n", q.stem).group(1)
        assert shipped.found(reply) == {int(qid.split("-")[1])}
    for qid in shipped.ids("better"):
        q = shipped.question(qid, 5)
        assert all(shipped.found(o) == {int(qid.split("-")[1])} for i, o in enumerate(q.options) if i != q.correct)
    for qid in shipped.ids("level"):
        stem = shipped.question(qid, 5).stem
        assert not any(name in stem for name in REF.level_names), stem
    for qid in shipped.ids("first"):
        q = shipped.question(qid, 5)
        wrong = [o for i, o in enumerate(q.options) if i != q.correct]
        assert all(avoid[o] - {qid.removeprefix("first-")} and o not in says for o in wrong), q.options


def test_the_summary_of_a_level_question_has_its_level_words_masked(shipped):
    q = shipped.question("level-group-complaint-forum", 0)
    assert "成为□□投诉" in q.stem and MASK == "□□"
    assert q.options[q.correct] == "重大"
    assert q.why == "本案是重大投诉：涉及法律诉讼；或投诉人数在 10 人以上；或投诉超过一个月仍未解决。"
    assert q.url == "cases/group-complaint-forum.html"


def test_each_answer_explains_itself_and_links_to_its_source(shipped):
    for ids in shipped.by_kind.values():
        for qid in ids:
            q = shipped.question(qid)
            sentences = len(re.findall(r"[。！？]", q.why)) or 1
            assert 1 <= sentences <= 2 and len(q.why) <= 200, (qid, q.why)
            page = q.url.removesuffix(".html")
            if page.startswith("cases/"):
                assert (REPO / f"{page}.md").is_file(), q.url
            elif re.match(r"^(phrases|principles)/\d+$", page):
                assert int(page.split("/")[1]) in REF.phrase_numbers
            else:
                assert (REPO / "docs" / f"{page}.md").is_file(), q.url


def test_what_the_browser_gets_has_no_answer(shipped):
    for ids in shipped.by_kind.values():
        for qid in ids:
            q = shipped.question(qid, 3)
            public = q.public()
            assert set(public) == {"id", "kind", "kind_name", "stem", "options"}
            assert q.why not in str(public)


def test_a_seed_gives_the_same_question_and_another_seed_reshuffles(shipped):
    qid = "level-car-scratched-in-garage"
    assert shipped.question(qid, 42) == shipped.question(qid, 42)
    layouts = {shipped.question(qid, s).options for s in range(20)}
    assert len(layouts) > 1
    assert {shipped.question(qid, s).options[shipped.question(qid, s).correct] for s in range(20)} == {"一般"}


def test_modules_on_the_shipped_library():
    bank = QuestionBank(REF, check_library(REPO / "cases", REF).cases)
    assert [m.id for m in MODULES] == ["day-1", "week-1", "week-2", "month-1"]
    assert [m.size(bank) for m in MODULES] == [10, 10, 10, 10]
    ids = assemble(bank, get_module("week-1"), random.Random(7))
    levels = [bank.question(q).options[bank.question(q).correct] for q in ids if q.startswith("level-")]
    assert sorted(levels) == sorted(REF.level_names)  # one case of every level, not four of 一般


def test_a_retry_draws_different_questions(shipped):
    for m in MODULES:
        first = assemble(shipped, m, random.Random(1))
        second = assemble(shipped, m, random.Random(2), exclude=first)
        assert len(first) == len(second) == m.size(shipped)
        assert set(first).isdisjoint(second), m.id


def test_missed_questions_come_first_in_their_kind(shipped):
    m = get_module("day-1")
    missed = [shipped.ids("phrase")[5], shipped.ids("first")[3]]
    ids = assemble(shipped, m, random.Random(3), review=missed + ["phrase-gone"], exclude=missed)
    assert set(missed) <= set(ids) and len(ids) == 10 and "phrase-gone" not in ids


def test_grading_from_ids_and_seed(shipped):
    ids = assemble(shipped, get_module("day-1"), random.Random(9))
    answers = {q: shipped.question(q, 9).correct for q in ids}
    answers[ids[0]] = (answers[ids[0]] + 1) % len(shipped.question(ids[0], 9).options)
    del answers[ids[1]]
    graded = grade(shipped, ids + ["level-no-such-case"], 9, answers)
    assert [g.correct for g in graded] == [False, False] + [True] * 8
    assert graded[1].chosen is None and graded[1].miss.endswith("（没有作答）")
    assert passed(8, 10, 0.8) and not passed(7, 10, 0.8) and passed(7, 10, 0.7) and not passed(0, 0, 0.8)


def test_questions_still_generate_after_a_case_is_added_or_removed(library):
    def bank():
        report = check_library(library / "cases", REF)
        assert report.ok, report.problems
        return QuestionBank(REF, report.cases)

    one = bank()
    assert one.ids("level") == ["level-lift-stopped"] and one.ids("first") == []  # no other case's 别说 to draw from
    write_case(library, "heating-cold", make_case(id="C0902", **{
        "测试案例：电梯停运业主投诉": "暖气不热业主再次投诉", "level: 一般": "level: 重要", "principles: [1, 3]": "principles: [2, 3]",
        "“您好，给您添麻烦了，我马上安排人到现场。”": "“让您又挨冻了，实在对不起，我马上派师傅上门。”",
        "- “不可能坏。”（禁语一）": "- “供热公司的事，您找他们去。”（推卸责任）"}))
    write_case(library, "gate-queue", make_case(id="C0903", **{
        "测试案例：电梯停运业主投诉": "门岗排队业主投诉", "- “维保单位的事，我们管不了。”（推卸责任）": "- “您等着吧。”（没给时间）"}))
    three = bank()
    assert three.ids("level") == ["level-gate-queue", "level-heating-cold", "level-lift-stopped"]
    assert "first-heating-cold" in three.ids("first") and "principle-heating-cold-2" in three.ids("principle")
    q = three.question("level-heating-cold", 4)
    assert q.options[q.correct] == "重要" and right_options(three, q) == [q.correct]
    assert all(m.size(three) > 0 for m in MODULES)

    (library / "cases" / "heating-cold.md").unlink()
    two = bank()
    assert "level-heating-cold" not in two and two.question("first-heating-cold") is None
    assert two.ids("level") == ["level-gate-queue", "level-lift-stopped"]
    ids = assemble(two, get_module("week-1"), random.Random(0), review=["level-heating-cold"])
    assert ids and all(i in two for i in ids)


def test_a_case_published_while_someone_answers_does_not_move_the_right_answer(shipped):
    """The server grades from the ids and the seed against the library as it is at submission:
    the right option must still be at the index the learner saw."""
    smaller = QuestionBank(REF, [c for c in shipped.cases if c.slug != "dog-waste-lawn"])
    common = [q for ids in shipped.by_kind.values() for q in ids if q in smaller]
    assert len(common) > 300
    for qid in common:
        for seed in (11, 12):
            before, after = smaller.question(qid, seed), shipped.question(qid, seed)
            assert (before.correct, before.options[before.correct]) == (after.correct, after.options[after.correct]), qid
