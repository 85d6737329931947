"""`caselib check`: every error kind, with its exact line and message."""

from __future__ import annotations

from pathlib import Path

from search.library.check import check_library
from tests.conftest import GOOD_CASE, make_case, write_case


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_library(root / "cases", root=root).problems]


def test_good_library_is_clean(library):
    report = check_library(library / "cases", root=library)
    assert report.problems == []
    assert [c.slug for c in report.cases] == ["lift-stopped"]
    case = report.cases[0]
    assert case.agent.say == "“您好，给您添麻烦了，我马上安排人到现场。”"
    assert case.agent.do == ["记录楼栋和时间", "通知维保单位", "张贴停运告示"]
    assert case.agent.avoid == ["“不可能坏。”（禁语一）", "“维保单位的事，我们管不了。”（推卸责任）"]


def test_shipped_cases_are_clean():
    root = Path(__file__).resolve().parent.parent
    report = check_library(root / "cases", root=root)
    assert report.problems == []
    assert len(report.cases) >= 27


def test_missing_key(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("channel: 电话\n", ""))
    assert problems(library) == [
        "cases/lift-stopped.md:14: 缺少必填字段 channel — 在结束的 --- 之前加一行 channel: …（投诉渠道）"
    ]


def test_unknown_key_suggests_the_right_one(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("level: 一般", "levle: 一般"))
    assert problems(library) == [
        "cases/lift-stopped.md:6: 未知字段 levle — 是不是想写 level？删除或改名；"
        "允许的字段：id, title, date, category, level, channel, outcome, principles, phrases, customer_type, tags, source, summary, owner_says, "
        "reviewed_by, reviewed_at",
        "cases/lift-stopped.md:15: 缺少必填字段 level — 在结束的 --- 之前加一行 level: …（投诉等级）",
    ]


def test_value_not_allowed(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("level: 一般", "level: 特大"))
    assert problems(library) == [
        "cases/lift-stopped.md:6: level 的值“特大”不在允许范围内（可选：重大、重要、热点、一般） — 改为允许的值之一（投诉等级）"
    ]


def test_unknown_principle_and_phrase_numbers(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("principles: [1, 3]", "principles: [1, 8]").replace("phrases: []", "phrases: [10]"))
    assert problems(library) == [
        "cases/lift-stopped.md:9: principles 中的编号 [8] 不存在：七项原则只有 1-7 — 改为 涉及的七项原则编号 1-7，如 [2, 3]",
        "cases/lift-stopped.md:10: phrases 中的编号 [10] 不存在：九句禁语只有 1-9 — 改为 涉及的九句禁语编号 1-9，没有则写 []，如 [2, 3]",
    ]


def test_duplicate_id(library):
    write_case(library, "lift-stopped-again", make_case(id="C0901"))
    assert problems(library) == [
        "cases/lift-stopped.md:2: id C0901 与 cases/lift-stopped-again.md 重复 — 改成未用过的编号（caselib new 会自动分配下一个）"
    ]


def test_duplicate_slug_ignoring_case(library):
    write_case(library, "Lift-Stopped", make_case(id="C0902"))
    out = problems(library)
    assert "cases/lift-stopped.md:1: slug“lift-stopped”与 cases/Lift-Stopped.md 重复（文件名不区分大小写） — 给其中一个文件改名" in out


def test_missing_section(library):
    text = GOOD_CASE.replace("## 预防措施\n\n- 每月检查电梯运行记录。\n\n", "")
    write_case(library, "lift-stopped", text)
    assert problems(library) == [
        "cases/lift-stopped.md:29: 缺少必填章节“## 预防措施” — 按顺序加上 ## 经过 → ## 处理 → ## 分析 → ## 预防措施 → ## 接听要点"
    ]


def test_empty_section(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("早上八点，业主王先生来电，说电梯停在一楼不动了，他要赶去上班。\n", ""))
    assert problems(library) == ["cases/lift-stopped.md:17: 章节“## 经过”是空的 — 把内容写上；写不出来的部分请说明“尚不清楚”"]


def test_unknown_section(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("## 分析", "## 分折"))
    out = problems(library)
    assert out[0] == "cases/lift-stopped.md:25: 未知章节“## 分折” — 是不是“分析”？正文只用这些二级标题：经过、处理、分析、预防措施、接听要点；小标题请用 ###"


def test_agent_block_parts_required(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("**别说**：\n\n- “不可能坏。”（禁语一）\n", ""))
    assert problems(library) == [
        "cases/lift-stopped.md:33: 接听要点缺少“**别说**：”下的列表（绝不能说的话） — 格式见模板：**先说**：“……” / **先做**：加编号列表 / **别说**：加列表"
    ]


