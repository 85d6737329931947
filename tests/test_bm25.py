"""Our BM25 (token ids, rebuilt from array slices) scores exactly as bm25s' Lucene BM25,
the implementation the fusion weights were tuned with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from search.index.bm25 import BM25, IdsBuilder
from search.index.records import CaseRecord, bm25_tokens, chunk_case
from search.library.check import check_library
from search.library.textnorm import tokenize

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped_tokens() -> list[list[str]]:
    report = check_library(REPO / "cases", root=REPO)
    out = []
    for c in report.cases:
        rec = CaseRecord.from_case(c)
        out += [bm25_tokens(rec, ch) for ch in chunk_case(c)]
    return out


def assemble(parts: list, vocab: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One chunk's tokens per part: ids already in ``vocab`` (reused) or new tokens."""
    b = IdsBuilder(vocab)
    for p in parts:
        b.add_ids(p) if isinstance(p, np.ndarray) else b.add_tokens(p)
    return b.build()


QUERIES = ["暖气不热", "停车卡刷不了道闸不抬杆", "沙池 孩子 受伤", "不可能坏", "电梯 电梯 困人", "物业费 太贵 投诉 热线"]


def test_scores_equal_bm25s_on_the_shipped_cases(shipped_tokens):
    bm25s = pytest.importorskip("bm25s")
    ref = bm25s.BM25()  # method="lucene", k1=1.5, b=0.75
    ref.index(shipped_tokens, show_progress=False)
    vocab, ids, offsets = assemble(shipped_tokens, [])
    ours = BM25(vocab, ids, offsets)
    assert ours.n_docs == len(shipped_tokens) > 100
    for q in QUERIES:
        toks = [t for t in tokenize(q) if t in ref.vocab_dict]
        assert toks, q
        np.testing.assert_allclose(ours.get_scores(toks), ref.get_scores(toks), rtol=1e-5, atol=1e-6)
    assert not ours.get_scores(["从来没出现过的词"]).any()


def test_reused_ids_and_new_tokens_assemble_like_a_fresh_build(shipped_tokens):
    vocab, ids, offsets = assemble(shipped_tokens[:50], [])
    first = BM25(vocab, ids, offsets)
    # an update: keep chunks 0-49 as id slices, add the rest as new tokens
    parts = [first.ids[first.offsets[i] : first.offsets[i + 1]] for i in range(50)] + shipped_tokens[50:]
    v2, ids2, off2 = assemble(parts, first.vocab)
    assert v2[: len(vocab)] == vocab  # existing ids keep their meaning
    fresh = BM25(*assemble(shipped_tokens, []))
    updated = BM25(v2, ids2, off2)
    for q in QUERIES:
        toks = tokenize(q)
        np.testing.assert_allclose(updated.get_scores(toks), fresh.get_scores(toks), rtol=1e-6)


def test_save_and_load_mirror(tmp_path, shipped_tokens):
    bm = BM25(*assemble(shipped_tokens, []))
    bm.save(tmp_path)
    again = BM25.load(tmp_path)
    assert again.vocab == bm.vocab
    np.testing.assert_array_equal(again.get_scores(["暖气"]), bm.get_scores(["暖气"]))
