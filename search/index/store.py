"""The search index: a directory with a manifest, written atomically, updated incrementally.

Layout (``<state>/index`` is a symlink to the current version)::

    .caselib/index -> index.d/20261124T101500-1234/
        manifest.json   format, version, model, model_id, dim, built_at, per-case content hash
        vectors.npy     float32 [n_chunks, dim], L2-normalised passage embeddings
        chunks.json     the chunks as columns: {"slug": [...], "section": [...], "text": [...]}
        cases.json      per-case display data (title, level, agent block…)
        bm25_vocab.json, bm25_ids.npy, bm25_offsets.npy
                        every chunk's jieba tokens as ids (search/bm25.py)

A build writes a new version directory completely (manifest last), then swaps the
symlink with one rename, so a reader sees either the old or the new index, never half of
one; a killed build leaves only an unreferenced temp directory. `save` and `load` mirror
each other. Only cases whose file hash changed are re-embedded and re-tokenised; everything
else is copied as array slices, so an update costs about the same at 10 cases or 10,000.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from search.index.bm25 import BM25, IdsBuilder
from search.library.cases import SECTIONS, Case
from search.errors import IndexMismatch, IndexMissing
from search.library.textnorm import TOKENIZER_VERSION, tokenize

FORMAT = "caselib-index"
VERSION = 3  # bump when the files' layout or CaseRecord fields change
# older versions whose chunks and vectors are still valid: their embeddings are reused
# (hours of work at 10,000 cases) and only the rest is rewritten. 2 → 3: BM25 storage.
VECTORS_COMPATIBLE = {2, 3}
MAX_CHUNK_CHARS = 360  # keeps every chunk well under the model's 512-token limit
KEEP_VERSIONS = 2  # current + previous, so a reader mid-load never loses its files


@dataclass(frozen=True)
class Chunk:
    slug: str
    section: str  # "概要" or one of SECTIONS
    text: str  # display text (Markdown stripped)


@dataclass
class CaseRecord:
    """What a search result shows about a case, without reading cases/ again."""

    slug: str
    id: str
    title: str
    category: str
    level: str
    channel: str
    outcome: str
    tags: list[str]
    principles: list[int]
    phrases: list[int]
    summary: str
    source: str
    say: str
    do: list[str]
    avoid: list[str]
    hash: str

    @property
    def url(self) -> str:
        return f"/cases/{self.slug}.html"

    @classmethod
    def from_case(cls, c: Case) -> "CaseRecord":
        m = c.meta
        return cls(
            slug=c.slug, id=m.id, title=m.title, category=m.category, level=m.level, channel=m.channel,
            outcome=m.outcome, tags=list(m.tags), principles=list(m.principles), phrases=list(m.phrases),
            summary=m.summary, source=m.source, say=_plain(c.agent.say), do=[_plain(x) for x in c.agent.do],
            avoid=[_plain(x) for x in c.agent.avoid], hash=c.content_hash,
        )


_MD = re.compile(r"\*\*|__|`|^#+\s*|^\s*(?:[-*+]|\d+[.、)])\s+|!\[[^\]]*\]\([^)]*\)", re.M)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def _plain(md: str) -> str:
    text = _LINK.sub(r"\1", md)
    text = _MD.sub("", text)
    return re.sub(r"\n{2,}", "\n", text).strip()


def _split(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split on paragraphs, then sentences, packing pieces up to `limit` characters."""
    pieces: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        sentences = re.split(r"(?<=[。！？!?；;])", para) if len(para) > limit else [para]
        for s in sentences:
            while len(s) > limit:  # a single run-on sentence
                pieces.append(s[:limit])
                s = s[limit:]
            if s:
                pieces.append(s)
    out: list[str] = []
    for p in pieces:
        if out and len(out[-1]) + len(p) + 1 <= limit:
            out[-1] += "\n" + p
        else:
            out.append(p)
    return out


def chunk_case(c: Case) -> list[Chunk]:
    """Title + summary, then each body section (split if long): a match on 处理 or
    接听要点 alone is enough to surface the case."""
    m = c.meta
    chunks = [Chunk(c.slug, "概要", f"{m.title}。{m.summary}")]
    for name in SECTIONS:
        for piece in _split(_plain(c.sections[name].text)):
            chunks.append(Chunk(c.slug, name, piece))
    return chunks


def passage_text(record: CaseRecord, chunk: Chunk) -> str:
    """What the dense model embeds: the case title gives every section its context."""
    if chunk.section == "概要":
        return f"{chunk.text} 标签：{'、'.join(record.tags)}；类别：{record.category}"
    return f"{record.title}｜{chunk.section}：{chunk.text}"


def bm25_tokens(record: CaseRecord, chunk: Chunk) -> list[str]:
    extra = " ".join(record.tags) if chunk.section == "概要" else ""
    return tokenize(f"{chunk.text} {extra}")


