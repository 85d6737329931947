"""The one owner of inference in a running server: a single worker thread holds the
encoder, and everything that needs vectors (agents' queries, reply checks, passages of a
case a trainer just saved) hands it a job.

Why one thread: torch and onnxruntime already use every intra-op thread they are given
for one forward pass; two threads encoding at once oversubscribe the CPU and slow both
(on ONNX a lock serialised them anyway, in arrival order). Why priorities: an agent on a
call waits for the search; a reply check is a click; re-indexing a saved case is
background work. So the worker always takes the most urgent job first, and long work is
cut into bounded batches: a query that arrives while a case is being indexed or a long
reply is being checked waits at most one small batch.

Batch sizes, measured on the embedded model, onnx, 1 thread, 2 busy cores: a passage
(100-370 characters) costs 114 ms alone, 145 ms each in twos, 210 ms each in eights
(padding to the longest): batching passages buys nothing on a CPU, so they go one at a
time. Reply sentences (~30 characters) cost 25 ms alone, 18 ms each in twos (37 ms a
batch), 16 ms in fours (65 ms), 19 ms in eights (150 ms): twos, nearly as cheap as fours
and half the wait for a query behind them.

Queries that have queued up together are encoded as one batch (short queries batch
almost for free), and a small LRU cache answers repeated queries at once.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import OrderedDict
from concurrent.futures import Future

import numpy as np

# priorities: lower runs first
QUERY, REPLY, PASSAGE = 0, 1, 2
_STOP = -1
PASSAGE_BATCH = 1  # passages per job: a query waits at most one passage (~60-110 ms)
REPLY_BATCH = 2  # reply sentences per job (and any other non-query encode_queries call)
MAX_QUERY_BATCH = 32  # queued queries encoded together
CACHE_SIZE = 2048


class InferenceClosed(RuntimeError):
    """The worker was closed (the server is stopping): no more inference."""


class _Job:
    __slots__ = ("kind", "texts", "future")

    def __init__(self, kind: str, texts: list[str]):
        self.kind = kind  # "queries" | "passages"
        self.texts = texts
        self.future: Future = Future()


class InferenceWorker:
    """Wraps an Encoder and has the same interface (``encode_queries``, ``encode_passages``,
    ``model_id``, ``dim``), so it can be passed wherever an encoder is expected: the
    Searcher (query priority), the index update (passage priority), and, through
    ``lane(REPLY)``, the reply checker. Every method is thread-safe."""

    def __init__(self, encoder, passage_batch: int = PASSAGE_BATCH, reply_batch: int = REPLY_BATCH,
                 max_query_batch: int = MAX_QUERY_BATCH, cache_size: int = CACHE_SIZE):
        if min(passage_batch, reply_batch, max_query_batch) < 1:
            raise ValueError("batch sizes must be at least 1")
        self.inner = encoder
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.passage_batch = passage_batch
        self.reply_batch = reply_batch
        self.max_query_batch = max_query_batch
        self._heap: list[tuple[int, int, _Job | None]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="caselib-inference", daemon=True)
        self._worker.start()

    # ------------------------------------------------------------------ encoder interface

    def encode_queries(self, texts: list[str], priority: int = QUERY) -> np.ndarray:
        out: list[np.ndarray | None] = []
        missing: list[int] = []
        with self._cache_lock:
            for i, t in enumerate(texts):
                v = self._cache.get(t)
                if v is not None:
                    self._cache.move_to_end(t)
                else:
                    missing.append(i)
                out.append(v)
        if missing:
            todo = list(dict.fromkeys(texts[i] for i in missing))  # a text repeated in one call is encoded once
            # an agent's query is one job (batched with other queued queries); other work is
            # cut so that it never holds the worker for more than one small batch
            size = self.max_query_batch if priority == QUERY else self.reply_batch
            jobs = [self._submit(priority, "queries", todo[i : i + size]) for i in range(0, len(todo), size)]
            got = dict(zip(todo, self._wait(jobs), strict=True))
            self._remember(got)
            for i in missing:
                out[i] = got[texts[i]]
        return np.stack(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Background work (an index update): lowest priority, ``passage_batch`` per job."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        b = self.passage_batch
        jobs = [self._submit(PASSAGE, "passages", list(texts[i : i + b])) for i in range(0, len(texts), b)]
        return np.stack(self._wait(jobs))

    def lane(self, priority: int) -> _Lane:
        """An encoder whose queries run at ``priority`` (the reply checker uses REPLY)."""
        return _Lane(self, priority)

    # ------------------------------------------------------------------ lifecycle

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop the worker after the batch it is running; jobs still queued fail with
        InferenceClosed. Idempotent."""
        with self._cond:
            if not self._closed:
                self._closed = True
                heapq.heappush(self._heap, (_STOP, next(self._seq), None))
                self._cond.notify()
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout)

    @property
    def alive(self) -> bool:
        return self._worker.is_alive()

    @property
    def closed(self) -> bool:
        return self._closed

    def queued(self) -> int:
        """Jobs waiting (not the one running)."""
        with self._cond:
            return sum(job is not None for _, _, job in self._heap)

    # ------------------------------------------------------------------ internals

    def _submit(self, priority: int, kind: str, texts: list[str]) -> _Job:
        job = _Job(kind, texts)
        with self._cond:
            if self._closed:
                raise InferenceClosed("推理线程已停止（服务正在关闭）")
            heapq.heappush(self._heap, (priority, next(self._seq), job))
            self._cond.notify()
        return job

    def _wait(self, jobs: list[_Job]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        try:
            for job in jobs:
                out.extend(job.future.result())
        except BaseException:
            for job in jobs:  # the caller gets the first error; its remaining batches are not run
                job.future.cancel()
            raise
        return out

    def _remember(self, vecs: dict[str, np.ndarray]) -> None:
        with self._cache_lock:
            for t, v in vecs.items():
                self._cache[t] = v
                self._cache.move_to_end(t)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _next(self) -> list[_Job] | None:
        """The most urgent job; queued queries are taken together, up to max_query_batch
        texts. None when closed."""
        with self._cond:
            while not self._heap:
                self._cond.wait()
            priority, _, job = heapq.heappop(self._heap)
            if job is None:
                return None
            jobs = [job]
            if priority == QUERY:
                n = len(job.texts)
                while self._heap and self._heap[0][0] == QUERY:
                    nxt = self._heap[0][2]
                    if n + len(nxt.texts) > self.max_query_batch:
                        break
                    heapq.heappop(self._heap)
                    jobs.append(nxt)
                    n += len(nxt.texts)
            return jobs

    def _run(self) -> None:
        while True:
            jobs = self._next()
            if jobs is None:
                break
            jobs = [j for j in jobs if j.future.set_running_or_notify_cancel()]
            if not jobs:
                continue
            texts = [t for j in jobs for t in j.texts]
            try:
                if jobs[0].kind == "passages":
                    vecs = self.inner.encode_passages(texts, progress=False)
                else:
                    vecs = self.inner.encode_queries(texts)
            except BaseException as e:  # noqa: BLE001 - the error belongs to the callers waiting
                for j in jobs:
                    j.future.set_exception(e)
                continue
            pos = 0
            for j in jobs:
                j.future.set_result(list(vecs[pos : pos + len(j.texts)]))
                pos += len(j.texts)
        with self._cond:  # closed: whatever is still queued will never run
            left, self._heap = self._heap, []
        for _, _, job in left:
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(InferenceClosed("推理线程已停止（服务正在关闭）"))


class _Lane:
    """The worker seen as an encoder whose queries run at another priority."""

    def __init__(self, worker: InferenceWorker, priority: int):
        self.worker = worker
        self.priority = priority
        self.model_id = worker.model_id
        self.dim = worker.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.worker.encode_queries(texts, priority=self.priority)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.worker.encode_passages(texts, progress=progress)
