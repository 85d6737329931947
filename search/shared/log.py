"""The search log and feedback in the shared database, from every replica.

Writes never slow or fail a search: rows queue in memory and a background flush writes
them in batches. While the database is down the queue keeps up to MAX_PENDING rows and
writes them when it is back; beyond that the oldest are dropped and counted (`dropped`,
shown by /healthz) with a warning in the log. Personal data is redacted before queueing."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque

from sqlalchemy import Integer, and_, func, insert, select

from search.authoring.db import Database
from search.library.privacy import redact
from search.shared.models import SharedFeedback, SharedSearch

log = logging.getLogger("caselib.shared.log")
MAX_PENDING = 50_000
FLUSH_S = 1.0


class SharedLog:
    def __init__(self, db: Database, buffer: bool = True, name: str | None = None):
        self.db = db
        self.replica = name or f"{socket.gethostname()}:{os.getpid()}"  # which server answered
        self._searches: deque = deque()
        self._feedback: deque = deque()
        self._lock = threading.Lock()
        self.dropped = 0
        self.failing = False
        self._stop = threading.Event()
        self._thread = None
        if buffer:
            self._thread = threading.Thread(target=self._run, name="caselib-log-flush", daemon=True)
            self._thread.start()

    def _queue(self, q: deque, row: dict) -> None:
        with self._lock:
            if len(self._searches) + len(self._feedback) >= MAX_PENDING:
                q.popleft() if q else (self._searches or self._feedback).popleft()
                self.dropped += 1
                if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                    log.warning("共享数据库连不上，检索记录已丢弃 %d 条（内存里最多排队 %d 条）", self.dropped, MAX_PENDING)
            q.append(row)

    def record_search(self, query: str, top_slug, top_score, results: int, weak: bool, category=None, level=None) -> None:
        self._queue(self._searches, {"ts": time.time(), "query": redact(query.strip())[:500], "top_slug": top_slug,
                                     "top_score": top_score, "results": results, "weak": bool(weak), "category": category,
                                     "level": level, "replica": self.replica})
        if self._thread is None:
            self.flush()

    def record_feedback(self, query: str, slug: str, useful: bool) -> None:
        self._queue(self._feedback, {"ts": time.time(), "query": redact(query.strip())[:500], "slug": slug, "useful": bool(useful)})
        if self._thread is None:
            self.flush()

    def flush(self) -> bool:
        with self._lock:
            searches, feedback = list(self._searches), list(self._feedback)
        if not searches and not feedback:
            return True
        try:
            with self.db.session() as s:
                if searches:
                    s.execute(insert(SharedSearch), searches)
                if feedback:
                    s.execute(insert(SharedFeedback), feedback)
        except Exception as e:  # noqa: BLE001 - the database is down: keep the rows, try again
            if not self.failing:
                log.warning("检索记录暂时写不进共享数据库（%s），先留在内存里，恢复后补写", e.__class__.__name__)
            self.failing = True
            return False
        with self._lock:
            for _ in searches:
                self._searches.popleft()
            for _ in feedback:
                self._feedback.popleft()
        if self.failing:
            log.info("共享数据库已恢复，补写了 %d 条检索记录", len(searches))
        self.failing = False
        return True

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_S):
            self.flush()

    @property
    def pending(self) -> int:
        return len(self._searches) + len(self._feedback)

    def searches_since(self, ts: float) -> list[tuple]:
        with self.db.session() as s:
            return [tuple(r) for r in s.execute(select(SharedSearch.query, SharedSearch.top_slug, SharedSearch.top_score,
                                                       SharedSearch.weak, SharedSearch.category).where(SharedSearch.ts >= ts))]

    def feedback_since(self, ts: float) -> list[tuple]:
        with self.db.session() as s:
            return [tuple(r) for r in s.execute(select(SharedFeedback.query, SharedFeedback.slug, SharedFeedback.useful)
                                                .where(SharedFeedback.ts >= ts))]

    def popular(self, limit: int = 5, days: int = 30) -> list[str]:
        since = time.time() - days * 86400
        try:
            with self.db.session() as s:
                hits = dict(s.execute(select(SharedSearch.top_slug, func.count()).where(and_(
                    SharedSearch.ts >= since, SharedSearch.weak.is_(False), SharedSearch.top_slug.is_not(None)))
                    .group_by(SharedSearch.top_slug)).all())
                for slug, useful, n in s.execute(select(SharedFeedback.slug, func.sum(func.cast(SharedFeedback.useful, Integer)),
                                                        func.count()).where(SharedFeedback.ts >= since).group_by(SharedFeedback.slug)):
                    hits[slug] = hits.get(slug, 0) + 3 * (useful or 0) - (n - (useful or 0))
        except Exception:  # noqa: BLE001 - popular is a nicety; the caller falls back to the training cases
            return []
        return [slug for slug, n in sorted(hits.items(), key=lambda x: (-x[1], x[0])) if n > 0][:limit]

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(3)
        self.flush()

