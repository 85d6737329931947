"""`caselib import`: real .docx reports built with python-docx become case drafts in the
template's format; what the importer guessed or could not place is in the notes, and what
is still missing is what `caselib check` reports on the written file."""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pydantic import ValidationError

from search.cli import cli
from search.errors import ImportFailed
from search.library.cases import SECTIONS
from search.library.check import check_file
from search.library.docx_import import MAX_BYTES, import_docx
from search.library.reference import REFERENCE_FILE, Reference, load_reference
from search.library.template import guidance

REF = load_reference()
TODAY = date(2026, 11, 24)
SAVE_AS = "在 Word 里“另存为”→“Word 文档 (*.docx)”后再导入"
CHECK_TEMPLATE_FIX = "换成这次投诉的实际内容（可参考 cases/ 下的已有案例）"
SUMMARY_PROBLEM = "summary 还是模板里的说明文字 — 用一两句话写这次投诉：谁、在哪里、因为什么、结果如何"

TITLE = "电梯困在七楼二十分钟，业主要求赔偿"
STORY = "2023年5月6日晚上七点四十，业主王先生来电，说电梯停在七楼不动，孩子在里面哭。"
HANDLING = "客服小李先致歉，通知维保单位，二十分钟后把人放出来，次日上门回访。"
ANALYSIS = "符合原则一：先假定是我们的问题。"
PREVENTION = "每月检查电梯运行记录。"
META_LINES = ("投诉等级：一般", "投诉渠道：电话", "投诉类别：突发事件")


