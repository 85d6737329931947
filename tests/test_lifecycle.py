"""A real lifecycle: the service's threads stop with it, a failed automatic update is
retried, and `caselib serve` exits promptly on SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from search import pipeline
from search.server.app import create_app
from search.server.service import SearchService
from tests.conftest import REPO, make_case, three_case_library, write_case
from tests.fakes import HashingEncoder


def _threads():
    return {t for t in threading.enumerate() if t.is_alive()}


def _settle(before, seconds=5.0):
    """The threads alive once those that are ending have ended (anyio's idle workers stop
    when their event loop does, a moment after the client closes)."""
    deadline = time.time() + seconds
    while _threads() - before and time.time() < deadline:
        time.sleep(0.02)
    return _threads()


def test_an_app_leaves_no_thread_behind(tmp_path):
    settings, enc = three_case_library(tmp_path)
    before = _threads()
    with TestClient(create_app(settings, encoder=enc)) as client:
        assert client.get("/api/search", params={"q": "暖气不热"}).status_code == 200
        assert client.post("/api/check-reply", json={"text": "这事你得自己去找开发商"}).status_code == 200
        names = {t.name for t in threading.enumerate()}
        assert {"caselib-inference", "caselib-index-watcher"} <= names
    after = _settle(before)
    assert after - before == set(), f"threads left behind: {sorted(t.name for t in after - before)}"
    assert {t.name for t in threading.enumerate()} & {"caselib-inference", "caselib-index-watcher"} == set()


def test_close_stops_the_inference_worker_and_joins_the_watcher(tmp_path):
    settings, enc = three_case_library(tmp_path)
    svc = SearchService(settings, encoder=enc)
    svc.watch(interval=0.05)
    watcher = svc._watcher
    assert watcher.is_alive() and svc.inference.alive
    svc.close()
    assert not watcher.is_alive() and not svc.inference.alive
    svc.close()  # idempotent


class FlakyOnce(HashingEncoder):
    """Fails the first passage batch it is given, then works."""

    def __init__(self):
        super().__init__()
        self.failures = 0
        self.armed = False

    def encode_passages(self, texts, progress=False):
        if self.armed:
            self.armed = False
            self.failures += 1
            raise OSError("编码时出错（测试注入）")
        return super().encode_passages(texts, progress)


def test_a_failed_update_is_retried_until_the_case_is_searchable(tmp_path, monkeypatch):
    settings, _ = three_case_library(tmp_path, weak_threshold=0.0)
    monkeypatch.setattr(pipeline, "site", lambda settings: tmp_path)  # no mkdocs project here
    enc = FlakyOnce()
    svc = SearchService(settings, encoder=enc)
    try:
        svc.watch(interval=0.05)
        while svc.busy:  # the start-up reading of the cases
            time.sleep(0.01)
        enc.armed = True
        case = make_case(id="C0950").replace("测试案例：电梯停运业主投诉", "地库积水泡车业主要求赔偿")
        write_case(tmp_path, "garage-flood", case)
        deadline = time.time() + 10
        found = False
        while time.time() < deadline and not found:
            hits = svc.search("地库积水泡车", k=1).hits
            found = bool(hits) and hits[0].record.slug == "garage-flood"
            time.sleep(0.05)
        assert enc.failures == 1  # the first update did fail
        assert found, "the save was not retried after the failed update"
        assert svc.problems == []
    finally:
        svc.close()


# ------------------------------------------------------------------ SIGTERM, the real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.model
def test_sigterm_stops_caselib_serve_within_5_seconds(tmp_path, real_encoder, cache_dir):
    from search.settings import load_settings

    (tmp_path / "cases").mkdir()
    for slug in ("radiator-not-warm", "elevator-entrapment"):
        shutil.copy(REPO / "cases" / f"{slug}.md", tmp_path / "cases" / f"{slug}.md")
    settings = load_settings(tmp_path, env={}, cache_dir=str(cache_dir))
    pipeline.index(settings, encoder=real_encoder, progress=False)  # the real model, already loaded
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO), CASELIB_CACHE_DIR=str(cache_dir), CASELIB_LOG_SEARCHES="false",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "search", "--root", str(tmp_path), "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                h = httpx.get(url + "/healthz", timeout=1).json()
                if h["status"] == "ok" and not h["busy"]:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "the server did not come up"
            time.sleep(0.2)
        r = httpx.get(url + "/api/search", params={"q": "暖气片不热", "k": 1}, timeout=10)
        assert r.json()["results"][0]["slug"] == "radiator-not-warm"
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
        took = time.time() - t0
        assert took < 5, f"SIGTERM took {took:.1f} s"
        # uvicorn shuts down gracefully (the lifespan closes the service), then re-raises the
        # signal it caught, so the exit status is the signal's
        assert code in (0, -signal.SIGTERM), proc.stderr.read().decode()
        print(f"SIGTERM to exit: {took:.2f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
