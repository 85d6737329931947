"""Markdown for the generated parts of the site, as pure functions of (cases, reference).

The mkdocs hooks (mkdocs_hooks.py) only glue these into the build; tests call them
directly. Every free-text value from a case is HTML-escaped so a case can never inject
markup into the site (case bodies are Markdown; raw HTML in them is shown as text).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

from search.errors import UnknownMarker
from search.library.cases import Case
from search.library.reference import Reference, cn


def esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def md_text(text: str) -> str:
    """Escape text for a Markdown table cell or link label."""
    return esc(text).replace("|", "&#124;").replace("[", "&#91;").replace("]", "&#93;").replace("\n", " ")


_FENCE = re.compile(r"^\s*(```|~~~)")
_SCRIPT_LINK = re.compile(r"\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:[^)]*\)", re.I)


def _neutralise(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SCRIPT_LINK.sub("](#)", text)  # a link may not run script


def safe_body(markdown: str) -> str:
    """Neutralise raw HTML in trainer-written Markdown, keeping code spans and fences intact
    (Markdown already escapes those)."""
    out, in_fence = [], False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            continue
        if in_fence:
            out.append(line)
            continue
        parts = line.split("`")
        # even indices are outside inline code
        out.append("`".join(_neutralise(p) if i % 2 == 0 else p for i, p in enumerate(parts)))
    return "\n".join(out)


# ------------------------------------------------------------------ links and badges
# Paths are relative to the page being written; `up` is the prefix to the docs root.


def case_link(case: Case, up: str) -> str:
    return f"[{md_text(case.meta.title)}]({up}cases/{case.slug}.md)"


def principle_link(ref: Reference, n: int, up: str) -> str:
    return f"[原则{cn(n)}：{md_text(ref.principle(n).title)}]({up}principles/{n}.md)"


def phrase_link(ref: Reference, n: int, up: str) -> str:
    return f"[禁语{cn(n)}：“{md_text(ref.phrase(n).short)}”]({up}phrases/{n}.md)"


def level_badge(ref: Reference, level: str) -> str:
    """The level's badge, coloured by its slug (docs/stylesheets/caselib.css: cl-level-<slug>)."""
    slug = ref.level_slug(level)
    cls = f"cl-badge cl-level-{slug}" if slug else "cl-badge"
    return f'<span class="{cls}">{esc(level)}投诉</span>'


def level_anchor(ref: Reference, level: str) -> str:
    """The level's heading id on cases/level.md."""
    return f"level-{ref.level_slug(level)}"


def badge(text: str, kind: str = "plain") -> str:
    return f'<span class="cl-badge cl-{kind}">{esc(text)}</span>'


def case_table(cases: Iterable[Case], up: str, empty: str = "暂无案例。") -> str:
    cases = list(cases)
    if not cases:
        return f"*{empty}*\n"
    rows = ["| 案例 | 等级 | 类别 | 时间 |", "| --- | --- | --- | --- |"]
    for c in sorted(cases, key=lambda c: c.meta.id):
        rows.append(f"| {case_link(c, up)} | {esc(c.meta.level)} | {esc(c.meta.category)} | {esc(c.meta.date)} |")
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------ case page


def case_page(case: Case, ref: Reference, related: str = "") -> str:
    m = case.meta
    up = "../"
    tags = [m.category, f"{m.level}投诉", *m.tags]
    # the theme writes the title into <title> and the nav unescaped: escape it here
    front = (
        "---\n" + f"title: {_yaml_str(esc(m.title))}\n" + "tags:\n"
        + "".join(f"  - {_yaml_str(esc(t))}\n" for t in tags) + "---\n\n"
    )
    badges = " ".join([
        level_badge(ref, m.level), badge(m.category, "category"), badge(m.channel), badge(m.outcome, "outcome"),
        badge(m.source, "source"),
    ])
    rows = [
        ("编号", esc(m.id)),
        ("时间", esc(m.date)),
        ("类别", f"[{esc(m.category)}]({up}cases/category.md#{_anchor(m.category)})"),
        ("等级", f"[{esc(m.level)}]({up}levels.md) — {esc(_level_def(ref, m.level))}"),
        ("渠道", esc(m.channel)),
        ("结果", esc(m.outcome)),
        ("涉及原则", "<br>".join(principle_link(ref, n, up) for n in m.principles) or "—"),
        ("涉及禁语", "<br>".join(phrase_link(ref, n, up) for n in m.phrases) or "—"),
        ("客户类型", f"[{esc(m.customer_type)}]({up}training/difficult-customers.md)" if m.customer_type else "—"),
        ("业主常说", "<br>".join(f"“{md_text(x)}”" for x in m.owner_says) or "—"),
        ("来源", esc(m.source)),
        ("审核", f"{esc(m.reviewed_by)}（{esc(m.reviewed_at)}）" if m.reviewed_by else "—"),
    ]
    table = "| 项目 | 内容 |\n| --- | --- |\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    summary = f'!!! abstract "摘要"\n\n    {esc(m.summary)}\n'
    body = safe_body(case.body).strip()
    # 待复核: shown by caselib-auth.js to trainers and up when reviewed_at is older than review_months
    due = f'<span class="cl-badge cl-review-due" data-reviewed-at="{esc(m.reviewed_at or "")}" hidden>待复核</span>'
    badges_div = f'<div class="cl-badges">{badges} {due}</div>\n'
    parts = [front, f"# {esc(m.title)}\n", badges_div, summary, table + "\n", body + "\n"]
    if related:
        parts.append(related)
    # 修订记录: filled from GET /api/cases/{slug}/history by case-history.js when the server is there
    parts.append(f'<div class="cl-history" data-slug="{esc(case.slug)}" markdown="0" hidden></div>\n')
    return "\n".join(parts)


