"""HTTP API: status codes and bodies, 4xx included, one error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search.server.app import create_app
from tests.conftest import three_case_library


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    (root / "site").mkdir()
    (root / "site" / "index.html").write_text("<!doctype html><title>站点</title>", encoding="utf-8")
    settings, enc = three_case_library(root)
    with TestClient(create_app(settings, encoder=enc)) as c:
        yield c


def test_search_returns_the_documented_shape(client):
    r = client.get("/api/search", params={"q": "暖气不热", "k": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "暖气不热" and isinstance(body["took_ms"], float)
    assert len(body["results"]) == 2
    top = body["results"][0]
    assert {"slug", "id", "title", "category", "level", "score", "section", "snippet", "url"} <= set(top)
    assert (top["slug"], top["id"], top["url"]) == ("radiator-cold", "C0902", "/cases/radiator-cold.html")
    assert top["agent"]["say"] == "“您好，给您添麻烦了，我马上安排人到现场。”"
    assert body["results"][0]["score"] >= body["results"][1]["score"]


def test_filters(client):
    r = client.get("/api/search", params={"q": "业主", "level": "热点"})
    assert r.status_code == 200 and [x["slug"] for x in r.json()["results"]] == ["card-jam"]


@pytest.mark.parametrize(
    "params, status, field",
    [
        ({"q": "   "}, 422, "q"),
        ({"q": ""}, 422, "q"),
        ({}, 422, "q"),
        ({"q": "暖气", "k": 0}, 422, "k"),
        ({"q": "暖气", "k": -1}, 422, "k"),
        ({"q": "暖气", "k": 10**9}, 422, "k"),
        ({"q": "暖气", "k": "abc"}, 422, "k"),
        ({"q": "暖气", "category": "不存在的类别"}, 422, "category"),
        ({"q": "暖气", "level": "特大"}, 422, "level"),
    ],
)
def test_bad_input_gets_one_error_shape(client, params, status, field):
    r = client.get("/api/search", params=params)
    assert r.status_code == status
    err = r.json()["error"]
    assert set(err) == {"code", "field", "message"}
    assert err["field"] == field and field in err["message"] or err["field"] == field


def test_error_messages_are_chinese_and_name_the_field(client):
    r = client.get("/api/search", params={"q": "暖气", "k": "abc"})
    assert r.json() == {"error": {"code": "invalid_parameter", "field": "k", "message": "参数 k 无效：应为整数，收到“abc”"}}
    r = client.get("/api/search", params={"q": "暖气", "level": "特大"})
    assert r.json()["error"]["message"] == "参数 level 无效：“特大”不是可选值；可选：'重大', '重要', '热点' or '一般'"


def test_long_query_is_accepted_and_truncated(client):
    r = client.get("/api/search", params={"q": "a" * 10_000})
    assert r.status_code == 422 and r.json()["error"]["field"] == "q"  # a pasted document, not a query
    r = client.get("/api/search", params={"q": "暖气不热" * 300})
    assert r.status_code == 200 and r.json()["results"][0]["slug"] == "radiator-cold"


@pytest.mark.parametrize(
    "raw_query, message",
    [
        ("q=%E6%9A%96%00%01%E6%B0%94", "参数 q 无效：含有控制字符：请只输入文字"),
        ("q=%FF%FE%FD", "参数 q 无效：不是合法的 UTF-8 编码：请检查调用方的 URL 编码"),
        ("q=%F0%9F%98%80%F0%9F%98%A1", "参数 q 无效：没有可检索的文字（只有表情或符号）：请输入业主反映的问题，如“暖气不热”"),
    ],
)
def test_control_characters_bad_utf8_and_emoji_only(client, raw_query, message):
    r = client.get("/api/search?" + raw_query)
    assert r.status_code == 422
    assert r.json() == {"error": {"code": "invalid_parameter", "field": "q", "message": message}}


def test_emoji_inside_a_real_query_is_fine(client):
    r = client.get("/api/search", params={"q": "暖气不热😡😡"})
    assert r.status_code == 200 and r.json()["results"][0]["slug"] == "radiator-cold"


def test_case_by_slug_and_404(client):
    r = client.get("/api/cases/card-jam")
    assert r.status_code == 200 and r.json()["level"] == "热点" and r.json()["agent"]["do"][0] == "记录楼栋和时间"
    r = client.get("/api/cases/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_unknown_route_is_json_404(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_health_docs_and_site(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 200
    docs = client.get("/docs").text
    assert "/_docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/_docs-assets/swagger-ui-bundle.js").status_code == 200
    home = client.get("/")
    assert home.status_code == 200 and "站点" in home.text
    assert home.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in home.headers["content-security-policy"]
