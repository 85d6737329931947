"""Local search log and agent feedback, in one SQLite file under .caselib/.

Only what trainers need to find gaps: time, the query with personal data redacted
(privacy.redact runs before anything is written), top slug and score, result count,
whether the best match was weak; and 有用/没用 marks from the search page. Nothing leaves
the machine; `CASELIB_LOG_SEARCHES=false` turns logging off.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from search.library.privacy import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    ts REAL NOT NULL, query TEXT NOT NULL, top_slug TEXT, top_score REAL, results INTEGER NOT NULL,
    weak INTEGER NOT NULL, category TEXT, level TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    ts REAL NOT NULL, query TEXT NOT NULL, slug TEXT NOT NULL, useful INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_ts ON searches(ts);
"""
MAX_ROWS = 200_000  # oldest rows are dropped past this: a bounded file, like log rotation


class SearchLog:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # no fsync per search (a commit per query): with WAL a crash of the process loses
        # nothing; a power cut may lose the last few log rows, which is fine for a log
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._writes = 0

    def record_search(self, query: str, top_slug: str | None, top_score: float | None, results: int, weak: bool,
                      category: str | None = None, level: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO searches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), redact(query.strip())[:500], top_slug, top_score, results, int(weak), category, level),
            )
            self._writes += 1
            if self._writes % 1000 == 0:
                self._db.execute("DELETE FROM searches WHERE rowid <= (SELECT MAX(rowid) FROM searches) - ?",
                                 (MAX_ROWS,))

    def record_feedback(self, query: str, slug: str, useful: bool) -> None:
        with self._lock:
            self._db.execute("INSERT INTO feedback VALUES (?, ?, ?, ?)",
                             (time.time(), redact(query.strip())[:500], slug, int(useful)))

    def popular(self, limit: int = 5, days: int = 30) -> list[str]:
        """Slugs most often returned first for strong matches, plus those marked 有用."""
        since = time.time() - days * 86400
        with self._lock:
            rows = self._db.execute(
                """SELECT slug, SUM(n) AS n FROM (
                       SELECT top_slug AS slug, COUNT(*) AS n FROM searches
                       WHERE ts >= ? AND weak = 0 AND top_slug IS NOT NULL GROUP BY top_slug
                       UNION ALL
                       SELECT slug, 3 * SUM(useful) - SUM(1 - useful) AS n FROM feedback WHERE ts >= ? GROUP BY slug
                   ) GROUP BY slug HAVING n > 0 ORDER BY n DESC, slug LIMIT ?""",
                (since, since, limit),
            ).fetchall()
        return [r[0] for r in rows]

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def searches_since(self, ts: float) -> list[tuple]:
        """(query, top_slug, top_score, weak, category) of every search since ts (caselib gaps)."""
        return self.rows("SELECT query, top_slug, top_score, weak, category FROM searches WHERE ts >= ?", (ts,))

    def feedback_since(self, ts: float) -> list[tuple]:
        """(query, slug, useful) of every feedback since ts."""
        return self.rows("SELECT query, slug, useful FROM feedback WHERE ts >= ?", (ts,))

    def close(self) -> None:
        self._db.close()


@dataclass
class NullLog:
    """Used when logging is turned off: same methods, records nothing."""

    def record_search(self, *a, **k) -> None:
        pass

    def record_feedback(self, *a, **k) -> None:
        pass

    def popular(self, limit: int = 5, days: int = 30) -> list[str]:
        return []

    def close(self) -> None:
        pass


def open_log(settings, db=None):
    """The local SQLite log; with a shared database (``db``, PostgreSQL) the shared one, so
    every replica's searches reach one `caselib gaps` report."""
    if not settings.log_searches:
        return NullLog()
    if db is not None:
        import socket

        from search.shared.log import SharedLog

        return SharedLog(db, name=f"{socket.gethostname()}:{settings.port}")
    return SearchLog(settings.log_path)
