"""The on-disk index: a versioned directory with a manifest; `save_index` and `load_index`
mirror each other.

Layout (``<state>/index`` is a symlink to the current version)::

    .caselib/index -> index.d/20261124T101500-1234/
        manifest.json   format, version, model, model_id, dim, built_at, per-case content hash
        vectors.npy     float32 [n_chunks, dim], L2-normalised passage embeddings
        chunks.json     the chunks as columns: {"slug": [...], "section": [...], "text": [...]}
        cases.json      per-case display data (title, level, agent block…)
        bm25_vocab.json, bm25_ids.npy, bm25_offsets.npy
                        every chunk's jieba tokens as ids (search/index/bm25.py)

A build writes a new version directory completely (manifest last), then swaps the
symlink with one rename, so a reader sees either the old or the new index, never half of
one; a killed build leaves only an unreferenced temp directory. Version 2 (chunks.jsonl,
tokens.jsonl) is still read, so `search.index.build` can reuse its vectors and tokens.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search.atomic import KEEP_VERSIONS, NotALink, write_version
from search.errors import IndexMismatch, IndexMissing
from search.index.bm25 import BM25
from search.index.records import CaseRecord, Chunk

FORMAT = "caselib-index"
VERSION = 3  # bump when the files' layout or CaseRecord fields change
# older versions whose chunks and vectors are still valid: their embeddings are reused
# (hours of work at 10,000 cases) and only the rest is rewritten. 2 → 3: BM25 storage.
VECTORS_COMPATIBLE = {2, 3}


@dataclass
class Index:
    path: Path
    manifest: dict
    vectors: np.ndarray
    chunks: list[Chunk]
    cases: dict[str, CaseRecord]
    bm25: BM25 | None
    chunk_case: np.ndarray = field(init=False)  # chunk row -> case ordinal
    case_order: list[str] = field(init=False)
    case_starts: np.ndarray = field(init=False)  # first chunk row of each case

    def __post_init__(self):
        self.case_order = list(self.cases)
        pos = {s: i for i, s in enumerate(self.case_order)}
        self.chunk_case = np.array([pos[c.slug] for c in self.chunks], dtype=np.int64)
        # chunks are stored case by case, in case order: per-case work is a segmented reduce
        steps = np.diff(self.chunk_case)
        if len(self.chunk_case) and (np.any(steps < 0) or len(np.unique(self.chunk_case)) != len(self.case_order)):
            raise IndexMismatch("索引中的片段顺序与案例表不一致 — 运行 caselib index 重建")
        self.case_starts = np.flatnonzero(np.r_[True, steps != 0]) if len(self.chunk_case) else np.zeros(0, np.int64)

    @property
    def model_id(self) -> str:
        return self.manifest["model_id"]


def read_v2_tokens(version_dir: Path) -> list[list[str]] | None:
    """Version 2 kept each chunk's BM25 tokens as a JSON line: read, not re-tokenised."""
    try:
        with open(version_dir / "tokens.jsonl", encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    except (OSError, ValueError):
        return None


def save_index(index_path: Path, manifest: dict, vectors: np.ndarray, chunks: list[Chunk],
               records: dict[str, CaseRecord], bm25: BM25 | None) -> Path:
    """Write a new version and point `index_path` at it (search/atomic.py); its path."""

    def write(d: Path) -> None:
        np.save(d / "vectors.npy", vectors)
        columns = {"slug": [c.slug for c in chunks], "section": [c.section for c in chunks],
                   "text": [c.text for c in chunks]}
        (d / "chunks.json").write_text(json.dumps(columns, ensure_ascii=False), encoding="utf-8")
        # vars(), not asdict(): asdict deep-copies every field (1 s per 10,000 records)
        cases = json.dumps({s: vars(r) for s, r in records.items()}, ensure_ascii=False)
        (d / "cases.json").write_text(cases, encoding="utf-8")
        if bm25 is not None:
            bm25.save(d)
        _fsync_dir_files(d)
        # the manifest is written last: a directory without one is never loaded
        _write_atomic(d / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))

    try:
        return write_version(index_path, write, keep=KEEP_VERSIONS)
    except NotALink as e:
        raise IndexMismatch(
            f"{index_path} 是一个普通目录，不是 caselib 管理的索引链接 — 删除它后重新运行 caselib index"
        ) from e


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir_files(d: Path) -> None:
    for p in d.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def read_manifest(index_path: Path, accept: set[int] | None = None) -> dict:
    target = index_path.resolve()
    mf = target / "manifest.json"
    if not mf.is_file():
        raise IndexMissing(f"还没有检索索引（{index_path}）— 先运行 caselib index（或 caselib build）")
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IndexMismatch(f"{mf} 已损坏（{e}）— 运行 caselib index 重建索引") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexMismatch(f"{mf} 不是 caselib 索引 — 删除 {index_path} 后运行 caselib index")
    if manifest.get("version") not in (accept or {VERSION}):
        raise IndexMismatch(
            f"索引格式版本是 {manifest.get('version')}，当前程序需要 {VERSION} — 运行 caselib index 更新"
        )
    return manifest


