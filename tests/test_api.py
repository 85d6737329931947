"""HTTP API: status codes and bodies, 4xx included, one error shape."""

from __future__ import annotations

import re

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
    "params, message",
    [
        ({"q": "   "}, "参数 q 不能为空或只有空白：请输入业主反映的问题，如“暖气不热”"),
        ({"q": ""}, "参数 q 不能为空或只有空白：请输入业主反映的问题，如“暖气不热”"),
        ({}, "缺少必填参数 q：请在查询参数中提供业主反映的问题，如“暖气不热”"),
        ({"q": "暖气", "k": 0}, "参数 k 不能小于 1，收到 0"),
        ({"q": "暖气", "k": -1}, "参数 k 不能小于 1，收到 -1"),
        ({"q": "暖气", "k": 10**9}, "参数 k 不能大于 20，收到 1000000000"),
        ({"q": "暖气", "k": "abc"}, "参数 k 应为整数，收到“abc”"),
        ({"q": "暖气", "category": "不存在的类别"},
         "参数 category 的值“不存在的类别”不是可选值；可选：设施设备、管理服务、收费、突发事件、超权限"),
        ({"q": "暖气", "level": "特大"}, "参数 level 的值“特大”不是可选值；可选：重大、重要、热点、一般"),
        ({"q": "暖气", "tag": [str(i) for i in range(11)]}, "参数 tag 最多 10 个，收到 11 个"),
    ],
)
def test_bad_search_input_gets_one_error_shape_with_a_chinese_message_naming_the_field(client, params, message):
    r = client.get("/api/search", params=params)
    field = re.search(r"参数 ([a-z]+)", message).group(1)
    assert r.status_code == 422
    assert r.json() == {"error": {"code": "invalid_parameter", "field": field, "message": message}}


@pytest.mark.parametrize(
    "path, body, status, field, message",
    [
        ("/api/check-reply", {}, 422, "text", "缺少必填字段 text：请在请求体中提供要检查的回复草稿"),
        ("/api/check-reply", {"text": 123}, 422, "text", "字段 text 应为文字（字符串），收到数字 123"),
        ("/api/check-reply", {"text": None}, 422, "text", "字段 text 应为文字（字符串），收到 null"),
        ("/api/check-reply", {"text": "好" * 5001}, 422, "text", "字段 text 太长：最多 5000 字，收到 5001 字"),
        ("/api/check-reply", ["text"], 422, None, "请求体应为 JSON 对象（用花括号括起的字段），收到一个列表"),
        ("/api/feedback", {"query": "暖气", "slug": "card-jam"}, 422, "useful",
         "缺少必填字段 useful：请在请求体中提供是否有用：true 或 false"),
        ("/api/feedback", {"query": "暖气", "slug": "card-jam", "useful": "也许"}, 422, "useful",
         "字段 useful 应为 true 或 false，收到“也许”"),
        ("/api/feedback", {"query": "暖气", "slug": "nope", "useful": True}, 404, "slug", "没有 slug 为“nope”的案例"),
    ],
)
def test_bad_bodies_get_chinese_messages_naming_the_field(client, path, body, status, field, message):
    r = client.post(path, json=body)
    assert r.status_code == status
    code = "not_found" if status == 404 else "invalid_parameter"
    assert r.json() == {"error": {"code": code, "field": field, "message": message}}