def build(*steps) -> bytes:
    """A .docx made by applying each step (a function of the Document) in turn."""
    d = docx.Document()
    for step in steps:
        step(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def paras(*texts, style=None):
    return lambda d: [d.add_paragraph(t, style=style) for t in texts]


def heading(text, level=2):
    return lambda d: d.add_heading(text, level)


def bold_label(label, text):
    def step(d):
        p = d.add_paragraph()
        p.add_run(label).bold = True
        p.add_run(text)
    return step


def numbered(text, num_id):
    """A paragraph numbered the way Word numbers one (w:numPr), not by a List style."""
    def step(d):
        p = d.add_paragraph(text)
        num_pr = OxmlElement("w:numPr")
        for tag, val in (("w:ilvl", "0"), ("w:numId", num_id)):
            el = OxmlElement(tag)
            el.set(qn("w:val"), val)
            num_pr.append(el)
        p._p.get_or_add_pPr().append(num_pr)
    return step


def synonyms_report(*extra) -> bytes:
    """Heading 2 sections named with synonyms; no 接听要点."""
    return build(lambda d: d.add_paragraph(TITLE, style="Title"), paras(*META_LINES),
                 heading("事件经过"), paras(STORY), heading("处理过程"), paras(HANDLING),
                 heading("原因分析"), paras(ANALYSIS), heading("整改措施"), paras(PREVENTION, style="List Bullet"), *extra)


def sections(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^## (\S+)\n\n(.*?)(?=^## |\Z)", text, re.M | re.S)}


def front(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def imported(data: bytes, **kw):
    return import_docx(data, REF, "报告.docx", today=TODAY, **kw)


def written_problems(library: Path, text: str, name: str = "lift-stuck.md") -> list[str]:
    path = library / "cases" / name
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in check_file(path, REF, library / "cases", root=library)[1]]


# ---------------------------------------------------------------- sections


def test_heading_styled_synonyms_map_onto_the_sections():
    draft = imported(synonyms_report())
    got = sections(draft.text)
    assert list(got) == list(SECTIONS)
    assert got["经过"] == STORY
    assert got["处理"] == HANDLING
    assert got["分析"] == ANALYSIS
    assert got["预防措施"] == "- " + PREVENTION
    assert (draft.title, draft.date, draft.category) == (TITLE, "2023-05", "突发事件")
    meta = front(draft.text)
    assert (meta["id"], meta["level"], meta["channel"], meta["title"]) == ("C0000", "一般", "电话", TITLE)
    assert draft.slug == "dianti-kunzai-qilou-ershi-fenzhong"
    assert draft.notes == [
        "date 取自文档里的第一个日期“2023年5月6日”，请核对是投诉发生的年月",
        "文档里没有找到这些章节：## 接听要点；保留了模板里的说明文字，请补写",
    ]


def test_a_missing_section_keeps_the_guidance_and_check_reports_it(library):
    draft = imported(synonyms_report(), case_id="C0902")
    agent_guidance = guidance()[0]["接听要点"]
    assert agent_guidance in sections(draft.text)["接听要点"]
    line = draft.text.split("\n").index("## 接听要点") + 1
    assert written_problems(library, draft.text) == [
        f"cases/lift-stuck.md:14: {SUMMARY_PROBLEM}",
        f"cases/lift-stuck.md:{line}: 章节“## 接听要点”还是模板里的说明文字 — {CHECK_TEMPLATE_FIX}",
    ]


def test_a_complete_report_leaves_only_the_summary_to_write(library):
    def agent_points(d):
        bold_label("先说：", "“您好，给您添麻烦了，我马上派人过去。”")(d)
        d.add_paragraph().add_run("先做：").bold = True
        paras("记下楼栋和时间", "通知维保单位", "隔门安抚业主", style="List Number")(d)
        d.add_paragraph().add_run("别说：").bold = True
        paras("“不可能坏。”（禁语一）", "“维保的事我们管不了。”（推卸责任）", style="List Bullet")(d)

    draft = imported(synonyms_report(heading("应答要点"), agent_points))
    assert sections(draft.text)["接听要点"] == (
        "**先说**：“您好，给您添麻烦了，我马上派人过去。”\n\n**先做**：\n\n1. 记下楼栋和时间\n2. 通知维保单位\n3. 隔门安抚业主\n\n"
        "**别说**：\n\n- “不可能坏。”（禁语一）\n- “维保的事我们管不了。”（推卸责任）"
    )
    assert written_problems(library, draft.text) == [f"cases/lift-stuck.md:14: {SUMMARY_PROBLEM}"]


def test_bold_labels_colon_labels_and_numbered_lines_open_sections():
    data = build(paras("案例名称：电梯困人业主要求赔偿"), bold_label("事件经过：", STORY), paras("一、处理经过", HANDLING),
                 bold_label("原因分析", "：" + ANALYSIS), paras("防范措施：" + PREVENTION, "话术：先道歉，再说到场时间。"))
    draft = imported(data)
    got = sections(draft.text)
    assert draft.title == "电梯困人业主要求赔偿"
    assert (got["经过"], got["处理"], got["分析"], got["预防措施"]) == (STORY, HANDLING, ANALYSIS, PREVENTION)
    assert got["接听要点"] == "先道歉，再说到场时间。"


def test_a_heading_may_go_on_after_a_connector_and_a_deeper_heading_stays_inside():
    data = build(heading("事件经过"), paras(STORY), heading("处理过程及结果"), heading("第一次回访", 3), paras(HANDLING))
    got = sections(imported(data).text)
    assert got["处理"] == "### 第一次回访\n\n" + HANDLING


def test_content_before_the_first_heading_and_under_unknown_headings_goes_to_the_end_of_the_story():
    data = build(paras(TITLE, "本报告由客服中心整理。"), heading("事件经过"), paras(STORY),
                 heading("处理过程"), paras(HANDLING), heading("附件说明"), paras("监控截图另附。"))
    draft = imported(data)
    assert draft.title == TITLE
    assert sections(draft.text)["经过"] == f"{STORY}\n\n本报告由客服中心整理。\n\n**附件说明**\n\n监控截图另附。"
    assert sections(draft.text)["处理"] == HANDLING
    assert "有 3 段内容没有对应的章节，已放进“经过”末尾，请移到合适的位置；认不出的标题：“附件说明”" in draft.notes
    assert f"标题取自文档开头的一行“{TITLE}”，请核对" in draft.notes


# ---------------------------------------------------------------- content


def test_tables_and_lists_become_markdown():
    def table(d):
        t = d.add_table(rows=3, cols=2)
        for r, row in enumerate([("时间", "动作"), ("19:40", "客服接到电话"), ("20:00", "维保到场 | 放人")]):
            for c, text in enumerate(row):
                t.cell(r, c).text = text

    data = build(heading("处理过程"), table, paras("到场", "致歉", style="List Number"),
                 numbered("通知维保", "5"), numbered("回访", "5"), paras("说明"), numbered("带上检测报告", "1"))
    assert sections(imported(data).text)["处理"] == (
        "| 时间 | 动作 |\n| --- | --- |\n| 19:40 | 客服接到电话 |\n| 20:00 | 维保到场 \\| 放人 |\n\n"
        "1. 到场\n2. 致歉\n3. 通知维保\n4. 回访\n\n说明\n\n- 带上检测报告"
    )


def test_bold_runs_become_markdown_and_no_line_becomes_a_heading():
    def mixed(d):
        p = d.add_paragraph("业主说：")
        p.add_run("马上派人 ").bold = True
        p.add_run("<b>不要推</b>")
    data = build(heading("事件经过"), mixed, paras("# 这不是标题", "## 也不是"))
    assert sections(imported(data).text)["经过"] == "业主说：**马上派人** <b>不要推</b>\n\n\\# 这不是标题\n\n\\## 也不是"


def test_personal_data_is_kept_counted_and_flagged_by_check(library):
    data = synonyms_report(heading("接听要点"), paras("业主留的电话是 13812345678。"))
    draft = imported(data)
    assert "13812345678" in draft.text
    assert "草稿里有 1 处个人信息（手机号码 1 处），导入时原样保留；caselib check 会逐条列出，发布前请改写" in draft.notes
    problems = written_problems(library, draft.text)
    assert any(p.endswith("含有不能公开的个人信息：手机号码“13812345678” — 删除号码，写“业主留了联系电话”即可") for p in problems)


# ---------------------------------------------------------------- front matter


def test_without_date_level_channel_or_category_the_defaults_are_noted():
    draft = imported(build(paras("暖气不热，业主三次来电"), heading("事件经过"), paras("业主说家里暖气一直不热。")))
    assert draft.date == "2026-11" and draft.category is None
    meta = front(draft.text)
    assert (meta["level"], meta["channel"], meta["category"]) == ("一般", "电话", REF.category_names[0])
    assert draft.notes[:4] == [
        "标题取自文档开头的一行“暖气不热，业主三次来电”，请核对",
        "文档里没有找到日期，date 暂填 2026-11，请改成投诉发生的年月",
        f"没能判断投诉类别，暂填“{REF.category_names[0]}”，请从 {'、'.join(REF.category_names)} 中选一个",
        f"文档里没有写投诉等级，暂填“一般”，请核对（可选：{'、'.join(REF.level_names)}）",
    ]
    assert draft.notes[4] == f"文档里没有写投诉渠道，暂填“电话”，请核对（可选：{'、'.join(REF.channels)}）"


def test_labelled_values_and_the_document_title_property_are_used():
    def props(d):
        d.core_properties.title = "物业费上涨，业主要求公开账目"
    draft = imported(build(props, paras("日期：2024/03/15", "投诉等级：重大", "投诉渠道：来访"), heading("事件经过"), paras("业主来访。")))
    meta = front(draft.text)
    assert (draft.title, draft.date, meta["level"], meta["channel"]) == ("物业费上涨，业主要求公开账目", "2024-03", "重大", "来访")
    assert "标题取自文档属性里的标题“物业费上涨，业主要求公开账目”，请核对" in draft.notes
    assert not any(n.startswith("date") for n in draft.notes)  # a labelled date is not a guess
    assert "日期" not in sections(draft.text)["经过"]


def test_the_category_is_guessed_only_on_clear_words():
    text = "小区突然停水停电，电梯困人，车辆失窃。"
    draft = imported(build(heading("事件经过"), paras(text)))
    assert draft.category == "突发事件"
    assert draft.notes[2] == "投诉类别按正文里的词（停水、停电、困人、失窃、电梯困人、突然、车辆）判断为“突发事件”，请核对"


@pytest.mark.parametrize(("title", "expected", "note"), [
    ("周" * 70, "周" * 60, f"标题超过 60 个字，已截短为“{'周' * 60}”，请改写"),
    ("电梯困人，" + "业" * 70, "电梯困人", "标题超过 60 个字，已截短为“电梯困人”，请改写"),
    ("投诉", "报告改名", "标题“投诉”不到 4 个字，暂用“报告改名”，请改成说清事情和结果的标题"),
    ("key: value # 不是注释", "key: value # 不是注释", None),
])
def test_the_title_fits_the_schema(title, expected, note):
    draft = import_docx(build(lambda d: d.add_paragraph(title, style="Title"), heading("事件经过"), paras(STORY)),
                        REF, "报告改名.docx", today=TODAY)
    assert draft.title == expected and front(draft.text)["title"] == expected
    assert (note in draft.notes) if note else not any("标题" in n for n in draft.notes)


def test_no_title_at_all_falls_back():
    draft = import_docx(build(heading("事件经过"), paras(STORY)), REF, today=TODAY)
    assert draft.title == "待补充标题的投诉案例"
    assert draft.notes[0] == "文档里没有找到标题，暂用“待补充标题的投诉案例”，请改成说清事情和结果的标题"


def test_the_slug_is_unique_in_the_cases_folder(library):
    (library / "cases" / "dianti-kunzai-qilou-ershi-fenzhong.md").write_text("x", encoding="utf-8")
    assert imported(synonyms_report(), cases_dir=library / "cases").slug == "dianti-kunzai-qilou-ershi-fenzhong-2"


# ---------------------------------------------------------------- not a .docx


def _zip_without_body() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


NOT_DOCX = {
    "old-doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "这是旧版 Word 97-2003 文档（.doc），或者加了密码"),
    "text": ("事件经过：业主来电。".encode(), "文件内容不是 .docx 格式（可能是 .doc、.wps、PDF 或改了扩展名的其他文件）"),
    "random": (bytes(range(256)) * 40, "文件内容不是 .docx 格式（可能是 .doc、.wps、PDF 或改了扩展名的其他文件）"),
    "zip": (_zip_without_body(), "它是压缩包，但里面没有 Word 正文（word/document.xml）"),
}


@pytest.mark.parametrize("kind", NOT_DOCX)
def test_a_file_that_is_not_a_docx_is_refused_with_the_way_to_fix_it(kind):
    data, reason = NOT_DOCX[kind]
    with pytest.raises(ImportFailed) as e:
        import_docx(data, REF, "x.docx")
    assert str(e.value) == f"文件“x.docx”不是 Word 文档（.docx）：{reason} — {SAVE_AS}"


def test_a_damaged_docx_empty_document_or_huge_file_is_refused():
    broken = build(heading("事件经过"), paras(STORY))
    with zipfile.ZipFile(io.BytesIO(broken)) as z:
        files = {n: z.read(n) for n in z.namelist()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in files.items():
            z.writestr(name, b"<w:document" if name == "word/document.xml" else content)
    cases = [
        (buf.getvalue(), f"文件“x.docx”不是 Word 文档（.docx）：文件已损坏或不完整，无法读取 — {SAVE_AS}"),
        (build(paras("", "   ")), "文件“x.docx”里没有文字 — 检查是不是选错了文件；文字在文本框或图片里的，先复制到正文再导入"),
        (bytes(MAX_BYTES + 1), "文件“x.docx”太大（20.0 MB，上限 20 MB）— 案例只需要文字：删掉文档里的图片，或把文字复制到新的 Word 文档后再导入"),
    ]
    for data, message in cases:
        with pytest.raises(ImportFailed) as e:
            import_docx(data, REF, "x.docx")
        assert str(e.value) == message


# ---------------------------------------------------------------- reference data


def test_import_headings_name_real_sections_and_are_optional(tmp_path):
    assert [section for section, _ in REF.import_headings] == list(SECTIONS)
    assert hash(REF)  # still hashable, as before the field
    raw = yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))
    del raw["import_headings"]
    assert Reference.model_validate(raw).import_headings == ()
    raw["import_headings"] = {"经过": ["事件经过"], "处理": ["事件经过"]}
    with pytest.raises(ValidationError, match="import_headings 中有标题同时归到两个章节：事件经过"):
        Reference.model_validate(raw)


# ---------------------------------------------------------------- caselib import


def run(library: Path, *args):
    return CliRunner().invoke(cli, ["--root", str(library), "import", *args])


def test_cli_prints_the_draft_with_the_next_id(library, tmp_path):
    report = tmp_path / "报告.docx"
    report.write_bytes(synonyms_report())
    result = run(library, str(report))
    assert result.exit_code == 0, result.output
    assert front(result.stdout)["id"] == "C0902"  # the library fixture holds C0901
    assert sections(result.stdout)["经过"] == STORY
    assert "提示：文档里没有找到这些章节：## 接听要点；保留了模板里的说明文字，请补写" in result.stderr
    dest = os.path.relpath(library / "cases" / "dianti-kunzai-qilou-ershi-fenzhong.md")
    assert result.stderr.endswith(f"提示：建议保存为 {dest}：caselib import {report} -o {dest}\n")
    assert sorted(p.name for p in (library / "cases").iterdir()) == ["lift-stopped.md"]


def test_cli_writes_the_file_then_lists_what_check_reports(library, tmp_path):
    report = tmp_path / "报告.docx"
    report.write_bytes(synonyms_report())
    out = library / "cases" / "lift-stuck.md"
    result = run(library, str(report), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"已创建 {out}\n"
    text = out.read_text(encoding="utf-8")
    line = text.split("\n").index("## 接听要点") + 1
    assert result.stderr.splitlines()[-3:] == [
        f"cases/lift-stuck.md:14: {SUMMARY_PROBLEM}",
        f"cases/lift-stuck.md:{line}: 章节“## 接听要点”还是模板里的说明文字 — {CHECK_TEMPLATE_FIX}",
        "草稿还有 2 处要改：按每行“—”后的提示修改，然后运行 caselib check，通过后再 caselib build 发布。",
    ]
    assert result.stderr.startswith("提示：date 取自文档里的第一个日期“2023年5月6日”，请核对是投诉发生的年月\n")
    assert sorted(p.name for p in (library / "cases").iterdir()) == ["lift-stopped.md", "lift-stuck.md"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # as `caselib new` writes, not a temp file's 0600


def test_cli_says_when_the_file_is_outside_cases(library, tmp_path):
    report = tmp_path / "报告.docx"
    report.write_bytes(synonyms_report())
    out = tmp_path / "drafts" / "lift-stuck.md"
    result = run(library, str(report), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"提示：{out} 不在 {library / 'cases'} 里，caselib build 不会收录；放进去后再运行 caselib check" in result.stderr
    assert out.read_text(encoding="utf-8").startswith("---\nid: C0902\n")


def test_cli_never_overwrites(library, tmp_path):
    report = tmp_path / "报告.docx"
    report.write_bytes(synonyms_report())
    out = library / "cases" / "lift-stopped.md"
    before = out.read_bytes()
    result = run(library, str(report), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {out} 已存在，没有覆盖 — 换一个文件名，或先删除/改名旧文件\n"
    assert out.read_bytes() == before
    assert sorted(p.name for p in (library / "cases").iterdir()) == ["lift-stopped.md"]


@pytest.mark.parametrize("content", [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "只是文本".encode(), bytes(range(256))])
def test_cli_refuses_a_file_that_is_not_a_docx_and_writes_nothing(library, tmp_path, content):
    report = tmp_path / "旧报告.docx"
    report.write_bytes(content)
    result = run(library, str(report), "-o", str(library / "cases" / "old.md"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 文件“旧报告.docx”不是 Word 文档（.docx）：")
    assert result.stderr.endswith(f" — {SAVE_AS}\n")
    assert sorted(p.name for p in (library / "cases").iterdir()) == ["lift-stopped.md"]


def test_a_category_keyword_list_in_reference_yaml_feeds_the_guess():
    """keywords: in reference.yaml are domain facts like the definitions: a story with a
    category's own words (物业费、涨价、账目、公示) is guessed as that category."""
    draft = imported(build(heading("事件经过"), paras("业主说物业费涨价了，账目从来不公示，要求退费。")))
    assert draft.category == "收费"
    assert "判断为“收费”，请核对" in draft.notes[2]
