"""`caselib db upgrade` / `caselib db status`: the authoring (and shared) database's schema."""

from __future__ import annotations

import click

from search.cli.base import _domain_errors, _settings, cli


@cli.group()
def db():
    """数据库结构：upgrade 升级到当前版本（服务启动时也会自动升级），status 查看。"""


@db.command("upgrade")
@click.pass_context
@_domain_errors
def db_upgrade(ctx):
    """把数据库升级到这个版本的 caselib 需要的结构（只加不删，已有数据保留）。"""
    from search.authoring.db import HEAD, open_database

    settings = _settings(ctx)
    database = open_database(settings.db_url, migrate=False)
    try:
        before = database.revision()
        database.migrate()
        where = database.engine.url.render_as_string(hide_password=True)
        if before == HEAD:
            click.echo(f"数据库已是最新结构（{HEAD}）：{where}")
        else:
            click.echo(f"数据库已从 {before or '空库'} 升级到 {HEAD}：{where}")
    finally:
        database.close()


@db.command("status")
@click.pass_context
@_domain_errors
def db_status(ctx):
    """显示数据库地址（不含密码）、当前结构版本和这个版本的 caselib 需要的版本。"""
    from search.authoring.db import HEAD, open_database

    database = open_database(_settings(ctx).db_url, migrate=False)
    try:
        rev = database.revision()
        click.echo(f"数据库：{database.engine.url.render_as_string(hide_password=True)}")
        click.echo(f"结构版本：{rev or '空库'}；需要：{HEAD}" + ("" if rev == HEAD else "（运行 caselib db upgrade）"))
    finally:
        database.close()
