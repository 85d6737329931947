"""The review workflow over HTTP: drafts, live checks, conflicts, submit/reject/approve,
edits of published cases, history and restore (fake encoder; the real model and browser
walk the same path in tests/test_browser_editor.py and tests/test_browser_review.py)."""

from __future__ import annotations

import subprocess

import pytest

from tests.authoring_helpers import sign_in
from tests.conftest import make_case

NEW = make_case(id="C0950").replace("测试案例：电梯停运业主投诉", "地库积水泡车业主要求赔偿")


@pytest.fixture
def app(tmp_path, make_authoring_app):
    return make_authoring_app(tmp_path)[1]


def test_validate_reports_the_check_messages_with_field_line_and_a_one_click_replacement(app):
    t = sign_in(app, "trainer")
    text = NEW.replace("早上八点", "早上八点，业主13812345678").replace("## 分析", "## 原因")
    body = t.post("/api/validate", json={"text": text}).json()
    problems = {(p["field"], p["message"]) for p in body["problems"]}
    assert ("经过", "含有不能公开的个人信息：手机号码“13812345678”") in problems
    assert ("原因", "未知章节“## 原因”") in problems
    assert ("分析", "缺少必填章节“## 分析”") in problems
    phone = next(p for p in body["problems"] if p.get("found"))
    assert phone["replacement"] == "138****5678"
    assert text[phone["start"]:phone["end"]] == "13812345678"
    assert phone["fix"] == "删除号码，写“业主留了联系电话”即可；或一键改成“138****5678”"
    assert body["parsed"]["meta"]["title"] == "地库积水泡车业主要求赔偿"
    assert body["parsed"]["agent"]["do"] == ["记录楼栋和时间", "通知维保单位", "张贴停运告示"]


def test_the_validate_messages_are_those_of_caselib_check(app, tmp_path):
    from search.library.check import check_file
    from search.library.reference import load_reference

    t = sign_in(app, "trainer")
    text = NEW.replace("level: 一般", "level: 很大").replace("phrases: []", "phrases: [12]")
    path = tmp_path / "cases" / "same-text.md"
    path.write_text(text, encoding="utf-8")
    _case, expected = check_file(path, load_reference(), tmp_path / "cases", tmp_path)
    got = t.post("/api/validate", json={"text": text, "slug": "same-text"}).json()["problems"]
    assert [(p["line"], p["message"], p["fix"]) for p in got] == [(p.line, p.message, p.fix) for p in expected]
    assert [p["field"] for p in got] == ["level", "phrases"]


