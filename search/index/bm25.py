"""BM25 (Lucene variant, k1=1.5, b=0.75: the same scores as bm25s' default) over token ids,
built so that an incremental update costs only the changed chunks.

Stored per index version as three arrays: ``vocab`` (term per id), ``ids`` (every chunk's
token ids, concatenated) and ``offsets`` (chunk i is ``ids[offsets[i]:offsets[i+1]]``).
The weighted term-by-chunk matrix is derived from them at load time in a few vectorised
steps. Why not keep bm25s' saved index: rebuilding it re-reads every chunk's tokens as
Python lists, which took seconds per 10,000 chunks, and a trainer's save must reach
search in seconds at 10,000 cases. Here reusing unchanged chunks is array slicing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75
FILES = ("bm25_vocab.json", "bm25_ids.npy", "bm25_offsets.npy")


class BM25:
    def __init__(self, vocab: list[str], ids: np.ndarray, offsets: np.ndarray):
        from scipy import sparse

        self.vocab = vocab
        self.vocab_dict = {t: i for i, t in enumerate(vocab)}
        self.ids = np.ascontiguousarray(ids, dtype=np.int32)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        n_docs = len(self.offsets) - 1
        self.n_docs = n_docs
        # term frequencies by term (CSC): the COO → CSC conversion sums a chunk's repeated
        # tokens in one pass. Copies are not needed: scipy gets fresh row/col arrays here.
        doc_len = np.diff(self.offsets)
        rows = np.repeat(np.arange(n_docs, dtype=np.int32), doc_len)
        m = sparse.coo_matrix((np.ones(len(self.ids), dtype=np.float32), (rows, self.ids)),
                              shape=(n_docs, max(1, len(vocab)))).tocsc()
        m.sum_duplicates()
        avg = float(doc_len.mean()) if n_docs and doc_len.mean() > 0 else 1.0
        df = np.diff(m.indptr).astype(np.float32)  # chunks containing each term
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        norm = (K1 * (1 - B + B * doc_len.astype(np.float32) / avg))[m.indices]
        cols = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
        m.data = (idf[cols] * m.data / (m.data + norm)).astype(np.float32)
        self._by_term = m  # one term's postings are one contiguous slice

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """Score of every chunk for the query tokens (a repeated token counts again)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        m = self._by_term
        for t in tokens:
            j = self.vocab_dict.get(t)
            if j is None:
                continue
            lo, hi = m.indptr[j], m.indptr[j + 1]
            out[m.indices[lo:hi]] += m.data[lo:hi]
        return out

    # ------------------------------------------------------------------ storage

    def save(self, directory: Path) -> None:
        (directory / FILES[0]).write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        np.save(directory / FILES[1], self.ids)
        np.save(directory / FILES[2], self.offsets)

    @classmethod
    def load(cls, directory: Path) -> "BM25":
        vocab = json.loads((directory / FILES[0]).read_text(encoding="utf-8"))
        return cls(vocab, np.load(directory / FILES[1]), np.load(directory / FILES[2]))


class IdsBuilder:
    """Collects chunks' tokens as ids, in order: reused id arrays as they are, new token
    lists mapped at once (growing the vocabulary), so a build never holds every chunk's
    tokens as Python strings (that took gigabytes at 77,000 chunks)."""

    def __init__(self, vocab: list[str] | None = None):
        self.vocab = list(vocab or [])
        self._index = {t: i for i, t in enumerate(self.vocab)}
        self._arrays: list[np.ndarray] = []

    def add_ids(self, ids: np.ndarray) -> None:
        self._arrays.append(ids.astype(np.int32, copy=False))

    def add_tokens(self, tokens: list[str]) -> None:
        row = np.empty(len(tokens), dtype=np.int32)
        for k, t in enumerate(tokens):
            i = self._index.get(t)
            if i is None:
                i = self._index[t] = len(self.vocab)
                self.vocab.append(t)
            row[k] = i
        self._arrays.append(row)

    def build(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(vocab, ids, offsets)."""
        lengths = np.fromiter((len(a) for a in self._arrays), dtype=np.int64, count=len(self._arrays))
        offsets = np.zeros(len(self._arrays) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.concatenate(self._arrays) if self._arrays else np.zeros(0, np.int32)
        return self.vocab, ids, offsets

