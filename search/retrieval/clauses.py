"""Splitting a long complaint into clauses, so each part of a narrative is matched alone.

An owner's message or a newspaper retelling runs to several sentences, most of them
context (who, when, which estate) and one or two the actual problem. Embedded whole, the
problem is diluted by the context; embedded clause by clause, the problem's clause finds
its case with a clear margin.

Encoding every clause costs more than encoding the text itself (each is a model call of
its own), so a hybrid search encodes only the ENCODED clauses with the strongest lexical
evidence: the best BM25 score any library chunk gives the clause's words. Narrative
clauses (记者了解到, a date, an estate's name) match no chunk well and are skipped; the
clause naming the problem (暖气片几乎是冰的) matches one. That is as many clauses as the
dense side pools (search.retrieval.fusion.CLAUSE_POOL), so the pooled score is the same
kind of number; measured in docs/benchmarks.md (长文本的查询延迟, and the quality table).
"""

from __future__ import annotations

import re

from search.retrieval.fusion import CLAUSE_POOL

_SENTENCE = re.compile(r"(?<=[。！？；!?;…\n])")
_COMMA = re.compile(r"(?<=[，,、：:])")
MIN_CHARS = 8  # shorter pieces ("记者了解到，") join their neighbour
MAX_CHARS = 60  # longer sentences are cut at commas
MAX_CLAUSES = 12  # at most this many (a 300-character text gives 5-10)
ENCODED = CLAUSE_POOL  # a hybrid search encodes this many of them


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


def strongest(clauses: list[str], evidence, keep: int = ENCODED) -> list[str]:
    """The ``keep`` clauses with the highest ``evidence`` (one number per clause; ties go
    to the earlier clause), in their order in the text."""
    if len(clauses) <= keep:
        return list(clauses)
    ranked = sorted(range(len(clauses)), key=lambda i: (-float(evidence[i]), i))[:keep]
    return [clauses[i] for i in sorted(ranked)]
