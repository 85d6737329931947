"""Query encoding for a busy server: one inference thread, micro-batches, and a cache.

Torch already uses every core for one forward pass; several request threads encoding at
once would oversubscribe the CPU and make every query slow (10 ms alone, hundreds of ms
when two compete on 2 cores). So requests hand their query to one worker thread, which
encodes whatever has queued up as a single batch (short queries batch almost for free),
and a small LRU cache answers repeated queries (agents type the same things) at once.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from concurrent.futures import Future

import numpy as np

MAX_BATCH = 32
CACHE_SIZE = 2048


class BatchingQueryEncoder:
    """Wraps an Encoder; `encode_queries` is thread-safe and batched. Passages go straight
    through (the indexer runs in its own process)."""

    def __init__(self, encoder, max_batch: int = MAX_BATCH, cache_size: int = CACHE_SIZE):
        self.inner = encoder
        self.model_id = encoder.model_id
        self.dim = encoder.dim
        self.max_batch = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="caselib-encoder", daemon=True)
        self._worker.start()

    def encode_passages(self, texts, progress: bool = False):
        return self.inner.encode_passages(texts, progress=progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        out: list[np.ndarray | None] = []
        pending: list[tuple[int, Future]] = []
        for i, t in enumerate(texts):
            with self._cache_lock:
                v = self._cache.get(t)
                if v is not None:
                    self._cache.move_to_end(t)
            out.append(v)
            if v is None:
                fut: Future = Future()
                self._queue.put((t, fut))
                pending.append((i, fut))
        for i, fut in pending:
            out[i] = fut.result()
        return np.stack(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while len(items) < self.max_batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            texts = [t for t, _ in items]
            try:
                vecs = self.inner.encode_queries(texts)
            except BaseException as e:  # noqa: BLE001 - hand the error to every waiting request
                for _, fut in items:
                    fut.set_exception(e)
                continue
            with self._cache_lock:
                for t, v in zip(texts, vecs):
                    self._cache[t] = v
                    self._cache.move_to_end(t)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            for (_, fut), v in zip(items, vecs):
                fut.set_result(v)
