"""Hybrid retrieval on a tiny library with the fast fake encoder."""

from __future__ import annotations

import pytest

from search import pipeline
from search.errors import QueryError
from search.retrieval.clauses import ENCODED
from search.retrieval.snippets import make_snippet
from tests.conftest import three_case_library
from tests.fakes import HashingEncoder


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    settings, enc = three_case_library(tmp_path_factory.mktemp("lib"))
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


def test_large_libraries_use_ivf_with_the_same_answers_when_every_cluster_is_read(tmp_path, monkeypatch):
    import faiss

    import search.retrieval.searcher as retrieval

    settings, enc = three_case_library(tmp_path)
    flat = pipeline.open_searcher(settings, encoder=enc)
    assert isinstance(flat.faiss, faiss.IndexFlatIP)
    monkeypatch.setattr(retrieval, "APPROX_MIN_CHUNKS", 2)  # pretend the library is large
    approx = pipeline.open_searcher(settings, encoder=enc)
    assert isinstance(approx.faiss, faiss.IndexIVFFlat)
    assert approx.faiss.nprobe >= approx.faiss.nlist  # a tiny index: every cluster is read
    for q in ("家里暖气不热", "停车卡刷不了", "业主投诉"):
        a = [(h.record.slug, round(h.score, 6)) for h in approx.search(q, k=3, mode="dense").hits]
        b = [(h.record.slug, round(h.score, 6)) for h in flat.search(q, k=3, mode="dense").hits]
        assert a == b


def test_ivf_recall_against_flat_on_clustered_vectors():
    # 30,000 vectors in 300 topics, like chunks of many cases on a few hundred themes
    import numpy as np

    from search.retrieval.dense import dense_index as _dense_index

    rng = np.random.default_rng(7)
    centres = rng.standard_normal((300, 64)).astype(np.float32)
    x = centres[rng.integers(0, 300, 30_000)] + 0.35 * rng.standard_normal((30_000, 64)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, 30_000, 50)] + 0.2 * rng.standard_normal((50, 64)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    _, truth = _dense_index(x, approx=False).search(q, 10)
    ivf = _dense_index(x, approx=True)
    _, got = ivf.search(q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth, strict=True)])
    assert ivf.nlist == 173 and ivf.nprobe == 57
    assert recall >= 0.98, recall


class Recording(HashingEncoder):
    """The fake encoder, remembering every batch it was asked to encode."""

    def __init__(self):
        super().__init__()
        self.calls: list[list[str]] = []

    def encode_queries(self, texts):
        self.calls.append(list(texts))
        return super().encode_queries(texts)


NARRATIVE = ("记者了解到今年三月的一些事情。家住城南某小区的张先生打来热线。"
             "他说入冬以后家里暖气一直不热。前几天他又去了一趟服务中心。"
             "回到家中他等了整整一下午。张先生表示实在冻得受不了。")


def test_a_long_text_encodes_the_whole_once_and_only_its_strongest_clauses(tmp_path):
    settings, enc = three_case_library(tmp_path)
    main, clause = Recording(), Recording()
    searcher = pipeline.open_searcher(settings, encoder=main, clause_encoder=clause)
    s = searcher.score(NARRATIVE)
    assert len(s.clauses) > ENCODED and len(s.encoded) == ENCODED
    assert main.calls == [[s.query]]  # the whole text, on the main encoder only
    assert clause.calls == [s.encoded]  # the picked clauses, in one batch, on the clause encoder
    assert set(s.encoded) <= set(s.clauses) and any("暖气" in c for c in s.encoded)
    assert not any(c.startswith("记者了解到") for c in s.encoded)  # narrative without the library's words
    assert searcher.search(NARRATIVE, k=1).hits[0].record.slug == "radiator-cold"


def test_dense_mode_encodes_every_clause_and_a_short_query_none(tmp_path):
    settings, _ = three_case_library(tmp_path)
    clause = Recording()
    searcher = pipeline.open_searcher(settings, encoder=HashingEncoder(), clause_encoder=clause)
    s = searcher.score(NARRATIVE, mode="dense")
    assert s.encoded == s.clauses and clause.calls == [s.clauses]
    assert searcher.score("暖气不热").encoded == [] and len(clause.calls) == 1
    assert searcher.score(NARRATIVE, mode="bm25").encoded == []


def test_without_a_clause_encoder_the_main_encoder_encodes_the_clauses(tmp_path):
    settings, _ = three_case_library(tmp_path)
    main = Recording()
    s = pipeline.open_searcher(settings, encoder=main).score(NARRATIVE)
    assert main.calls == [[s.query], s.encoded]


def test_the_clause_encoder_is_the_int8_model_only_next_to_onnx(tmp_path):
    from search.models import load_clause_encoder

    cache = tmp_path / "cache"  # nothing is loaded for these: no model in it
    assert load_clause_encoder("embedded", cache, backend="torch") is None
    assert load_clause_encoder("embedded", cache, backend="onnx", clause="same") is None
    assert load_clause_encoder("some/other-model", cache, backend="auto") is None
    assert not cache.exists()
