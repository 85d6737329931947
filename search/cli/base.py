"""`caselib` command line: each command parses its options, makes one call into the
library, and prints. Domain errors become Chinese messages with exit code 1; usage
errors exit 2 (click). Heavy modules (torch, sentence-transformers, faiss) are imported
inside the commands that need them, so `check`, `new`, `gaps` and `--help` stay fast.
"""

from __future__ import annotations

import functools

import click

from search.errors import CaselibError


def _domain_errors(fn):
    """Translate domain exceptions into click errors (exit 1) at the edge."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CaselibError as e:
            raise click.ClickException(str(e)) from e

    return wrapper


def _settings(ctx: click.Context):
    from search.settings import load_settings

    if ctx.obj is None:
        try:
            ctx.obj = load_settings(ctx.find_root().params.get("root"))
        except CaselibError as e:
            raise click.ClickException(str(e)) from e
    return ctx.obj


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, exists=True), default=None,
              help="项目根目录（默认当前目录，或环境变量 CASELIB_ROOT）")
@click.version_option(package_name="caselib")
def cli(root):
    """物业客服案例库：校验案例、建索引、检索、发布站点。"""