def test_a_draft_goes_through_review_and_is_published_atomically_as_a_case_file(app, tmp_path):
    t, r = sign_in(app, "trainer"), sign_in(app, "reviewer")
    bad = NEW.replace("早上八点", "早上八点，业主13812345678")
    created = t.post("/api/drafts", json={"text": bad})
    assert created.status_code == 201
    d = created.json()
    assert (d["status"], d["version"]) == ("draft", 1)
    assert [p["message"] for p in d["problems"]] == ["含有不能公开的个人信息：手机号码“13812345678”"]

    refused = t.post(f"/api/drafts/{d['id']}/submit")
    assert refused.status_code == 422
    err = refused.json()["error"]
    assert err["code"] == "draft_invalid" and err["field"] == "经过"
    assert err["problems"][0]["replacement"] == "138****5678"

    saved = t.put(f"/api/drafts/{d['id']}", json={"text": bad.replace("13812345678", "138****5678"), "version": 1})
    assert (saved.status_code, saved.json()["version"], saved.json()["problems"]) == (200, 2, [])
    assert t.post(f"/api/drafts/{d['id']}/submit").json() == {"status": "in_review", "id": d["id"], "slug": "diku-jishui-paoche-yezhu-yaoqiu"}
    assert not (tmp_path / "cases" / "diku-jishui-paoche-yezhu-yaoqiu.md").exists()  # not before approval

    rejected = r.post(f"/api/drafts/{d['id']}/reject", json={"comment": "补上回访的具体时间"})
    assert rejected.json() == {"status": "draft", "id": d["id"]}
    again = t.get(f"/api/drafts/{d['id']}").json()
    assert (again["status"], again["comment"]) == ("draft", "补上回访的具体时间")
    fixed = again["text"].replace("下午回访", "下午三点回访")
    assert t.put(f"/api/drafts/{d['id']}", json={"text": fixed, "version": again["version"]}).status_code == 200
    assert t.post(f"/api/drafts/{d['id']}/submit").status_code == 200

    approved = r.post(f"/api/drafts/{d['id']}/approve")
    assert approved.json() == {"status": "published", "slug": "diku-jishui-paoche-yezhu-yaoqiu"}
    version = t.get("/api/cases/diku-jishui-paoche-yezhu-yaoqiu/history").json()["versions"][0]
    assert [(x["who"], x["action_name"], x["comment"]) for x in version["reviews"]] == [
        ("trainer", "提交审核", ""), ("reviewer", "退回修改", "补上回访的具体时间"), ("trainer", "提交审核", ""),
        ("reviewer", "批准发布", "")]
    published = (tmp_path / "cases" / "diku-jishui-paoche-yezhu-yaoqiu.md").read_text(encoding="utf-8")
    assert "下午三点回访" in published
    assert 'reviewed_by: "李审核"' in published and "reviewed_at: " in published
    assert not [p for p in (tmp_path / "cases").iterdir() if p.suffix != ".md"]  # no temp file left
    from search.library.check import check_library

    assert check_library(tmp_path / "cases").problems == []  # the published file passes caselib check


def test_a_stale_save_is_a_409_with_both_texts_never_an_overwrite(app):
    a, b = sign_in(app, "trainer"), sign_in(app, "trainer2")
    d = a.post("/api/drafts", json={"text": NEW}).json()
    first = b.put(f"/api/drafts/{d['id']}", json={"text": NEW.replace("下午回访", "下午两点回访"), "version": 1})
    assert first.status_code == 200
    stale = a.put(f"/api/drafts/{d['id']}", json={"text": NEW.replace("下午回访", "傍晚回访"), "version": 1})
    assert stale.status_code == 409
    err = stale.json()["error"]
    assert err["code"] == "conflict" and err["field"] == "version" and err["current_version"] == 2
    assert err["message"] == "草稿 1 已被赵培训保存过（现在是第 2 版，你的修改基于第 1 版）— 对照两份内容合并后再保存"
    assert "下午两点回访" in err["current_text"] and "傍晚回访" in err["your_text"]
    assert "下午两点回访" in a.get(f"/api/drafts/{d['id']}").json()["text"]


def test_editing_a_published_case_shows_a_diff_and_refuses_to_publish_over_a_changed_file(app, tmp_path):
    t, r = sign_in(app, "trainer"), sign_in(app, "reviewer")
    d = t.post("/api/drafts", json={"slug": "lift-stopped"})
    assert d.status_code == 201 and d.json()["kind"] == "edit"
    same = t.post("/api/drafts", json={"slug": "lift-stopped"})
    assert (same.status_code, same.json()["id"]) == (200, d.json()["id"])  # one open draft per case
    text = d.json()["text"].replace("下午回访", "下午四点回访")
    t.put(f"/api/drafts/{d.json()['id']}", json={"text": text, "version": 1})
    t.post(f"/api/drafts/{d.json()['id']}/submit")
    review = r.get(f"/api/drafts/{d.json()['id']}").json()
    assert "-客服小李先致歉，十分钟内到场张贴告示，维保单位半小时后修好，下午回访。" in review["diff"]
    assert "+客服小李先致歉，十分钟内到场张贴告示，维保单位半小时后修好，下午四点回访。" in review["diff"]
    assert "<h1" in review["preview_html"]

    case = tmp_path / "cases" / "lift-stopped.md"
    case.write_text(case.read_text(encoding="utf-8").replace("早上八点", "早上七点半"), encoding="utf-8")  # someone edits the file
    conflict = r.post(f"/api/drafts/{d.json()['id']}/approve")
    assert conflict.status_code == 409
    err = conflict.json()["error"]
    assert err["message"] == "案例 cases/lift-stopped.md 在这份草稿开始之后被改过 — 退回草稿，让作者从最新的版本重新修改"
    assert "早上七点半" in err["current_text"] and "下午四点回访" in err["your_text"]
    assert "早上七点半" in case.read_text(encoding="utf-8")  # untouched


