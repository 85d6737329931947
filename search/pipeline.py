"""The library API the faces call: check → index → site, and opening a searcher.

Each stage leaves the previous good output in place when it fails: the index is swapped
in only when complete (index.py), the site is built into a fresh directory and swapped in
with one rename of a symlink.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from search.library.check import CheckReport, check_library
from search.errors import BuildError, CaseError, ConfigError, IndexMismatch
from search.settings import Settings


def check(settings: Settings, memo: dict | None = None) -> CheckReport:
    return check_library(settings.cases_dir, root=settings.root, memo=memo)


def load_encoder(settings: Settings, threads: int | None = None):
    from search.models.encoder import load_encoder as _load

    try:
        return _load(settings.model, settings.cache_dir, backend=settings.backend, threads=threads)
    except (ValueError, RuntimeError) as e:  # a backend that needs a missing package, or a wrong combination
        raise ConfigError(f"{e} — 检查 CASELIB_MODEL / CASELIB_BACKEND") from e


def index(settings: Settings, encoder=None, progress: bool = True, memo: dict | None = None, previous=None):
    """Validate, then build or update the index. Raises CaseError if any case is invalid
    (nothing is indexed from a library with errors: the last good index keeps serving).
    A long-running caller passes ``memo`` (see check_library) and the Index it holds as
    ``previous`` (not read back from disk)."""
    from search.index.build import build_index

    report = check(settings, memo)
    if report.problems:
        raise CaseError(report.problems)
    encoder = encoder or load_encoder(settings)
    return build_index(report.cases, encoder, settings.index_path, settings.model, progress=progress, previous=previous)


def open_searcher(settings: Settings, encoder=None):
    """Load the index and the encoder; refuse an index built with another model."""
    from search.index.store import load_index, read_manifest
    from search.retrieval.searcher import Searcher

    manifest = read_manifest(settings.index_path)  # fails fast, before the model loads
    if manifest.get("model") != settings.model and encoder is None:
        raise IndexMismatch(
            f"索引是用模型“{manifest.get('model')}”建的，当前设置是“{settings.model}”"
            " — 运行 caselib index 用当前模型重建，或把 CASELIB_MODEL 改回原来的模型"
        )
    encoder = encoder or load_encoder(settings)
    return Searcher(load_index(settings.index_path, expected_model_id=encoder.model_id), encoder)


def site(settings: Settings) -> Path:
    """mkdocs build --strict into a new directory, then point site/ at it atomically."""
    versions = settings.state_dir / "site.d"
    versions.mkdir(parents=True, exist_ok=True)
    name = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f") + f"-{os.getpid()}"
    tmp = versions / (name + ".tmp")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", CASELIB_ROOT=str(settings.root))
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp)],
        cwd=settings.root, env=env, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        detail = "\n".join(line for line in (proc.stderr or proc.stdout).splitlines() if line.strip() and "│" not in line)
        raise BuildError(f"站点构建失败（原站点保持不变）：\n{detail.strip()}")
    final = versions / name
    os.rename(tmp, final)
    link = settings.site_path
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a plain site/ from a manual `mkdocs build`: replace it by the managed link
    tmp_link = link.with_name(link.name + f".link-{os.getpid()}")
    if tmp_link.is_symlink():
        tmp_link.unlink()
    os.symlink(os.path.relpath(final, link.parent), tmp_link)
    os.replace(tmp_link, link)
    for old in sorted(p for p in versions.iterdir() if p.is_dir())[:-2]:
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


@dataclass
class BuildSummary:
    cases: int
    index: object  # BuildResult
    site: Path
    seconds: float


def build(settings: Settings, encoder=None, progress: bool = True, on_stage=None) -> BuildSummary:
    """check → index (incremental) → site; stops at the first failing stage."""
    t0 = time.perf_counter()
    stage = on_stage or (lambda name: None)
    stage("check")
    report = check(settings)
    if report.problems:
        raise CaseError(report.problems)
    stage("index")
    result = index(settings, encoder=encoder, progress=progress)
    stage("site")
    path = site(settings)
    return BuildSummary(len(report.cases), result, path, time.perf_counter() - t0)
