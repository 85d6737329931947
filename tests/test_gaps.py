"""Search log (redacted, can be turned off) and the `caselib gaps` report."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from search import pipeline
from search.cli import cli
from search.server.app import create_app
from search.settings import load_settings
from tests.conftest import PARKING, RADIATOR, write_case
from tests.fakes import HashingEncoder


@pytest.fixture
def settings(library):
    write_case(library, "radiator-cold", RADIATOR)
    write_case(library, "card-jam", PARKING)
    # the fake encoder's cosines are low: put the cut where "暖气" matches and nonsense does not
    s = load_settings(library, env={}, weak_threshold=0.3)
    pipeline.index(s, encoder=HashingEncoder(), progress=False)
    return s


def test_searches_are_logged_redacted_and_reported(settings):
    with TestClient(create_app(settings, encoder=HashingEncoder())) as client:
        for _ in range(3):
            assert client.get("/api/search", params={"q": "火锅怎么做好吃"}).json()["match"] == "weak"
        client.get("/api/search", params={"q": "我住3栋2单元1502，电话13812345678，暖气不热"})
        r = client.get("/api/search", params={"q": "暖气不热"})
        assert r.json()["match"] == "strong"
        assert client.post("/api/feedback", json={"query": "暖气不热", "slug": "card-jam", "useful": False}).status_code == 204
        assert client.post("/api/feedback", json={"query": "暖气不热", "slug": "radiator-cold", "useful": True}).status_code == 204
        assert client.post("/api/feedback", json={"query": "x", "slug": "nope", "useful": True}).status_code == 404
    db = sqlite3.connect(settings.log_path)
    logged = [r[0] for r in db.execute("SELECT query FROM searches")]
    assert "我住〔具体门牌号〕，电话〔手机号码〕，暖气不热" in logged
    assert not any("13812345678" in q or "1502" in q for q in logged)

    result = CliRunner().invoke(cli, ["--root", str(settings.root), "gaps", "--csv", str(settings.root / "gaps.csv")],
                                env={"CASELIB_WEAK_THRESHOLD": "0.3"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "最近 30 天共 5 次检索。" in out
    assert "     3 次  火锅怎么做好吃" in out.split("检索最多的类别")[0]
    assert "设施设备" in out.split("检索最多的类别")[1].split("坐席反馈")[0]
    assert "  0 / 1   月租卡失效堵住车库入口（card-jam）  标为没用的检索：暖气不热" in out
    assert (settings.root / "gaps.csv").read_text(encoding="utf-8-sig").startswith("类型,内容,次数")


def test_logging_can_be_turned_off(library):
    s = load_settings(library, env={"CASELIB_LOG_SEARCHES": "false"})
    pipeline.index(s, encoder=HashingEncoder(), progress=False)
    with TestClient(create_app(s, encoder=HashingEncoder())) as client:
        assert client.get("/api/search", params={"q": "电梯"}).status_code == 200
    assert not s.log_path.exists()
    result = CliRunner().invoke(cli, ["--root", str(library), "gaps"], env={"CASELIB_LOG_SEARCHES": "false"})
    assert result.exit_code == 1 and "还没有检索记录" in result.output


def test_popular_falls_back_then_follows_usage(settings):
    with TestClient(create_app(settings, encoder=HashingEncoder())) as client:
        first = [r["slug"] for r in client.get("/api/popular", params={"k": 3}).json()["results"]]
        assert len(first) == 3
        for _ in range(4):
            client.get("/api/search", params={"q": "暖气不热"})
        assert client.get("/api/popular", params={"k": 1}).json()["results"][0]["slug"] == "radiator-cold"
