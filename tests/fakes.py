"""Test doubles: ``HashingEncoder``, a deterministic fake encoder (no model, no torch)."""

from __future__ import annotations

import hashlib
import unicodedata

import numpy as np


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
