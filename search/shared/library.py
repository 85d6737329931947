"""Publishing the library to the shared store and loading it on a replica.

A version is every file of the index directory and of the built site, written in one
transaction under an advisory lock (two writers queue, neither can interleave rows into
the other's version), announced with NOTIFY when it commits. A replica reads the newest
version in one snapshot and writes it locally with the same atomic versioned-directory
writer as `caselib build`, so it serves either the old or the new version, never a mix.
A writer killed mid-publish leaves an aborted transaction: no row of it is ever visible.
A version also carries the case files, so a replica's cases/ (read by the quizzes, never
indexed there) is the published library too.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from sqlalchemy import delete, func, insert, select, text

from search.atomic import write_version
from search.authoring.db import Database
from search.settings import Settings
from search.shared.models import LibraryFile, LibraryVersion

log = logging.getLogger("caselib.shared")
CHANNEL = "caselib_library"
LOCK_KEY = 7_301_920_041  # pg_advisory_xact_lock: one publisher at a time
KEEP = 3  # versions kept in the database (a replica mid-download reads its own snapshot)
MARKER = ".shared-version"  # in a replica's local index directory: which version it holds


def _files(root: Path, prefix: str) -> list[tuple[str, bytes]]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != MARKER:
            out.append((f"{prefix}/{p.relative_to(root).as_posix()}", p.read_bytes()))
    return out


def publish(db: Database, settings: Settings, keep: int = KEEP) -> int:
    """The current local index and site as a new shared version; returns its id."""
    index_dir, site_dir = settings.index_path.resolve(), settings.site_path.resolve()
    if settings.vector_search == "pgvector" and db.engine.dialect.name == "postgresql":
        from search.index.store import load_index
        from search.shared import vectors

        vectors.upload(db, load_index(index_dir))  # before the version: a replica never meets a chunk without its vector
    files = _files(index_dir, "index") + _files(site_dir, "site")
    if settings.cases_dir.is_dir():  # the case files too: a replica's quizzes are drawn from them
        files += [(f"cases/{p.name}", p.read_bytes()) for p in sorted(settings.cases_dir.glob("*.md"))]
    manifest = (index_dir / "manifest.json").read_text(encoding="utf-8")
    with db.session() as s:
        if db.engine.dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        v = LibraryVersion(writer=f"{socket.gethostname()}:{os.getpid()}", manifest=manifest, files=len(files),
                           bytes=sum(len(d) for _p, d in files))
        s.add(v)
        s.flush()
        for i in range(0, len(files), 50):
            s.execute(insert(LibraryFile), [{"version_id": v.id, "path": p, "data": d} for p, d in files[i:i + 50]])
        old = [x for (x,) in s.execute(select(LibraryVersion.id).where(LibraryVersion.id <= v.id - keep))]
        if old:
            s.execute(delete(LibraryFile).where(LibraryFile.version_id.in_(old)))
            s.execute(delete(LibraryVersion).where(LibraryVersion.id.in_(old)))
        if db.engine.dialect.name == "postgresql":
            s.execute(text("SELECT pg_notify(:c, :id)"), {"c": CHANNEL, "id": str(v.id)})
        vid = v.id
    log.info("已发布共享版本 %d（%d 个文件）", vid, len(files))
    return vid


def latest(db: Database) -> int | None:
    with db.session() as s:
        return s.scalar(select(func.max(LibraryVersion.id)))


def local_version(settings: Settings) -> int | None:
    try:
        return int((settings.index_path / MARKER).read_text())
    except (OSError, ValueError):
        return None


def sync(db: Database, settings: Settings) -> int | None:
    """Bring the newest shared version here (site first, then the index link the service
    watches). Returns the version now held, or None when nothing was ever published."""
    newest = latest(db)
    if newest is None or newest == local_version(settings):
        return newest
    with db.session() as s:
        rows = s.execute(select(LibraryFile.path, LibraryFile.data).where(LibraryFile.version_id == newest)).all()
    if not rows:  # pruned between the two reads: take the next one next time
        return local_version(settings)

    def writer(prefix: str, marker: bool):
        def write(d: Path) -> None:
            for path, data in rows:
                if path.startswith(prefix + "/"):
                    target = d / path[len(prefix) + 1:]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
            if marker:
                (d / MARKER).write_text(str(newest))
        return write

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    if any(path.startswith("cases/") for path, _d in rows):
        write_version(settings.cases_dir, writer("cases", False), versions=settings.state_dir / "cases.d", replace_dir=True)
    write_version(settings.site_path, writer("site", False), versions=settings.state_dir / "site.d", replace_dir=True)
    write_version(settings.index_path, writer("index", True))
    log.info("已载入共享版本 %d", newest)
    return newest


def listener(db: Database):
    """A LISTEN connection on the publication channel (psycopg 3), or None off PostgreSQL."""
    if db.engine.dialect.name != "postgresql":
        return None
    import psycopg

    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")
    return conn


def wait_for_publication(conn, timeout: float) -> bool:
    """True when a publication was announced within `timeout` seconds (polling covers the rest)."""
    if conn is None:
        return False
    return any(True for _ in conn.notifies(timeout=timeout, stop_after=1))