# ------------------------------------------------------------------ in-memory index


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
        if len(self.chunk_case) and (np.any(np.diff(self.chunk_case) < 0) or len(np.unique(self.chunk_case)) != len(self.case_order)):
            raise IndexMismatch("索引中的片段顺序与案例表不一致 — 运行 caselib index 重建")
        self.case_starts = np.flatnonzero(np.r_[True, np.diff(self.chunk_case) != 0]) if len(self.chunk_case) else np.zeros(0, np.int64)

    @property
    def model_id(self) -> str:
        return self.manifest["model_id"]


@dataclass
class BuildResult:
    path: Path
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    n_cases: int
    n_chunks: int
    embedded_chunks: int
    seconds: float
    rewritten: bool = False  # a new version was written (cases changed, or the BM25 tokenizer did)
    index: "Index | None" = None  # the new version in memory, so a server need not read it back

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rewritten)


def build_index(cases: list[Case], encoder, index_path: Path, model_name: str, progress: bool = False,
                previous: Index | None = None) -> BuildResult:
    """Build or update the index at `index_path` (a symlink managed here).

    ``previous``: the index a caller already holds in memory (the running server); used
    instead of reading the current version from disk when it is that version."""
    t0 = time.perf_counter()
    old = _previous(index_path, encoder.model_id, previous)
    # an unchanged case keeps its record (building one strips Markdown: 0.3 s per 10,000)
    records = {c.slug: old.cases[c.slug] if old is not None and c.slug in old.cases and old.cases[c.slug].hash == c.content_hash
               else CaseRecord.from_case(c) for c in cases}
    old_rows: dict[str, tuple[int, int]] = {}
    if old is not None:  # each case's chunk rows, from the index's own case boundaries
        ends = np.r_[old.case_starts[1:], len(old.chunks)]
        old_rows = {slug: (int(a), int(b)) for slug, a, b in zip(old.case_order, old.case_starts, ends)}
    chunks: list[Chunk] = []
    vec_parts: list[np.ndarray] = []  # per case: a slice of the old matrix, or a placeholder to fill
    to_embed: list[int] = []
    embed_slots: list[tuple[int, int]] = []  # (vec_parts index, n chunks) of new cases
    added, updated = [], []
    same_tokenizer = old is not None and old.manifest.get("tokenizer") == TOKENIZER_VERSION
    old_ids = old.bm25 if same_tokenizer and old.bm25 is not None else None
    v2_tokens = _read_v2_tokens(old.path) if same_tokenizer and old_ids is None else None
    tokens = IdsBuilder(old_ids.vocab if old_ids is not None else None)  # BM25 tokens of every chunk, in order
    for c in cases:
        rec = records[c.slug]
        if old is not None and c.slug in old.cases and old.cases[c.slug].hash == rec.hash and c.slug in old_rows:
            a, b = old_rows[c.slug]
            chunks.extend(old.chunks[a:b])
            vec_parts.append(old.vectors[a:b])
            for i in range(a, b):
                if old_ids is not None:
                    tokens.add_ids(old_ids.ids[old_ids.offsets[i] : old_ids.offsets[i + 1]])
                else:
                    tokens.add_tokens(v2_tokens[i] if v2_tokens is not None else bm25_tokens(rec, old.chunks[i]))
            continue
        (updated if old is not None and c.slug in old.cases else added).append(c.slug)
        new_chunks = chunk_case(c)
        embed_slots.append((len(vec_parts), len(new_chunks)))
        vec_parts.append(np.zeros((0, 0), np.float32))  # filled below
        for ch in new_chunks:
            to_embed.append(len(chunks))
            chunks.append(ch)
            tokens.add_tokens(bm25_tokens(rec, ch))
    removed = sorted(set(old.cases) - set(records)) if old is not None else []

    dim = encoder.dim
    if to_embed:
        if progress:
            import sys

            print(f"编码 {len(to_embed)} 个片段（{len(added) + len(updated)} 个新增或改动的案例）…", file=sys.stderr, flush=True)
        texts = [passage_text(records[chunks[i].slug], chunks[i]) for i in to_embed]
        new = encoder.encode_passages(texts, progress=progress)
        pos = 0
        for slot, n in embed_slots:
            vec_parts[slot] = new[pos : pos + n]
            pos += n
    matrix = np.ascontiguousarray(np.concatenate(vec_parts) if vec_parts else np.zeros((0, dim)), dtype=np.float32)

    stale = old is not None and (old.manifest.get("tokenizer") != TOKENIZER_VERSION or old.manifest.get("version") != VERSION)
    rewritten = old is None or bool(added or updated or removed or stale)
    if not rewritten:
        return BuildResult(index_path, added, updated, removed, len(cases), len(records), len(chunks), 0,
                           time.perf_counter() - t0, False, None)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "model": model_name,
        "model_id": encoder.model_id,
        "dim": dim,
        "tokenizer": TOKENIZER_VERSION,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_cases": len(records),
        "n_chunks": len(chunks),
        "cases": {s: r.hash for s, r in records.items()},
    }
    bm25 = BM25(*tokens.build()) if chunks else None
    path = save_index(index_path, manifest, matrix, chunks, records, bm25)
    built = Index(path, manifest, matrix, chunks, records, bm25)
    return BuildResult(path, added, updated, removed, len(cases) - len(added) - len(updated), len(records), len(chunks),
                       len(to_embed), time.perf_counter() - t0, True, built)


