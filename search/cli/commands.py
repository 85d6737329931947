"""The library's commands: check, index, search, eval, build, serve, new, gaps,
check-reply, eval-replies. Each parses, makes one call into the library, and prints."""

from __future__ import annotations

import sys

import click

from search.cli.base import _domain_errors, _settings, cli


@cli.command()
@click.pass_context
@_domain_errors
def check(ctx):
    """校验 cases/ 下的全部案例：格式、字段取值、章节、个人信息。"""
    from search.library.check import check_library

    settings = _settings(ctx)
    report = check_library(settings.cases_dir, root=settings.root)
    for p in report.problems:
        click.echo(str(p))
    if report.problems:
        files = len({p.file for p in report.problems})
        raise click.ClickException(f"发现 {len(report.problems)} 处问题，涉及 {files} 个文件；按每行“—”后的提示修改后再运行 caselib check")
    if not report.files:
        click.echo(f"{settings.cases_dir} 下还没有案例。用 caselib new 新建第一个。")
        return
    click.echo(f"全部 {len(report.cases)} 个案例校验通过。")


@cli.command()
@click.option("--quiet", is_flag=True, help="不显示进度条")
@click.pass_context
@_domain_errors
def index(ctx, quiet):
    """建立或更新检索索引（只重新编码有改动的案例）。"""
    from search import pipeline

    settings = _settings(ctx)
    click.echo(f"加载模型 {settings.model} …", err=True)
    result = pipeline.index(settings, progress=not quiet)
    click.echo(_index_summary(result))


def _index_summary(result) -> str:
    if not result.changed:
        return f"索引已是最新：{result.n_cases} 个案例，{result.n_chunks} 个片段，未改动。"
    parts = [f"新增 {len(result.added)}", f"更新 {len(result.updated)}", f"删除 {len(result.removed)}", f"未变 {result.unchanged}"]
    if not (result.added or result.updated or result.removed):
        parts.append("索引格式或分词已更新，向量沿用")
    return (f"索引已更新：{result.n_cases} 个案例，{result.n_chunks} 个片段（{'，'.join(parts)}；"
            f"编码 {result.embedded_chunks} 个片段），用时 {result.seconds:.1f} 秒。")