def test_history_lists_every_published_version_and_a_reviewer_can_restore_one(app, tmp_path):
    t, r, r2 = sign_in(app, "trainer"), sign_in(app, "reviewer"), sign_in(app, "reviewer2")
    first = t.get("/api/cases/lift-stopped/history").json()
    assert [v["number"] for v in first["versions"]] == [1]
    d = t.post("/api/drafts", json={"slug": "lift-stopped"}).json()
    t.put(f"/api/drafts/{d['id']}", json={"text": d["text"].replace("下午回访", "下午四点回访"), "version": 1})
    t.post(f"/api/drafts/{d['id']}/submit")
    r.post(f"/api/drafts/{d['id']}/approve")
    versions = t.get("/api/cases/lift-stopped/history").json()["versions"]
    assert [(v["number"], v["author"], v["approver"]) for v in versions] == [(2, "王培训", "李审核"), (1, "（启用编辑器之前）", "—")]
    v2 = t.get("/api/cases/lift-stopped/history/2").json()
    assert "+客服小李先致歉，十分钟内到场张贴告示，维保单位半小时后修好，下午四点回访。" in v2["diff"]

    restored = r.post("/api/cases/lift-stopped/restore", json={"version": 1})
    assert restored.status_code == 201
    rd = restored.json()
    assert (rd["status"], rd["kind"], rd["note"]) == ("in_review", "restore", "恢复到第 1 版")
    own = r.post(f"/api/drafts/{rd['id']}/approve")
    assert own.status_code == 403
    assert own.json()["error"]["message"].startswith("不能审核自己写的草稿")
    assert r2.post(f"/api/drafts/{rd['id']}/approve").json()["status"] == "published"
    assert "下午四点回访" not in (tmp_path / "cases" / "lift-stopped.md").read_text(encoding="utf-8")
    latest = t.get("/api/cases/lift-stopped/history").json()["versions"][0]
    assert (latest["number"], latest["summary"], latest["approver"]) == (3, "恢复到第 1 版", "孙审核")


def test_self_approval_is_allowed_only_when_configured(tmp_path, make_authoring_app):
    settings, app = make_authoring_app(tmp_path, allow_self_approval=True)
    r = sign_in(app, "reviewer")
    d = r.post("/api/drafts", json={"text": NEW}).json()
    r.post(f"/api/drafts/{d['id']}/submit")
    assert r.post(f"/api/drafts/{d['id']}/approve").json()["status"] == "published"


def test_approval_commits_to_git_with_author_and_approver(tmp_path, make_authoring_app):
    settings, app = make_authoring_app(tmp_path)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "cases"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    t, r = sign_in(app, "trainer"), sign_in(app, "reviewer")
    d = t.post("/api/drafts", json={"text": NEW}).json()
    t.post(f"/api/drafts/{d['id']}/submit")
    r.post(f"/api/drafts/{d['id']}/approve")
    log = subprocess.run(["git", "-C", str(tmp_path), "log", "-1", "--format=%an <%ae>%n%B"], capture_output=True, text=True).stdout
    assert log.startswith("王培训 <trainer@caselib>\n案例：地库积水泡车业主要求赔偿（diku-jishui-paoche-yezhu-yaoqiu）")
    assert "作者：王培训（trainer）" in log and "审核：李审核（reviewer）" in log
    status = subprocess.run(["git", "-C", str(tmp_path), "status", "--porcelain", "cases"], capture_output=True, text=True).stdout
    assert status == ""


