"""A draft rendered as the site will render it: the same page Markdown (pages.case_page,
with every field escaped and raw HTML in the body shown as text) through the same
Markdown extensions as mkdocs.yml. A draft that does not parse yet shows its body, as
safely, under a note, so the trainer still sees what they wrote."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import markdown

from search.library.cases import parse_case
from search.library.reference import Reference
from search.site.pages import case_page, esc, safe_body

# mkdocs.yml's markdown_extensions without the theme's emoji (tests/test_preview.py keeps them equal)
EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "toc", "pymdownx.details", "pymdownx.superfences",
              "pymdownx.tabbed"]
EXTENSION_CONFIGS = {"pymdownx.tabbed": {"alternate_style": True}, "toc": {"permalink": True}}
_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)


_MD_LINK = re.compile(r'href="((?:\.\./)*[^":#]*?)\.md(#[^"]*)?"')


def _html(md: str) -> str:
    """Markdown → HTML; links to pages (x.md) point at the built pages (x.html), as mkdocs
    writes them, so they work from the editor and review pages (one level below the root)."""
    html = markdown.markdown(md, extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS)
    return _MD_LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', html)


def render_draft(text: str, ref: Reference, slug: str = "draft") -> str:
    with tempfile.TemporaryDirectory(prefix="caselib-preview-") as tmp:
        path = Path(tmp) / f"{slug}.md"
        path.write_text(text, encoding="utf-8")
        case, _problems = parse_case(path, ref)
    if case is not None:
        page = case_page(case, ref)
        return _html(_FRONT.sub("", page, count=1))
    body = _FRONT.sub("", text.replace("\r\n", "\n"), count=1)
    note = '<p class="cl-preview-note">草稿还有格式问题，下面只显示正文；按左侧提示改完后即显示完整页面。</p>'
    return note + _html(safe_body(body)) if body.strip() else note + f"<p>{esc('（还没有正文）')}</p>"
