"""Splitting a long complaint into clauses, so each part of a narrative is matched alone.

An owner's message or a newspaper retelling runs to several sentences, most of them
context (who, when, which estate) and one or two the actual problem. Embedded whole, the
problem is diluted by the context; embedded clause by clause, the problem's clause finds
its case with a clear margin.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[。！？；!?;…\n])")
_COMMA = re.compile(r"(?<=[，,、：:])")
MIN_CHARS = 8  # shorter pieces ("记者了解到，") join their neighbour
MAX_CHARS = 60  # longer sentences are cut at commas
MAX_CLAUSES = 12  # at most this many (a 300-character text gives 5-10)


def split_clauses(text: str) -> list[str]:
    """Sentences, long ones cut at commas, short pieces merged into the next; the text
    itself when it is one clause already."""
    pieces: list[str] = []
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if len(sentence) <= MAX_CHARS:
            pieces.append(sentence)
            continue
        current = ""
        for part in _COMMA.split(sentence):
            if current and len(current) + len(part) > MAX_CHARS:
                pieces.append(current)
                current = ""
            current += part
        if current:
            pieces.append(current)
    merged: list[str] = []
    carry = ""
    for p in pieces:
        p = carry + p
        if len(p) < MIN_CHARS:
            carry = p
            continue
        merged.append(p)
        carry = ""
    if carry:
        if merged:
            merged[-1] += carry
        else:
            merged.append(carry)
    if len(merged) > MAX_CLAUSES:  # keep the count bounded: join neighbours pairwise
        while len(merged) > MAX_CLAUSES:
            merged = [merged[i] + (merged[i + 1] if i + 1 < len(merged) else "") for i in range(0, len(merged), 2)]
    return merged or [text]
