"""Cache directories that are built once and then only read: the converted embedded model
and its ONNX exports, under the cache directory (never the repository).

One algorithm for all of them (``ensure_cached_dir``): under an exclusive file lock,
recheck, remove leftovers of killed builds, build into a temporary directory beside the
final one, write the marker last (a JSON file that also lists every file's size), then
rename the directory into place in one atomic step. A directory with the final name is
therefore always complete; one whose marker is missing, not accepted or disagrees with a
file's size is rebuilt. The fast path reads one small JSON file and a few stats.

Importing this module is cheap (standard library only).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

Marker = dict[str, Any]


def say(progress: bool, msg: str) -> None:
    """A progress line on stderr (stdout stays for the command's own output)."""
    if progress:
        print(msg, file=sys.stderr, flush=True)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_sizes(directory: Path, exclude: str) -> dict[str, int]:
    """Size of every file under ``directory`` (relative POSIX paths), files named
    ``exclude`` (the marker) left out."""
    return {
        p.relative_to(directory).as_posix(): p.stat().st_size
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != exclude
    }


def read_marker(directory: Path, marker_name: str) -> Marker | None:
    """The marker's JSON object, or None if it is missing or unreadable."""
    try:
        marker = json.loads((directory / marker_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def complete_marker(directory: Path, marker_name: str, accept: Callable[[Marker], bool]) -> Marker | None:
    """The marker if the directory is complete: the marker is there, ``accept`` takes it
    (format version, source, ...) and every file it lists has its recorded size (cheap: no
    hashing). None otherwise."""
    marker = read_marker(directory, marker_name)
    if marker is None or not accept(marker):
        return None
    files = marker.get("files")
    if not isinstance(files, dict) or not files:
        return None
    try:
        if any((directory / rel).stat().st_size != size for rel, size in files.items()):
            return None
    except (OSError, TypeError, ValueError):
        return None
    return marker


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, progress: bool, waiting: str) -> Iterator[None]:
    """Inter-process lock (flock; released by the OS if the holder is killed). Prints
    ``waiting`` when another holder makes us wait."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover  (non-POSIX: rely on the atomic rename alone)
        yield
        return
    with open(lock_path, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            say(progress, waiting)
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def publish(out: Path, final: Path, marker_name: str, marker: Marker, complete: Callable[[], bool]) -> None:
    """Finish a cache directory built in ``out``: the marker is written last (a directory
    without one is never used), then one atomic rename puts it in place. If another
    process got there first, its copy stands as long as ``complete()`` says it is whole."""
    write_json(out / marker_name, marker)
    try:
        os.rename(out, final)  # atomic; fails if final exists
    except OSError:
        if not complete():
            raise


def ensure_cached_dir(
    cache_dir: Path,
    name: str,
    *,
    marker_name: str,
    accept: Callable[[Marker], bool],
    build: Callable[[Path], Marker],
    progress: bool = True,
    waiting: str = "另一个进程正在准备缓存目录，等待其完成…",
    on_published: Callable[[Marker], None] | None = None,
) -> Path:
    """``cache_dir / name``, built first if it is not complete (see ``complete_marker``).

    ``build(out)`` writes the directory's files into ``out`` (which does not exist yet) and
    returns the marker's content; the sizes of the files it wrote are added as ``files``.
    An exception in ``build`` propagates and leaves nothing published (the temporary
    directory is removed). ``on_published(marker)`` runs after the rename, e.g. to report.
    """
    cache_dir = Path(cache_dir).expanduser()
    final = cache_dir / name

    def complete() -> bool:
        return complete_marker(final, marker_name, accept) is not None

    if complete():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(cache_dir / (name + ".lock"), progress, waiting):
        if complete():  # another process finished while we waited
            return final
        for stale in cache_dir.glob(name + ".tmp-*"):  # we hold the lock: leftovers of killed builds
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():  # incomplete or outdated: move aside, then delete
            trash = Path(tempfile.mkdtemp(dir=cache_dir, prefix=name + ".tmp-old-"))
            os.replace(final, trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        work = Path(tempfile.mkdtemp(dir=cache_dir, prefix=name + ".tmp-"))
        try:
            out = work / name
            marker = dict(build(out))
            marker["files"] = file_sizes(out, exclude=marker_name)
            publish(out, final, marker_name, marker, complete)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if on_published is not None:
        on_published(marker)
    return final
