"""The dense side's vector index: exact inner product, or IVF past a library size where
exact search becomes memory-bound."""

from __future__ import annotations

import numpy as np

# Exact (flat) search reads every vector per query: 0.4 ms at 7,800 chunks but about 6 ms at
# 78,000 (10,000 cases), where it becomes memory-bound. Past this size an IVF index searches
# the nearest clusters only. It is built at load time (k-means on a sample: under a second
# at 78,000 chunks), so nothing extra is stored and an incremental update stays cheap.
APPROX_MIN_CHUNKS = 20_000
IVF_TRAIN_PER_LIST = 64  # k-means sample size per cluster (faiss' own default is 256)


def dense_index(vectors: np.ndarray, approx: bool):
    """Flat inner product, or IVF-Flat with √n clusters when ``approx``. A third of the
    clusters are read per query: on the 10,000-case library (278 clusters) reading 23 gave
    recall@10 0.944 but a different first case for 8% of queries; 92 give the same first
    case as flat at a third of flat's cost (benchmarks/run.py, ann section)."""
    import faiss

    n, dim = vectors.shape
    if not approx or n < 2:
        flat = faiss.IndexFlatIP(dim)
        if n:
            flat.add(vectors)
        return flat
    nlist = max(1, int(np.sqrt(n)))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST  # faiss samples; its seed is fixed, so loads agree
    ivf.train(vectors)
    ivf.add(vectors)
    ivf.nprobe = max(8, nlist // 3)
    return ivf

