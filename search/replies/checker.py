"""禁语检查: flag the forbidden phrases of search/data/reference.yaml in an agent's draft reply.

An agent pastes or types a reply; ``ReplyChecker.check(text)`` returns one ``PhraseHit`` per
forbidden phrase used literally or in substance (variants, Traditional characters, reordered
or paraphrased forms), with the span in the ORIGINAL text, why it hurts (``harm``) and the
better wording (``better``) from the data file.

How it works
------------
1. Normalisation with an offset map, then sentences and clauses (normalise.py).
2. Pattern layer, always on: regexes with guards, per phrase (rules.py).
3. Semantic layer, only with an Encoder: clauses close to a phrase's text and variants and
   farther from good practice (semantic.py). ``check_many`` embeds the clauses of many texts
   in one call (evaluation).
4. One hit per phrase per overlapping region, mapped back to the original text (here).

The phrases come from the Reference: a phrase added to reference.yaml is checked by the
semantic layer (its text and variants) without a code change; rules.py can add patterns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from search.library.reference import Reference, load_reference
from search.replies.normalise import normalize_with_map, split_sentences
from search.replies.rules import pattern_spans, rules_for
from search.replies.semantic import (
    DEFAULT_MARGIN,
    DEFAULT_THRESHOLD,
    MAX_SEMANTIC_UNITS,
    SemanticLayer,
    semantic_units,
)


@dataclass
class PhraseHit:
    phrase: int
    start: int  # offsets into the original text, end exclusive
    end: int
    matched: str
    why: str
    suggestion: str
    via: str = field(default="pattern", compare=False)  # "pattern" or "semantic"
    score: float = field(default=1.0, compare=False)


class ReplyChecker:
    """Construct once (embeds the variants when an encoder is given), then ``check(text)``."""

    def __init__(
        self,
        reference: Reference | None = None,
        encoder=None,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        max_units: int = MAX_SEMANTIC_UNITS,
    ):
        self.reference = reference or load_reference()
        self.encoder = encoder
        self.threshold = threshold
        self.margin = margin
        self.max_units = max_units
        self._phrases = {p.n: p for p in self.reference.phrases}
        self._rules = rules_for(self._phrases)
        self._semantic = SemanticLayer(self.reference, encoder, threshold, margin) if encoder is not None else None

    def check(self, text: str) -> list[PhraseHit]:
        return self.check_many([text])[0]

    def __call__(self, text: str) -> list[PhraseHit]:
        return self.check(text)

    def check_many(self, texts: list[str]) -> list[list[PhraseHit]]:
        """``check`` for many texts, with one encoder call for all of them (evaluation)."""
        prepared = []
        for text in texts:
            norm, index = normalize_with_map(text or "")
            sents = split_sentences(norm)
            prepared.append((text or "", norm, index, sents, pattern_spans(norm, sents, self._rules)))
        if self._semantic is not None:
            units = [semantic_units(norm, sents, spans)[: self.max_units] for _, norm, _, sents, spans in prepared]
            flat = [norm[a:b] for (_, norm, _, _, _), us in zip(prepared, units, strict=True) for _, a, b, _ in us]
            vecs = self.encoder.encode_queries(flat) if flat else None
            pos = 0
            for (_, norm, _, sents, spans), us in zip(prepared, units, strict=True):
                if us:
                    spans += self._semantic.decide(norm, sents, us, vecs[pos : pos + len(us)])
                    pos += len(us)
        return [self._hits(text, norm, index, spans) for text, norm, index, _, spans in prepared]

    def _hits(self, text: str, norm: str, index: list[int], spans) -> list[PhraseHit]:
        # one hit per phrase per overlapping region: pattern before semantic, then longest
        spans = sorted(spans, key=lambda x: (x[0], x[3] != "pattern", x[1], -(x[2] - x[1])))
        kept: list[tuple] = []
        for sp in spans:
            n, a, b = sp[0], sp[1], sp[2]
            clash = next((i for i, o in enumerate(kept) if o[0] == n and a < o[2] and b > o[1]), None)
            if clash is None:
                kept.append(sp)
            elif kept[clash][3] == sp[3]:  # same layer: merge overlapping matches
                o = kept[clash]
                kept[clash] = (n, min(a, o[1]), max(b, o[2]), o[3], max(o[4], sp[4]))
        out = []
        for n, a, b, via, score in sorted(kept, key=lambda x: (x[1], x[0])):
            start, end = index[a], index[b - 1] + 1
            p = self._phrases[n]
            out.append(PhraseHit(n, start, end, text[start:end], p.harm, p.better, via, round(float(score), 4)))
        return out


def check_reply(text: str, reference: Reference | None = None, encoder=None) -> list[PhraseHit]:
    """One-off check. For many texts (the API, evaluation) build a ``ReplyChecker`` once:
    with an encoder it embeds the variants at construction."""
    return ReplyChecker(reference, encoder).check(text)
