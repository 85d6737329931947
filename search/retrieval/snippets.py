"""The snippet a search result shows: a window of the best chunk around the first query
term, with the offsets of every term inside it (each face escapes and marks itself)."""

from __future__ import annotations

from search.library.textnorm import normalize

SNIPPET_CHARS = 120


def make_snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """A window of `text` around the first query term, with [start, end) offsets of every
    term occurrence inside it. Offsets, not markup: each face escapes and marks itself."""
    text = text.replace("\n", " ")
    norm = normalize(text) if len(normalize(text)) == len(text) else text
    first = min((i for i in (norm.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, min(first - width // 4, len(text) - width))
    end = min(len(text), start + width)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    window, nwindow = text[start:end], norm[start:end]
    marks: list[tuple[int, int]] = []
    taken = [False] * len(window)
    for t in terms:  # longest first, no overlaps
        pos = nwindow.find(t)
        while pos >= 0:
            if not any(taken[pos : pos + len(t)]):
                marks.append((pos + len(prefix), pos + len(prefix) + len(t)))
                for i in range(pos, pos + len(t)):
                    taken[i] = True
            pos = nwindow.find(t, pos + 1)
    marks.sort()
    return prefix + window + suffix, marks
