"""`caselib user …` and `caselib audit`: accounts from the command line, exact messages."""

from __future__ import annotations

from click.testing import CliRunner

from search.cli import cli


def run(root, *args, input=None):
    return CliRunner().invoke(cli, ["--root", str(root), *args], input=input, env={})


def test_first_admin_then_list(library):
    assert run(library, "user", "list").output == "还没有账号。新增第一个管理员：caselib user add admin --role admin\n"
    r = run(library, "user", "add", "admin", "--role", "admin", "--display-name", "管理员", "--password-stdin", input="long-enough-1\n")
    assert (r.exit_code, r.output) == (0, "已新增 admin（管理员，admin）\n")
    r = run(library, "user", "add", "wang.li", "--role", "trainer", "--password-stdin", input="long-enough-2\n")
    assert r.exit_code == 0
    out = run(library, "user", "list").output.splitlines()
    assert out == ["admin                管理员  管理员", "wang.li              培训员  wang.li"]
    assert (library / ".caselib" / "caselib.sqlite3").is_file()


def test_bad_names_roles_and_passwords_get_clear_errors(library):
    r = run(library, "user", "add", "x", "--role", "trainer", "--password-stdin", input="long-enough-1\n")
    assert r.exit_code == 1
    assert "用户名“x”不合规 — 用 2-64 位英文字母、数字、点、横线或下划线，如 wang.li" in r.output
    r = run(library, "user", "add", "zhao", "--role", "trainer", "--password-stdin", input="short\n")
    assert r.exit_code == 1 and "密码太短：至少 8 位，现在是 5 位 — 换一个更长的密码" in r.output
    r = run(library, "user", "add", "zhao", "--role", "boss", "--password-stdin", input="long-enough-1\n")
    assert r.exit_code == 2 and "'boss' is not one of" in r.output  # click's own usage error
    run(library, "user", "add", "zhao", "--role", "trainer", "--password-stdin", input="long-enough-1\n")
    r = run(library, "user", "add", "zhao", "--role", "trainer", "--password-stdin", input="long-enough-1\n")
    assert r.exit_code == 1 and "用户名“zhao”已经有了 — 换一个，或用 caselib user passwd zhao 重设密码" in r.output
    r = run(library, "user", "passwd", "nobody", "--password-stdin", input="long-enough-1\n")
    assert r.exit_code == 1 and "没有用户“nobody” — 用 caselib user list 查看全部账号" in r.output


def test_passwd_and_disable_take_effect_and_are_audited(library):
    from search.authoring import accounts
    from search.authoring.db import open_database
    from search.errors import AuthRequired
    from search.settings import load_settings

    run(library, "user", "add", "zhao", "--role", "trainer", "--password-stdin", input="first-password\n")
    assert run(library, "user", "passwd", "zhao", "--password-stdin", input="second-password\n").output == "已重设 zhao 的密码\n"
    db = open_database(load_settings(library, env={}).db_url)
    with db.session() as s:
        assert accounts.login(s, "zhao", "second-password", 1).user.username == "zhao"
    assert run(library, "user", "disable", "zhao").output == "已停用 zhao\n"
    assert run(library, "user", "list").output.strip().endswith("已停用")
    try:
        with db.session() as s:
            accounts.login(s, "zhao", "second-password", 1)
        raise AssertionError("a disabled user signed in")
    except AuthRequired:
        pass
    db.close()
    log = run(library, "audit", "--since", "7d").output
    for action in ("新增账号", "修改密码", "登录", "停用账号", "登录失败"):
        assert action in log, action
    assert "second-password" not in log and "first-password" not in log


def test_audit_empty_and_bad_since(library):
    assert run(library, "audit").output == "没有操作记录。\n"
    r = run(library, "audit", "--since", "a week")
    assert r.exit_code == 1
    assert "since 的值“a week”看不懂 — 写成 7d（7 天）、12h（12 小时）或 30m（30 分钟）" in r.output


def test_user_and_audit_do_not_import_the_model_stack(library):
    import os
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from search.cli import cli;"
        "r1 = CliRunner().invoke(cli, ['--root', sys.argv[1], 'user', 'list']);"
        "r2 = CliRunner().invoke(cli, ['--root', sys.argv[1], 'audit']);"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'faiss', 'onnxruntime') if m in sys.modules];"
        "print(r1.exit_code, r2.exit_code, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(library)], capture_output=True, text=True, env=dict(os.environ))
    assert out.stdout.strip() == "0 0 []", out.stderr


def test_db_status_and_upgrade(library):
    from search.authoring.db import HEAD

    status = run(library, "db", "status")
    assert status.exit_code == 0
    assert status.output.splitlines()[1] == f"结构版本：空库；需要：{HEAD}（运行 caselib db upgrade）"
    up = run(library, "db", "upgrade")
    assert up.output.startswith(f"数据库已从 空库 升级到 {HEAD}：sqlite:///")
    assert run(library, "db", "upgrade").output.startswith(f"数据库已是最新结构（{HEAD}）")
    assert run(library, "db", "status").output.splitlines()[1] == f"结构版本：{HEAD}；需要：{HEAD}"