def test_reject_needs_a_comment_and_only_waiting_drafts_can_be_reviewed(app):
    t, r = sign_in(app, "trainer"), sign_in(app, "reviewer")
    d = t.post("/api/drafts", json={"text": NEW}).json()
    early = r.post(f"/api/drafts/{d['id']}/approve")
    assert early.status_code == 409
    assert early.json()["error"]["message"] == "草稿 1 现在是“草稿”，不在待审核状态 — 刷新审核列表"
    t.post(f"/api/drafts/{d['id']}/submit")
    empty = r.post(f"/api/drafts/{d['id']}/reject", json={"comment": "  "})
    assert empty.status_code == 422
    assert empty.json()["error"] == {"code": "invalid_parameter", "field": "comment",
                                     "message": "退回时要写明哪里需要改 — 如“经过里缺少回访时间，请补上”"}
    locked = t.put(f"/api/drafts/{d['id']}", json={"text": NEW + "\n", "version": 1})
    assert locked.status_code == 409 and locked.json()["error"]["field"] == "status"


def test_a_blank_draft_starts_from_the_template_with_the_next_id(app):
    t = sign_in(app, "trainer")
    d = t.post("/api/drafts", json={}).json()
    assert "id: C0904" in d["text"]  # the library has C0901-C0903
    assert "章节“## 经过”还是模板里的说明文字" in [p["message"] for p in d["problems"]]
    listed = t.get("/api/drafts").json()["drafts"]
    assert [x["id"] for x in listed] == [d["id"]] and "text" not in listed[0]


def test_preview_renders_like_the_site_and_keeps_script_as_text(app):
    t = sign_in(app, "trainer")
    html = t.post("/api/preview", json={"text": NEW.replace("早上八点", "<script>alert(1)</script>早上八点")}).json()["html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<div class="cl-badges">' in html  # the same page Markdown as the site's case page
    assert 'href="../principles/1.html"' in html and ".md" not in html  # links to the built pages
    broken = t.post("/api/preview", json={"text": "## 经过\n\n<img src=x onerror=alert(1)>"}).json()["html"]
    assert "<img" not in broken and "草稿还有格式问题" in broken


def test_import_turns_a_word_report_into_a_draft_and_refuses_other_files(app):
    from tests.test_docx_import import synonyms_report

    t = sign_in(app, "trainer")
    r = t.post("/api/import", params={"filename": "电梯投诉报告.docx"}, content=synonyms_report(),
               headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["status"] == "draft" and d["kind"] == "new" and "id: C0904" in d["text"]
    assert "文档里没有找到这些章节：## 接听要点；保留了模板里的说明文字，请补写" in d["notes"]
    assert "章节“## 接听要点”还是模板里的说明文字" in [p["message"] for p in d["problems"]]
    before = t.get("/api/drafts").json()["drafts"]
    bad = t.post("/api/import", params={"filename": "报告.doc"}, content=b"\xd0\xcf\x11\xe0 old word",
                 headers={"Content-Type": "application/octet-stream"})
    assert bad.status_code == 422
    err = bad.json()["error"]
    assert (err["code"], err["field"]) == ("not_a_word_file", "file")
    assert err["message"].startswith("文件“报告.doc”不是 Word 文档（.docx）：")
    assert t.get("/api/drafts").json()["drafts"] == before  # nothing created
    audit = sign_in(app, "admin").get("/api/audit").json()["entries"]
    assert [e["action_name"] for e in audit if e["action"] == "draft_import"] == ["导入 Word"]


def test_an_id_used_by_another_case_is_a_problem_quoted_or_not(app):
    t = sign_in(app, "trainer")
    for line in ('id: C0902', 'id: "C0902"', "id: 'C0902'"):
        problems = t.post("/api/validate", json={"text": NEW.replace("id: C0950", line)}).json()["problems"]
        assert [(p["field"], p["message"]) for p in problems] == [("id", "id C0902 已被 cases/radiator-cold.md 使用")], line
