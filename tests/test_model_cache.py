"""search/models/cache.py: the build-once cache directory behind the converted model and the
ONNX exports, exercised with a tiny builder (no model)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from search.models.cache import complete_marker, ensure_cached_dir, file_sha256
from tests.conftest import REPO

NAME = "thing-1.0"
MARKER = "thing.json"
FORMAT = 3


def accept(marker: dict) -> bool:
    return marker.get("format") == FORMAT


class Builder:
    """Writes two files (one in a subdirectory), counts its calls; ``fail`` raises halfway."""

    def __init__(self, tag: str = "main", fail: bool = False, delay: float = 0.0):
        self.tag, self.fail, self.delay = tag, fail, delay
        self.calls = 0
        self.started = threading.Event()

    def __call__(self, out: Path) -> dict:
        self.calls += 1
        self.started.set()
        out.mkdir()
        (out / "weights.bin").write_bytes(b"w" * 100)
        if self.fail:
            raise RuntimeError("builder crashed")
        time.sleep(self.delay)
        (out / "sub").mkdir()
        (out / "sub" / "config.json").write_text('{"a": 1}')
        return {"format": FORMAT, "by": self.tag}


def ensure(cache: Path, build, **kw) -> Path:
    return ensure_cached_dir(cache, NAME, marker_name=MARKER, accept=accept, build=build, **kw)


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if ".tmp-" in p.name)


def test_builds_once_then_reuses(tmp_path):
    build = Builder()
    path = ensure(tmp_path / "cache", build, progress=False)
    assert path == tmp_path / "cache" / NAME
    marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    assert marker == {"format": FORMAT, "by": "main", "files": {"sub/config.json": 8, "weights.bin": 100}}
    assert complete_marker(path, MARKER, accept) == marker
    stamp = (path / MARKER).stat().st_mtime_ns

    again = Builder("second")
    assert ensure(tmp_path / "cache", again, progress=False) == path
    assert (build.calls, again.calls) == (1, 0)
    assert (path / MARKER).stat().st_mtime_ns == stamp
    assert leftovers(tmp_path / "cache") == []


def test_report_runs_after_publishing_and_only_when_built(tmp_path):
    seen = []

    def report(marker):
        seen.append((marker["by"], (tmp_path / NAME / MARKER).is_file()))

    ensure(tmp_path, Builder(), progress=False, on_published=report)
    ensure(tmp_path, Builder(), progress=False, on_published=report)
    assert seen == [("main", True)]


def test_a_crash_mid_build_publishes_nothing_and_the_next_call_builds(tmp_path):
    with pytest.raises(RuntimeError, match="builder crashed"):
        ensure(tmp_path, Builder(fail=True), progress=False)
    assert not (tmp_path / NAME).exists()
    assert leftovers(tmp_path) == []  # the temporary directory went with the exception

    build = Builder()
    path = ensure(tmp_path, build, progress=False)
    assert build.calls == 1 and complete_marker(path, MARKER, accept)["by"] == "main"


def test_leftovers_of_a_killed_build_are_removed(tmp_path):
    killed = tmp_path / (NAME + ".tmp-abc123") / NAME
    killed.mkdir(parents=True)
    (killed / "weights.bin").write_bytes(b"half")
    ensure(tmp_path, Builder(), progress=False)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "damage",
    ["no marker", "unreadable marker", "marker not accepted", "file truncated", "file missing", "no file list"],
)
def test_an_incomplete_or_outdated_directory_is_rebuilt(tmp_path, damage):
    path = ensure(tmp_path, Builder("old"), progress=False)
    marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    if damage == "no marker":
        (path / MARKER).unlink()
    elif damage == "unreadable marker":
        (path / MARKER).write_text("{half")
    elif damage == "marker not accepted":
        (path / MARKER).write_text(json.dumps({**marker, "format": FORMAT - 1}))
    elif damage == "file truncated":
        (path / "weights.bin").write_bytes(b"w" * 10)
    elif damage == "file missing":
        (path / "sub" / "config.json").unlink()
    else:
        (path / MARKER).write_text(json.dumps({k: v for k, v in marker.items() if k != "files"}))
    (path / "junk").write_text("from the old directory")
    assert complete_marker(path, MARKER, accept) is None

    build = Builder("new")
    assert ensure(tmp_path, build, progress=False) == path
    assert build.calls == 1
    assert complete_marker(path, MARKER, accept)["by"] == "new"
    assert not (path / "junk").exists()
    assert leftovers(tmp_path) == []


def test_a_second_thread_waits_on_the_lock_and_reuses(tmp_path, capsys):
    first, second = Builder("first", delay=0.5), Builder("second")
    results = {}
    t = threading.Thread(target=lambda: results.update(first=ensure(tmp_path, first, progress=False)))
    t.start()
    assert first.started.wait(10)
    waited = time.monotonic()
    results["second"] = ensure(tmp_path, second, progress=True, waiting="等另一个线程…")
    waited = time.monotonic() - waited
    t.join(10)
    assert results["first"] == results["second"] == tmp_path / NAME
    assert (first.calls, second.calls) == (1, 0)
    assert complete_marker(tmp_path / NAME, MARKER, accept)["by"] == "first"
    assert "等另一个线程…" in capsys.readouterr().err
    assert waited > 0.2


CHILD = """
import sys, time
from pathlib import Path
from search.models.cache import ensure_cached_dir

cache, flag = Path(sys.argv[1]), Path(sys.argv[2])

def build(out):
    out.mkdir()
    (out / "weights.bin").write_bytes(b"c" * 50)
    flag.write_text("building")
    time.sleep(1.5)
    return {"format": %d, "by": "child"}

ensure_cached_dir(cache, %r, marker_name=%r, accept=lambda m: True, build=build, progress=False)
""" % (FORMAT, NAME, MARKER)


def test_a_second_process_waits_on_the_lock_and_reuses(tmp_path):
    flag = tmp_path / "flag"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "cache"), str(flag)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline, "the child never started building"
            time.sleep(0.02)
        build = Builder("parent")
        path = ensure(tmp_path / "cache", build, progress=False)  # blocks until the child publishes
        assert build.calls == 0
        assert complete_marker(path, MARKER, accept) == {"format": FORMAT, "by": "child", "files": {"weights.bin": 50}}
    finally:
        child.wait(60)
    assert child.returncode == 0, child.stderr.read()
    assert leftovers(tmp_path / "cache") == []


def test_file_sha256(tmp_path):
    p = tmp_path / "f.bin"
    data = bytes(range(256)) * 5000
    p.write_bytes(data)
    assert file_sha256(p) == hashlib.sha256(data).hexdigest()
