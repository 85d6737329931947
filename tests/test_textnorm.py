"""Tokenisation shared by indexing and querying: both sides must agree."""

from __future__ import annotations

from search.library.textnorm import highlight_terms, normalize, tokenize


def test_normalize_traditional_full_width_case_and_spaces():
    assert normalize("  暖氣　不熱 ＡＢＣ  ") == "暖气 不热 abc"


def test_traditional_and_simplified_queries_give_the_same_tokens():
    assert tokenize("電梯關人，物業到底管不管") == tokenize("电梯关人，物业到底管不管")


def test_fillers_and_punctuation_are_not_tokens():
    assert tokenize("你们到底！？请问，为什么") == []
    assert "你们" not in tokenize("你们的电梯又坏了")


def test_content_words_and_their_bigrams():
    toks = tokenize("暖气不热")
    assert "暖气" in toks
    # bigrams over the run of content words make a short query robust to segmentation
    assert {"暖气", "气不", "不热"} <= set(toks)


def test_bigrams_never_cross_a_stop_word():
    toks = tokenize("暖气的阀门")
    assert "气的" not in toks and "的阀" not in toks
    assert "阀门" in toks


def test_highlight_terms_are_longest_first_and_skip_single_characters():
    terms = highlight_terms("地下车库的车被刮了")
    assert terms == sorted(terms, key=len, reverse=True)
    assert all(len(t) >= 2 for t in terms)
    assert "车库" in "".join(terms)
