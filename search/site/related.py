"""相似案例: for each case, the most similar other cases, computed at site-build time from
the search index's embeddings, so the links work on a static file server too.

A case's vector is the normalised mean of its chunk vectors. Each link carries one line
on why the cases are related: what they share (category, principles, phrases, tags).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.library.cases import Case
from search.library.reference import Reference, cn
from search.site.pages import esc, md_text

MIN_RELATED, MAX_RELATED = 3, 5
MIN_SIMILARITY = 0.25  # on centred vectors: below this a neighbour is not worth a link, beyond the first three


def case_vectors(index) -> tuple[list[str], np.ndarray]:
    slugs = list(index.case_order)
    dim = index.vectors.shape[1]
    out = np.zeros((len(slugs), dim), dtype=np.float32)
    np.add.at(out, index.chunk_case, index.vectors)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    # Embedding models put all texts of one domain in a narrow cone (cosines 0.93-0.96 here);
    # removing the library's mean direction leaves what distinguishes one case from another.
    out -= out.mean(axis=0, keepdims=True)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return slugs, out


def related_slugs(index, k: int = MAX_RELATED) -> dict[str, list[tuple[str, float]]]:
    slugs, vecs = case_vectors(index)
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    result = {}
    for i, slug in enumerate(slugs):
        order = np.argsort(-sims[i])[:k]
        keep = [j for n, j in enumerate(order) if n < MIN_RELATED or sims[i, j] >= MIN_SIMILARITY]
        result[slug] = [(slugs[j], float(sims[i, j])) for j in keep]
    return result


def why_related(a: Case, b: Case, ref: Reference) -> str:
    reasons = []
    if a.meta.category == b.meta.category:
        reasons.append(f"同属{a.meta.category}类")
    shared_p = sorted(set(a.meta.principles) & set(b.meta.principles))
    if shared_p:
        reasons.append("都涉及" + "、".join(f"原则{cn(n)}" for n in shared_p))
    shared_ph = sorted(set(a.meta.phrases) & set(b.meta.phrases))
    if shared_ph:
        reasons.append("都出现了" + "、".join(f"禁语{cn(n)}“{ref.phrase(n).short}”" for n in shared_ph))
    shared_tags = [t for t in a.meta.tags if t in b.meta.tags]
    if shared_tags:
        reasons.append("共同标签：" + "、".join(shared_tags[:3]))
    return "；".join(reasons) or "情节相近（按内容相似度）"


def related_markdown(index_path: Path, cases: list[Case], ref: Reference) -> dict[str, str]:
    """slug → a '## 相似案例' block. Empty when there is no index yet (first build)."""
    from search.errors import CaselibError
    from search.index.store import load_index

    try:
        index = load_index(index_path)
    except CaselibError:
        return {}
    by_slug = {c.slug: c for c in cases}
    blocks = {}
    for slug, picks in related_slugs(index).items():
        if slug not in by_slug:
            continue
        lines = ["## 相似案例\n"]
        for other, _sim in picks:
            if other in by_slug:
                o = by_slug[other]
                lines.append(f"- [{md_text(o.meta.title)}]({other}.md) — {esc(why_related(by_slug[slug], o, ref))}")
        if len(lines) > 1:
            blocks[slug] = "\n".join(lines) + "\n"
    return blocks
