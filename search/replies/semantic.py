"""Semantic layer of the reply checker (only with an Encoder).

In sentences the pattern layer did not flag, every clause (and every sentence of several
clauses) is embedded and compared with each phrase's text and variants (embedded once, when
the layer is built) and with good-practice anchors (``SAFE_ANCHORS`` plus each phrase's
``better`` wording). A unit is flagged for its closest phrase N only when the similarity is at
least ``threshold``, beats the best good-practice anchor by ``margin``, the unit contains one
of N's cue words (``SEM_CUES``), and neither ``SEM_NOT[N]`` nor phrase N's context guards fire
on the sentence. A phrase of the data file without cue words here (one added to
reference.yaml after this module was written) needs similarity and margin only.

The defaults (0.92, 0.02) were calibrated for the embedded multilingual-e5-small model on our
own examples (tests/test_phrases.py); pass other values for another encoder.
"""

from __future__ import annotations

import re

import numpy as np

from search.library.reference import Reference
from search.replies.normalise import CLAUSE_END, Unit, normalize_with_map, split_sentences, split_units, trim
from search.replies.rules import DEADLINE, DEV, FACT_PROMISE, HELP, phrase_guarded

# Calibrated for the embedded multilingual-e5-small (query prompt, cosine): see module doc.
DEFAULT_THRESHOLD = 0.92
DEFAULT_MARGIN = 0.02
# The semantic layer embeds at most this many clauses per text (a reply is a few sentences;
# a 5,000-character paste must not keep the model busy); the pattern layer reads everything.
MAX_SEMANTIC_UNITS = 120

# Good practice that shares words with the forbidden phrases: the semantic layer only flags a
# unit that is clearly closer to a forbidden phrase than to all of these (and to each phrase's
# ``better`` wording, which is added from the data file). Written for this module, grouped by
# the phrase whose words they share.
SAFE_ANCHORS: tuple[str, ...] = (
    "非常抱歉，给您添麻烦了。", "好的，我明白了。", "请问您住几栋几单元？", "谢谢您告诉我们。",
    # 1
    "出了这种事是我们的责任，我们马上去现场核实。", "我们会加强巡查，避免这种情况再出现。",
    "您看到的情况很重要，我们调监控看一下。",
    # 2
    "上次是我没讲明白，让您误会了，对不起。", "您当时说的要求我们都登记了。", "我查一下当时的通话记录，再跟您确认。",
    # 3
    "我们来联系开发商，维修进度我随时告诉您。", "保修的事由我们出面对接开发商。",
    "我们已经把情况报给开发商，他们后天上门。",
    # 4
    "物业费的每一笔开支都可以查，我们按季度公示。", "收费标准是备过案的，一分钱都不会多收。",
    "服务哪里没做好，请您直接告诉我们。",
    # 5
    "这个设备刚装好，大家都还不熟悉，我来教您。", "事情比较复杂，需要请专业师傅来判断。", "我简要介绍一下报修的步骤。",
    # 6
    "今天下午五点前我给您回电话。", "我明天上午十点前把结果告诉您。", "师傅到了我再打电话跟您确认一下。",
    # 7
    "有什么不明白的地方您随时问我。", "这件事我马上去问清楚，二十分钟内回复您。",
    "不知道您什么时候方便，我们安排上门。",
    # 8
    "我们一起想办法，下班前给您一个方案。", "这件事现在能做的和做不到的，我跟您说清楚。",
    # 9
    "这个方案如果不合适，我们再换一个。", "按规定不能直接这么装，不过有别的办法，我给您说说。",
    "能不能办我先问一下工程部，半小时内回复您。",
)

