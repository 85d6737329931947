"""The commands the rest of the suite never invokes through the CLI: index, search, eval,
build, serve, check-reply's exit code and eval-replies. Exact lines and exit codes, on tiny
libraries in tmp_path with the fake encoder; one test loads the real model."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from search import pipeline
from search.cli import cli
from search.index.store import read_manifest
from search.server.app import create_app
from search.server.schemas import PhraseHitOut, SearchResponse
from search.settings import load_settings
from tests.conftest import PARKING, RADIATOR, make_case, three_case_library, write_case
from tests.fakes import HashingEncoder

DEVELOPER = "这种问题属于开发商的事，你去找开发商解决"
CLEAN = "您好，给您添麻烦了，我马上安排人到现场。"
PARAPHRASE = "这房子漏水是开发商造的孽，跟我们物业不相干"  # phrase 3 in words no pattern knows
SAY = "   先说：“您好，给您添麻烦了，我马上安排人到现场。”"
BASICS = "先按投诉接待的基本步骤处理：致歉、记录、承诺回复时间。"
EVAL_HEADER = ["方式         hit@1   hit@3     MRR"]


@pytest.fixture(autouse=True)
def _settings_from_the_root_alone(monkeypatch):
    """No CASELIB_* from the machine, except where the real model is cached."""
    for key in [k for k in os.environ if k.startswith("CASELIB_") and k != "CASELIB_CACHE_DIR"]:
        monkeypatch.delenv(key)


@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setattr(pipeline, "load_encoder", lambda settings, threads=None: HashingEncoder())
    monkeypatch.setattr(pipeline, "load_clause_encoder", lambda *a, **k: None)  # the fake encodes clauses too


@pytest.fixture
def indexed(tmp_path, fake_model) -> Path:
    three_case_library(tmp_path)
    return tmp_path


def run(root: Path, *args: str, **kwargs):
    return CliRunner().invoke(cli, ["--root", str(root), *args], **kwargs)


def write_yaml(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------ index


def test_index_reports_new_then_up_to_date_then_the_changes(tmp_path, fake_model):
    (tmp_path / "cases").mkdir()
    write_case(tmp_path, "lift-stopped", make_case())
    write_case(tmp_path, "radiator-cold", RADIATOR)
    write_case(tmp_path, "card-jam", PARKING)
    index_path = load_settings(tmp_path).index_path

    first = run(tmp_path, "index", "--quiet")
    assert first.exit_code == 0, first.output
    assert first.stderr == "加载模型 embedded …\n"
    n = read_manifest(index_path)["n_chunks"]
    assert re.fullmatch(rf"索引已更新：3 个案例，{n} 个片段（新增 3，更新 0，删除 0，未变 0；编码 {n} 个片段），用时 \d+\.\d 秒。\n", first.stdout)

    second = run(tmp_path, "index", "--quiet")
    assert second.exit_code == 0
    assert second.stdout == f"索引已是最新：3 个案例，{n} 个片段，未改动。\n"

    write_case(tmp_path, "radiator-cold", RADIATOR.replace("下午回访。", "第二天上午再次回访。"))
    write_case(tmp_path, "lift-stopped", make_case(**{"下午回访。": "第二天上午再次回访。"}))
    (tmp_path / "cases" / "card-jam.md").unlink()
    third = run(tmp_path, "index", "--quiet")
    assert third.exit_code == 0
    m = read_manifest(index_path)["n_chunks"]
    assert re.fullmatch(rf"索引已更新：2 个案例，{m} 个片段（新增 0，更新 2，删除 1，未变 0；编码 \d+ 个片段），用时 \d+\.\d 秒。\n", third.stdout)


def test_index_refuses_an_invalid_library_and_writes_nothing(library, fake_model):
    write_case(library, "lift-stopped", make_case(**{"level: 一般": "level: 特大"}))
    result = run(library, "index", "--quiet")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Error: 案例校验未通过，共 1 处问题：\ncases/lift-stopped.md:6: level 的值“特大”不在允许范围内" in result.stderr
    assert not load_settings(library).index_path.exists()


# ------------------------------------------------------------------ search


def test_search_json_is_what_the_api_returns(indexed):
    result = run(indexed, "search", "暖气不热", "--json")
    assert result.exit_code == 0, result.output
    cli_json = json.loads(result.stdout)
    assert list(cli_json) == list(SearchResponse.model_fields) == ["query", "took_ms", "match", "confidence", "results"]
    assert cli_json["results"][0]["slug"] == "radiator-cold"
    with TestClient(create_app(load_settings(indexed), encoder=HashingEncoder())) as client:
        api_json = client.get("/api/search", params={"q": "暖气不热"}).json()
    cli_json.pop("took_ms"), api_json.pop("took_ms")
    assert cli_json == api_json


def test_search_lists_numbered_results_with_what_to_say_first(indexed):
    result = run(indexed, "search", "暖气不热", env={"CASELIB_WEAK_THRESHOLD": "0.3"})  # the fake encoder's cosines are low
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == ["1. 暖气不热业主来电  [一般·设施设备] radiator-cold", "   经过：降温后业主来电说家里暖气不热，问物业管不管。", SAY]
    numbered = [re.match(r"(\d+)\. .*\] ([a-z-]+)", line) for line in lines if re.match(r"\d+\. ", line)]
    assert [m.group(1) for m in numbered] == ["1", "2", "3"]
    assert {m.group(2) for m in numbered} == {"radiator-cold", "lift-stopped", "card-jam"}
    assert lines.count(SAY) == 3
    assert re.fullmatch(r"（\d+ ms）", lines[-1])


def test_search_says_when_nothing_is_close_or_nothing_matches(indexed):
    weak = run(indexed, "search", "暖气不热")  # default cut 0.875: nothing the fake encoder finds is close
    assert weak.exit_code == 0
    lines = weak.stdout.splitlines()
    assert lines[0] == "没有足够相近的先例，下面的结果相似度低，仅供参考。" + BASICS
    assert lines[1] == "1. 暖气不热业主来电  [一般·设施设备] radiator-cold  相似度低"
    none = run(indexed, "search", "暖气不热", "--level", "重大")  # no 重大 case in the library
    assert none.exit_code == 0
    assert none.stdout == "没有找到相关案例。" + BASICS + "\n"


def test_search_without_an_index_says_to_run_index(library, fake_model):
    result = run(library, "search", "暖气不热")
    assert result.exit_code == 1
    index_path = load_settings(library).index_path
    assert result.output == f"Error: 还没有检索索引（{index_path}）— 先运行 caselib index（或 caselib build）\n"


def test_search_k_out_of_range_is_a_usage_error(indexed):
    assert run(indexed, "search", "暖气", "-k", "0").exit_code == 2


# ------------------------------------------------------------------ eval

QUERIES = "- q: 暖气不热\n  relevant: [radiator-cold]\n- q: 电梯停运\n  relevant: [lift-stopped]\n- q: 月租卡失效\n  relevant: [card-jam]\n"


def test_eval_prints_the_count_and_one_row_per_mode(indexed, tmp_path):
    result = run(indexed, "eval", write_yaml(tmp_path / "q.yaml", QUERIES))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["3 条查询", *EVAL_HEADER,
                                          "bm25       1.000   1.000   1.000",
                                          "dense      1.000   1.000   1.000",
                                          "hybrid     1.000   1.000   1.000"]


def test_eval_misses_lists_each_wrong_first_place(indexed, tmp_path):
    result = run(indexed, "eval", "--misses", write_yaml(tmp_path / "q.yaml", "- q: 暖气不热\n  relevant: [lift-stopped]\n"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["1 条查询", *EVAL_HEADER]
    assert [line.split("  实得 ")[0] for line in lines[5:]] == [f"[{m}] 暖气不热  应为 ['lift-stopped']" for m in ("bm25", "dense", "hybrid")]
    assert all(line.split("  实得 ")[1].startswith("['radiator-cold'") for line in lines[5:])


def test_eval_refuses_an_unknown_slug(indexed, tmp_path):
    result = run(indexed, "eval", write_yaml(tmp_path / "q.yaml", "- q: 暖气不热\n  relevant: [radiator-warm]\n"))
    assert result.exit_code == 1
    assert result.output == "Error: 评测集引用了索引中没有的案例：radiator-warm — 检查 slug 拼写，或先运行 caselib index\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("q: [\n", "无法读取评测集："),
        ("q: 暖气不热\nrelevant: [radiator-cold]\n", "评测集格式不对 — 应为列表，每项形如 {q: 查询, relevant: [slug, …]}"),
        ("- q: 暖气不热\n", "评测集格式不对"),
    ],
)
def test_eval_refuses_a_malformed_file(indexed, tmp_path, text, message):
    path = write_yaml(tmp_path / "q.yaml", text)
    result = run(indexed, "eval", path)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: {message}")


def test_eval_of_a_missing_file_is_a_usage_error(indexed, tmp_path):
    assert run(indexed, "eval", str(tmp_path / "nope.yaml")).exit_code == 2


# ------------------------------------------------------------------ build


def test_build_checks_indexes_and_publishes_the_site(site_project, fake_model):
    result = run(site_project, "build", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr == "1/3 校验案例 …\n2/3 更新索引 …\n3/3 生成站点 …\n"
    n_cases = len([p for p in (site_project / "cases").glob("*.md") if p.name != "README.md"])
    index_line, site_line = result.stdout.splitlines()
    assert re.fullmatch(rf"索引已更新：{n_cases} 个案例，\d+ 个片段（新增 {n_cases}，更新 0，删除 0，未变 0；编码 \d+ 个片段），用时 \d+\.\d 秒。", index_line)
    built = re.fullmatch(r"站点已生成：(.+)（共用时 \d+\.\d 秒）", site_line)
    assert built, site_line
    assert Path(built.group(1)) == site_project.resolve() / "site"  # the link trainers know, not site.d/…
    assert (site_project / "site" / "index.html").is_file()


def test_build_stops_at_an_invalid_case_before_indexing(library, fake_model):
    write_case(library, "lift-stopped", make_case(**{"level: 一般": "level: 特大"}))
    result = run(library, "build", "--quiet")
    assert result.exit_code == 1
    assert result.stderr.startswith("1/3 校验案例 …\nError: 案例校验未通过，共 1 处问题：\ncases/lift-stopped.md:6: ")
    assert "2/3" not in result.stderr
    assert not (library / ".caselib").exists() and not (library / "site").exists()


# ------------------------------------------------------------------ serve


def test_serve_help_lists_host_and_port(tmp_path):
    result = run(tmp_path, "serve", "--help")
    assert result.exit_code == 0
    assert re.search(r"^\s+--host TEXT\s+监听地址", result.output, re.M)
    assert re.search(r"^\s+--port INTEGER RANGE\s+端口（默认 8000）\s+\[1<=x<=65535\]", result.output, re.M)


@pytest.fixture
def uvicorn_calls(monkeypatch):
    """uvicorn.run and create_app recorded instead of run: no server, no model."""
    import uvicorn

    import search.server.app as app_module

    calls = []
    monkeypatch.setattr(app_module, "create_app", lambda settings: ("app", settings))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_serve_port_out_of_range_is_a_usage_error(tmp_path, uvicorn_calls, port):
    result = run(tmp_path, "serve", "--port", port)
    assert result.exit_code == 2
    assert "Error: Invalid value for '--port': " in result.output
    assert uvicorn_calls == []


def test_serve_passes_host_and_port_to_uvicorn(tmp_path, uvicorn_calls):
    result = run(tmp_path, "serve", "--host", "0.0.0.0", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert result.stderr == "物业客服案例库：http://0.0.0.0:8123/  （Ctrl+C 停止）\n"
    [((_, settings), kw)] = uvicorn_calls
    assert (kw["host"], kw["port"], settings.host, settings.port) == ("0.0.0.0", 8123, "0.0.0.0", 8123)


# ------------------------------------------------------------------ check-reply


def test_check_reply_clean_exits_0(tmp_path):
    result = run(tmp_path, "check-reply", "--no-model", CLEAN)
    assert result.exit_code == 0
    assert result.output == "没有发现九句禁语。\n"


def test_check_reply_with_a_forbidden_phrase_exits_1_and_explains(tmp_path):
    result = run(tmp_path, "check-reply", "--no-model", DEVELOPER)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0::3] == ["禁语3（第 4-11 字）“属于开发商的事”", "禁语3（第 13-18 字）“去找开发商”"]
    assert all(line.startswith("  为什么不能说：业主只认识物业") for line in lines[1::3])
    assert all(line.startswith("  可以这样说：这个问题涉及开发商的保修责任") for line in lines[2::3])


def test_check_reply_json_has_the_api_shape(tmp_path):
    result = run(tmp_path, "check-reply", "--no-model", "--json", DEVELOPER)
    assert result.exit_code == 1  # a forbidden phrase fails, whichever the output format
    data = json.loads(result.stdout)
    assert list(data) == ["hits"] and len(data["hits"]) == 2
    for hit in data["hits"]:
        assert list(hit) == list(PhraseHitOut.model_fields)
        assert hit["phrase"] == 3 and DEVELOPER[hit["start"] : hit["end"]] == hit["matched"]
    clean = run(tmp_path, "check-reply", "--no-model", "--json", CLEAN)
    assert clean.exit_code == 0 and json.loads(clean.stdout) == {"hits": []}


@pytest.mark.model
def test_check_reply_with_the_model_catches_a_paraphrase(tmp_path):
    assert run(tmp_path, "check-reply", "--no-model", PARAPHRASE).exit_code == 0  # the rules alone miss it
    result = run(tmp_path, "check-reply", PARAPHRASE)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0] == "禁语3（第 0-12 字）“这房子漏水是开发商造的孽”"


# ------------------------------------------------------------------ eval-replies


def test_eval_replies_prints_precision_and_recall(tmp_path):
    items = f"- text: {DEVELOPER}\n  phrases: [3]\n- text: {CLEAN}\n  phrases: []\n- text: {PARAPHRASE}\n  phrases: [3]\n"
    result = run(tmp_path, "eval-replies", "--no-model", write_yaml(tmp_path / "replies.yaml", items))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["回复评测：3 条", "禁语      样本     精确率     召回率   TP  FP  FN"]
    rows = {n: f"禁语{n}       0     1.000     1.000    0   0   0" for n in range(1, 10)} | {3: "禁语3       2     1.000     0.500    1   0   1"}
    assert lines[2:11] == list(rows.values())
    assert lines[11:] == ["总计       2     1.000     0.500    1   0   1", "判错的回复：", f"  - {PARAPHRASE}  应为 [3]，检出 []"]


def test_eval_replies_refuses_an_unknown_phrase_number(tmp_path):
    path = write_yaml(tmp_path / "replies.yaml", f"- text: {CLEAN}\n  phrases: [10]\n")
    result = run(tmp_path, "eval-replies", "--no-model", path)
    assert result.exit_code == 1
    assert result.output == f"Error: {path}: 第 1 项的 phrases 应为 1–9 的禁语编号列表，如 [3] 或 []，现在是 [10]\n"