def load_index(index_path: Path, expected_model_id: str | None = None, accept: set[int] | None = None,
               mmap: bool = False) -> Index:
    """The current version. ``accept``: older versions to read too (their chunks and
    vectors, for reuse by build_index; their BM25 files are not read). ``mmap``: leave the
    vectors on disk (another index answers the dense side)."""
    manifest = read_manifest(index_path, accept)
    if expected_model_id is not None and manifest["model_id"] != expected_model_id:
        raise IndexMismatch(
            f"索引是用模型“{manifest['model']}”（{_short(manifest['model_id'])}）建的，当前设置的模型不同（{_short(expected_model_id)}）"
            " — 运行 caselib index 用当前模型重建，或把 CASELIB_MODEL 改回建索引时的模型"
        )
    target = index_path.resolve()
    try:
        vectors = np.load(target / "vectors.npy", mmap_mode="r" if mmap else None)
        if manifest["version"] >= 3:
            cols = json.loads((target / "chunks.json").read_text(encoding="utf-8"))
            chunks = [Chunk(*row) for row in zip(cols["slug"], cols["section"], cols["text"], strict=False)]
        else:  # version 2: one JSON object per line
            with open(target / "chunks.jsonl", encoding="utf-8") as f:
                chunks = [Chunk(**json.loads(line)) for line in f]
        raw_records = json.loads((target / "cases.json").read_text(encoding="utf-8"))
        records = {s: CaseRecord(**r) for s, r in raw_records.items()}
        bm25 = BM25.load(target) if chunks and manifest["version"] >= 3 else None
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise IndexMismatch(
            f"索引文件 {target} 损坏或格式不符（{type(e).__name__}: {e}）— 运行 caselib index 重建"
        ) from e
    if vectors.shape != (len(chunks), manifest["dim"]):
        raise IndexMismatch(f"索引文件不一致（向量 {vectors.shape}，分块 {len(chunks)}）— 运行 caselib index 重建")
    if bm25 is not None and bm25.n_docs != len(chunks):
        raise IndexMismatch(f"索引文件不一致（BM25 {bm25.n_docs} 个片段，分块 {len(chunks)}）— 运行 caselib index 重建")
    return Index(target, manifest, vectors, chunks, records, bm25)


def _short(model_id: str) -> str:
    return model_id.split(":")[-1][:12]


def read_records(index_path: Path) -> dict[str, CaseRecord]:
    """Just the per-case display data, without loading vectors or BM25 (for reports)."""
    read_manifest(index_path)
    data = json.loads((index_path.resolve() / "cases.json").read_text(encoding="utf-8"))
    return {s: CaseRecord(**r) for s, r in data.items()}
