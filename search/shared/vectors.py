"""CASELIB_VECTOR_SEARCH=pgvector: the dense side answered by an HNSW index in PostgreSQL
instead of faiss in the replica's memory, for libraries too large for it. BM25 stays local.

Vectors live in one table per dimension, keyed by a hash of (model, case, section, chunk
text), so a publication uploads only new chunks (an approval adds a few rows, not the whole
library) and the HNSW index is maintained incrementally. Rows no chunk of the newest
version uses are deleted at publication; a result whose key the serving version does not
know is skipped, so a replica still on the previous version never returns a wrong chunk.
"""

from __future__ import annotations

import hashlib

import numpy as np

from search.authoring.db import Database

CANDIDATES = 200  # per query vector; the fusion needs the head of the ranking, not all of it
EF_SEARCH = 200  # HNSW search breadth (pgvector's default is 40): recall@10 against exact, see benchmarks/vector_store.py


def table(dim: int) -> str:
    return f"chunk_vectors_{int(dim)}"


def chunk_keys(index) -> list[str]:
    model = index.manifest.get("model_id", "")
    return [hashlib.sha1(f"{model}\x00{c.slug}\x00{c.section}\x00{c.text}".encode()).hexdigest() for c in index.chunks]


def _raw(db: Database, register: bool = True):
    """A psycopg connection from the engine's pool, with pgvector's types registered."""
    from pgvector.psycopg import register_vector

    conn = db.engine.raw_connection()
    raw = conn.driver_connection
    if register:
        register_vector(raw)
    return conn, raw


def ensure_table(raw, dim: int) -> None:
    raw.execute("CREATE EXTENSION IF NOT EXISTS vector")
    from pgvector.psycopg import register_vector

    register_vector(raw)
    t = table(dim)
    raw.execute(f"CREATE TABLE IF NOT EXISTS {t} (key text PRIMARY KEY, embedding vector({int(dim)}) NOT NULL)")
    raw.execute(f"CREATE INDEX IF NOT EXISTS {t}_hnsw ON {t} USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 64)")


def upload(db: Database, index) -> int:
    """Make the table hold exactly this index's chunks; returns how many rows were added."""
    dim = int(index.vectors.shape[1])
    keys = chunk_keys(index)
    conn, raw = _raw(db, register=False)  # the extension may not exist yet
    try:
        ensure_table(raw, dim)
        t = table(dim)
        have = {k for (k,) in raw.execute(f"SELECT key FROM {t}")}
        new = [i for i, k in enumerate(keys) if k not in have]
        if new:
            with raw.cursor() as cur, cur.copy(f"COPY {t} (key, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["text", "vector"])
                for i in new:
                    copy.write_row((keys[i], np.asarray(index.vectors[i], dtype=np.float32)))
        gone = have - set(keys)
        if gone:
            raw.execute(f"DELETE FROM {t} WHERE key = ANY(%s)", (list(gone),))
        raw.commit()
        return len(new)
    finally:
        conn.close()


class PgVectorDense:
    """The faiss index's `search(qv, k) → (scores, ids)` over PostgreSQL's HNSW index."""

    def __init__(self, db: Database, index, ef_search: int = EF_SEARCH, candidates: int = CANDIDATES):
        self.db = db
        self.dim = int(index.manifest["dim"])
        self.rows = {k: i for i, k in enumerate(chunk_keys(index))}
        self.ef_search, self.candidates = ef_search, candidates

    def search(self, qv: np.ndarray, k: int):
        k = min(k, self.candidates)
        scores = np.full((len(qv), k), -np.inf, dtype=np.float32)
        ids = np.full((len(qv), k), -1, dtype=np.int64)
        conn, raw = _raw(self.db)
        try:
            with raw.transaction():
                raw.execute(f"SET LOCAL hnsw.ef_search = {int(max(self.ef_search, k))}")
                for j, q in enumerate(np.asarray(qv, dtype=np.float32)):
                    got = raw.execute(f"SELECT key, (embedding <#> %s) * -1 FROM {table(self.dim)} ORDER BY embedding <#> %s LIMIT %s",
                                      (q, q, k + 20)).fetchall()
                    n = 0
                    for key, score in got:
                        row = self.rows.get(key)
                        if row is not None and n < k:
                            ids[j, n], scores[j, n] = row, score
                            n += 1
        finally:
            conn.close()
        return scores, ids
