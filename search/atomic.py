"""One writer for versioned directories published through a symlink: the search index and
the site are both written this way, so a reader sees the old version or the new one,
never half of one.

Layout::

    <link> -> <versions>/20261124T101500123456-1234/    the current version
              <versions>/20261124T101000654321-1234/    the previous one (kept for readers mid-load)
              <versions>/20261124T102000000000-5678.tmp/  being written by process 5678

`write_version` makes a temp directory named with the writer's pid, lets the caller fill
it, renames it to its published name (publish time + pid, so names sort in the order
versions were published), points a fresh symlink at it and renames that over `link`
(`os.replace`: atomic). Then it prunes: published versions beyond the newest `keep` go,
except the one just published and the one it replaced; a temp directory goes only when
the process named in it is dead, so another build's unfinished version is never touched.
A failure while writing removes the temp directory and leaves `link` as it was.

Bottom layer: imports nothing of caselib.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

KEEP_VERSIONS = 2  # current + previous, so a reader mid-load never loses its files
TMP_SUFFIX = ".tmp"


class NotALink(FileExistsError):
    """`link` exists and is a real directory or file, not a symlink this module manages."""


def write_version(link: Path, write: Callable[[Path], None], *, versions: Path | None = None,
                  keep: int = KEEP_VERSIONS, replace_dir: bool = False) -> Path:
    """Build a new version with ``write(tmp_dir)`` and publish it at `link`; return its path.

    ``versions``: where versions live (default: ``<link>.d`` beside the link).
    ``replace_dir``: a plain directory at `link` (say, from a manual ``mkdocs build``) is
    removed when the new version is published; otherwise it raises `NotALink` before
    anything is written."""
    if keep < 1:
        raise ValueError("keep must be at least 1 (the version just published)")
    link = Path(link)
    versions = Path(versions) if versions is not None else link.with_name(link.name + ".d")
    if _is_plain(link) and not replace_dir:
        raise NotALink(f"{link} is not a symlink")
    versions.mkdir(parents=True, exist_ok=True)
    tmp = versions / f"{_stamp()}-{os.getpid()}{TMP_SUFFIX}"
    tmp.mkdir()
    try:
        write(tmp)
        final = _rename_to_published(tmp, versions)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        previous = current(link)
        if _is_plain(link):  # checked again: it may have appeared while the version was written
            if not replace_dir:
                raise NotALink(f"{link} is not a symlink")
            if link.is_dir():
                shutil.rmtree(link)
            else:
                link.unlink()
        swap_symlink(link, final)
    except BaseException:
        if current(link) != final.resolve():
            shutil.rmtree(final, ignore_errors=True)
        raise
    prune(versions, keep=keep, protect=[final] + ([previous] if previous is not None else []))
    return final


def current(link: Path) -> Path | None:
    """The version `link` points at (resolved), or None when it is missing or dangling."""
    link = Path(link)
    if not link.is_symlink() or not link.exists():
        return None
    return link.resolve()


def swap_symlink(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically: a fresh symlink renamed over the old one."""
    link = Path(link)
    tmp = link.with_name(link.name + f".link-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def prune(versions: Path, keep: int = KEEP_VERSIONS, protect: Iterable[Path] = ()) -> list[Path]:
    """Remove published versions older than the newest `keep` (except `protect`) and temp
    directories whose writer is dead. Returns what was removed."""
    versions = Path(versions)
    keep_paths = {Path(p).resolve() for p in protect}
    entries = [p for p in versions.iterdir() if p.is_dir() and not p.is_symlink()]
    published = sorted((p for p in entries if not p.name.endswith(TMP_SUFFIX)), key=lambda p: p.name)
    doomed = [p for p in published[: max(len(published) - keep, 0)] if p.resolve() not in keep_paths]
    for tmp in entries:
        if tmp.name.endswith(TMP_SUFFIX):
            pid = owner_pid(tmp)
            if pid is None or not pid_alive(pid):  # left by a killed writer; never referenced
                doomed.append(tmp)
    for p in doomed:
        shutil.rmtree(p, ignore_errors=True)
    return doomed


def owner_pid(tmp: Path) -> int | None:
    """The pid in a temp directory's name (``<stamp>-<pid>.tmp``), None if there is none."""
    pid = Path(tmp).name.removesuffix(TMP_SUFFIX).rsplit("-", 1)[-1]
    return int(pid) if pid.isdigit() and int(pid) > 0 else None


def pid_alive(pid: int) -> bool:
    if pid <= 0:  # os.kill(0, …) would signal our own process group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's live process
        return True
    return True


def _is_plain(link: Path) -> bool:
    return not link.is_symlink() and link.exists()


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")


def _rename_to_published(tmp: Path, versions: Path) -> Path:
    """``<publish time>-<pid>``: published versions sort in the order they were published."""
    while True:
        final = versions / f"{_stamp()}-{os.getpid()}"
        if final.exists():  # another thread of this process, in the same microsecond
            continue
        try:
            os.rename(tmp, final)
        except OSError:
            if final.exists():
                continue
            raise
        return final


def _fsync_dir(d: Path) -> None:
    """Make a rename in `d` durable (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