def test_invalid_json_is_a_400_in_chinese(client):
    body = '{"text": "你好",}'.encode()
    r = client.post("/api/check-reply", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    message = "请求体不是合法的 JSON（第 15 个字符附近）：请检查引号、逗号和括号是否成对，并使用 UTF-8 编码"
    assert r.json() == {"error": {"code": "invalid_json", "field": None, "message": message}}
    r = client.post("/api/check-reply")
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "缺少请求体：请发送一个 JSON 对象（Content-Type: application/json）"


def test_no_4xx_message_leaks_english(client):
    json_header = {"Content-Type": "application/json"}
    cases = [client.get("/api/search", params={"q": "暖气", "k": "1.5"}), client.get("/api/popular", params={"k": "x"}),
             client.post("/api/check-reply", json={"text": ["列表"]}), client.post("/api/feedback", json={"query": 1}),
             client.get("/api/search", params={"q": "暖气", "k": 0}),
             client.post("/api/check-reply", content=b"not json", headers=json_header)]
    for r in cases:
        assert 400 <= r.status_code < 500
        msg = r.json()["error"]["message"]
        assert not any(w in msg for w in ("Input should", "Field required", "valid", "JSON decode")), msg
        assert any("\u4e00" <= c <= "\u9fff" for c in msg), msg


def test_long_query_is_accepted_and_truncated(client):
    r = client.get("/api/search", params={"q": "a" * 10_000})
    assert r.status_code == 422 and r.json()["error"]["field"] == "q"  # a pasted document, not a query
    r = client.get("/api/search", params={"q": "暖气不热" * 300})
    assert r.status_code == 200 and r.json()["results"][0]["slug"] == "radiator-cold"


@pytest.mark.parametrize(
    "raw_query, message",
    [
        ("q=%E6%9A%96%00%01%E6%B0%94", "参数 q 含有控制字符：请只输入文字"),
        ("q=%FF%FE%FD", "参数 q 不是合法的 UTF-8 编码：请检查调用方的 URL 编码"),
        ("q=%F0%9F%98%80%F0%9F%98%A1", "参数 q 没有可检索的文字（只有表情或符号）：请输入业主反映的问题，如“暖气不热”"),
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


def _keys(x):
    """The shape of a JSON value: its keys, recursively (lists by their first element)."""
    if isinstance(x, dict):
        return {k: _keys(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_keys(x[0])] if x else []
    return type(x).__name__


def test_cli_json_has_the_api_shape(client, monkeypatch):
    import json

    from click.testing import CliRunner

    from search import pipeline
    from search.cli import cli
    from tests.fakes import HashingEncoder

    root = client.app.state.services.settings.root
    monkeypatch.setattr(pipeline, "load_encoder", lambda settings, threads=None: HashingEncoder())
    monkeypatch.setattr(pipeline, "load_clause_encoder", lambda *a, **k: None)  # the fake encodes clauses too
    out = CliRunner().invoke(cli, ["--root", str(root), "search", "暖气不热", "-k", "2", "--json"])
    assert out.exit_code == 0, out.output
    cli_body = json.loads(out.output)
    api_body = client.get("/api/search", params={"q": "暖气不热", "k": 2}).json()
    assert _keys(cli_body) == _keys(api_body)
    assert set(cli_body) == {"query", "took_ms", "match", "confidence", "results"}
    assert set(cli_body["results"][0]) == set(api_body["results"][0]) >= {"weak", "dense", "agent"}
    assert cli_body["results"] == api_body["results"] and cli_body["match"] == api_body["match"]


def test_weak_and_match_come_from_the_search_result(client):
    from search.server.schemas import search_response

    svc = client.app.state.services.get()
    result = svc.require().search("暖气不热", k=3, weak_below=1.01)
    assert result.match == "weak" and all(h.weak for h in result.hits)
    body = search_response(result).model_dump(mode="json")
    assert body["match"] == "weak" and [h["weak"] for h in body["results"]] == [True] * 3
    result = svc.require().search("暖气不热", k=3, weak_below=0.0)
    assert result.match == "strong" and not any(h.weak for h in result.hits)
    assert svc.require().search("暖气不热", k=3, category="收费", level="重大").match == "none"
    api = client.get("/api/search", params={"q": "暖气不热", "k": 3}).json()  # the default cut of this library
    assert api["match"] == ("weak" if api["results"][0]["weak"] else "strong")


def test_wrong_method_on_an_api_path_is_405_with_allow(client):
    r = client.put("/api/popular")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    message = "/api/popular 不支持 PUT 请求"
    assert r.json() == {"error": {"code": "method_not_allowed", "field": None, "message": message}}
    assert client.get("/api/check-reply").headers["allow"] == "POST"
