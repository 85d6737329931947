"""Broken content and crashes never lose the library: the last good index and site keep
serving; a killed build leaves nothing half-written that anyone reads."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from fastapi.testclient import TestClient

from search import pipeline
from search.errors import CaseError
from search.index.store import load_index
from search.retrieval.searcher import Searcher
from search.server.app import create_app
from search.settings import load_settings
from tests.conftest import GOOD_CASE, REPO, make_case, write_case
from tests.fakes import HashingEncoder


def _break(kind: str, cases_dir, tmp_path):
    p = cases_dir / "broken.md"
    if kind == "invalid-yaml":
        p.write_text(make_case(id="C0990").replace("tags: [电梯, 停运]", "tags: [电梯, 停运"), encoding="utf-8")
    elif kind == "not-utf8":
        p.write_bytes(make_case(id="C0990").encode("gb18030"))
    elif kind == "empty":
        p.write_text("", encoding="utf-8")
    elif kind == "5mb":
        p.write_text(make_case(id="C0990") + "长" * (5 * 1024 * 1024 // 3), encoding="utf-8")
    elif kind == "duplicate-slug":
        (cases_dir / "Radiator-Not-Warm.md").write_text(make_case(id="C0990"), encoding="utf-8")
        return "cases/radiator-not-warm.md:1: slug“radiator-not-warm”与 cases/Radiator-Not-Warm.md 重复"
    elif kind == "symlink-out":
        outside = tmp_path / "outside.md"
        outside.write_text(make_case(id="C0990"), encoding="utf-8")
        p.symlink_to(outside)
    return "cases/broken.md:"


@pytest.mark.parametrize("kind", ["invalid-yaml", "not-utf8", "empty", "5mb", "duplicate-slug", "symlink-out"])
def test_broken_case_is_refused_and_last_good_build_keeps_serving(site_project, tmp_path_factory, kind):
    settings = load_settings(site_project, env={})
    enc = HashingEncoder()
    first = pipeline.build(settings, encoder=enc, progress=False)
    index_before, site_before = settings.index_path.resolve(), settings.site_path.resolve()
    expected = _break(kind, settings.cases_dir, tmp_path_factory.mktemp("outside"))
    with pytest.raises(CaseError) as e:
        pipeline.build(settings, encoder=enc, progress=False)
    assert expected in str(e.value)
    assert settings.index_path.resolve() == index_before and settings.site_path.resolve() == site_before
    assert (site_before / "index.html").is_file()
    with TestClient(create_app(settings, encoder=enc)) as client:
        r = client.get("/api/search", params={"q": "暖气不热"})
        assert r.status_code == 200 and len(r.json()["results"]) == 5
        assert client.get("/cases/radiator-not-warm.html").status_code == 200
    assert first.cases == len(list((REPO / "cases").glob("*.md")))


# ------------------------------------------------------------------ crash safety

BUILD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from search import pipeline
    from tests.fakes import HashingEncoder
    from search.settings import load_settings

    class Slow(HashingEncoder):
        def encode_passages(self, texts, progress=False):
            time.sleep(0.3)  # widen the window: the kill lands while embedding or writing
            return super().encode_passages(texts, progress)

    pipeline.index(load_settings(Path(sys.argv[1]), env={}), encoder=Slow(), progress=False)
    print("done")
    """
)


def test_sigkill_mid_build_never_corrupts_the_index(library):
    for i in range(2, 40):
        write_case(library, f"case-{i:02d}", make_case(id=f"C{i:04d}").replace("测试案例：电梯停运业主投诉", f"第{i}号测试案例：电梯停运"))
    settings = load_settings(library, env={})
    enc = HashingEncoder()
    pipeline.index(settings, encoder=enc, progress=False)
    good = set(load_index(settings.index_path).cases)
    script = library / "build.py"
    script.write_text(BUILD_SCRIPT, encoding="utf-8")
    rng = random.Random(7)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for round_ in range(6):
        # change a case so the build has real work, then kill it at a random moment
        write_case(library, "lift-stopped", GOOD_CASE.replace("他要赶去上班。", f"他要赶去上班。第{round_}次修改。"))
        proc = subprocess.Popen([sys.executable, str(script), str(library)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        index = load_index(settings.index_path)  # whatever the link points at is complete
        assert set(index.cases) == good
        hit = Searcher(index, enc).search("第12号测试案例", k=1).hits[0]
        assert hit.record.slug == "case-12"
    out = subprocess.run([sys.executable, str(script), str(library)], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "done", out.stderr
    index = load_index(settings.index_path)
    assert "第5次修改" in " ".join(c.text for c in index.chunks if c.slug == "lift-stopped")
    leftovers = [p.name for p in (settings.index_path.parent / "index.d").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


# ------------------------------------------------------------------ injection


def test_case_with_markup_renders_as_text_everywhere(site_project):
    evil = make_case(id="C0991").replace("测试案例：电梯停运业主投诉", "注入测试<script>alert(1)</script>").replace(
        "他要赶去上班。", '他要赶去上班。<script>alert("x")</script><img src=x onerror=alert(2)> [点我](javascript:alert(3))'
    )
    write_case(site_project, "markup-attack", evil)
    settings = load_settings(site_project, env={})
    enc = HashingEncoder()
    pipeline.build(settings, encoder=enc, progress=False)
    html = (settings.site_path / "cases" / "markup-attack.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    with TestClient(create_app(settings, encoder=enc)) as client:
        body = client.get("/api/search", params={"q": "注入测试<script>"}).json()
        assert body["query"] == "注入测试<script>"  # echoed as JSON data; the page inserts it with textContent
        assert any(r["slug"] == "markup-attack" for r in body["results"])


def test_server_binds_loopback_by_default():
    s = load_settings(REPO, env={})
    assert s.host == "127.0.0.1"


def test_healthz_says_busy_while_the_server_reads_the_cases(tmp_path, monkeypatch):
    """At 10,000 cases the first reading takes seconds: /healthz says so (benchmarks wait for it)."""
    import threading
    import time

    from search.server import service as service_mod
    from tests.conftest import three_case_library

    settings, enc = three_case_library(tmp_path)
    release = threading.Event()
    real_check = service_mod.pipeline.check
    monkeypatch.setattr(service_mod.pipeline, "check", lambda *a, **k: release.wait(10) and real_check(*a, **k))
    with TestClient(create_app(settings, encoder=enc)) as client:
        deadline = time.time() + 5
        while not client.get("/healthz").json()["busy"] and time.time() < deadline:
            time.sleep(0.02)
        health = client.get("/healthz").json()
        assert (health["status"], health["busy"]) == ("ok", True)
        assert client.get("/api/search", params={"q": "暖气不热"}).status_code == 200  # searches go on meanwhile
        release.set()
        while client.get("/healthz").json()["busy"] and time.time() < deadline:
            time.sleep(0.02)
        assert client.get("/healthz").json()["busy"] is False
