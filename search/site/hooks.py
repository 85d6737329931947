"""mkdocs hooks: bring cases/ into the site at build time without copying into docs/.

- on_config: validate every case with the same checker as `caselib check`; an invalid
  case stops the build (the previous site/ is left as it was). Under `caselib build` the
  cases were checked already: the build passes them in (CASES_FILE_ENV), and its
  settings too (search/settings.py: settings_env), so nothing is parsed or rebuilt twice.
- on_files: add generated pages (one per case, browse pages, one per phrase/principle).
- on_page_markdown: expand <!-- caselib:NAME --> markers in hand-written pages; raise on
  an unknown marker.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

import search.site.pages as site_pages
from search.errors import CaselibError, UnknownMarker
from search.library.check import check_library
from search.library.reference import load_reference
from search.settings import Settings, load_settings, passed_settings

log = logging.getLogger("mkdocs.hooks.caselib")
# the cases `caselib build` checked, pickled by write_cases into a private temp directory
CASES_FILE_ENV = "CASELIB_CASES_FILE"


def write_cases(cases: list, directory: Path) -> Path:
    """Hand the build's checked cases to the mkdocs process (set CASES_FILE_ENV to the path)."""
    path = Path(directory) / "cases.pickle"
    with open(path, "wb") as f:
        pickle.dump(cases, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _passed_cases() -> list | None:
    path = os.environ.get(CASES_FILE_ENV)
    if not path:
        return None
    with open(path, "rb") as f:
        return pickle.load(f)


class _Build:
    """State of one build, set in on_config (mkdocs loads hook modules once per build)."""

    cases: list = []
    reference = None
    related: dict[str, str] = {}


def on_config(config):
    root = Path(config.config_file_path).parent
    try:
        settings = passed_settings() or load_settings(root)
    except CaselibError as e:
        raise PluginError(str(e)) from e
    _Build.reference = load_reference()
    cases = _passed_cases()
    if cases is None:  # a plain `mkdocs build` / `caselib serve`'s site rebuild: check here
        report = check_library(settings.cases_dir, _Build.reference, root=settings.root)
        if report.problems:
            lines = "\n".join(str(p) for p in report.problems)
            raise PluginError(
                f"案例校验未通过，站点不发布（原站点保持不变）：\n{lines}\n先运行 caselib check 逐条修改。"
            )
        cases = report.cases
    _Build.cases = cases
    _Build.related = _load_related(settings)
    log.info("caselib: %d 个案例", len(cases))
    return config


def _load_related(settings: Settings) -> dict[str, str]:
    """相似案例 blocks, computed from the search index's embeddings when one exists."""
    try:
        from search.site.related import related_markdown
    except ImportError:  # pragma: no cover - module added by the search feature
        return {}
    return related_markdown(settings.index_path, _Build.cases, _Build.reference)


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
