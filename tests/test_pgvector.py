"""CASELIB_VECTOR_SEARCH=pgvector on a real PostgreSQL: a replica's dense side answered by
the HNSW index in PostgreSQL gives the same results as faiss, uploads are incremental,
and a chunk the serving version does not know never comes back."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from search.authoring.db import open_database
from search.index.store import load_index
from search.server.app import create_app
from search.settings import load_settings
from search.shared import library, vectors
from tests.conftest import make_case, three_case_library, write_case
from tests.fakes import HashingEncoder
from tests.test_shared_store import tiny_site

QUERIES = ["电梯停在一楼不动了", "暖气不热", "月租卡刷不了，车库入口堵住了", "业主打电话投诉"]


def test_a_pgvector_replica_answers_like_a_faiss_replica(tmp_path, pg_url):
    wroot = tmp_path / "writer"
    wroot.mkdir()
    tiny_site(wroot)
    wsettings, enc = three_case_library(wroot, database_url=pg_url, vector_search="pgvector")
    db = open_database(pg_url)
    library.publish(db, wsettings)
    index = load_index(wsettings.index_path)
    with db.engine.connect() as c:
        from sqlalchemy import text

        n = c.execute(text(f"select count(*) from {vectors.table(index.vectors.shape[1])}")).scalar()
    assert n == len(index.chunks)

    results = {}
    for mode in ("faiss", "pgvector"):
        root = tmp_path / mode
        root.mkdir()
        rs = load_settings(root, env={}, database_url=pg_url, replica=True, auto_index=False, vector_search=mode)
        app = create_app(rs, encoder=HashingEncoder())
        with TestClient(app) as c:
            searcher = app.state.services.get().searcher
            assert type(searcher.faiss).__name__ == ("PgVectorDense" if mode == "pgvector" else "IndexFlatIP")
            results[mode] = [[(x["slug"], round(x["score"], 4)) for x in c.get("/api/search", params={"q": q, "k": 3}).json()["results"]]
                             for q in QUERIES]
        if mode == "pgvector":
            assert isinstance(searcher.index.vectors, np.memmap)  # the vectors stay on disk
    assert results["pgvector"] == results["faiss"]

    # an approval adds only its own chunks; a deleted case's chunks leave the table
    write_case(wroot, "new-case", make_case(id="C0960").replace("测试案例：电梯停运业主投诉", "新案例：地库积水泡车"))
    (wroot / "cases" / "card-jam.md").unlink()
    from search import pipeline

    pipeline.index(wsettings, encoder=enc, progress=False)
    new_index = load_index(wsettings.index_path)
    added = vectors.upload(db, new_index)
    assert 0 < added < len(new_index.chunks)
    keys = set(vectors.chunk_keys(new_index))
    with db.engine.connect() as c:
        stored = {k for (k,) in c.execute(text(f"select key from {vectors.table(new_index.vectors.shape[1])}"))}
    assert stored == keys

    # the old version's replica: keys it knows and the table no longer has are simply absent
    old = vectors.PgVectorDense(db, index)
    qv = enc.encode_queries(["月租卡刷不了"]).astype(np.float32)
    scores, ids = old.search(qv, 10)
    known = ids[0][ids[0] >= 0]
    assert all(index.chunks[i].slug != "card-jam" for i in known)
    db.close()
