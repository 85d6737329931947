"""CLI faces: exit codes and exact messages; fast commands must not import the model stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from search.cli import cli
from tests.conftest import GOOD_CASE, REPO, write_case


def run(root: Path, *args: str):
    return CliRunner().invoke(cli, ["--root", str(root), *args])


def test_check_clean_exits_0(library):
    result = run(library, "check")
    assert result.exit_code == 0
    assert result.output == "全部 1 个案例校验通过。\n"


def test_check_broken_exits_1_with_file_line(library):
    write_case(library, "lift-stopped", GOOD_CASE.replace("level: 一般", "level: 特大"))
    result = run(library, "check")
    assert result.exit_code == 1
    assert result.output == (
        "cases/lift-stopped.md:6: level 的值“特大”不在允许范围内（可选：重大、重要、热点、一般） — 改为允许的值之一（投诉等级）\n"
        "Error: 发现 1 处问题，涉及 1 个文件；按每行“—”后的提示修改后再运行 caselib check\n"
    )


def test_check_empty_library_helps(tmp_path):
    (tmp_path / "cases").mkdir()
    result = run(tmp_path, "check")
    assert result.exit_code == 0
    assert "还没有案例。用 caselib new 新建第一个。" in result.output


def test_unknown_command_is_usage_error(library):
    assert run(library, "frobnicate").exit_code == 2


def test_fast_commands_do_not_import_the_model_stack():
    """check and --help must answer without torch / sentence-transformers (5 s to import)."""
    code = (
        "import sys; from click.testing import CliRunner; from search.cli import cli;"
        "r1 = CliRunner().invoke(cli, ['--help']); r2 = CliRunner().invoke(cli, ['--root', sys.argv[1], 'check']);"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'faiss') if m in sys.modules];"
        "print(r1.exit_code, r2.exit_code, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, cwd=REPO, env=dict(os.environ))
    assert out.stdout.strip() == "0 0 []", out.stderr


def test_every_command_is_documented_in_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"caselib {name}" not in readme]
    assert missing == []
