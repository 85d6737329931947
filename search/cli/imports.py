"""`caselib import`: a Word (.docx) complaint report becomes a case draft (search/library/docx_import.py)."""

from __future__ import annotations

import click

from search.cli.base import _domain_errors, _settings, cli


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="写成这个案例文件（如 cases/lift-stuck.md）；不给就打印出来")
@click.pass_context
@_domain_errors
def import_(ctx, file, output):
    """把 Word 投诉报告（.docx）转成案例草稿：自动分配编号，章节按标题对应，猜不准的逐条提示。"""
    from pathlib import Path

    from search.library.docx_import import MAX_BYTES, import_docx
    from search.library.newcase import next_id
    from search.library.reference import load_reference

    settings = _settings(ctx)
    source = Path(file)
    target = Path(output) if output else None
    if target is not None and target.exists():
        raise click.ClickException(f"{output} 已存在，没有覆盖 — 换一个文件名，或先删除/改名旧文件")
    with open(source, "rb") as f:
        data = f.read(MAX_BYTES + 1)  # one byte over the limit is enough for import_docx to refuse it
    reference = load_reference()
    draft = import_docx(data, reference, filename=source.name, case_id=next_id(settings.cases_dir),
                        cases_dir=settings.cases_dir)
    if target is None:
        import os

        click.echo(draft.text, nl=False)
        dest = os.path.relpath(settings.cases_dir / f"{draft.slug}.md")  # as the -o argument, from here
        _notes(draft.notes + [f"建议保存为 {dest}：caselib import {file} -o {dest}"])
        return
    _write_new(target, draft.text)
    click.echo(f"已创建 {output}")
    notes = list(draft.notes)
    if settings.cases_dir.resolve() != target.resolve().parent:
        notes.append(f"{output} 不在 {settings.cases_dir} 里，caselib build 不会收录；放进去后再运行 caselib check")
    _notes(notes)
    _check(target, reference, settings)


def _write_new(target, text: str) -> None:
    """Write through a temp file beside the target and os.replace, so the target is never
    half-written; refuse (exit 1, nothing written) if it appeared meanwhile."""
    import os

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")  # not *.md: check and the index skip it
    try:
        with open(tmp, "x", encoding="utf-8") as f:  # like `caselib new`: the umask's permissions
            f.write(text)
        if target.exists():
            raise click.ClickException(f"{target} 已存在，没有覆盖 — 换一个文件名，或先删除/改名旧文件")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _notes(notes: list[str]) -> None:
    for note in notes:
        click.echo(f"提示：{note}", err=True)


def _check(path, reference, settings) -> None:
    from search.library.check import check_file

    problems = sorted(check_file(path, reference, settings.cases_dir, root=settings.root)[1])  # by line, as caselib check
    for p in problems:
        click.echo(str(p), err=True)
    if problems:
        click.echo(f"草稿还有 {len(problems)} 处要改：按每行“—”后的提示修改，然后运行 caselib check，通过后再 caselib build 发布。", err=True)
    else:
        click.echo("caselib check 没有发现问题；核对上面的提示后即可 caselib build 发布。", err=True)
