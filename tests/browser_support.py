"""What every browser test module shares: Debian's Chromium through Playwright (never a
downloaded browser), a copy of the real project built with the real model, accounts, and
the app served by uvicorn on a free loopback port."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time

from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# without the background-networking flags Chromium keeps trying hosts this closed network refuses
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_project(root, cache_dir, **settings):
    """docs/, cases/ and mkdocs.yml of the real project in root; its Settings."""
    from search.settings import load_settings

    for name in ("docs", "cases"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    (root / "search").symlink_to(REPO / "search")  # the hook path in mkdocs.yml
    return load_settings(root, env={}, cache_dir=str(cache_dir), **settings)


def add_users(settings, users, password: str) -> None:
    """users: (username, role, display name) triples."""
    from search.authoring import accounts
    from search.authoring.db import open_database

    db = open_database(settings.db_url)
    with db.session() as s:
        for username, role, name in users:
            accounts.add_user(s, username, role, password, name)
    db.close()


@contextlib.contextmanager
def serving(settings, encoder, clause_encoder=None):
    """create_app(settings) under uvicorn in a thread; yields its base URL."""
    import uvicorn

    from search.server.app import create_app

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, encoder=encoder, clause_encoder=clause_encoder), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started and time.time() < deadline:
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def plain_files(site_dir):
    """The built site served as plain files (python -m http.server): no API behind it.
    Yields its base URL once the port accepts connections."""
    import subprocess
    import sys

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            cwd=site_dir.resolve(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(5)
