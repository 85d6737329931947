"""`caselib eval`: hit rates over answerable queries, the no-match AUC over the rest, several
sets in one run (search.retrieval.evaluate)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from search import pipeline
from search.cli import cli
from search.retrieval.evaluate import evaluate, no_match_auc
from tests.conftest import three_case_library


def test_auc_is_the_probability_an_answerable_query_is_more_confident():
    assert no_match_auc([0.9, 0.8], [0.7, 0.6]) == 1.0
    assert no_match_auc([0.5], [0.7, 0.6]) == 0.0
    assert no_match_auc([0.7, 0.9], [0.7]) == 0.75  # a tie counts half
    assert no_match_auc([0.9], []) is None and no_match_auc([], [0.1]) is None


def test_unanswerable_items_count_for_the_auc_only(tmp_path):
    settings, enc = three_case_library(tmp_path)
    searcher = pipeline.open_searcher(settings, encoder=enc)
    queries = [{"q": "暖气不热", "relevant": ["radiator-cold"]}, {"q": "电梯停运", "relevant": ["lift-stopped"]},
               {"q": "明天天气怎么样", "relevant": []}]
    for s in evaluate(searcher, queries):
        assert (s.answerable, s.unanswerable) == (2, 1)
        assert s.hit1 in (0.0, 0.5, 1.0) and s.auc is not None
    hybrid = {s.mode: s for s in evaluate(searcher, queries)}["hybrid"]
    assert hybrid.hit1 == 1.0 and hybrid.auc == 1.0


def test_the_cli_reports_each_set(tmp_path, monkeypatch):
    settings, enc = three_case_library(tmp_path)
    monkeypatch.setattr(pipeline, "load_encoder", lambda *a, **k: enc)
    monkeypatch.setattr(pipeline, "load_clause_encoder", lambda *a, **k: None)  # the fake encodes clauses too
    for key in list(os.environ):
        if key.startswith("CASELIB_") and key != "CASELIB_CACHE_DIR":
            monkeypatch.delenv(key)
    a = tmp_path / "a.yaml"
    a.write_text("- {q: 暖气不热, relevant: [radiator-cold]}\n", encoding="utf-8")
    b = tmp_path / "b.yaml"
    b.write_text("- {q: 电梯停运, relevant: [lift-stopped]}\n- {q: 明天天气怎么样, relevant: []}\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["--root", str(settings.root), "eval", str(a), str(b)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[:3] == ["== a.yaml", "1 条查询", f"{'方式':<8}{'hit@1':>8}{'hit@3':>8}{'MRR':>8}"]
    i = lines.index("== b.yaml")
    assert lines[i + 1 : i + 4] == ["2 条查询", "其中 1 条库里没有合适的案例（只计入无匹配 AUC）",
                                    f"{'方式':<8}{'hit@1':>8}{'hit@3':>8}{'MRR':>8}{'AUC':>8}"]
    assert lines[i + 6].startswith("hybrid") and lines[i + 6].endswith("1.000")


@pytest.mark.parametrize("text", ["- {q: 暖气, relevant: [no-such-case]}\n"])
def test_an_unknown_slug_is_refused(tmp_path, monkeypatch, text):
    settings, enc = three_case_library(tmp_path)
    monkeypatch.setattr(pipeline, "load_encoder", lambda *a, **k: enc)
    monkeypatch.setattr(pipeline, "load_clause_encoder", lambda *a, **k: None)  # the fake encodes clauses too
    f = tmp_path / "q.yaml"
    f.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(cli, ["--root", str(settings.root), "eval", str(f)])
    assert r.exit_code == 1 and "评测集引用了索引中没有的案例：no-such-case" in r.output
