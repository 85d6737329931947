"""What the index stores about each case: its chunks (the unit of retrieval) and one
display record (what a search result shows, without reading cases/ again).

A case becomes a 概要 chunk (title + summary) and one or more chunks per body section,
Markdown stripped; `passage_text` is what the dense model embeds for a chunk and
`bm25_tokens` what BM25 indexes. Changing any of these changes search results: bump
`search.index.store.VERSION` (or the tokenizer version) so indexes are rebuilt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.library.cases import SECTIONS, Case
from search.library.textnorm import tokenize

MAX_CHUNK_CHARS = 360  # keeps every chunk well under the model's 512-token limit


@dataclass(frozen=True)
class Chunk:
    slug: str
    section: str  # "概要" or one of SECTIONS
    text: str  # display text (Markdown stripped)


@dataclass
class CaseRecord:
    """What a search result shows about a case, without reading cases/ again."""

    slug: str
    id: str
    title: str
    category: str
    level: str
    channel: str
    outcome: str
    tags: list[str]
    principles: list[int]
    phrases: list[int]
    summary: str
    source: str
    say: str
    do: list[str]
    avoid: list[str]
    hash: str

    @property
    def url(self) -> str:
        return f"/cases/{self.slug}.html"

    @classmethod
    def from_case(cls, c: Case) -> "CaseRecord":
        m = c.meta
        return cls(
            slug=c.slug, id=m.id, title=m.title, category=m.category, level=m.level, channel=m.channel,
            outcome=m.outcome, tags=list(m.tags), principles=list(m.principles), phrases=list(m.phrases),
            summary=m.summary, source=m.source, say=_plain(c.agent.say), do=[_plain(x) for x in c.agent.do],
            avoid=[_plain(x) for x in c.agent.avoid], hash=c.content_hash,
        )


_MD = re.compile(r"\*\*|__|`|^#+\s*|^\s*(?:[-*+]|\d+[.、)])\s+|!\[[^\]]*\]\([^)]*\)", re.M)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def _plain(md: str) -> str:
    text = _LINK.sub(r"\1", md)
    text = _MD.sub("", text)
    return re.sub(r"\n{2,}", "\n", text).strip()


def _split(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split on paragraphs, then sentences, packing pieces up to `limit` characters."""
    pieces: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        sentences = re.split(r"(?<=[。！？!?；;])", para) if len(para) > limit else [para]
        for s in sentences:
            while len(s) > limit:  # a single run-on sentence
                pieces.append(s[:limit])
                s = s[limit:]
            if s:
                pieces.append(s)
    out: list[str] = []
    for p in pieces:
        if out and len(out[-1]) + len(p) + 1 <= limit:
            out[-1] += "\n" + p
        else:
            out.append(p)
    return out


OWNER_SAYS = "业主常说"  # the section name of owner_says chunks
# Recorded in the manifest: change it whenever chunk_case() or passage_text() changes, so
# the next build re-chunks and re-embeds every case (an index without the key is
# "sections-1", from before owner_says).
CHUNKER = "owner-says-1"


def chunk_case(c: Case) -> list[Chunk]:
    """Title + summary, then each body section (split if long): a match on 处理 or
    接听要点 alone is enough to surface the case. Each owner_says phrasing is a chunk of its
    own, so an owner's words meet the nearest owner's words, not a narrative paragraph.
    (A case without owner_says chunks as it always did: no index rebuild is needed.)"""
    m = c.meta
    chunks = [Chunk(c.slug, "概要", f"{m.title}。{m.summary}")]
    chunks += [Chunk(c.slug, OWNER_SAYS, said) for said in m.owner_says]
    for name in SECTIONS:
        for piece in _split(_plain(c.sections[name].text)):
            chunks.append(Chunk(c.slug, name, piece))
    return chunks


def passage_text(record: CaseRecord, chunk: Chunk) -> str:
    """What the dense model embeds: the case title gives every section its context."""
    if chunk.section == "概要":
        return f"{chunk.text} 标签：{'、'.join(record.tags)}；类别：{record.category}"
    return f"{record.title}｜{chunk.section}：{chunk.text}"


def bm25_tokens(record: CaseRecord, chunk: Chunk) -> list[str]:
    extra = " ".join(record.tags) if chunk.section == "概要" else ""
    return tokenize(f"{chunk.text} {extra}")