def test_yaml_syntax_error_with_line(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("tags: [电梯, 停运]", "tags: [电梯, 停运"))
    out = problems(library)
    assert len(out) == 1
    assert out[0].startswith("cases/lift-stopped.md:13: front matter 的 YAML 语法错误：")
    assert out[0].endswith("— 检查这一行的缩进、冒号后的空格和引号是否成对；含冒号等符号的值请加引号")


def test_not_utf8(library):
    (library / "cases" / "lift-stopped.md").write_bytes(GOOD_CASE.encode("gbk"))
    assert problems(library) == [
        "cases/lift-stopped.md:3: 文件不是 UTF-8 编码（第 21 字节处无法解码） — 用编辑器“另存为 UTF-8”后再提交（Windows 记事本选“UTF-8”，不要选 ANSI/GBK）"
    ]


def test_empty_file(library):
    write_case(library, "lift-stopped", "")
    assert problems(library) == ["cases/lift-stopped.md:1: 文件是空的 — 用 caselib new 生成模板，或删除这个文件"]


def test_bad_slug_file_name(library):
    write_case(library, "Lift_Stopped2", make_case(id="C0903"))
    assert "cases/Lift_Stopped2.md:1: 文件名“Lift_Stopped2.md”不是合法的 slug — 只用小写英文字母、数字和连字符，如 radiator-not-warm.md" in problems(library)


def test_personal_data_in_case(library):
    text = GOOD_CASE.replace("业主王先生来电", "3栋2单元1502的业主王先生（13812345678）来电")
    write_case(library, "lift-stopped", text)
    assert problems(library) == [
        "cases/lift-stopped.md:19: 含有不能公开的个人信息：具体门牌号“3栋2单元1502” — 改成“9楼”“某栋高层”“楼上住户”，不写楼栋单元房号",
        "cases/lift-stopped.md:19: 含有不能公开的个人信息：手机号码“13812345678” — 删除号码，写“业主留了联系电话”即可",
    ]


def test_oversized_file_refused(library):
    write_case(library, "lift-stopped", GOOD_CASE + "填充" * 200_000)
    assert problems(library) == ["cases/lift-stopped.md:1: 文件过大（1172 KB，上限 256 KB） — 案例只写文字；删除粘贴进来的日志、图片或附件内容"]


def test_symlink_out_of_cases_refused(library, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.md"
    outside.write_text(make_case(id="C0904"), encoding="utf-8")
    (library / "cases" / "linked.md").symlink_to(outside)
    out = problems(library)
    assert len(out) == 1 and out[0].startswith("cases/linked.md:1: 符号链接指向 cases/ 以外的文件")


def test_all_problems_reported_not_just_first(library):
    write_case(library, "broken-a", make_case(id="C0905").replace("level: 一般", "level: 很大"))
    write_case(library, "broken-b", make_case(id="C0906").replace("source: 示例", "source: 网上"))
    files = {p.split(":")[0] for p in problems(library)}
    assert files == {"cases/broken-a.md", "cases/broken-b.md"}


def test_memo_reparses_only_changed_files_and_still_sees_new_problems(library, monkeypatch):
    import search.library.check as check_mod

    write_case(library, "card-jam", make_case("card-jam", id="C0902"))
    parsed: list[str] = []
    real = check_mod.check_file
    monkeypatch.setattr(check_mod, "check_file", lambda path, *a, **k: parsed.append(path.name) or real(path, *a, **k))
    memo: dict = {}
    assert check_library(library / "cases", root=library, memo=memo).problems == []
    assert sorted(parsed) == ["card-jam.md", "lift-stopped.md"]
    parsed.clear()
    assert [c.slug for c in check_library(library / "cases", root=library, memo=memo).cases] == ["lift-stopped", "card-jam"]
    assert parsed == []  # nothing changed: nothing parsed
    # an edit that breaks one file, then a second file taking the first one's id
    write_case(library, "card-jam", make_case("card-jam", id="C0902").replace("channel: 电话\n", ""))
    write_case(library, "lift-again", make_case("lift-again", id="C0901"))
    report = check_library(library / "cases", root=library, memo=memo)
    assert sorted(parsed) == ["card-jam.md", "lift-again.md"]
    assert [str(p) for p in report.problems] == [
        "cases/card-jam.md:14: 缺少必填字段 channel — 在结束的 --- 之前加一行 channel: …（投诉渠道）",
        "cases/lift-stopped.md:2: id C0901 与 cases/lift-again.md 重复 — 改成未用过的编号（caselib new 会自动分配下一个）",
    ]
    (library / "cases" / "card-jam.md").unlink()
    check_library(library / "cases", root=library, memo=memo)
    assert {p.name for p in memo} == {"lift-stopped.md", "lift-again.md"}