def _read_v2_tokens(version_dir: Path) -> list[list[str]] | None:
    """Version 2 kept each chunk's BM25 tokens as a JSON line: read, not re-tokenised."""
    try:
        with open(version_dir / "tokens.jsonl", encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    except (OSError, ValueError):
        return None


def _previous(index_path: Path, model_id: str, held: Index | None) -> Index | None:
    """The current version, to reuse what has not changed; None if nothing is reusable
    (no index, another model, a version whose vectors are incompatible, damage)."""
    if held is not None and index_path.exists() and held.path == index_path.resolve():
        return held if held.model_id == model_id else None
    try:  # another model is refused before the vectors are read: everything is re-embedded
        return load_index(index_path, expected_model_id=model_id, accept=VECTORS_COMPATIBLE)
    except (IndexMissing, IndexMismatch):
        return None


def save_index(index_path: Path, manifest: dict, vectors: np.ndarray, chunks: list[Chunk], records: dict[str, CaseRecord],
               bm25: BM25 | None) -> Path:
    versions = index_path.parent / (index_path.name + ".d")
    versions.mkdir(parents=True, exist_ok=True)
    name = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f") + f"-{os.getpid()}"
    tmp = versions / (name + ".tmp")
    tmp.mkdir()
    np.save(tmp / "vectors.npy", vectors)
    columns = {"slug": [c.slug for c in chunks], "section": [c.section for c in chunks], "text": [c.text for c in chunks]}
    (tmp / "chunks.json").write_text(json.dumps(columns, ensure_ascii=False), encoding="utf-8")
    # vars(), not asdict(): asdict deep-copies every field (1 s per 10,000 records)
    (tmp / "cases.json").write_text(json.dumps({s: vars(r) for s, r in records.items()}, ensure_ascii=False), encoding="utf-8")
    if bm25 is not None:
        bm25.save(tmp)
    _fsync_dir_files(tmp)
    # the manifest is written last: a directory without one is never loaded
    _write_atomic(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    final = versions / name
    os.rename(tmp, final)
    _swap_symlink(index_path, final)
    _prune(versions, keep=final)
    return final


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


def _swap_symlink(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically (rename of a fresh symlink over the old one)."""
    if link.exists() and not link.is_symlink():
        raise IndexMismatch(f"{link} 是一个普通目录，不是 caselib 管理的索引链接 — 删除它后重新运行 caselib index")
    tmp = link.with_name(link.name + f".link-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)


def _prune(versions: Path, keep: Path) -> None:
    complete = sorted(p for p in versions.iterdir() if p.is_dir() and not p.name.endswith(".tmp"))
    for old in complete[:-KEEP_VERSIONS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in versions.glob("*.tmp"):  # left by a killed build; never referenced
        pid = tmp.name.rsplit("-", 1)[-1].removesuffix(".tmp")
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's live process
        return True
    return True


def read_manifest(index_path: Path, accept: set[int] | None = None) -> dict:
    target = index_path.resolve()
    mf = target / "manifest.json"
    if not mf.is_file():
        raise IndexMissing(f"还没有检索索引（{index_path}）— 先运行 caselib index（或 caselib build）")
    manifest = json.loads(mf.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise IndexMismatch(f"{mf} 不是 caselib 索引 — 删除 {index_path} 后运行 caselib index")
    if manifest.get("version") not in (accept or {VERSION}):
        raise IndexMismatch(f"索引格式版本是 {manifest.get('version')}，当前程序需要 {VERSION} — 运行 caselib index 更新")
    return manifest


def load_index(index_path: Path, expected_model_id: str | None = None, accept: set[int] | None = None) -> Index:
    """The current version. ``accept``: older versions to read too (their chunks and
    vectors, for reuse by build_index; their BM25 files are not read)."""
    manifest = read_manifest(index_path, accept)
    if expected_model_id is not None and manifest["model_id"] != expected_model_id:
        raise IndexMismatch(
            f"索引是用模型“{manifest['model']}”（{_short(manifest['model_id'])}）建的，当前设置的模型不同（{_short(expected_model_id)}）"
            " — 运行 caselib index 用当前模型重建，或把 CASELIB_MODEL 改回建索引时的模型"
        )
    target = index_path.resolve()
    try:
        vectors = np.load(target / "vectors.npy")
        if manifest["version"] >= 3:
            cols = json.loads((target / "chunks.json").read_text(encoding="utf-8"))
            chunks = [Chunk(*row) for row in zip(cols["slug"], cols["section"], cols["text"])]
        else:  # version 2: one JSON object per line
            with open(target / "chunks.jsonl", encoding="utf-8") as f:
                chunks = [Chunk(**json.loads(line)) for line in f]
        records = {s: CaseRecord(**r) for s, r in json.loads((target / "cases.json").read_text(encoding="utf-8")).items()}
        bm25 = BM25.load(target) if chunks and manifest["version"] >= 3 else None
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise IndexMismatch(f"索引文件 {target} 损坏或格式不符（{type(e).__name__}: {e}）— 运行 caselib index 重建") from e
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
