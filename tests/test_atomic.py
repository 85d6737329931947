"""The one versioned-directory writer (search/atomic.py) used by the index and the site."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from search.atomic import NotALink, prune, write_version


def _writer(text: str):
    def write(d):
        (d / "content.txt").write_text(text, encoding="utf-8")

    return write


def _published(versions):
    return sorted(p.name for p in versions.iterdir() if not p.name.endswith(".tmp"))


def test_publishing_points_the_link_at_the_newest_and_keeps_the_previous(tmp_path):
    link, versions = tmp_path / "site", tmp_path / "state" / "site.d"
    first = write_version(link, _writer("1"), versions=versions)
    assert link.is_symlink() and (link / "content.txt").read_text() == "1"
    second = write_version(link, _writer("2"), versions=versions)
    assert link.resolve() == second and (link / "content.txt").read_text() == "2"
    assert _published(versions) == [first.name, second.name]  # the previous one is kept for readers mid-load
    third = write_version(link, _writer("3"), versions=versions)
    assert link.resolve() == third and (link / "content.txt").read_text() == "3"
    assert _published(versions) == [second.name, third.name] and not first.exists()
    assert not os.readlink(link).startswith("/")  # relative: the project can be moved
    assert [p.name for p in tmp_path.iterdir() if ".link-" in p.name] == []


def test_versions_default_to_a_directory_beside_the_link(tmp_path):
    final = write_version(tmp_path / "index", _writer("x"))
    assert final.parent == tmp_path / "index.d" and (tmp_path / "index").resolve() == final


def test_a_failure_while_writing_keeps_the_last_good_version_and_no_temp_dir(tmp_path):
    link = tmp_path / "index"
    good = write_version(link, _writer("good"))

    def broken(d):
        (d / "content.txt").write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_version(link, broken)
    assert link.resolve() == good and (link / "content.txt").read_text() == "good"
    assert sorted(p.name for p in (tmp_path / "index.d").iterdir()) == [good.name]


def test_a_plain_directory_at_the_link_is_refused_or_replaced(tmp_path):
    link = tmp_path / "site"
    link.mkdir()
    (link / "old.html").write_text("manual build")
    with pytest.raises(NotALink):
        write_version(link, _writer("new"))
    assert (link / "old.html").is_file() and not (tmp_path / "site.d").exists()  # refused before writing
    final = write_version(link, _writer("new"), replace_dir=True)
    assert link.is_symlink() and link.resolve() == final and (link / "content.txt").read_text() == "new"


def test_a_live_writers_temp_dir_is_never_pruned(tmp_path):
    """Another process (here: our parent, alive for sure) is still writing its version."""
    link = tmp_path / "index"
    write_version(link, _writer("1"))
    versions = tmp_path / "index.d"
    live = versions / f"20000101T000000000000-{os.getppid()}.tmp"
    live.mkdir()
    (live / "vectors.npy").write_bytes(b"half-written")
    write_version(link, _writer("2"))
    write_version(link, _writer("3"))
    assert live.is_dir() and (live / "vectors.npy").read_bytes() == b"half-written"
    assert len(_published(versions)) == 2


def test_a_dead_writers_temp_dir_is_pruned(tmp_path):
    link = tmp_path / "index"
    write_version(link, _writer("1"))
    versions = tmp_path / "index.d"
    code = "import os; print(os.getpid())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    dead = versions / f"20000101T000000000000-{int(proc.stdout)}.tmp"  # exited and reaped
    dead.mkdir()
    (dead / "vectors.npy").write_bytes(b"left by a killed build")
    nameless = versions / "garbage.tmp"
    nameless.mkdir()
    write_version(link, _writer("2"))
    assert not dead.exists() and not nameless.exists()


def test_prune_keeps_the_protected_version_even_when_it_is_old(tmp_path):
    versions = tmp_path / "v.d"
    for year in (2020, 2021, 2022, 2023):
        (versions / f"{year}0101T000000000000-1").mkdir(parents=True)
    removed = prune(versions, keep=2, protect=[versions / "20200101T000000000000-1"])
    assert sorted(p.name for p in removed) == ["20210101T000000000000-1"]
    assert _published(versions) == ["20200101T000000000000-1", "20220101T000000000000-1", "20230101T000000000000-1"]
