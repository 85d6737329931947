"""待复核: a case whose last review is older than the review period (12 months by default)
is listed by `caselib gaps` and marked for trainers on its page."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from search.cli import cli
from search.library.review import months_before, review_due
from tests.conftest import make_case, write_case


def reviewed(text: str, when: str, by: str = "李审核") -> str:
    return text.replace("\n---\n\n## 经过", f'\nreviewed_by: "{by}"\nreviewed_at: "{when}"\n---\n\n## 经过', 1)


def test_months_before():
    assert months_before(date(2026, 12, 1), 12) == date(2025, 12, 1)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)


def test_old_and_never_reviewed_cases_are_due(library):
    write_case(library, "lift-stopped", reviewed(make_case(), "2024-01-15"))
    write_case(library, "fresh", reviewed(make_case(id="C0902"), "2026-11-20"))
    write_case(library, "never", make_case(id="C0903"))
    due = review_due(library / "cases", 12, today=date(2026, 12, 1))
    assert [(d.slug, d.reviewed_at, d.reviewed_by) for d in due] == [("never", None, None), ("lift-stopped", "2024-01-15", "李审核")]


def test_gaps_lists_them_first_even_before_any_search_log(library):
    write_case(library, "lift-stopped", reviewed(make_case(), "2020-01-15"))
    r = CliRunner().invoke(cli, ["--root", str(library), "gaps"], env={})
    assert r.output.startswith("待复核（超过 12 个月没有审核过，在“编写案例”页打开修改并提交审核即可）：\n"
                               "  lift-stopped  测试案例：电梯停运业主投诉  上次 2020-01-15（李审核）\n")


def test_the_case_page_carries_the_review_date_for_the_trainers_mark(library):
    from search.library.check import check_library
    from search.library.reference import load_reference
    from search.site.pages import case_page

    write_case(library, "lift-stopped", reviewed(make_case(), "2024-01-15"))
    case = check_library(library / "cases").cases[0]
    page = case_page(case, load_reference())
    assert '<span class="cl-badge cl-review-due" data-reviewed-at="2024-01-15" hidden>待复核</span>' in page
    assert "| 审核 | 李审核（2024-01-15） |" in page
    assert '<div class="cl-history" data-slug="lift-stopped" markdown="0" hidden></div>' in page
