"""The trainer's loop: new → three mistakes fixed from the messages alone → build → the
running server finds the case without a restart, with no errors or empty results meanwhile."""

from __future__ import annotations

import threading
import time

from click.testing import CliRunner
from fastapi.testclient import TestClient

from search import pipeline
from search.cli import cli
from search.server.app import create_app
from search.settings import load_settings
from tests.conftest import GOOD_CASE
from tests.fakes import HashingEncoder

FILLED = GOOD_CASE.replace("id: C0901\n", "id: {id}\n").replace("测试案例：电梯停运业主投诉", "周六地库积水泡车，业主要求赔偿").replace(
    "早上八点，业主王先生来电，说电梯停在一楼不动了，他要赶去上班。",
    "周六上午暴雨，地库积水淹到车轮，业主李先生（13812345678）的车被泡，他要求物业赔偿。",
).replace("level: 一般", "level: 特大").replace("**别说**：\n\n- “不可能坏。”（禁语一）\n- “维保单位的事，我们管不了。”（推卸责任）\n", "")


def invoke(root, *args):
    return CliRunner().invoke(cli, ["--root", str(root), *args])


def test_new_fix_build_and_find_without_restart(library):
    settings = load_settings(library, env={}, weak_threshold=0.0)
    enc = HashingEncoder()
    pipeline.index(settings, encoder=enc, progress=False)

    # 1. new
    r = invoke(library, "new", "--title", "周六地库积水泡车，业主要求赔偿", "--slug", "garage-flooding",
               "--category", "突发事件", "--level", "重要", "--channel", "电话")
    assert r.exit_code == 0 and "已创建 cases/garage-flooding.md" in r.output
    path = library / "cases" / "garage-flooding.md"
    case_id = next(line.split(": ")[1] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("id: "))

    # 2. three mistakes, each reported with file:line and a fix
    path.write_text(FILLED.format(id=case_id), encoding="utf-8")
    r = invoke(library, "check")
    assert r.exit_code == 1
    lines = [x for x in r.output.splitlines() if x.startswith("cases/garage-flooding.md:")]
    assert lines == [
        "cases/garage-flooding.md:6: level 的值“特大”不在允许范围内（可选：重大、重要、热点、一般） — 改为允许的值之一（投诉等级）",
        "cases/garage-flooding.md:19: 含有不能公开的个人信息：手机号码“13812345678” — 删除号码，写“业主留了联系电话”即可",
        "cases/garage-flooding.md:33: 接听要点缺少“**别说**：”下的列表（绝不能说的话） — 格式见模板：**先说**：“……” / **先做**：加编号列表 / **别说**：加列表",
    ]
    # 3. fix them exactly as the messages say
    text = path.read_text(encoding="utf-8").replace("level: 特大", "level: 重要").replace("（13812345678）", "（业主留了联系电话）")
    text += "\n**别说**：\n\n- “下雨天淹车是天灾，跟物业没关系。”（推卸责任）\n- “您自己怎么不早点挪车？”（指责业主）\n"
    path.write_text(text, encoding="utf-8")
    r = invoke(library, "check")
    assert r.exit_code == 0, r.output

    # 4. build while the server is running; keep searching during the swap
    with TestClient(create_app(settings, encoder=enc), client=("127.0.0.1", 50000)) as client:
        assert "garage-flooding" not in [x["slug"] for x in client.get("/api/search", params={"q": "地库积水泡车"}).json()["results"]]
        bad: list = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                resp = client.get("/api/search", params={"q": "电梯停运"})
                if resp.status_code != 200 or not resp.json()["results"]:
                    bad.append(resp.status_code)

        t = threading.Thread(target=hammer)
        t.start()
        saved = time.time()
        pipeline.index(settings, encoder=enc, progress=False)  # what `caselib build` does for search
        found = False
        while time.time() - saved < 10 and not found:
            found = client.get("/api/search", params={"q": "地库积水泡车", "k": 1}).json()["results"][0]["slug"] == "garage-flooding"
            time.sleep(0.1)
        stop.set()
        t.join()
        assert found, "the running server did not pick up the new index within 10 s"
        assert bad == []
        assert client.get("/api/cases/garage-flooding").status_code == 200


def test_reload_endpoint_is_local_or_token_only(library):
    settings = load_settings(library, env={})
    pipeline.index(settings, encoder=HashingEncoder(), progress=False)
    app = create_app(settings, encoder=HashingEncoder())
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.post("/api/reload").status_code == 200
    with TestClient(app, client=("10.1.2.3", 50000)) as remote:
        r = remote.post("/api/reload")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    tokened = create_app(settings.model_copy(update={"token": "s3cret"}), encoder=HashingEncoder())
    with TestClient(tokened, client=("10.1.2.3", 50000)) as remote:
        assert remote.post("/api/reload").status_code == 403
        assert remote.post("/api/reload", headers={"X-Caselib-Token": "wrong"}).status_code == 403
        assert remote.post("/api/reload", headers={"X-Caselib-Token": "s3cret"}).status_code == 200
    with TestClient(tokened, client=("127.0.0.1", 50000)) as local:
        assert local.post("/api/reload").status_code == 200  # a local caller needs no token


def test_running_server_indexes_a_saved_case_by_itself(library):
    """auto_index: the trainer only saves the file; the server checks, indexes and swaps."""
    settings = load_settings(library, env={}, weak_threshold=0.0)
    enc = HashingEncoder()
    pipeline.index(settings, encoder=enc, progress=False)
    with TestClient(create_app(settings, encoder=enc)) as client:
        bad = FILLED.format(id="C0950")  # three mistakes
        (library / "cases" / "garage-flooding.md").write_text(bad, encoding="utf-8")
        deadline = time.time() + 10
        while time.time() < deadline and not client.get("/healthz").json()["problems"]:
            time.sleep(0.2)
        problems = client.get("/healthz").json()["problems"]
        assert problems == [
            "cases/garage-flooding.md:6: level 的值“特大”不在允许范围内（可选：重大、重要、热点、一般） — 改为允许的值之一（投诉等级）",
            "cases/garage-flooding.md:19: 含有不能公开的个人信息：手机号码“13812345678” — 删除号码，写“业主留了联系电话”即可",
            "cases/garage-flooding.md:33: 接听要点缺少“**别说**：”下的列表（绝不能说的话） — "
            "格式见模板：**先说**：“……” / **先做**：加编号列表 / **别说**：加列表",
        ]
        assert client.get("/api/search", params={"q": "电梯"}).status_code == 200  # still serving
        fixed = (
            bad.replace("level: 特大", "level: 重要").replace("（13812345678）", "")
            + "\n**别说**：\n\n- “天灾跟物业没关系。”\n- “您自己怎么不早点挪车？”\n"
        )
        saved = time.time()
        (library / "cases" / "garage-flooding.md").write_text(fixed, encoding="utf-8")
        found = False
        while time.time() - saved < 10 and not found:
            res = client.get("/api/search", params={"q": "地库积水泡车", "k": 1}).json()["results"]
            found = bool(res) and res[0]["slug"] == "garage-flooding"
            time.sleep(0.2)
        assert found and client.get("/healthz").json()["problems"] == []
