"""The reference data is the only place where the domain's facts live: a copy of
search/data/reference.yaml with an extra level, principle and phrase goes through the case
schema, `caselib check`, every site page generator and the reply checker without a code
change; what reference.yaml must keep consistent is checked when it is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

import search.site.pages as site_pages
from search.errors import CaselibError
from search.library.check import check_library
from search.library.reference import REFERENCE_FILE, load_reference
from search.replies.checker import ReplyChecker
from search.replies.evaluate import evaluate_replies, load_replies
from tests.conftest import make_case, write_case
from tests.fakes import HashingEncoder

BASE = load_reference()
NEW_PHRASE = {
    "n": len(BASE.phrases) + 1,
    "text": "您这个要求太过分了。",
    "short": "太过分了",
    "harm": "指责业主的要求不合理，业主会觉得被看轻。",
    "better": "我理解您的想法，我们看看在规定里能做到哪一步。",
    "variants": ["您的要求也太过分了吧。", "这种要求实在过分。", "您这是无理要求。", "提这种要求太离谱了。"],
}
NEW_PRINCIPLE = {"n": len(BASE.principles) + 1, "title": "回访闭环", "text": "处理完的投诉都要回访，确认业主满意。"}
NEW_LEVELS = [
    {"name": "特急", "definition": "危及人身安全。", "rule": "立即上报。", "slug": "urgent"},
    {"name": "观察", "definition": "尚待核实。", "rule": "一周内核实。"},  # no slug: its position
]


def _raw() -> dict:
    return yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "reference.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def ext(tmp_path):
    """The data file with two more levels, one more principle and one more phrase."""
    data = _raw()
    data["levels"] += NEW_LEVELS
    data["principles"].append(NEW_PRINCIPLE)
    data["phrases"].append(NEW_PHRASE)
    return load_reference(_write(tmp_path, data))


def test_the_extended_copy_loads_and_counts_come_from_it(ext):
    p, r = len(BASE.phrases) + 1, len(BASE.principles) + 1
    assert ext.phrase_numbers == tuple(range(1, p + 1)) and ext.principle_numbers == tuple(range(1, r + 1))
    assert ext.phrase_range() == f"1-{p}" and ext.principle_range("–") == f"1–{r}"
    assert ext.principles_label == f"{site_pages.cn(r)}项原则"  # 八项原则 for 8
    assert ext.level_names[-2:] == ("特急", "观察")
    assert ext.level_slug("特急") == "urgent"
    assert ext.level_slug("观察") == str(len(ext.levels))  # position, 1-based
    assert ext.level_slug("不存在") is None
    assert ext.default_level == "观察"  # the last level
    # the data file itself: the labels the site and the messages use today
    assert (BASE.phrases_label, BASE.principles_label) == ("九句禁语", "七项原则")


# ---------------------------------------------------------------- case schema and caselib check


def _new_facts_case(library: Path, **replace: str) -> None:
    top = len(BASE.principles) + 1
    write_case(library, "lift-stopped", make_case(**{
        "level: 一般": "level: 特急",
        "principles: [1, 3]": f"principles: [1, {top}]",
        "phrases: []": f"phrases: [{len(BASE.phrases) + 1}]",
        **replace,
    }))


def test_check_accepts_a_case_with_the_new_level_principle_and_phrase(library, ext):
    _new_facts_case(library)
    report = check_library(library / "cases", ext, root=library)
    assert report.problems == []
    (case,) = report.cases
    assert case.meta.level == "特急"
    assert case.meta.principles == [1, len(BASE.principles) + 1]
    assert case.meta.phrases == [len(BASE.phrases) + 1]


def test_the_data_file_still_rejects_them(library):
    """The same case against the real data file: the usual messages, numbers from the data."""
    _new_facts_case(library)
    r, p = len(BASE.principles), len(BASE.phrases)
    messages = [str(x) for x in check_library(library / "cases", BASE, root=library).problems]
    levels = "、".join(BASE.level_names)
    assert messages == [
        f"cases/lift-stopped.md:6: level 的值“特急”不在允许范围内（可选：{levels}） — 改为允许的值之一（投诉等级）",
        f"cases/lift-stopped.md:9: principles 中的编号 [{r + 1}] 不存在：{BASE.principles_label}只有 1-{r} — "
        f"改为 涉及的{BASE.principles_label}编号 1-{r}，如 [2, 3]",
        f"cases/lift-stopped.md:10: phrases 中的编号 [{p + 1}] 不存在：{BASE.phrases_label}只有 1-{p} — "
        f"改为 涉及的{BASE.phrases_label}编号 1-{p}，没有则写 []，如 [2, 3]",
    ]


def test_unknown_level_gets_the_usual_clear_error(library, ext):
    write_case(library, "lift-stopped", make_case(**{"level: 一般": "level: 特大"}))
    (problem,) = check_library(library / "cases", ext, root=library).problems
    assert str(problem) == (
        "cases/lift-stopped.md:6: level 的值“特大”不在允许范围内（可选：重大、重要、热点、一般、特急、观察）"
        " — 改为允许的值之一（投诉等级）"
    )


def test_numbers_past_the_extended_data_are_still_refused(library, ext):
    r = len(ext.principles)
    _new_facts_case(library, **{"level: 一般": "level: 观察", "principles: [1, 3]": f"principles: [{r + 1}]"})
    (problem,) = check_library(library / "cases", ext, root=library).problems
    assert f"principles 中的编号 [{r + 1}] 不存在：{ext.principles_label}只有 1-{r}" in str(problem)


# ---------------------------------------------------------------- site pages


def test_every_site_page_accepts_the_extended_data(library, ext):
    _new_facts_case(library)
    cases = check_library(library / "cases", ext, root=library).cases
    (case,) = cases
    page = site_pages.case_page(case, ext)
    assert '<span class="cl-badge cl-level-urgent">特急投诉</span>' in page
    top = len(ext.principles)
    assert f"(../principles/{top}.md)" in page and f"(../phrases/{len(ext.phrases)}.md)" in page

    by_level = site_pages.by_level(cases, ext)
    assert "## 特急投诉 { #level-urgent }" in by_level and f"## 观察投诉 {{ #level-{len(ext.levels)} }}" in by_level
    assert "[测试案例：电梯停运业主投诉](../cases/lift-stopped.md)" in by_level.split("## 特急投诉")[1].split("## ")[0]
    assert f"投诉处理{ext.principles_label}" in site_pages.by_principle(cases, ext)
    assert f"{{ #p{top} }}" in site_pages.by_principle(cases, ext)
    assert f"[{ext.phrases_label}]" in site_pages.by_phrase(cases, ext)
    assert f"{{ #ph{len(ext.phrases)} }}" in site_pages.by_phrase(cases, ext)
    assert site_pages.by_category(cases, ext) and site_pages.cases_index(cases, ext)

    last = site_pages.principle_page(top, cases, ext)
    assert "lift-stopped" in last and f"返回[{ext.principles_label}](index.md)" in last
    assert f"({top - 1}.md)" in last and f"({top + 1}.md)" not in last
    assert f"({top}.md)" in site_pages.principle_page(top - 1, cases, ext)  # the old last one links on
    for p in ext.phrases:
        assert f"返回[{ext.phrases_label}](index.md)" in site_pages.phrase_page(p.n, cases, ext)

    for name in site_pages.MARKERS:
        assert site_pages.expand_markers(f"<!-- caselib:{name} -->", cases, ext, "../")
    levels = site_pages.expand_markers("<!-- caselib:levels -->", cases, ext, "../")
    assert "cl-level-urgent" in levels and "(../cases/level.md#level-urgent)" in levels
    filters = site_pages.expand_markers("<!-- caselib:search-filters -->", cases, ext, "../")
    assert '<option value="特急" data-slug="urgent">特急</option>' in filters
    assert f'<option value="观察" data-slug="{len(ext.levels)}">观察</option>' in filters
    fields = site_pages.expand_markers("<!-- caselib:case-fields -->", cases, ext, "../")
    assert f"{top} {NEW_PRINCIPLE['title']}" in fields and "特急、观察" in fields


def test_level_badges_of_the_data_file_keep_their_classes():
    badges = [site_pages.level_badge(BASE, lv.name) for lv in BASE.levels]
    assert badges == [f'<span class="cl-badge cl-level-{lv.slug}">{lv.name}投诉</span>' for lv in BASE.levels]
    assert all(lv.slug for lv in BASE.levels)  # reference.yaml names every level's class


# ---------------------------------------------------------------- reply checker and its evaluation


def test_reply_checker_checks_a_new_phrase_by_its_text_and_variants(ext):
    n = NEW_PHRASE["n"]
    text = "您的要求也太过分了吧"  # a variant, without its full stop
    assert ReplyChecker(ext).check(text) == []  # no pattern for it: rules.py knows nothing of it
    hits = ReplyChecker(ext, encoder=HashingEncoder(512)).check(text)
    assert [(h.phrase, h.via, h.why) for h in hits] == [(n, "semantic", NEW_PHRASE["harm"])]
    # the old phrases are checked as before
    assert [h.phrase for h in ReplyChecker(ext).check("肯定不行。")] == [9]


def test_reply_checker_ignores_rules_for_phrases_the_data_lacks():
    fewer = BASE.model_copy(update={"phrases": BASE.phrases[:-1]})
    assert ReplyChecker(fewer).check(BASE.phrases[-1].text) == []


def test_evaluation_rows_and_bounds_follow_the_data(tmp_path, ext):
    n = NEW_PHRASE["n"]
    f = tmp_path / "replies.yaml"
    f.write_text(f"- {{text: 您的要求也太过分了吧, phrases: [{n}]}}\n- {{text: 肯定不行。, phrases: [9]}}\n",
                 encoding="utf-8")
    items = load_replies(f, ext)
    r = evaluate_replies(items, ReplyChecker(ext, encoder=HashingEncoder(512)))
    assert list(r.per_phrase) == list(ext.phrase_numbers)
    assert (r.overall.tp, r.overall.fp, r.overall.fn) == (2, 0, 0)
    assert f"禁语{n}" in r.format()
    with pytest.raises(CaselibError, match=f"应为 1–{len(BASE.phrases)} 的禁语编号"):
        load_replies(f)  # the data file has no phrase n
    f.write_text(f"- {{text: 你好, phrases: [{n + 1}]}}\n", encoding="utf-8")
    with pytest.raises(CaselibError, match=f"应为 1–{n} 的禁语编号"):
        load_replies(f, ext)


# ---------------------------------------------------------------- what the data file must keep


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["phrases"].pop(2), "phrases 的编号应从 1 起依次排列"),
        (lambda d: d["principles"].append({**NEW_PRINCIPLE, "n": 20}), "principles 的编号应从 1 起依次排列"),
        (lambda d: d["levels"].append({**NEW_LEVELS[0], "name": "重大"}), "levels 中有重复的名称：重大"),
        (lambda d: d["levels"].append({**NEW_LEVELS[0], "slug": "major"}), "level slugs 中有重复的名称：major"),
        (lambda d: d["levels"].append({**NEW_LEVELS[0], "slug": "Urgent Level"}), "slug 只能用小写英文字母"),
        (lambda d: d.update(levels=[]), "levels 至少要有一个等级"),
    ],
)
def test_inconsistent_data_is_refused_when_loaded(tmp_path, change, message):
    data = _raw()
    change(data)
    with pytest.raises(ValidationError, match=message):
        load_reference(_write(tmp_path, data))
