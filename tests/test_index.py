"""The index directory: manifest, incremental updates, atomic swap, model mismatch."""

from __future__ import annotations

import json

import pytest

from search import pipeline
from search.errors import CaseError, IndexMismatch, IndexMissing
from search.index.records import chunk_case
from search.index.store import load_index, read_manifest
from search.settings import load_settings
from tests.conftest import GOOD_CASE, make_case, write_case
from tests.fakes import HashingEncoder


@pytest.fixture
def settings(library):
    write_case(library, "noisy-drill", make_case(id="C0902").replace("测试案例：电梯停运业主投诉", "周末装修电钻扰民"))
    return load_settings(library, env={})


def test_manifest_records_model_dimension_and_hashes(settings):
    result = pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    m = read_manifest(settings.index_path)
    assert (m["format"], m["version"], m["model"], m["model_id"], m["dim"]) == ("caselib-index", 3, "embedded", "hashing-test", 256)
    assert set(m["cases"]) == {"lift-stopped", "noisy-drill"}
    assert m["n_chunks"] == result.n_chunks == len(load_index(settings.index_path).chunks)
    assert sorted(result.added) == ["lift-stopped", "noisy-drill"]


def test_only_changed_cases_are_reembedded(settings):
    class Counting(HashingEncoder):
        seen: list[str] = []

        def encode_passages(self, texts, progress=False):
            Counting.seen += texts
            return super().encode_passages(texts, progress)

    enc = Counting()
    pipeline.index(settings, encoder=enc, progress=False)
    first = settings.index_path.resolve()
    Counting.seen = []
    again = pipeline.index(settings, encoder=enc, progress=False)
    assert (again.changed, Counting.seen) == (False, [])
    assert settings.index_path.resolve() == first  # nothing changed: same version

    write_case(settings.root, "noisy-drill", make_case(id="C0902").replace("测试案例：电梯停运业主投诉", "周末装修电钻扰民，业主很生气"))
    result = pipeline.index(settings, encoder=enc, progress=False)
    assert result.updated == ["noisy-drill"] and result.added == [] and result.unchanged == 1
    assert Counting.seen and all("周末装修电钻扰民，业主很生气" in t for t in Counting.seen)
    (settings.cases_dir / "noisy-drill.md").unlink()
    assert pipeline.index(settings, encoder=enc, progress=False).removed == ["noisy-drill"]


def test_invalid_case_keeps_last_good_index(settings):
    pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    before = settings.index_path.resolve()
    write_case(settings.root, "noisy-drill", GOOD_CASE.replace("level: 一般", "level: 很大"))
    with pytest.raises(CaseError) as e:
        pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    assert "cases/noisy-drill.md:6: level 的值“很大”不在允许范围内" in str(e.value)
    assert settings.index_path.resolve() == before
    assert set(load_index(settings.index_path).cases) == {"lift-stopped", "noisy-drill"}


def test_index_built_with_another_model_is_refused(settings):
    pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    with pytest.raises(IndexMismatch, match="索引是用模型“embedded”（hashing-test）建的"):
        load_index(settings.index_path, expected_model_id="some-other-model")
    other = settings.model_copy(update={"model": "BAAI/bge-small-zh-v1.5"})
    with pytest.raises(IndexMismatch, match="当前设置是“BAAI/bge-small-zh-v1.5” — 运行 caselib index"):
        pipeline.open_searcher(other)


def test_missing_index_is_a_clear_error(settings):
    with pytest.raises(IndexMissing, match="先运行 caselib index"):
        pipeline.open_searcher(settings, encoder=HashingEncoder())


def test_half_written_version_is_never_loaded(settings):
    pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    good = settings.index_path.resolve()
    # a killed build leaves a .tmp directory without a manifest; the link still points to the good one
    stray = good.parent / "20990101T000000000000-999999.tmp"
    stray.mkdir()
    (stray / "vectors.npy").write_bytes(b"garbage")
    assert load_index(settings.index_path).path == good
    write_case(settings.root, "another-case", make_case(id="C0903"))
    pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    assert not stray.exists()  # cleaned up by the next build (its pid is not alive)


