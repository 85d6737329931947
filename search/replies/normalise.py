"""Normalisation with an offset map, and the units (sentences, clauses) the checker reads.

Each original character goes through NFKC and lower case on its own, white space is dropped
(a line break ends a sentence), and the whole string goes through OpenCC t2s
(``search.library.textnorm.t2s``). t2s is 1:1 per character for CJK; should the length ever
change we convert character by character. Every normalised character remembers the index of
the original character it came from, so spans map back exactly (``matched ==
text[start:end]``) whatever the input has: Traditional characters, full-width forms, spaces
inside a phrase, emoji.

Sentences end at 。！？；… and line breaks, clauses also at ，、：; both are cut on the
normalised text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from search.library.textnorm import t2s

SENT_END = "。！？!?；;…\n"
CLAUSE_MARKS = "，,、：:"
CLAUSE_END = SENT_END + CLAUSE_MARKS


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """(normalised text, index of the original character for each normalised character).
    NFKC + lower case per character, white space dropped (a run of line breaks becomes one
    "\\n", which ends a sentence), OpenCC t2s."""
    chars: list[str] = []
    index: list[int] = []
    for i, c in enumerate(text):
        if c in "\n\r\u2028\u2029":  # a line break ends a sentence
            if not chars or chars[-1] != "\n":
                chars.append("\n")
                index.append(i)
            continue
        if c.isspace():
            continue
        if "\ud800" <= c <= "\udfff":  # a lone surrogate (possible in JSON): OpenCC cannot encode it
            c = "\ufffd"
        n = unicodedata.normalize("NFKC", c)
        for ch in n:
            if ch.isspace():
                continue
            low = ch.lower()
            chars.append(low if len(low) == 1 else ch)
            index.append(i)
    raw = "".join(chars)
    conv = t2s(raw)
    if len(conv) != len(raw):  # pragma: no cover - t2s is 1:1 for the texts we have seen
        out = []
        for ch in chars:
            c2 = t2s(ch)
            out.append(c2 if len(c2) == 1 else ch)
        conv = "".join(out)
    return conv, index


@dataclass
class Unit:
    start: int  # normalised offsets, end exclusive
    end: int
    text: str


def split_units(norm: str, enders: str) -> list[Unit]:
    """Cut after every character of ``enders``; the last unit may have no ender."""
    out, s = [], 0
    for i, ch in enumerate(norm):
        if ch in enders:
            if i + 1 > s:
                out.append(Unit(s, i + 1, norm[s : i + 1]))
            s = i + 1
    if s < len(norm):
        out.append(Unit(s, len(norm), norm[s:]))
    return out


def split_sentences(norm: str) -> list[Unit]:
    # a sentence ends at its punctuation; runs of closing quotes/brackets stay with it
    return split_units(norm, SENT_END)


_CORE = re.compile(r"[^\W_]")  # a letter, digit or CJK character


def trim(norm: str, a: int, b: int) -> tuple[int, int]:
    """Shrink [a, b) to its first..last word character (no punctuation or quotes at the ends)."""
    while a < b and not _CORE.match(norm[a]):
        a += 1
    while b > a and not _CORE.match(norm[b - 1]):
        b -= 1
    return a, b


# ---------------------------------------------------------------------------------------
# the context around a match, for the rules' guards


def window(sents: list[Unit], k: int, w: int) -> str:
    """Sentence k and its w neighbours on each side, joined."""
    lo, hi = max(0, k - w), min(len(sents), k + w + 1)
    return "".join(s.text for s in sents[lo:hi])


def clause_before(sentence: str, pos: int) -> str:
    """The part of sentence[:pos] after the last clause mark."""
    pre = sentence[:pos]
    cut = max(pre.rfind(c) for c in CLAUSE_MARKS)
    return pre[cut + 1 :]


def clause_of(sentence: str, a: int, b: int) -> str:
    """The clause(s) around sentence[a:b]."""
    lo = max((sentence.rfind(c, 0, a) for c in CLAUSE_END), default=-1) + 1
    hi = min((i for i in (sentence.find(c, b) for c in CLAUSE_END) if i >= 0), default=len(sentence))
    return sentence[lo:hi]