# The semantic layer flags phrase N only when the unit has one of N's cue words: similarity
# alone in a small multilingual model mixes up sentences that merely share a topic.
SEM_CUES: dict[int, re.Pattern] = {n: re.compile(p) for n, p in {
    1: r"不可能|不会|没有?|不存在|错|瞎|胡说|乱说|怎么会|从来|根本|压根|哪有",
    2: r"说|讲|答应|承诺|提|原话|保证|许诺|记错",
    3: DEV,
    4: r"钱|费|价|便宜|贵",
    5: r"简单|容易|难|不会|不懂|一看|还用|都会|都懂",
    6: r"再|以后|回头|改天|过几天|过两天|到时|等|有空|有时间|下次|通知|消息",
    7: r"清楚|知道|了解|懂|晓得|明白|确定|说不|不好说|不归|管|负责|别人|谁|哪",
    8: r"办法|解决|总|一定|肯定|包在|好起来|没问题",
    9: r"不行|不可以|不能|不准|不允许|不同意|不批|没门|没戏|没得|没什么好|别想|别提|别问|免谈|拒绝|不给|办不|做不|死心",
}.items()}
# Good-practice forms the semantic layer must not flag, whatever the similarity.
SEM_NOT: dict[int, re.Pattern] = {n: re.compile(p) for n, p in {
    1: FACT_PROMISE + r"|没问题|没事|没关系|不应该|不该|责任|抱歉|对不起|不可能不|核实|查看",
    2: r"没(?:有)?(?:说|讲)(?:清楚|明白)|误会|登记|记录|确认",
    3: HELP + r"|已经|通知|报给|报修",
    4: r"每一分钱|每一笔|明细|公示|公开|不会多收|备案|标准",
    5: r"没(?:有)?(?:那么|这么)简单|不(?:是)?(?:那么|太)?简单|复杂|简要|简单(?:来|地|点)?(?:说|介绍|讲)|我来|陪您|教您"
       r"|不熟悉|不顺手",
    6: DEADLINE + r"|提前",
    7: r"有什么不|哪里不|如果|不知道您|方便|随时问",
    8: r"能做的|做不到|方案|一起想办法",
    9: r"如果|要是|万一|不过|但是|(?<!不)可以|办法|方案|换一个|行不行|能不能",
}.items()}


def semantic_units(norm: str, sents: list[Unit], found) -> list[tuple[int, int, int, bool]]:
    """Clauses, and whole sentences of several clauses, in sentences the pattern layer did
    not flag (it has already judged those: no second guesses)."""
    units: list[tuple[int, int, int, bool]] = []  # (sentence index, nstart, nend, whole sentence?)
    for k, s in enumerate(sents):
        if any(pa < s.end and pb > s.start for _, pa, pb, *_ in found):
            continue
        clauses = split_units(s.text, CLAUSE_END)
        cand = [(c.start, c.end, False) for c in clauses]
        if len(clauses) > 1:
            cand.append((0, len(s.text), True))
        for a, b, whole in cand:
            a, b = trim(norm, s.start + a, s.start + b)
            if b - a >= 2:
                units.append((k, a, b, whole))
    return units


class SemanticLayer:
    """The phrases' texts and variants and the good-practice anchors, embedded once."""

    def __init__(self, reference: Reference, encoder, threshold: float = DEFAULT_THRESHOLD,
                 margin: float = DEFAULT_MARGIN):
        self.encoder = encoder
        self.threshold = threshold
        self.margin = margin
        self.phrases = tuple(p.n for p in reference.phrases)
        texts: list[str] = []
        anchor_phrase: list[int] = []
        for p in reference.phrases:
            for t in (p.text, *p.variants):
                texts.append(normalize_with_map(t)[0])
                anchor_phrase.append(p.n)
        self.anchor_vecs = encoder.encode_queries(texts)
        self.anchor_phrase = np.array(anchor_phrase, dtype=int)
        safe = [normalize_with_map(t)[0] for t in (*SAFE_ANCHORS, *(p.better for p in reference.phrases))]
        # ``better`` texts are long; their sentences are the useful anchors
        safe_units = [u.text for t in safe for u in split_sentences(t)] + safe
        self.safe_vecs = encoder.encode_queries(safe_units)

    def decide(self, norm: str, sents: list[Unit], units, vecs: np.ndarray) -> list[tuple]:
        """(phrase, nstart, nend, "semantic", similarity) for the units that pass every test."""
        sims = vecs @ self.anchor_vecs.T  # [units, anchors]
        safe = (vecs @ self.safe_vecs.T).max(axis=1)
        out: list[tuple] = []
        flagged: set[int] = set()  # sentences with a semantic hit on a clause
        for i in sorted(range(len(units)), key=lambda i: units[i][3]):  # clauses before sentences
            k, a, b, whole = units[i]
            if whole and k in flagged:
                continue
            unit = norm[a:b]
            per = {n: float(sims[i, self.anchor_phrase == n].max()) for n in self.phrases}
            n = max(per, key=per.get)  # only the closest phrase: never several for one unit
            sim = per[n]
            if sim < self.threshold or sim - float(safe[i]) < self.margin:
                continue
            cues, veto = SEM_CUES.get(n), SEM_NOT.get(n)
            if (cues is not None and not cues.search(unit)) or (veto is not None and veto.search(sents[k].text)):
                continue
            if phrase_guarded(n, sents, k):
                continue
            out.append((n, a, b, "semantic", sim))
            flagged.add(k)
        return out
