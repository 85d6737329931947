"""The local search log: personal data redacted before writing, bounded size, popular cases."""

from __future__ import annotations

import search.server.searchlog as searchlog_mod
from search.server.searchlog import NullLog, SearchLog, open_log
from search.settings import load_settings


def test_queries_are_redacted_before_they_are_written(tmp_path):
    log = SearchLog(tmp_path / "log.sqlite3")
    log.record_search("我电话13812345678，3栋2单元1502漏水", "upstairs-water-leak", 0.9, 3, False)
    (query,) = log.rows("SELECT query FROM searches")[0]
    assert "13812345678" not in query and "1502" not in query
    assert "漏水" in query
    log.close()


def test_the_log_is_pruned_to_the_newest_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(searchlog_mod, "MAX_ROWS", 50)
    log = SearchLog(tmp_path / "log.sqlite3")
    for i in range(1000):
        log.record_search(f"查询{i}", None, None, 0, True)
    rows = [q for (q,) in log.rows("SELECT query FROM searches ORDER BY rowid")]
    assert len(rows) == 50
    assert rows[0] == "查询950" and rows[-1] == "查询999"
    log.close()


def test_below_the_pruning_interval_nothing_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(searchlog_mod, "MAX_ROWS", 50)
    log = SearchLog(tmp_path / "log.sqlite3")
    for i in range(999):
        log.record_search(f"查询{i}", None, None, 0, True)
    assert log.rows("SELECT COUNT(*) FROM searches") == [(999,)]
    log.close()


def test_popular_counts_strong_first_results_and_feedback(tmp_path):
    log = SearchLog(tmp_path / "log.sqlite3")
    for _ in range(3):
        log.record_search("暖气不热", "radiator-not-warm", 0.9, 5, False)
    log.record_search("电梯", "elevator-entrapment", 0.9, 5, False)
    log.record_search("天气", "elevator-entrapment", 0.5, 5, True)  # weak: not counted
    log.record_feedback("电梯", "elevator-entrapment", True)  # +3
    log.record_feedback("垃圾", "garbage-station-location", False)  # -1: never popular
    assert log.popular(limit=5) == ["elevator-entrapment", "radiator-not-warm"]
    log.close()


def test_logging_off_records_nothing(tmp_path):
    settings = load_settings(tmp_path, env={"CASELIB_LOG_SEARCHES": "false"})
    log = open_log(settings)
    assert isinstance(log, NullLog)
    log.record_search("暖气", None, None, 0, True)
    assert log.popular() == []
    assert not settings.log_path.exists()
