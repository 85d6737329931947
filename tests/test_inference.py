"""The server's one owner of inference: priorities, bounded batches, errors, shutdown.
Ordering is asserted from the encoder's own call log, never from timings."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from search.server.inference import PASSAGE, PASSAGE_BATCH, REPLY, REPLY_BATCH, InferenceClosed, InferenceWorker
from tests.fakes import HashingEncoder


class Slow(HashingEncoder):
    """Sleeps per call and logs (kind, texts); the first call can be held on a gate."""

    def __init__(self, sleep: float = 0.002, hold_first: bool = False):
        super().__init__()
        self.sleep = sleep
        self.calls: list[tuple[str, list[str]]] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        if not hold_first:
            self.gate.set()

    def _call(self, kind, texts):
        self.calls.append((kind, list(texts)))
        self.started.set()
        self.gate.wait(10)
        time.sleep(self.sleep)

    def encode_queries(self, texts):
        self._call("q", texts)
        return super().encode_queries(texts)

    def encode_passages(self, texts, progress=False):
        self._call("p", texts)
        return super().encode_passages(texts, progress)


@pytest.fixture
def closing():
    workers = []
    yield lambda w: workers.append(w) or w
    for w in workers:
        w.close()


def _wait_queued(worker, n):
    deadline = time.time() + 10
    while worker.queued() != n:
        assert time.time() < deadline, f"queued {worker.queued()}, expected {n}"
        time.sleep(0.001)


def _in_thread(fn, *args):
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("out", fn(*args)))
    t.start()
    return t, box


def test_a_query_goes_ahead_of_queued_passages(closing):
    enc = Slow(hold_first=True)
    worker = closing(InferenceWorker(enc, passage_batch=8))
    passages = [f"第{i}段：暖气不热，业主来电" for i in range(100)]
    pt, pbox = _in_thread(worker.encode_passages, passages)
    assert enc.started.wait(5)  # the first batch of 8 is running (held); 12 more are queued
    _wait_queued(worker, 12)
    qt, qbox = _in_thread(worker.encode_queries, ["电梯停了"])
    _wait_queued(worker, 13)
    enc.gate.set()
    qt.join(10)
    pt.join(10)
    kinds = [k for k, _ in enc.calls]
    assert kinds == ["p", "q"] + ["p"] * 12  # the query waited for one batch, not for all 100 passages
    assert np.allclose(qbox["out"], HashingEncoder().encode_queries(["电梯停了"]))
    assert np.allclose(pbox["out"], HashingEncoder().encode_passages(passages))


def test_passage_batches_are_bounded_and_full(closing):
    enc = Slow(sleep=0)
    worker = closing(InferenceWorker(enc, passage_batch=8))
    worker.encode_passages([f"片段{i}" for i in range(100)])
    assert [len(t) for k, t in enc.calls] == [8] * 12 + [4]
    enc.calls.clear()
    closing(InferenceWorker(enc)).encode_passages([f"片段{i}" for i in range(10)])
    assert [len(t) for k, t in enc.calls] == [PASSAGE_BATCH] * (10 // PASSAGE_BATCH)  # the default: one at a time
    assert 1 <= PASSAGE_BATCH <= 8 and 1 <= REPLY_BATCH <= 8


def test_a_long_reply_check_is_cut_into_batches_and_queries_go_first(closing):
    enc = Slow(hold_first=True)
    worker = closing(InferenceWorker(enc, reply_batch=8))
    reply = worker.lane(REPLY)
    units = [f"第{i}句回复" for i in range(40)]
    rt, rbox = _in_thread(reply.encode_queries, units)
    assert enc.started.wait(5)
    _wait_queued(worker, 4)
    qt, _ = _in_thread(worker.encode_queries, ["停车卡刷不了"])
    _wait_queued(worker, 5)
    enc.gate.set()
    rt.join(10)
    qt.join(10)
    assert [len(t) for _, t in enc.calls] == [8, 1, 8, 8, 8, 8]
    assert enc.calls[1] == ("q", ["停车卡刷不了"])
    assert np.allclose(rbox["out"], HashingEncoder().encode_queries(units))


def test_queries_that_queue_together_are_encoded_as_one_batch(closing):
    enc = Slow(hold_first=True)
    worker = closing(InferenceWorker(enc))
    pt, _ = _in_thread(worker.encode_passages, ["一段"])
    assert enc.started.wait(5)
    threads = [_in_thread(worker.encode_queries, [f"查询{i}"])[0] for i in range(5)]
    _wait_queued(worker, 5)
    enc.gate.set()
    for t in threads + [pt]:
        t.join(10)
    assert [(k, len(t)) for k, t in enc.calls] == [("p", 1), ("q", 5)]


def test_priorities_order_queries_replies_passages(closing):
    enc = Slow(hold_first=True)
    worker = closing(InferenceWorker(enc))
    first, _ = _in_thread(worker.encode_passages, ["先到的一段"])
    assert enc.started.wait(5)
    p, _ = _in_thread(worker.encode_passages, ["后到的一段"])
    _wait_queued(worker, 1)
    r, _ = _in_thread(worker.lane(REPLY).encode_queries, ["回复"])
    _wait_queued(worker, 2)
    q, _ = _in_thread(worker.encode_queries, ["查询"])
    _wait_queued(worker, 3)
    enc.gate.set()
    for t in (first, p, r, q):
        t.join(10)
    assert [t[0] for _, t in enc.calls] == ["先到的一段", "查询", "回复", "后到的一段"]


def test_concurrent_queries_get_their_own_vectors_and_repeats_hit_the_cache(closing):
    enc = Slow(sleep=0)
    worker = closing(InferenceWorker(enc, cache_size=64))
    texts = [f"第{i}个查询：暖气不热" for i in range(100)]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda t: worker.encode_queries([t])[0], texts))
    assert np.allclose(np.stack(got), HashingEncoder().encode_queries(texts))
    assert sum(len(t) for _, t in enc.calls) == 100  # each text encoded once
    before = len(enc.calls)
    again = [texts[-1], texts[-2]]
    assert np.allclose(worker.encode_queries(again), HashingEncoder().encode_queries(again))
    assert len(enc.calls) == before  # served from the cache
    assert worker.encode_queries([]).shape == (0, enc.dim)


def test_encoder_errors_reach_the_callers_future_and_the_worker_goes_on(closing):
    class Broken(HashingEncoder):
        fail = True

        def encode_queries(self, texts):
            if self.fail:
                raise RuntimeError("模型出错")
            return super().encode_queries(texts)

        def encode_passages(self, texts, progress=False):
            raise OSError("磁盘出错")

    enc = Broken()
    worker = closing(InferenceWorker(enc))
    with pytest.raises(RuntimeError, match="模型出错"):
        worker.encode_queries(["x"])
    with pytest.raises(OSError, match="磁盘出错"):
        worker.encode_passages([f"p{i}" for i in range(30)])
    enc.fail = False
    assert np.allclose(worker.encode_queries(["x"]), HashingEncoder().encode_queries(["x"]))  # not cached as an error


def test_close_stops_the_thread_and_fails_queued_jobs():
    enc = Slow(hold_first=True)
    worker = InferenceWorker(enc, passage_batch=8)
    pt, pbox = _in_thread(lambda: _catch(worker.encode_passages, [f"p{i}" for i in range(24)]))
    assert enc.started.wait(5)
    _wait_queued(worker, 2)
    closer = threading.Thread(target=worker.close)
    closer.start()
    while not worker.closed:
        time.sleep(0.001)
    enc.gate.set()
    closer.join(10)
    pt.join(10)
    assert not worker.alive
    assert isinstance(pbox["out"], InferenceClosed)
    assert len(enc.calls) == 1  # the running batch finished; the queued ones never ran
    with pytest.raises(InferenceClosed):
        worker.encode_queries(["太晚了"])
    worker.close()  # idempotent
    assert "caselib-inference" not in {t.name for t in threading.enumerate()}


def _catch(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001
        return e


def test_it_is_an_encoder(closing):
    inner = HashingEncoder()
    worker = closing(InferenceWorker(inner))
    assert (worker.model_id, worker.dim) == (inner.model_id, inner.dim)
    lane = worker.lane(PASSAGE)
    assert (lane.model_id, lane.dim) == (inner.model_id, inner.dim)
    assert np.allclose(lane.encode_passages(["一段"]), inner.encode_passages(["一段"]))
