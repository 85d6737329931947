"""`caselib new`: template, next id, slug suggestion, refusals; and the trainer's full loop."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from search.cli import cli
from search.library.newcase import next_id, suggest_slug
from tests.conftest import REPO, make_case, write_case

NEW_ARGS = ["new", "--title", "周六地库积水泡车，业主要求赔偿", "--category", "突发事件", "--level", "重要", "--channel", "电话", "--date", "2026-11"]


def run(root, *args, input=None):
    return CliRunner().invoke(cli, ["--root", str(root), *args], input=input)


def test_new_creates_file_with_next_id_and_pinyin_slug(library):
    write_case(library, "another", make_case(id="C0907"))
    result = run(library, *NEW_ARGS)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "已创建 cases/zhouliu-diku-jishui-paoche.md"
    text = (library / "cases" / "zhouliu-diku-jishui-paoche.md").read_text(encoding="utf-8")
    assert "id: C0908\n" in text and 'date: "2026-11"' in text and "level: 重要" in text


def test_fresh_template_does_not_pass_check(library):
    run(library, *NEW_ARGS)
    result = run(library, "check")
    assert result.exit_code == 1
    assert "cases/zhouliu-diku-jishui-paoche.md:14: summary 还是模板里的说明文字 — 用一两句话写这次投诉：谁、在哪里、因为什么、结果如何" in result.output
    assert "cases/zhouliu-diku-jishui-paoche.md:18: 章节“## 经过”还是模板里的说明文字" in result.output


def test_new_refuses_duplicate_slug_and_bad_values(library):
    result = run(library, *NEW_ARGS, "--slug", "lift-stopped")
    assert result.exit_code == 1 and "已存在 — 换一个 slug（如 lift-stopped-2），或直接编辑已有文件" in result.output
    bad = [a if a != "重要" else "特大" for a in NEW_ARGS]
    result = run(library, *bad)
    assert result.exit_code == 1 and "level 的值“特大”不在允许范围内 — 可选：重大、重要、热点、一般" in result.output


def test_new_without_a_terminal_names_the_missing_flag(library):
    result = run(library, "new", "--title", "地库积水泡车")
    assert result.exit_code == 2 and "缺少 --category" in result.output


def test_slug_suggestions_are_unique(library):
    assert suggest_slug("电梯停运：业主被困", library / "cases") == "dianti-tingyun"
    write_case(library, "dianti-tingyun", make_case(id="C0950"))
    assert suggest_slug("电梯停运：业主被困", library / "cases") == "dianti-tingyun-2"
    assert next_id(library / "cases") == "C0951"


def test_new_and_check_do_not_import_the_model_stack(library):
    code = (
        "import sys; from click.testing import CliRunner; from search.cli import cli;"
        f"r = CliRunner().invoke(cli, ['--root', sys.argv[1]] + {NEW_ARGS!r});"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'jieba') if m in sys.modules];"
        "print(r.exit_code, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(library)], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "0 []", out.stderr
