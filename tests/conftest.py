"""Shared fixtures: tiny case libraries in tmp_path, a fast fake encoder, the real model once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

GOOD_CASE = """---
id: C0901
title: 测试案例：电梯停运业主投诉
date: "2024-03"
category: 突发事件
level: 一般
channel: 电话
outcome: 已解决
principles: [1, 3]
phrases: []
customer_type:
tags: [电梯, 停运]
source: 示例
summary: 一部电梯突然停运，业主打电话投诉，客服十分钟内到场说明原因并安排维修。
---

## 经过

早上八点，业主王先生来电，说电梯停在一楼不动了，他要赶去上班。

## 处理

客服小李先致歉，十分钟内到场张贴告示，维保单位半小时后修好，下午回访。

## 分析

符合原则一：先假定是我们的问题。符合原则三：查清原因再答复。

## 预防措施

- 每月检查电梯运行记录。

## 接听要点

**先说**：“您好，给您添麻烦了，我马上安排人到现场。”

**先做**：

1. 记录楼栋和时间
2. 通知维保单位
3. 张贴停运告示

**别说**：

- “不可能坏。”（禁语一）
- “维保单位的事，我们管不了。”（推卸责任）
"""


def make_case(slug: str = "lift-stopped", id: str = "C0901", **replace: str) -> str:
    """GOOD_CASE with an id and any substring replacements applied."""
    text = GOOD_CASE.replace("id: C0901", f"id: {id}")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


RADIATOR = make_case(id="C0902").replace("测试案例：电梯停运业主投诉", "暖气不热业主来电").replace(
    "早上八点，业主王先生来电，说电梯停在一楼不动了，他要赶去上班。", "降温后业主来电说家里暖气不热，问物业管不管。"
).replace("category: 突发事件", "category: 设施设备").replace("tags: [电梯, 停运]", "tags: [暖气, 供暖]")
PARKING = make_case(id="C0903").replace("测试案例：电梯停运业主投诉", "月租卡失效堵住车库入口").replace(
    "客服小李先致歉，十分钟内到场张贴告示，维保单位半小时后修好，下午回访。", "车管员引导车辆先停到路边，再处理卡片，安管主管向被堵车主致歉。"
).replace("level: 一般", "level: 热点").replace("tags: [电梯, 停运]", "tags: [停车场]")


def three_case_library(root: Path, **settings_overrides):
    """lift-stopped, radiator-cold and card-jam, indexed with the fake encoder.
    Returns (settings, encoder)."""
    from search import pipeline
    from search.settings import load_settings
    from tests.fakes import HashingEncoder

    (root / "cases").mkdir(exist_ok=True)
    write_case(root, "lift-stopped", make_case())
    write_case(root, "radiator-cold", RADIATOR)
    write_case(root, "card-jam", PARKING)
    settings = load_settings(root, env={}, **settings_overrides)
    enc = HashingEncoder()
    pipeline.index(settings, encoder=enc, progress=False)
    return settings, enc


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A project root with one valid case; tests add or break files in root/cases."""
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "lift-stopped.md").write_text(GOOD_CASE, encoding="utf-8")
    return tmp_path


def write_case(root: Path, slug: str, text: str) -> Path:
    path = root / "cases" / f"{slug}.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def site_project(tmp_path: Path) -> Path:
    """A copy of the real project's site sources (docs/, mkdocs.yml, cases/) in tmp_path."""
    for name in ("docs", "cases"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "search").symlink_to(REPO / "search")  # the hook path in mkdocs.yml
    return tmp_path


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return Path(os.environ.get("CASELIB_CACHE_DIR") or Path.home() / ".cache" / "caselib")


@pytest.fixture(scope="session")
def real_encoder(cache_dir):
    """The embedded default model on the default backend (auto: onnx), converted once per
    machine and loaded once per session."""
    from search.models import load_encoder

    return load_encoder("embedded", cache_dir)


@pytest.fixture(scope="session")
def real_clause_encoder(cache_dir):
    """What the server encodes a long text's clauses with by default: the int8 export of
    the embedded model (exported once per machine)."""
    from search.models import load_clause_encoder

    return load_clause_encoder("embedded", cache_dir)


@pytest.fixture(scope="session")
def torch_encoder(cache_dir):
    """The embedded model on sentence-transformers + torch: the reference the other backends
    must reproduce."""
    from search.models import load_encoder

    return load_encoder("embedded", cache_dir, backend="torch")


@pytest.fixture
def make_authoring_app():
    """authoring_app(root, **settings) for a test; every app's threads and database are
    closed at teardown (a client without `with` never runs the lifespan)."""
    from tests.authoring_helpers import authoring_app

    apps = []

    def make(root, **overrides):
        settings, app = authoring_app(root, **overrides)
        apps.append(app)
        return settings, app

    yield make
    for app in apps:
        app.state.services.close()
        app.state.authoring.close()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (with pgvector) for this test session."""
    from tests import pg

    server, data = pg.start()
    yield server
    pg.stop(server, data)


@pytest.fixture
def pg_url(postgres) -> str:
    from tests import pg

    return pg.fresh_database(postgres)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, once per browser-test module."""
    from tests.browser_support import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def server(project, real_encoder, real_clause_encoder):
    """The app on a free loopback port for the requesting module's `project` fixture, with
    the encoders the server loads by default."""
    from tests.browser_support import serving

    with serving(project, real_encoder, real_clause_encoder) as url:
        yield url