def test_chunks_cover_every_section(library):
    from search.library.check import check_library

    case = check_library(library / "cases").cases[0]
    sections = [c.section for c in chunk_case(case)]
    assert sections == ["概要", "经过", "处理", "分析", "预防措施", "接听要点"]
    assert all(len(c.text) <= 360 for c in chunk_case(case))
    assert json.dumps([c.text for c in chunk_case(case)], ensure_ascii=False).count("**") == 0


def test_a_version_2_index_is_upgraded_without_re_embedding(settings):
    """Version 3 changed only how BM25 is stored: the vectors of an older index (hours of
    embedding at 10,000 cases) are reused, and everything else is rewritten."""
    from search.index.store import VERSION

    class Counting(HashingEncoder):
        seen: list[str] = []

        def encode_passages(self, texts, progress=False):
            Counting.seen += texts
            return super().encode_passages(texts, progress)

    pipeline.index(settings, encoder=Counting(), progress=False)
    v3 = settings.index_path.resolve()
    expected = load_index(settings.index_path)
    # turn it into what version 2 wrote: chunks.jsonl and tokens.jsonl, no BM25 id arrays
    cols = json.loads((v3 / "chunks.json").read_text(encoding="utf-8"))
    with open(v3 / "chunks.jsonl", "w", encoding="utf-8") as f:
        for slug, section, text in zip(cols["slug"], cols["section"], cols["text"], strict=True):
            f.write(json.dumps({"slug": slug, "section": section, "text": text}, ensure_ascii=False) + "\n")
    bm = expected.bm25
    with open(v3 / "tokens.jsonl", "w", encoding="utf-8") as f:
        for i in range(bm.n_docs):
            f.write(json.dumps([bm.vocab[j] for j in bm.ids[bm.offsets[i] : bm.offsets[i + 1]]], ensure_ascii=False) + "\n")
    for name in ("chunks.json", "bm25_vocab.json", "bm25_ids.npy", "bm25_offsets.npy"):
        (v3 / name).unlink()
    manifest = json.loads((v3 / "manifest.json").read_text(encoding="utf-8"))
    (v3 / "manifest.json").write_text(json.dumps({**manifest, "version": 2}), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="索引格式版本是 2，当前程序需要 3 — 运行 caselib index 更新"):
        load_index(settings.index_path)

    Counting.seen = []
    import search.index.build as index_mod

    tokenized: list = []
    real_tokens = index_mod.bm25_tokens
    index_mod.bm25_tokens = lambda *a: tokenized.append(a) or real_tokens(*a)
    try:
        result = pipeline.index(settings, encoder=Counting(), progress=False)
    finally:
        index_mod.bm25_tokens = real_tokens
    assert (result.changed, result.embedded_chunks, Counting.seen, tokenized) == (True, 0, [], [])
    upgraded = load_index(settings.index_path)
    assert upgraded.manifest["version"] == VERSION and upgraded.path != v3
    assert upgraded.chunks == expected.chunks
    assert (upgraded.vectors == expected.vectors).all()
    assert (upgraded.bm25.get_scores(["电梯"]) == expected.bm25.get_scores(["电梯"])).all()


def test_an_update_can_start_from_the_index_held_in_memory(settings, monkeypatch):
    import search.index.build as index_mod

    enc = HashingEncoder()
    held = pipeline.index(settings, encoder=enc, progress=False).index
    assert held is not None and held.path == settings.index_path.resolve()
    monkeypatch.setattr(index_mod, "load_index", lambda *a, **k: pytest.fail("read the index back from disk"))
    write_case(settings.root, "noisy-drill", make_case(id="C0902").replace("测试案例：电梯停运业主投诉", "周末装修电钻扰民，业主很生气"))
    result = pipeline.index(settings, encoder=enc, progress=False, previous=held)
    assert result.updated == ["noisy-drill"] and result.embedded_chunks > 0
    assert result.index.path == settings.index_path.resolve() != held.path
    monkeypatch.undo()
    on_disk = load_index(settings.index_path)
    assert on_disk.chunks == result.index.chunks and (on_disk.vectors == result.index.vectors).all()
