"""The site: generated pages from cases + reference data, and a real mkdocs build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import search.site.pages as site_pages
from search.errors import BuildError, UnknownMarker
from search.library.check import check_library
from search.library.reference import load_reference
from search.settings import load_settings
from tests.conftest import GOOD_CASE, make_case, write_case


@pytest.fixture
def cases(library):
    write_case(library, "noisy-drill", make_case(id="C0902").replace("category: 突发事件", "category: 管理服务")
               .replace("level: 一般", "level: 热点").replace("phrases: []", "phrases: [9]").replace("测试案例：电梯停运业主投诉", "周末装修电钻扰民"))
    report = check_library(library / "cases", root=library)
    assert report.problems == []
    return report.cases


def test_browse_pages_place_each_case_under_its_values(cases):
    ref = load_reference()
    by_cat = site_pages.by_category(cases, ref)
    section = by_cat.split("## 管理服务")[1].split("## ")[0]
    assert "[周末装修电钻扰民](../cases/noisy-drill.md)" in section
    assert "lift-stopped" not in section
    by_level = site_pages.by_level(cases, ref)
    assert "[周末装修电钻扰民](../cases/noisy-drill.md)" in by_level.split("## 热点投诉")[1].split("## ")[0]
    by_phrase = site_pages.by_phrase(cases, ref)
    assert "noisy-drill" in by_phrase.split("{ #ph9 }")[1]
    assert "noisy-drill" not in by_phrase.split("{ #ph9 }")[0]
    by_principle = site_pages.by_principle(cases, ref)
    p3 = by_principle.split("{ #p3 }")[1].split("## ")[0]
    assert "lift-stopped" in p3 and "noisy-drill" in p3


def test_case_page_links_principles_and_phrases(cases):
    ref = load_reference()
    drill = next(c for c in cases if c.slug == "noisy-drill")
    page = site_pages.case_page(drill, ref)
    assert "[原则一：先假定是我们的问题](../principles/1.md)" in page
    assert "[禁语九：“肯定不行”](../phrases/9.md)" in page
    assert '<span class="cl-badge cl-level-hot">热点投诉</span>' in page
    assert '  - "管理服务"' in page  # a tag for the tags plugin


def test_phrase_and_principle_pages_list_their_cases(cases):
    ref = load_reference()
    assert "noisy-drill" in site_pages.phrase_page(9, cases, ref)
    assert "还没有案例涉及这句禁语。" in site_pages.phrase_page(1, cases, ref)
    assert "lift-stopped" in site_pages.principle_page(1, cases, ref)


def test_case_html_is_escaped(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("他要赶去上班。", "他要赶去上班。<script>alert(1)</script> `<b>code</b>`"))
    case = check_library(library / "cases", root=library).cases[0]
    page = site_pages.case_page(case, load_reference())
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "`<b>code</b>`" in page  # code spans are left to Markdown, which escapes them


def test_case_page_lists_what_owners_say(library):
    text = make_case(**{"tags: [电梯, 停运]\n": 'tags: [电梯, 停运]\nowner_says: ["电梯又停了|还关人", "<b>快来人</b>"]\n'})
    write_case(library, "lift-stopped", text)
    case = check_library(library / "cases", root=library).cases[0]
    page = site_pages.case_page(case, load_reference())
    assert "| 业主常说 | “电梯又停了&#124;还关人”<br>“&lt;b&gt;快来人&lt;/b&gt;” |" in page
    write_case(library, "lift-stopped", make_case())
    case = check_library(library / "cases", root=library).cases[0]
    assert "| 业主常说 | — |" in site_pages.case_page(case, load_reference())


def test_markers_expand_and_unknown_marker_raises(cases):
    ref = load_reference()
    out = site_pages.expand_markers("前言\n<!-- caselib:levels -->\n", cases, ref, "../")
    assert "| 等级 | 定义 | 要求 | 案例数 |" in out and "caselib:" not in out
    with pytest.raises(UnknownMarker):
        site_pages.expand_markers("<!-- caselib:nope -->", cases, ref, "")


# ---------------------------------------------------------------- real builds (a few seconds each)

OUTSIDE = re.compile(r"""(?:src|href|action|content)\s*=\s*["']?(?:https?:)?//""", re.I)


def test_site_builds_strict_offline_and_searchable(site_project):
    settings = load_settings(site_project, env={})
    built = pipeline_site(settings)
    html_files = list(built.rglob("*.html"))
    assert (built / "cases" / "sandpit-fire-function.html").is_file()
    assert (built / "phrases" / "9.html").is_file()
    # no reference to an outside host anywhere in the HTML (xmlns names are not requests)
    offenders = [(p.name, m.group(0)) for p in html_files for m in OUTSIDE.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []
    css_js = [p for p in built.rglob("*") if p.suffix in (".css",) and "fonts.googleapis" in p.read_text(encoding="utf-8", errors="ignore")]
    assert css_js == []
    # the built-in search index is segmented by jieba: 沙池 and 暖气 are words in the right pages
    index = json.loads((built / "search" / "search_index.json").read_text(encoding="utf-8"))
    def pages_with(word):
        return {d["location"].split("#")[0] for d in index["docs"] if word in re.split(r"[\s\u200b]+", d["text"] + " " + d["title"])}
    assert "cases/sandpit-fire-function.html" in pages_with("沙池")
    assert "cases/radiator-not-warm.html" in pages_with("暖气")


def test_invalid_case_blocks_publishing_and_keeps_last_site(site_project):
    settings = load_settings(site_project, env={})
    first = pipeline_site(settings)
    bad = site_project / "cases" / "sandpit-fire-function.md"
    bad.write_text(bad.read_text(encoding="utf-8").replace("level: 一般", "level: 特大"), encoding="utf-8")
    with pytest.raises(BuildError) as e:
        pipeline_site(settings)
    assert "cases/sandpit-fire-function.md:6: level 的值“特大”不在允许范围内" in str(e.value)
    assert settings.site_path.resolve() == first and (first / "index.html").is_file()


def pipeline_site(settings) -> Path:
    from search import pipeline

    return pipeline.site(settings)


def test_case_pages_end_with_related_cases_from_the_index(site_project):
    from search import pipeline
    from tests.fakes import HashingEncoder

    settings = load_settings(site_project, env={})
    pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    built = pipeline.site(settings)
    page = (built / "cases" / "upstairs-water-leak.html").read_text(encoding="utf-8")
    assert "相似案例" in page
    block = page.rsplit("相似案例", 1)[1].split("</ul>", 1)[0]  # the last one: the section, not the TOC
    links = re.findall(r'href="([a-z0-9-]+)\.html"', block)
    assert 3 <= len(links) <= 5 and "upstairs-water-leak" not in links
    assert "同属" in block or "都涉及" in block or "共同标签" in block or "情节相近" in block