@cli.command()
@click.argument("query")
@click.option("-k", type=click.IntRange(1, 100), default=5, show_default=True, help="返回案例数")
@click.option("--category", help="只看某一类别，如 设施设备")
@click.option("--level", help="只看某一等级，如 重大")
@click.option("--tag", "tags", multiple=True, help="只看带这个标签的案例，可重复")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True, help="检索方式")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（与 /api/search 相同的结构；加 --explain 时与 /api/explain 相同）")
@click.option("--explain", is_flag=True, help="命中测试：列出每个案例在 BM25、向量两侧的名次和得分、匹配的词和章节、融合名次、强弱判断和阈值")
@click.pass_context
@_domain_errors
def search(ctx, query, k, category, level, tags, mode, as_json, explain):
    """检索相似案例，如：caselib search "暖气不热，业主很生气"。"""
    import json

    from search import pipeline

    settings = _settings(ctx)
    searcher = pipeline.open_searcher(settings)
    if explain:
        from search.retrieval.explain import explain as explain_query
        from search.server.schemas import explain_response

        x = explain_query(searcher, query, k=k, weak_below=settings.weak_below, mode=mode, category=category,
                          level=level, tags=list(tags))
        if as_json:
            click.echo(json.dumps(explain_response(x).model_dump(mode="json"), ensure_ascii=False, indent=2))
        else:
            _print_explanation(x)
        return
    result = searcher.search(query, k=k, category=category, level=level, tags=list(tags), mode=mode,
                             weak_below=settings.weak_below)
    if as_json:
        from search.server.schemas import search_response  # the API's own serialiser

        click.echo(json.dumps(search_response(result).model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    if not result.hits:
        click.echo("没有找到相关案例。先按投诉接待的基本步骤处理：致歉、记录、承诺回复时间。")
        return
    if result.match == "weak":
        click.echo("没有足够相近的先例，下面的结果相似度低，仅供参考。"
                   "先按投诉接待的基本步骤处理：致歉、记录、承诺回复时间。")
    for i, h in enumerate(result.hits, 1):
        r = h.record
        weak = click.style("  相似度低", dim=True) if h.weak else ""
        click.echo(click.style(f"{i}. {r.title}", bold=True) + f"  [{r.level}·{r.category}] {r.slug}" + weak)
        click.echo(f"   {h.section}：{_marked(h.snippet, h.highlights)}")
        click.echo(f"   先说：{r.say}")
    click.echo(click.style(f"（{result.took_ms:.0f} ms）", dim=True))


def _print_explanation(x) -> None:
    words = {"strong": "有相近先例", "weak": "没有足够相近的先例", "none": "没有结果"}
    click.echo(f"查询：{x.query}")
    if len(x.clauses) > 1:
        click.echo(f"分句（{len(x.clauses)}）：" + " | ".join(x.clauses))
        click.echo(f"编码的分句（{len(x.encoded)}，关键词证据最强）：" + " | ".join(x.encoded))
    click.echo(f"BM25 用到的词：{'、'.join(x.terms) or '（无：库里没有这些词）'}")
    click.echo(f"融合：{x.method}")
    agreed = "，BM25 的第一名也在向量前三（置信度已加分）" if x.agreed else ""
    click.echo(f"判断：{words[x.match]}（置信度 {x.confidence:.3f}，阈值 {x.threshold:.3f}{agreed}）")
    click.echo(f"{'融合':>4} {'向量':>4} {'BM25':>5}  案例")
    for c in x.cases:
        def rank(n):
            return str(n) if n else "-"
        click.echo(f"{rank(c.fused_rank):>4} {rank(c.dense_rank):>4} {rank(c.bm25_rank):>5}  {c.title}（{c.slug}）")
        if c.dense_rank:
            click.echo(f"{'':16}向量 {c.dense_score:.3f}（余弦 {c.dense_cosine:.3f}）· {c.dense_section}：{c.dense_excerpt}")
        if c.bm25_rank:
            click.echo(f"{'':16}BM25 {c.bm25_score:.2f} · {c.bm25_section}：{'、'.join(c.bm25_terms)}")


def _marked(snippet: str, marks) -> str:
    out, pos = [], 0
    for a, b in marks:
        out += [snippet[pos:a], click.style(snippet[a:b], fg="red", bold=True)]
        pos = b
    out.append(snippet[pos:])
    return "".join(out)


@cli.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--misses", is_flag=True, help="列出首位没有命中的查询")
@click.pass_context
@_domain_errors
def eval_(ctx, files, misses):
    """在评测集上比较 BM25、向量、混合检索：hit@1、hit@3、MRR，以及无匹配 AUC。

    可一次给几个集合（如 开发集、留出集、测试集、真实投诉文本），各出一张表。
    relevant 为 [] 的条目（库里没有合适案例）不计入命中率，只计入无匹配 AUC：
    能答的查询的置信度高于不能答的查询的概率。"""
    from pathlib import Path

    from search import pipeline
    from search.retrieval.evaluate import evaluate, load_queries

    sets = [(Path(f), load_queries(Path(f))) for f in files]
    searcher = pipeline.open_searcher(_settings(ctx))
    for n, (path, queries) in enumerate(sets):
        scores = evaluate(searcher, queries)
        if len(sets) > 1:
            click.echo(("\n" if n else "") + f"== {path.name}")
        click.echo(f"{len(queries)} 条查询")
        with_auc = scores[0].unanswerable > 0
        if with_auc:
            click.echo(f"其中 {scores[0].unanswerable} 条库里没有合适的案例（只计入无匹配 AUC）")
        click.echo(f"{'方式':<8}{'hit@1':>8}{'hit@3':>8}{'MRR':>8}" + (f"{'AUC':>8}" if with_auc else ""))
        for s in scores:
            auc = f"{s.auc:>8.3f}" if with_auc else ""
            click.echo(f"{s.mode:<8}{s.hit1:>8.3f}{s.hit3:>8.3f}{s.mrr:>8.3f}{auc}")
        if misses:
            for s in scores:
                for q, rel, got in s.misses:
                    click.echo(f"[{s.mode}] {q}  应为 {rel}  实得 {got}")


@cli.command()
@click.option("--quiet", is_flag=True, help="不显示进度条")
@click.pass_context
@_domain_errors
def build(ctx, quiet):
    """校验 → 更新索引 → 生成站点；任何一步失败都保留上一次的索引和站点。"""
    from search import pipeline

    names = {"check": "1/3 校验案例", "index": "2/3 更新索引", "site": "3/3 生成站点"}
    settings = _settings(ctx)
    summary = pipeline.build(settings, progress=not quiet, on_stage=lambda s: click.echo(names[s] + " …", err=True))
    click.echo(_index_summary(summary.index))
    # the published link (what a file server serves), not the version directory behind it
    click.echo(f"站点已生成：{settings.site_path}（共用时 {summary.seconds:.1f} 秒）")
    if settings.is_shared:  # one writer: the new version goes to the replicas
        from search.authoring.db import open_database
        from search.shared import library

        db = open_database(settings.db_url)
        try:
            click.echo(f"已发布到共享数据库：第 {library.publish(db, settings)} 版（副本 10 秒内换上）")
        finally:
            db.close()


@cli.command()
@click.option("--host", default=None, help="监听地址（默认 127.0.0.1，只接受本机访问）")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="端口（默认 8000）")
@click.option("--replica", is_flag=True, help="只读副本：从共享数据库载入最新发布的案例库并跟随更新（需要 CASELIB_DATABASE_URL=postgresql://…）")
@click.pass_context
@_domain_errors
def serve(ctx, host, port, replica):
    """启动服务：站点在 /，检索接口在 /api，接口文档在 /docs。"""
    import uvicorn

    from search.server.app import create_app

    updates = {"host": host, "port": port, "replica": True if replica else None}
    settings = _settings(ctx).model_copy(update={k: v for k, v in updates.items() if v is not None})
    if settings.replica:
        if not settings.is_shared:
            raise click.ClickException("--replica 需要共享数据库：设置 CASELIB_DATABASE_URL=postgresql://… — 单机使用时不加 --replica")
        settings = settings.model_copy(update={"auto_index": False})
    click.echo(f"物业客服案例库：http://{settings.host}:{settings.port}/  （Ctrl+C 停止）", err=True)
    # SIGTERM / Ctrl+C: requests in flight get 3 s, then the lifespan stops the service's threads
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=3)