def _yaml_str(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _anchor(name: str) -> str:
    # headings on browse pages carry explicit ids, so Chinese anchors are stable
    return "cat-" + name


def _level_def(ref: Reference, level: str) -> str:
    return next(x.definition for x in ref.levels if x.name == level)


# ------------------------------------------------------------------ browse pages


def cases_index(cases: list[Case], ref: Reference) -> str:
    up = "../"
    lines = [
        "# 案例库\n",
        f"共 **{len(cases)}** 个案例。处理完的投诉要及时编写成案例用于培训"
        f"（见[投诉处理原则]({up}principles/index.md)），这里收集了培训教材中的经典案例和教学示例。\n",
        "按 [类别](category.md) · [等级](level.md) · [原则](principle.md) · [禁语](phrase.md) · [标签](../tags.md) "
        "浏览；通话中查找相似案例，请用顶部搜索框输入关键词。\n",
    ]
    if not cases:
        lines.append("!!! info \"还没有案例\"\n\n    培训员可以用 `caselib new` 新建第一个案例。\n")
        return "\n".join(lines)
    rows = ["| 编号 | 案例 | 等级 | 类别 | 摘要 |", "| --- | --- | --- | --- | --- |"]
    for c in cases:
        m = c.meta
        rows.append(f"| {esc(m.id)} | {case_link(c, up)} | {esc(m.level)} | {esc(m.category)} | {md_text(m.summary)} |")
    lines.append("\n".join(rows) + "\n")
    return "\n".join(lines)


def _grouped(title: str, intro: str, groups: list[tuple[str, str, str, list[Case]]]) -> str:
    """groups: (anchor id, heading, description markdown, cases)."""
    out = [f"# {title}\n", intro + "\n"]
    counts = " · ".join(f"[{md_text(h)}](#{a})（{len(cs)}）" for a, h, _d, cs in groups)
    out.append(counts + "\n")
    for anchor, heading, desc, cs in groups:
        out.append(f"## {esc(heading)} {{ #{anchor} }}\n")
        if desc:
            out.append(desc + "\n")
        out.append(case_table(cs, "../"))
    return "\n".join(out)


def by_category(cases: list[Case], ref: Reference) -> str:
    groups = [
        (_anchor(c.name), c.name, f"{esc(c.definition)}\n\n**对策：** {esc(c.remedy)}",
         [x for x in cases if x.meta.category == c.name])
        for c in ref.categories
    ]
    intro = f"投诉类别依据培训教材的{cn(len(ref.categories))}类划分，详见[投诉类别与对策](../training/categories.md)。"
    return _grouped("按类别浏览", intro, groups)


def by_level(cases: list[Case], ref: Reference) -> str:
    groups = [
        (level_anchor(ref, lv.name), f"{lv.name}投诉", f"**定义：** {esc(lv.definition)}  \n**要求：** {esc(lv.rule)}",
         [x for x in cases if x.meta.level == lv.name])
        for lv in ref.levels
    ]
    return _grouped("按等级浏览", "等级定义见[投诉等级](../levels.md)。", groups)


def by_principle(cases: list[Case], ref: Reference) -> str:
    groups = [
        (f"p{p.n}", f"原则{cn(p.n)}：{p.title}", f"{esc(p.text)} [详情](../principles/{p.n}.md)",
         [x for x in cases if p.n in x.meta.principles])
        for p in ref.principles
    ]
    intro = f"每个案例标出了它体现或违背的[投诉处理{ref.principles_label}](../principles/index.md)。"
    return _grouped("按原则浏览", intro, groups)


def by_phrase(cases: list[Case], ref: Reference) -> str:
    groups = [
        (f"ph{p.n}", f"禁语{cn(p.n)}：“{p.text}”", f"[为什么不能说，应该怎么说](../phrases/{p.n}.md)",
         [x for x in cases if p.n in x.meta.phrases])
        for p in ref.phrases
    ]
    return _grouped("按禁语浏览", f"[{ref.phrases_label}](../phrases/index.md)每一句都有对应的教学案例。", groups)


def phrase_page(n: int, cases: list[Case], ref: Reference) -> str:
    p = ref.phrase(n)
    involved = [c for c in cases if n in c.meta.phrases]
    nav = _prev_next("phrases", n, len(ref.phrases), "禁语")
    return "\n".join([
        f"# 禁语{cn(n)}：“{esc(p.text)}”\n",
        f'!!! failure "为什么不能说"\n\n    {esc(p.harm)}\n',
        f'!!! success "换一种说法"\n\n    “{esc(p.better)}”\n',
        "## 相关案例\n",
        case_table(involved, "../", "还没有案例涉及这句禁语。"),
        f"返回[{ref.phrases_label}](index.md)。{nav}\n",
    ])


def principle_page(n: int, cases: list[Case], ref: Reference) -> str:
    p = ref.principle(n)
    involved = [c for c in cases if n in c.meta.principles]
    nav = _prev_next("principles", n, len(ref.principles), "原则")
    return "\n".join([
        f"# 原则{cn(n)}：{esc(p.title)}\n",
        f'!!! quote ""\n\n    {esc(p.text)}\n',
        "## 相关案例\n",
        "下面的案例体现或违背了这条原则，读的时候留意“分析”一节。\n",
        case_table(involved, "../", "还没有案例涉及这条原则。"),
        f"返回[{ref.principles_label}](index.md)。{nav}\n",
    ])


def _prev_next(section: str, n: int, total: int, word: str) -> str:
    parts = []
    if n > 1:
        parts.append(f"[← {word}{cn(n - 1)}]({n - 1}.md)")
    if n < total:
        parts.append(f"[{word}{cn(n + 1)} →]({n + 1}.md)")
    return " " + " · ".join(parts) if parts else ""


# ------------------------------------------------------------------ markers in hand-written pages


def _phrases_block(cases: list[Case], ref: Reference, up: str) -> str:
    out = []
    for p in ref.phrases:
        involved = [c for c in cases if p.n in c.meta.phrases]
        links = "、".join(case_link(c, up) for c in involved) or "暂无"
        out.append(
            f"### 禁语{cn(p.n)}：“{esc(p.text)}” {{ #phrase-{p.n} }}\n\n"
            f"- **伤害：** {esc(p.harm)}\n- **换成：** “{esc(p.better)}”\n"
            f"- **案例：** {links} · [详情]({up}phrases/{p.n}.md)\n"
        )
    return "\n".join(out)


def _phrases_card(cases: list[Case], ref: Reference, up: str) -> str:
    rows = ["| # | 不要说 | 要说 |", "| --- | --- | --- |"]
    for p in ref.phrases:
        rows.append(f"| {p.n} | <del>{md_text(p.text)}</del> | {md_text(p.better)} |")
    return '<div class="cl-card" markdown>\n\n' + "\n".join(rows) + "\n\n</div>\n"


def _principles_block(cases: list[Case], ref: Reference, up: str) -> str:
    out = []
    for p in ref.principles:
        involved = [c for c in cases if p.n in c.meta.principles]
        links = "、".join(case_link(c, up) for c in involved[:6]) or "暂无"
        more = f" 等 {len(involved)} 个" if len(involved) > 6 else ""
        out.append(
            f"### 原则{cn(p.n)}：{esc(p.title)} {{ #principle-{p.n} }}\n\n{esc(p.text)}\n\n"
            f"**案例：** {links}{more} · [详情]({up}principles/{p.n}.md)\n"
        )
    return "\n".join(out)


def _levels_block(cases: list[Case], ref: Reference, up: str) -> str:
    rows = ["| 等级 | 定义 | 要求 | 案例数 |", "| --- | --- | --- | --- |"]
    for lv in ref.levels:
        n = sum(1 for c in cases if c.meta.level == lv.name)
        link = f"[{n}]({up}cases/level.md#{level_anchor(ref, lv.name)})"
        rows.append(f"| {level_badge(ref, lv.name)} | {md_text(lv.definition)} | {md_text(lv.rule)} | {link} |")
    return "\n".join(rows) + "\n"


def _categories_block(cases: list[Case], ref: Reference, up: str) -> str:
    rows = ["| 类别 | 典型情形 | 对策 | 案例 |", "| --- | --- | --- | --- |"]
    for c in ref.categories:
        involved = [x for x in cases if x.meta.category == c.name]
        link = f"[{len(involved)} 个]({up}cases/category.md#{_anchor(c.name)})"
        rows.append(f"| **{esc(c.name)}** | {md_text(c.definition)} | {md_text(c.remedy)} | {link} |")
    return "\n".join(rows) + "\n"


def _customer_types_block(cases: list[Case], ref: Reference, up: str) -> str:
    rows = ["| 类型 | 应对要点 | 案例 |", "| --- | --- | --- |"]
    for t in ref.customer_types:
        involved = [x for x in cases if x.meta.customer_type == t.name]
        links = "、".join(case_link(c, up) for c in involved) or "—"
        rows.append(f"| **{esc(t.name)}** | {md_text(t.tip)} | {links} |")
    return "\n".join(rows) + "\n"


def _search_filters(cases: list[Case], ref: Reference, up: str) -> str:
    """The filters of the search page. Level options carry data-slug: the page script colours
    a result's level badge from it (docs/javascripts/caselib-search.js), so no level name is
    written in the script."""

    def select(id_: str, label: str, values, slug=None) -> str:
        def option(v: str) -> str:
            data = f' data-slug="{esc(slug(v))}"' if slug else ""
            return f'<option value="{esc(v)}"{data}>{esc(v)}</option>'

        opts = "".join(option(v) for v in values)
        return f'<select id="{id_}" aria-label="{label}"><option value="">全部{label}</option>{opts}</select>'

    levels = select("cl-level", "等级", ref.level_names, slug=ref.level_slug)
    return select("cl-category", "类别", ref.category_names) + "\n" + levels


def _case_fields(cases: list[Case], ref: Reference, up: str) -> str:
    from search.library.cases import CaseMeta

    allowed = {
        "category": ref.category_names, "level": ref.level_names, "channel": ref.channels, "outcome": ref.outcomes,
        "source": ref.sources, "customer_type": ref.customer_type_names,
        "principles": [f"{p.n} {p.title}" for p in ref.principles],
        "phrases": [f"{p.n} {p.short}" for p in ref.phrases],
    }
    rows = ["| 字段 | 含义 | 必填 | 可选值 |", "| --- | --- | --- | --- |"]
    for name, f in CaseMeta.model_fields.items():
        values = "、".join(esc(v) for v in allowed.get(name, [])) or "—"
        required = "是" if f.is_required() else "否"
        rows.append(f"| `{name}` | {md_text(f.description or '')} | {required} | {values} |")
    return "\n".join(rows) + "\n"


def _privacy_rules(cases: list[Case], ref: Reference, up: str) -> str:
    from search.library.privacy import EXAMPLES, PATTERNS

    rows = ["| 会被拦下的内容 | 例子 | 怎么改 |", "| --- | --- | --- |"]
    for kind, (_pattern, label, fix) in PATTERNS.items():
        rows.append(f"| {esc(label)} | `{EXAMPLES[kind]}` | {md_text(fix)} |")
    return "\n".join(rows) + "\n"


MARKERS: dict[str, Callable[[list[Case], Reference, str], str]] = {
    "case-fields": _case_fields,
    "privacy-rules": _privacy_rules,
    "search-filters": _search_filters,
    "phrases": _phrases_block,
    "phrases-card": _phrases_card,
    "principles": _principles_block,
    "levels": _levels_block,
    "categories": _categories_block,
    "customer-types": _customer_types_block,
}

MARKER_RE = re.compile(r"<!--\s*caselib:([a-z-]+)\s*-->")


def expand_markers(markdown: str, cases: list[Case], ref: Reference, up: str) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1)
        if name not in MARKERS:
            raise UnknownMarker(f"未知的标记 <!-- caselib:{name} -->（可用：{', '.join(MARKERS)}）")
        return MARKERS[name](cases, ref, up)

    return MARKER_RE.sub(repl, markdown)
