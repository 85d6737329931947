"""The library API the faces call: check → index → site, and opening a searcher.

Each stage leaves the previous good output in place when it fails: the index and the site
are each written as a new version and published with one rename of a symlink
(search/atomic.py). `build` reads cases/ once: the cases it checked are the ones indexed
and the ones the site shows, and the mkdocs process gets them (and these settings) from
this one rather than reading its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from search.atomic import write_version
from search.errors import BuildError, CaseError, ConfigError, IndexMismatch
from search.library.check import CheckReport, check_library
from search.settings import Settings, settings_env


def check(settings: Settings, memo: dict | None = None) -> CheckReport:
    return check_library(settings.cases_dir, root=settings.root, memo=memo)


def load_encoder(settings: Settings, threads: int | None = None):
    """The encoder the settings ask for. A wrong setting (unknown backend, a backend the
    model cannot use, no such model) is a ConfigError that points at the setting; a model
    that fails to convert, verify or load raises ModelError with its own message."""
    from search.models import load_encoder as _load

    try:
        return _load(settings.model, settings.cache_dir, backend=settings.backend, threads=threads)
    except ConfigError as e:
        raise ConfigError(f"{e} — 检查 CASELIB_MODEL / CASELIB_BACKEND") from e


def load_clause_encoder(settings: Settings, threads: int | None = None):
    """What a long text's clauses are encoded with (search.models.load_clause_encoder):
    an encoder, or None for the main one."""
    from search.models import load_clause_encoder as _load

    return _load(settings.model, settings.cache_dir, backend=settings.backend, clause=settings.clause_encoder,
                 threads=threads)


def index(settings: Settings, encoder=None, progress: bool = True, memo: dict | None = None, previous=None):
    """Validate, then build or update the index. Raises CaseError if any case is invalid
    (nothing is indexed from a library with errors: the last good index keeps serving).
    A long-running caller passes ``memo`` (see check_library) and the Index it holds as
    ``previous`` (not read back from disk)."""
    report = check(settings, memo)
    if report.problems:
        raise CaseError(report.problems)
    return _index_cases(settings, report.cases, encoder, progress, previous)


def _index_cases(settings: Settings, cases: list, encoder=None, progress: bool = True, previous=None):
    """Build or update the index from cases already checked."""
    from search.index.build import build_index

    encoder = encoder or load_encoder(settings)
    return build_index(cases, encoder, settings.index_path, settings.model, progress=progress, previous=previous)


def open_searcher(settings: Settings, encoder=None, dense=None, clause_encoder=None):
    """Load the index and the encoder; refuse an index built with another model. ``dense``:
    a function of the loaded index giving its vector index (default: faiss in memory); the
    vectors then stay on disk (memory-mapped). Without ``encoder`` the clause encoder is
    loaded from the settings too; with one, ``clause_encoder`` defaults to it."""
    from search.index.store import load_index, read_manifest
    from search.retrieval.searcher import Searcher

    manifest = read_manifest(settings.index_path)  # fails fast, before the model loads
    if manifest.get("model") != settings.model and encoder is None:
        raise IndexMismatch(
            f"索引是用模型“{manifest.get('model')}”建的，当前设置是“{settings.model}”"
            " — 运行 caselib index 用当前模型重建，或把 CASELIB_MODEL 改回原来的模型"
        )
    if encoder is None:
        encoder = load_encoder(settings)
        clause_encoder = clause_encoder or load_clause_encoder(settings)
    index = load_index(settings.index_path, expected_model_id=encoder.model_id, mmap=dense is not None)
    return Searcher(index, encoder, dense=dense(index) if dense is not None else None, clause_encoder=clause_encoder)


def site(settings: Settings) -> Path:
    """mkdocs build --strict into a new version, then point site/ at it atomically. The
    mkdocs hooks check cases/ themselves (an invalid case fails the build)."""
    return _render_site(settings)


def _render_site(settings: Settings, cases: list | None = None) -> Path:
    """``cases``: already checked (by `build`); the hooks use them instead of reading cases/."""
    from search.site.hooks import CASES_FILE_ENV, write_cases

    def render(out: Path) -> None:
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1", CASELIB_ROOT=str(settings.root), **settings_env(settings))
        env.pop(CASES_FILE_ENV, None)
        with tempfile.TemporaryDirectory(prefix="caselib-site-") as scratch:
            if cases is not None:
                env[CASES_FILE_ENV] = str(write_cases(cases, Path(scratch)))
            proc = subprocess.run(
                [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
                cwd=settings.root, env=env, capture_output=True, text=True,
            )
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).splitlines()
            detail = "\n".join(line for line in lines if line.strip() and "│" not in line)
            raise BuildError(f"站点构建失败（原站点保持不变）：\n{detail.strip()}")

    # a plain site/ from a manual `mkdocs build` is replaced by the managed link
    return write_version(settings.site_path, render, versions=settings.state_dir / "site.d", replace_dir=True)


@dataclass
class BuildSummary:
    cases: int
    index: object  # BuildResult
    site: Path
    seconds: float


def build(settings: Settings, encoder=None, progress: bool = True, on_stage=None) -> BuildSummary:
    """check → index (incremental) → site; stops at the first failing stage. The library is
    read and checked once; the index and the site are built from those cases."""
    t0 = time.perf_counter()
    stage = on_stage or (lambda name: None)
    stage("check")
    report = check(settings)
    if report.problems:
        raise CaseError(report.problems)
    stage("index")
    result = _index_cases(settings, report.cases, encoder=encoder, progress=progress)
    stage("site")
    path = _render_site(settings, report.cases)
    return BuildSummary(len(report.cases), result, path, time.perf_counter() - t0)
