"""mkdocs hooks: bring cases/ into the site at build time without copying into docs/.

- on_config: validate every case with the same checker as `caselib check`; an invalid
  case stops the build (the previous site/ is left as it was).
- on_files: add generated pages (one per case, browse pages, one per phrase/principle).
- on_page_markdown: expand <!-- caselib:NAME --> markers in hand-written pages; raise on
  an unknown marker.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

import search.site.pages as site_pages
from search.errors import UnknownMarker
from search.library.check import check_library
from search.library.reference import load_reference

log = logging.getLogger("mkdocs.hooks.caselib")


class _Build:
    """State of one build, set in on_config (mkdocs loads hook modules once per build)."""

    cases: list = []
    reference = None
    related: dict[str, str] = {}


def on_config(config):
    root = Path(config.config_file_path).parent
    _Build.reference = load_reference()
    report = check_library(root / "cases", _Build.reference, root=root)
    if report.problems:
        lines = "\n".join(str(p) for p in report.problems)
        raise PluginError(f"案例校验未通过，站点不发布（原站点保持不变）：\n{lines}\n先运行 caselib check 逐条修改。")
    _Build.cases = report.cases
    _Build.related = _load_related(root)
    log.info("caselib: %d 个案例", len(report.cases))
    return config


def _load_related(root: Path) -> dict[str, str]:
    """相似案例 blocks, computed from the search index's embeddings when one exists."""
    try:
        from search.site.related import related_markdown
    except ImportError:  # pragma: no cover - module added by the search feature
        return {}
    return related_markdown(root, _Build.cases, _Build.reference)


def on_files(files, config):
    cases, ref = _Build.cases, _Build.reference
    pages: dict[str, str] = {
        "cases/index.md": site_pages.cases_index(cases, ref),
        "cases/category.md": site_pages.by_category(cases, ref),
        "cases/level.md": site_pages.by_level(cases, ref),
        "cases/principle.md": site_pages.by_principle(cases, ref),
        "cases/phrase.md": site_pages.by_phrase(cases, ref),
    }
    for c in cases:
        pages[f"cases/{c.slug}.md"] = site_pages.case_page(c, ref, _Build.related.get(c.slug, ""))
    for p in ref.phrases:
        pages[f"phrases/{p.n}.md"] = site_pages.phrase_page(p.n, cases, ref)
    for p in ref.principles:
        pages[f"principles/{p.n}.md"] = site_pages.principle_page(p.n, cases, ref)
    for uri, content in pages.items():
        if files.get_file_from_path(uri) is not None:
            raise PluginError(f"docs/{uri} 与自动生成的页面冲突：删除 docs/{uri}（案例只放在 cases/ 下）")
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    if "caselib:" not in markdown:
        return markdown
    up = "../" * page.file.src_uri.count("/")  # relative prefix back to the docs root
    try:
        return site_pages.expand_markers(markdown, _Build.cases, _Build.reference, up)
    except UnknownMarker as e:
        raise PluginError(f"docs/{page.file.src_uri}: {e}") from e
