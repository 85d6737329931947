"""Hybrid retrieval on a tiny library with the fast fake encoder."""

from __future__ import annotations

import pytest

from search import pipeline
from search.encoder import HashingEncoder
from search.retrieval import QueryError, make_snippet
from search.settings import load_settings
from tests.conftest import make_case, write_case

RADIATOR = make_case(id="C0902").replace("测试案例：电梯停运业主投诉", "暖气不热业主来电").replace(
    "早上八点，业主王先生来电，说电梯停在一楼不动了，他要赶去上班。", "降温后业主来电说家里暖气不热，问物业管不管。"
).replace("category: 突发事件", "category: 设施设备").replace("tags: [电梯, 停运]", "tags: [暖气, 供暖]")
PARKING = make_case(id="C0903").replace("测试案例：电梯停运业主投诉", "月租卡失效堵住车库入口").replace(
    "客服小李先致歉，十分钟内到场张贴告示，维保单位半小时后修好，下午回访。", "车管员引导车辆先停到路边，再处理卡片，安管主管向被堵车主致歉。"
).replace("level: 一般", "level: 热点").replace("tags: [电梯, 停运]", "tags: [停车场]")


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    root = tmp_path_factory.mktemp("lib")
    (root / "cases").mkdir()
    write_case(root, "lift-stopped", make_case())
    write_case(root, "radiator-cold", RADIATOR)
    write_case(root, "card-jam", PARKING)
    settings = load_settings(root, env={})
    enc = HashingEncoder()
    pipeline.index(settings, encoder=enc, progress=False)
    return pipeline.open_searcher(settings, encoder=enc)


def test_best_case_first_with_section_and_snippet(searcher):
    hits = searcher.search("家里暖气不热", k=3).hits
    assert hits[0].record.slug == "radiator-cold"
    assert hits[0].snippet and hits[0].section in ("概要", "经过", "处理", "分析", "预防措施", "接听要点")
    marked = [hits[0].snippet[a:b] for a, b in hits[0].highlights]
    assert "暖气" in marked


def test_traditional_query_finds_simplified_case(searcher):
    assert searcher.search("暖氣不熱", k=1).hits[0].record.slug == "radiator-cold"


def test_a_match_in_the_handling_section_alone_surfaces_the_case(searcher):
    hit = searcher.search("车管员引导车辆先停到路边", k=1, mode="bm25").hits[0]
    assert (hit.record.slug, hit.section) == ("card-jam", "处理")


def test_filters_and_k(searcher):
    assert [h.record.slug for h in searcher.search("业主投诉", k=5, level="热点").hits] == ["card-jam"]
    assert {h.record.slug for h in searcher.search("业主投诉", k=5, category="设施设备").hits} == {"radiator-cold"}
    assert [h.record.slug for h in searcher.search("业主投诉", k=5, tags=["停车场"]).hits] == ["card-jam"]
    assert len(searcher.search("业主投诉", k=2).hits) == 2
    assert searcher.search("业主投诉", k=5, category="收费").hits == []


def test_empty_query_is_a_query_error(searcher):
    with pytest.raises(QueryError) as e:
        searcher.search("   ")
    assert e.value.field == "q"


def test_snippet_offsets_point_at_the_terms():
    snippet, marks = make_snippet("很长的前文" * 40 + "业主说家里暖气不热" + "后文" * 50, ["暖气", "不热"])
    assert snippet.startswith("…") and snippet.endswith("…")
    assert [snippet[a:b] for a, b in marks] == ["暖气", "不热"]
