"""`caselib user add|list|passwd|disable|enable` and `caselib audit`: accounts and the
audit log, straight on the authoring database (no server, no model)."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from search.cli.base import _domain_errors, _settings, cli

ROLE_CHOICE = click.Choice(["agent", "trainer", "reviewer", "admin"])


@contextmanager
def _db(ctx):
    """The authoring database for one command, closed at the end."""
    from search.authoring.db import open_database

    db = open_database(_settings(ctx).db_url)
    try:
        yield db
    finally:
        db.close()


def _password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码（至少 8 位）", hide_input=True, confirmation_prompt="再输入一次" if confirm else False)


@cli.group()
def user():
    """账号：add 新增、list 列表、passwd 改密码、disable 停用、enable 启用。第一个管理员：caselib user add 名字 --role admin。"""


@user.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="agent 坐席、trainer 培训员、reviewer 审核员、admin 管理员")
@click.option("--display-name", help="显示的名字，如 王丽；默认同用户名")
@click.option("--password-stdin", is_flag=True, help="从标准输入读一行作为密码（脚本用）；否则交互输入")
@click.pass_context
@_domain_errors
def user_add(ctx, name, role, display_name, password_stdin):
    """新增账号，如：caselib user add wang.li --role trainer --display-name 王丽"""
    from search.authoring import accounts

    password = _password(password_stdin)
    with _db(ctx) as db, db.session() as s:
        u = accounts.add_user(s, name, role, password, display_name, actor="命令行")
        click.echo(f"已新增 {u.username}（{u.display_name}，{role}）")


@user.command("list")
@click.pass_context
@_domain_errors
def user_list(ctx):
    """列出全部账号。"""
    from search.authoring import accounts
    from search.authoring.models import ROLE_NAMES

    with _db(ctx) as db, db.session() as s:
        users = accounts.list_users(s)
        if not users:
            click.echo("还没有账号。新增第一个管理员：caselib user add admin --role admin")
        for u in users:
            state = "  已停用" if u.disabled else ""
            sso = "  统一登录" if u.password_hash is None else ""
            click.echo(f"{u.username:<20} {ROLE_NAMES[u.role]:<4} {u.display_name}{state}{sso}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读一行作为新密码")
@click.pass_context
@_domain_errors
def user_passwd(ctx, name, password_stdin):
    """重设密码（该账号在所有地方的登录随即失效）。"""
    from search.authoring import accounts

    with _db(ctx) as db, db.session() as s:
        accounts.get_user(s, name)  # an unknown name fails before the prompt
        accounts.set_password(s, name, _password(password_stdin), actor="命令行")
    click.echo(f"已重设 {name} 的密码")


def _set_disabled(ctx, name: str, disabled: bool) -> None:
    from search.authoring import accounts

    with _db(ctx) as db, db.session() as s:
        accounts.set_disabled(s, name, disabled, actor="命令行")
    click.echo(f"已{'停用' if disabled else '启用'} {name}")


@user.command("disable")
@click.argument("name")
@click.pass_context
@_domain_errors
def user_disable(ctx, name):
    """停用账号：不能再登录，已登录的立即退出；草稿和记录保留。"""
    _set_disabled(ctx, name, True)


@user.command("enable")
@click.argument("name")
@click.pass_context
@_domain_errors
def user_enable(ctx, name):
    """重新启用停用的账号。"""
    _set_disabled(ctx, name, False)


@cli.command()
@click.option("--since", default=None, help="只看最近一段时间，如 7d、12h、30m；默认全部")
@click.option("--limit", type=click.IntRange(1, 100000), default=500, show_default=True, help="最多列出多少条")
@click.pass_context
@_domain_errors
def audit(ctx, since, limit):
    """操作记录：登录、保存、提交、批准、退回、恢复、账号变更（最新的在前）。"""
    from search.authoring import audit as log

    with _db(ctx) as db, db.session() as s:
        rows = log.entries(s, log.parse_since(since), limit)
        if not rows:
            click.echo("没有操作记录。" if since is None else f"最近 {since} 没有操作记录。")
        for e in rows:
            d = log.as_dict(e)
            extra = f"  {d['detail']}" if d["detail"] else ""
            click.echo(f"{d['at']}  {d['actor'] or '—':<12} {d['action_name']:<6} {d['target'] or ''}{extra}")