@cli.command()
@click.option("--title", help="标题，如：周六地库积水泡车，业主要求赔偿")
@click.option("--slug", help="文件名（小写英文、数字、连字符）；默认按标题拼音生成")
@click.option("--category", help="投诉类别")
@click.option("--level", help="投诉等级")
@click.option("--channel", help="投诉渠道")
@click.option("--date", "when", help="发生年月 YYYY-MM，默认本月")
@click.pass_context
@_domain_errors
def new(ctx, title, slug, category, level, channel, when):
    """按模板新建案例：自动分配编号，打印文件路径。缺的选项会逐项询问。"""
    from search.library.newcase import create_case, suggest_slug
    from search.library.reference import load_reference

    settings = _settings(ctx)
    ref = load_reference()
    interactive = sys.stdin.isatty()

    def ask(value, name, prompt, choices=None, default=None):
        if value is not None:
            return value
        if not interactive:
            raise click.UsageError(f"缺少 --{name}（非交互模式下必须给出{prompt}）")
        kind = click.Choice(list(choices)) if choices else str
        return click.prompt(prompt, type=kind, default=default, show_choices=bool(choices))

    title = ask(title, "title", "标题")
    slug = slug or (suggest_slug(title, settings.cases_dir) if not interactive else
                    click.prompt("文件名 slug", default=suggest_slug(title, settings.cases_dir)))
    category = ask(category, "category", "类别", ref.category_names)
    level = ask(level, "level", "等级", ref.level_names, default=ref.default_level)
    channel = ask(channel, "channel", "渠道", ref.channels, default="电话")
    if when is None and interactive:
        from datetime import date

        when = click.prompt("发生年月 YYYY-MM", default=date.today().strftime("%Y-%m"))
    path = create_case(settings.cases_dir, title=title, slug=slug, category=category, level=level, channel=channel, when=when)
    click.echo(f"已创建 {path.relative_to(settings.root) if path.is_relative_to(settings.root) else path}")
    click.echo("用任意文本编辑器打开填写（保存为 UTF-8），然后运行 caselib check，再运行 caselib build 发布。")


