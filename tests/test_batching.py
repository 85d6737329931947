"""The server's query encoder: concurrent requests get the same vectors as direct calls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from search.server.batching import BatchingQueryEncoder
from tests.fakes import HashingEncoder


def test_concurrent_queries_get_their_own_vectors():
    inner = HashingEncoder()
    enc = BatchingQueryEncoder(inner, cache_size=8)
    texts = [f"第{i}个查询：暖气不热" for i in range(100)]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda t: enc.encode_queries([t])[0], texts))
    assert np.allclose(np.stack(got), inner.encode_queries(texts))
    assert np.allclose(enc.encode_queries(texts[:3]), inner.encode_queries(texts[:3]))  # multi-text call


def test_batches_form_under_load_and_cache_answers_repeats():
    class Counting(HashingEncoder):
        calls: list[int] = []

        def encode_queries(self, texts):
            Counting.calls.append(len(texts))
            return super().encode_queries(texts)

    enc = BatchingQueryEncoder(Counting())
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda i: enc.encode_queries([f"q{i}"]), range(200)))
    assert sum(Counting.calls) == 200 and len(Counting.calls) <= 200
    before = len(Counting.calls)
    enc.encode_queries(["q5"])
    assert len(Counting.calls) == before  # served from the cache


def test_encoder_errors_reach_the_caller():
    class Broken(HashingEncoder):
        def encode_queries(self, texts):
            raise RuntimeError("模型出错")

    enc = BatchingQueryEncoder(Broken())
    try:
        enc.encode_queries(["x"])
    except RuntimeError as e:
        assert str(e) == "模型出错"
    else:
        raise AssertionError("expected the error")
