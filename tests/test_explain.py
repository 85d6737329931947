"""Hit testing: `Searcher.explain`, GET /api/explain and `caselib search --explain` agree with
search itself and say why each case ranked where it did."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from search import pipeline
from search.cli import cli
from search.retrieval.explain import explain
from search.server.app import create_app
from tests.conftest import three_case_library

LONG = ("业主王先生来电说，入冬以后家里的暖气一直不热。他已经打过两次电话，每次都说马上派人，"
        "可到现在也没人上门。家里老人冻得受不了，他要求今天就来修。")


@pytest.fixture
def lib(tmp_path):
    settings, enc = three_case_library(tmp_path, weak_threshold=0.3)
    return settings, enc, pipeline.open_searcher(settings, encoder=enc)


@pytest.mark.parametrize("query", ["暖气不热", "电梯停运", LONG])
def test_the_fused_ranks_are_the_search_order(lib, query):
    settings, _, searcher = lib
    result = searcher.search(query, k=3, weak_below=settings.weak_below)
    x = explain(searcher, query, k=3, weak_below=settings.weak_below)
    ranked = sorted((c for c in x.cases if c.fused_rank), key=lambda c: c.fused_rank)
    assert [c.slug for c in ranked][:3] == [h.record.slug for h in result.hits]
    assert x.match == result.match and x.confidence == pytest.approx(result.confidence, abs=1e-4)
    assert x.threshold == 0.3


def test_each_side_says_what_matched(lib):
    _, _, searcher = lib
    x = explain(searcher, "暖气不热", k=3)
    first = next(c for c in x.cases if c.fused_rank == 1)
    assert first.slug == "radiator-cold"
    assert "暖气" in first.bm25_terms and first.bm25_rank == 1 and first.bm25_score > 0
    assert first.dense_rank >= 1 and first.dense_section and first.dense_excerpt
    assert "暖气" in x.terms and x.clauses == ["暖气不热"]
    assert x.method.startswith("短查询：名次融合")
    # a case BM25 has no word in common with has no BM25 rank and no terms
    other = next(c for c in x.cases if c.slug == "lift-stopped")
    assert other.bm25_rank == 0 and other.bm25_terms == []


def test_a_long_text_is_read_clause_by_clause(lib):
    _, _, searcher = lib
    x = explain(searcher, LONG, k=3)
    assert len(x.clauses) > 1 and "".join(x.clauses) == x.query
    assert x.method.startswith(f"长文本（{len(x.clauses)} 个分句，编码其中关键词证据最强的 {len(x.encoded)} 个）")
    assert x.encoded and set(x.encoded) <= set(x.clauses)


def test_bm25_mode_has_no_weak_decision(lib):
    _, _, searcher = lib
    x = explain(searcher, "暖气不热", k=3, weak_below=0.99, mode="bm25")
    assert x.threshold == 0.0 and x.match == "strong"
    assert all(c.dense_rank == 0 for c in x.cases)


def test_the_api_serves_the_explanation(lib):
    settings, enc, _ = lib
    from search.authoring import accounts
    from search.authoring.db import open_database

    db = open_database(settings.db_url)
    with db.session() as s:
        accounts.add_user(s, "trainer", "trainer", "explain-pw-1", "王培训")
        accounts.add_user(s, "agent", "agent", "explain-pw-1", "坐席")
    db.close()
    app = create_app(settings, encoder=enc)
    with TestClient(app) as client:
        anon = client.get("/api/explain", params={"q": "暖气不热"})
        assert anon.status_code == 401 and anon.json()["error"]["code"] == "unauthorized"
        client.post("/api/login", json={"username": "agent", "password": "explain-pw-1"})
        assert client.get("/api/explain", params={"q": "暖气不热"}).status_code == 403  # agents search; trainers probe
        client.post("/api/login", json={"username": "trainer", "password": "explain-pw-1"})
        r = client.get("/api/explain", params={"q": "暖气不热", "k": 3})
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"query", "mode", "method", "clauses", "encoded", "terms", "threshold", "confidence", "agreed", "match", "cases"}
        assert body["cases"][0]["slug"] == "radiator-cold" and body["cases"][0]["fused_rank"] == 1
        r = client.get("/api/explain", params={"q": "暖气", "mode": "semantic"})
        assert r.status_code == 422 and r.json()["error"]["field"] == "mode"
        assert client.get("/api/explain").json()["error"]["field"] == "q"
        # probes are not agents' searches: nothing reaches the search log
        log = app.state.services.get().log
        assert log.rows("SELECT COUNT(*) FROM searches") == [(0,)]
        client.get("/api/search", params={"q": "暖气不热"})
        assert log.rows("SELECT COUNT(*) FROM searches") == [(1,)]


def test_cli_search_explain(lib, monkeypatch):
    settings, enc, _ = lib
    monkeypatch.setattr(pipeline, "load_encoder", lambda *a, **k: enc)
    monkeypatch.setattr(pipeline, "load_clause_encoder", lambda *a, **k: None)  # the fake encodes clauses too
    for key in ("CASELIB_MODEL", "CASELIB_INDEX_DIR", "CASELIB_WEAK_THRESHOLD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CASELIB_WEAK_THRESHOLD", "0.3")
    r = CliRunner().invoke(cli, ["--root", str(settings.root), "search", "--explain", "-k", "3", "暖气不热"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "查询：暖气不热"
    assert lines[2].startswith("融合：短查询：名次融合")
    assert lines[3].startswith("判断：") and "阈值 0.300" in lines[3]
    assert any(line.strip().startswith("1 ") and "（radiator-cold）" in line for line in lines)
    r = CliRunner().invoke(cli, ["--root", str(settings.root), "search", "--explain", "--json", "暖气不热"])
    assert json.loads(r.output)["cases"][0]["slug"] == "radiator-cold"