@cli.command()
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="统计最近多少天")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="最多列出多少条查询")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="同时写出 CSV（Excel 可直接打开）")
@click.pass_context
@_domain_errors
def gaps(ctx, days, limit, csv_path):
    """该写什么案例了：没有好匹配的高频检索、检索最多的类别、坐席反馈。"""
    from pathlib import Path

    from search.library.review import review_due
    from search.server.gaps import gap_report, write_csv

    settings = _settings(ctx)
    due = review_due(settings.cases_dir, settings.review_months)
    click.echo(f"待复核（超过 {settings.review_months} 个月没有审核过，在“编写案例”页打开修改并提交审核即可）：")
    if not due:
        click.echo("  （没有）")
    for d in due:
        when = f"上次 {d.reviewed_at}（{d.reviewed_by or '—'}）" if d.reviewed_at else "从未审核"
        click.echo(f"  {d.slug}  {d.title}  {when}")
    click.echo("")
    report = gap_report(settings, days=days, limit=limit)
    click.echo(f"最近 {report.days} 天共 {report.searches} 次检索。")
    click.echo("\n没有好的匹配（建议补写案例）：")
    if not report.weak_queries:
        click.echo("  （没有）")
    for q, n, slug, score in report.weak_queries:
        near = f"  最接近：{slug}（{score:.3f}）" if slug and score is not None else ""
        click.echo(f"  {n:>4} 次  {q}{near}")
    click.echo("\n检索最多的类别：")
    if not report.categories:
        click.echo("  （没有）")
    for cat, n in report.categories:
        click.echo(f"  {n:>4} 次  {cat}")
    click.echo("\n坐席反馈（有用 / 没用）：")
    if not report.feedback:
        click.echo("  （没有）")
    for slug, title, u, n, qs in report.feedback:
        extra = f"  标为没用的检索：{'；'.join(qs)}" if qs else ""
        click.echo(f"  {u:>3} / {n:<3} {title}（{slug}）{extra}")
    if csv_path:
        write_csv(report, Path(csv_path))
        click.echo(f"\n已写出 {csv_path}")


def _reply_checker(use_model: bool, ctx):
    from search.replies.checker import ReplyChecker

    if not use_model:
        return ReplyChecker()
    from search import pipeline

    return ReplyChecker(encoder=pipeline.load_encoder(_settings(ctx)))


@cli.command("check-reply")
@click.argument("text")
@click.option("--no-model", is_flag=True, help="只用规则，不加载模型（更快，但认不出换了说法的禁语）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（与 /api/check-reply 相同）")
@click.pass_context
@_domain_errors
def check_reply(ctx, text, no_model, as_json):
    """检查回复草稿里的九句禁语，如：caselib check-reply "这事你得自己去找开发商"。"""
    import json

    hits = _reply_checker(not no_model, ctx).check(text)
    if as_json:
        from search.server.schemas import reply_response  # the API's own serialiser

        click.echo(json.dumps(reply_response(hits).model_dump(mode="json"), ensure_ascii=False, indent=2))
        if hits:
            raise SystemExit(1)
        return
    if not hits:
        click.echo("没有发现九句禁语。")
        return
    for h in hits:
        click.echo(click.style(f"禁语{h.phrase}", fg="red", bold=True) + f"（第 {h.start}-{h.end} 字）“{h.matched}”")
        click.echo(f"  为什么不能说：{h.why}")
        click.echo(f"  可以这样说：{h.suggestion}")
    raise SystemExit(1)


@cli.command("eval-replies")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--no-model", is_flag=True, help="只评测规则层")
@click.pass_context
@_domain_errors
def eval_replies(ctx, file, no_model):
    """评测九句禁语检查：每句禁语和总体的精确率、召回率（YAML：{text, phrases: [N…]}）。"""
    from search.replies.evaluate import evaluate_replies, load_replies

    items = load_replies(file)
    click.echo(evaluate_replies(items, _reply_checker(not no_model, ctx)).format())
