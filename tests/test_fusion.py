"""Fusion and clause splitting (search.retrieval.fusion, search.retrieval.clauses)."""

from __future__ import annotations

import numpy as np

from search.retrieval import fusion
from search.retrieval.clauses import ENCODED, MAX_CHARS, MAX_CLAUSES, MIN_CHARS, split_clauses, strongest

INF = -np.inf


def test_ranks_skip_missing_and_keep_case_order_on_ties():
    assert fusion.ranks(np.array([0.2, INF, 0.9, 0.2])).tolist() == [2, 0, 1, 3]


def test_short_queries_fuse_by_rank_with_bm25_at_half_weight():
    dense = np.array([0.9, 0.8, INF])
    bm25 = np.array([INF, 5.0, 1.0])
    fused = fusion.fuse(dense, bm25, long=False)
    k = fusion.RRF_K
    assert np.allclose(fused, [1 / (k + 1), 1 / (k + 2) + 0.5 / (k + 1), 0.5 / (k + 2)])
    assert fusion.fuse(dense, None, long=False) is dense and fusion.fuse(None, bm25, long=False) is bm25


def test_long_texts_add_a_small_share_of_bm25_to_the_dense_score():
    dense = np.array([0.90, 0.89, INF])
    bm25 = np.array([2.0, 10.0, 4.0])
    fused = fusion.fuse(dense, bm25, long=True)
    w = fusion.LONG_BM25_WEIGHT
    # a case only BM25 found starts from the lowest dense score
    assert np.allclose(fused, [0.90 + w * 0.2, 0.89 + w * 1.0, 0.89 + w * 0.4])
    assert fused.argmax() == 1  # BM25 decided a close call …
    far = fusion.fuse(np.array([0.95, 0.89, INF]), bm25, long=True)
    assert far.argmax() == 0  # … but does not overrule a clear dense margin


def test_clause_pooling_is_half_whole_half_best_clauses():
    whole = np.array([0.80, 0.85])
    clauses = np.array([[0.95, 0.70], [0.90, 0.72], [0.60, 0.71], [0.10, INF]])
    pooled = fusion.pool_clauses(whole, clauses)
    top = fusion.CLAUSE_POOL
    a = np.mean(sorted([0.95, 0.90, 0.60, 0.10], reverse=True)[:top])
    b = np.mean(sorted([0.70, 0.72, 0.71, 0.10], reverse=True)[:top])  # missing → that clause's lowest score
    assert np.allclose(pooled, [0.5 * 0.80 + 0.5 * a, 0.5 * 0.85 + 0.5 * b])
    assert pooled.argmax() == 0  # the clause that names the problem wins over a vaguely closer whole


def test_agreement_needs_bm25_first_among_dense_first_three():
    dense = np.array([0.9, 0.8, 0.7, 0.6])
    assert fusion.agree(dense, np.array([INF, INF, 3.0, 1.0]))
    assert not fusion.agree(dense, np.array([INF, INF, 1.0, 3.0]))
    assert not fusion.agree(dense, np.full(4, INF)) and not fusion.agree(None, dense)
    assert fusion.confidence(0.86, True) == 0.86 + fusion.AGREE_BONUS
    assert fusion.confidence(0.86, False) == 0.86


def test_a_short_query_is_one_clause():
    for q in ("暖气不热", "电梯坏了。物业不管。", "楼上漏水到楼下，物业一直不来处理，我该找谁"):
        assert split_clauses(q) == [q]


def test_a_narrative_is_split_into_bounded_clauses():
    text = ("记者了解到，家住某小区的王女士反映，入冬以来家里暖气一直不热。" "她多次打电话给物业，对方每次都说马上派人，"
            "可一个星期过去了也没人上门，孩子冻得感冒了。" "王女士说，交了供暖费却过不上暖和的冬天，希望物业给个说法。")
    clauses = split_clauses(text)
    assert len(clauses) >= 3
    assert "".join(clauses) == text  # nothing lost, nothing reordered
    assert all(len(c) >= MIN_CHARS for c in clauses)
    assert all(len(c) <= MAX_CHARS + 40 for c in clauses)
    assert any("暖气一直不热" in c for c in clauses)


def test_the_number_of_clauses_is_bounded():
    text = "。".join(f"第{i}件事情发生了变化" for i in range(40)) + "。"
    clauses = split_clauses(text)
    assert 1 < len(clauses) <= MAX_CLAUSES
    assert "".join(clauses) == text


def test_the_strongest_clauses_are_kept_in_text_order():
    clauses = ["记者了解到，", "入冬以后家里暖气一直不热，", "他打过两次电话，", "老人冻得受不了，", "要求今天就来修。"]
    kept = strongest(clauses, [0.0, 9.5, 1.0, 3.0, 2.0], keep=3)
    assert kept == ["入冬以后家里暖气一直不热，", "老人冻得受不了，", "要求今天就来修。"]
    assert strongest(clauses, [1.0] * 5, keep=2) == clauses[:2]  # ties: the earlier clause
    assert strongest(clauses[:2], [0.0, 1.0], keep=3) == clauses[:2]  # fewer than keep: all of them


def test_as_many_clauses_are_encoded_as_are_pooled():
    assert ENCODED == fusion.CLAUSE_POOL
