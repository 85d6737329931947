"""Incremental build: only cases whose file hash changed are re-embedded and re-tokenised.

Everything else is copied from the current version as array slices (vectors, BM25 token
ids), so an update costs about the same at 10 cases or 10,000. The result is written as a
new version by `search.index.store.save_index`; when nothing changed, nothing is written.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from search.errors import IndexMismatch, IndexMissing
from search.index.bm25 import BM25, IdsBuilder
from search.index.records import CHUNKER, CaseRecord, Chunk, bm25_tokens, chunk_case, passage_text
from search.index.store import FORMAT, VECTORS_COMPATIBLE, VERSION, Index, load_index, read_v2_tokens, save_index
from search.library.cases import Case
from search.library.textnorm import TOKENIZER_VERSION


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
    if old is not None and old.manifest.get("chunker", "sections-1") != CHUNKER:
        old = None  # chunks are cut or embedded differently now: nothing is reusable
    # an unchanged case keeps its record (building one strips Markdown: 0.3 s per 10,000)
    def unchanged(c: Case) -> bool:
        return old is not None and c.slug in old.cases and old.cases[c.slug].hash == c.content_hash

    records = {c.slug: old.cases[c.slug] if unchanged(c) else CaseRecord.from_case(c) for c in cases}
    old_rows: dict[str, tuple[int, int]] = {}
    if old is not None:  # each case's chunk rows, from the index's own case boundaries
        ends = np.r_[old.case_starts[1:], len(old.chunks)]
        old_rows = {slug: (int(a), int(b)) for slug, a, b in zip(old.case_order, old.case_starts, ends, strict=False)}
    chunks: list[Chunk] = []
    vec_parts: list[np.ndarray] = []  # per case: a slice of the old matrix, or a placeholder to fill
    to_embed: list[int] = []
    embed_slots: list[tuple[int, int]] = []  # (vec_parts index, n chunks) of new cases
    added, updated = [], []
    same_tokenizer = old is not None and old.manifest.get("tokenizer") == TOKENIZER_VERSION
    old_ids = old.bm25 if same_tokenizer and old.bm25 is not None else None
    v2_tokens = read_v2_tokens(old.path) if same_tokenizer and old_ids is None else None
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
            n_cases = len(added) + len(updated)
            print(f"编码 {len(to_embed)} 个片段（{n_cases} 个新增或改动的案例）…", file=sys.stderr, flush=True)
        texts = [passage_text(records[chunks[i].slug], chunks[i]) for i in to_embed]
        new = encoder.encode_passages(texts, progress=progress)
        pos = 0
        for slot, n in embed_slots:
            vec_parts[slot] = new[pos : pos + n]
            pos += n
    matrix = np.ascontiguousarray(np.concatenate(vec_parts) if vec_parts else np.zeros((0, dim)), dtype=np.float32)

    stale = old is not None and (old.manifest.get("tokenizer") != TOKENIZER_VERSION
                                 or old.manifest.get("version") != VERSION)
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
        "chunker": CHUNKER,
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


def _previous(index_path: Path, model_id: str, held: Index | None) -> Index | None:
    """The current version, to reuse what has not changed; None if nothing is reusable
    (no index, another model, a version whose vectors are incompatible, damage)."""
    if held is not None and index_path.exists() and held.path == index_path.resolve():
        return held if held.model_id == model_id else None
    try:  # another model is refused before the vectors are read: everything is re-embedded
        return load_index(index_path, expected_model_id=model_id, accept=VECTORS_COMPATIBLE)
    except (IndexMissing, IndexMismatch):
        return None
