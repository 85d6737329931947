"""Quiz questions generated from the data — reference.yaml and the cases — never typed in by
hand, so they grow with the library and cannot disagree with it.

Every question has a stable id derived from its source (``level-<slug>``, ``first-<slug>``,
``principle-<slug>-<n>``, ``phrase-<n>-<hash of the reply>``, ``better-<n>``, …), one correct
option, an explanation of one or two sentences and the page it came from. The options are
drawn with a seeded generator: ``QuestionBank.question(id, seed)`` gives the same question
for the same seed, so the server can grade an attempt from the ids and the seed alone. The
correct option's position is drawn first, before the distractors, so it stays where it was
even if a case is added while someone is answering.

Distractors are never also right:
- phrase: the reply is a variant of one phrase or a case's 别说 line marked with that
  phrase, and the reply checker's rules (search/replies) find exactly that phrase in it; the
  other options are phrases the rules do not find there;
- better: the correct option is the phrase's better wording (the rules find no phrase in
  it), the others are variants the rules flag;
- level: the summary with the level words masked, the options are the levels;
- principle: the correct option is one of the case's principles, the others are not;
- first: the case's 先说 against other cases' 别说 lines (the rules find no phrase in 先说);
- rule / customer / category: one line of the reference data against the same line of
  other levels, customer types or categories.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial

from search.library.cases import Case
from search.library.reference import CN_NUM, Reference, cn
from search.replies.checker import ReplyChecker

OPTIONS = 4  # per question, when the data has enough distractors (never fewer than 3)
SAMPLE_FROM = 12  # 别说 lines a 先说 question draws its distractors from, in a big library
KIND_NAMES = {
    "phrase": "哪一句禁语",
    "better": "怎么说更好",
    "first": "接起电话先说",
    "level": "投诉等级",
    "rule": "等级与处理",
    "principle": "处理原则",
    "customer": "难缠客户",
    "category": "投诉类别",
}
MASK = "□□"
_QUOTED = re.compile(r"^\s*[“\"「](.+?)[”\"」]\s*(.*)$")
_MARKED = re.compile(r"禁语([一二三四五六七八九十]|\d+)")


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    stem: str
    options: tuple[str, ...]
    correct: int  # index into options
    why: str  # one or two sentences
    url: str  # the case or page it came from, relative to the site root
    topic: str  # what it tests, for the wrong-answer book and the trainer's view
    misses: tuple[str | None, ...]  # per option: what choosing it shows was confused (None: the correct one)

    def public(self) -> dict:
        """What the browser gets before answering: no correct index, no explanation."""
        return {"id": self.id, "kind": self.kind, "kind_name": KIND_NAMES[self.kind], "stem": self.stem,
                "options": list(self.options)}

    def miss(self, chosen: int | None) -> str | None:
        """The confusion an answer shows (e.g. 把“热点”当成“重要”); None when it is right."""
        if chosen == self.correct:
            return None
        if chosen is None or not 0 <= chosen < len(self.options):
            return f"{self.topic}（没有作答）"
        return self.misses[chosen]


@dataclass(frozen=True)
class _Source:
    id: str
    kind: str
    group: str  # draws spread over groups: levels, phrases, categories …
    build: Callable[[random.Random], Question | None]


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


@lru_cache(maxsize=100_000)
def _norm(text: str) -> str:
    return re.sub(r"[\s，。！？、,.!?“”\"]", "", text)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else CN_NUM.index(word)


def split_avoid(line: str) -> tuple[str, str]:
    """A 别说 item — “原话”（为什么不能说） — as (原话, note)."""
    m = _QUOTED.match(line)
    return (m.group(1).strip(), m.group(2).strip()) if m else (line.strip(), "")


def unquote(say: str) -> str:
    return say.strip().strip("“”\"「」").strip()


@lru_cache(maxsize=4)
def _checker(reference: Reference) -> ReplyChecker:
    return ReplyChecker(reference)  # rules only: no model


@lru_cache(maxsize=100_000)
def _found(reference: Reference, text: str) -> frozenset[int]:
    """Kept across rebuilds of the bank: a saved case re-checks only its own lines."""
    return frozenset(h.phrase for h in _checker(reference).check(text))


def _choose(rng: random.Random, correct: str, pool: Iterable[tuple[str, str]], topic: str, **fields) -> Question | None:
    """A question from the correct text and (distractor, what choosing it shows) pairs."""
    distinct = {}
    for text, miss in pool:
        if _norm(text) != _norm(correct):
            distinct.setdefault(text, miss)
    pool = sorted(distinct.items())
    k = min(OPTIONS - 1, len(pool))
    if k < 2:
        return None  # two options is a coin toss, not a question
    pos = rng.randrange(k + 1)  # first: independent of the distractor pool
    picked = rng.sample(pool, k)
    options = [t for t, _ in picked]
    misses: list[str | None] = [m for _, m in picked]
    options.insert(pos, correct)
    misses.insert(pos, None)
    return Question(options=tuple(options), correct=pos, misses=tuple(misses), topic=topic, **fields)


class QuestionBank:
    """Every question the data allows, by id; built once per state of the library."""

    def __init__(self, reference: Reference, cases: list[Case]):
        self.reference = reference
        self.cases = sorted(cases, key=lambda c: c.slug)
        self._sources: dict[str, _Source] = {}
        for src in self._all_sources():
            if src.id not in self._sources and src.build(random.Random(0)) is not None:
                self._sources[src.id] = src
        self.by_kind: dict[str, list[str]] = defaultdict(list)
        for src in self._sources.values():
            self.by_kind[src.kind].append(src.id)

    # ------------------------------------------------------------------ access

    def __contains__(self, qid: str) -> bool:
        return qid in self._sources

    def ids(self, kind: str) -> list[str]:
        return list(self.by_kind.get(kind, ()))

    def kind(self, qid: str) -> str | None:
        src = self._sources.get(qid)
        return src.kind if src else None

    def question(self, qid: str, seed: int = 0) -> Question | None:
        src = self._sources.get(qid)
        return src.build(random.Random(f"{seed}:{qid}")) if src else None

    def draw(self, kind: str, count: int, rng: random.Random, exclude: Iterable[str] = ()) -> list[str]:
        """``count`` ids of ``kind``, spread over its groups (every level, every phrase …);
        ids in ``exclude`` (the last attempt's) only when there are not enough others."""
        if count <= 0:
            return []
        skip = set(exclude)
        ids = self.ids(kind)
        out = self._spread([i for i in ids if i not in skip], count, rng)
        if len(out) < count:
            out += self._spread([i for i in ids if i in skip], count - len(out), rng)
        return out

    def _spread(self, ids: list[str], count: int, rng: random.Random) -> list[str]:
        groups: dict[str, list[str]] = defaultdict(list)
        for i in sorted(ids):
            groups[self._sources[i].group].append(i)
        keys = sorted(groups)
        rng.shuffle(keys)
        for k in keys:
            rng.shuffle(groups[k])
        out: list[str] = []
        while len(out) < count and any(groups.values()):
            for k in keys:
                if groups[k] and len(out) < count:
                    out.append(groups[k].pop())
        return out

    def found(self, text: str) -> frozenset[int]:
        """The phrases the reply checker's rules find in a text."""
        return _found(self.reference, text)

    # ------------------------------------------------------------------ sources

    def _all_sources(self) -> Iterable[_Source]:
        yield from self._phrase_sources()
        yield from self._better_sources()
        yield from self._first_sources()
        yield from self._case_sources()
        yield from self._reference_sources()

    def _phrase_sources(self) -> Iterable[_Source]:
        ref = self.reference
        seen = {_norm(p.text) for p in ref.phrases}  # the phrase itself is an option: no question
        replies: list[tuple[str, int, str]] = [(v, p.n, f"phrases/{p.n}.html") for p in ref.phrases for v in p.variants]
        for c in self.cases:
            for line in c.agent.avoid:
                said, note = split_avoid(line)
                marked = {_number(w) for w in _MARKED.findall(note)} & set(ref.phrase_numbers)
                if len(marked) == 1:  # the case says which phrase, and only one
                    replies.append((said, marked.pop(), c.url))
        for reply, n, url in replies:
            key = _norm(reply)
            if key in seen or self.found(reply) != {n}:  # the rules must agree, and find nothing else
                continue
            seen.add(key)
            qid = f"phrase-{n}-{_hash(key)}"
            yield _Source(qid, "phrase", str(n), partial(self._phrase, qid, reply, n, url))

    def _phrase(self, qid: str, reply: str, n: int, url: str, rng: random.Random) -> Question | None:
        ref = self.reference
        p = ref.phrase(n)
        label = lambda q: f"禁语{cn(q.n)}：{q.text}"  # noqa: E731
        pool = [(label(q), f"把“{p.short}”当成“{q.short}”") for q in ref.phrases if q.n != n]
        return _choose(rng, label(p), pool, f"禁语{cn(n)}“{p.short}”", id=qid, kind="phrase",
                       stem=f"坐席这样回答业主：“{reply}”\n这句话犯了哪一句禁语？",
                       why=f"这是禁语{cn(n)}“{p.short}”的说法：{p.harm}", url=url)

    def _better_sources(self) -> Iterable[_Source]:
        for p in self.reference.phrases:
            if self.found(p.better):
                continue
            flagged = tuple(v for v in p.variants if self.found(v) == {p.n})
            qid = f"better-{p.n}"
            yield _Source(qid, "better", str(p.n), partial(self._better, qid, p.n, flagged))

    def _better(self, qid: str, n: int, flagged: tuple[str, ...], rng: random.Random) -> Question | None:
        p = self.reference.phrase(n)
        pool = [(v, f"没认出禁语{cn(n)}“{p.short}”") for v in flagged]
        return _choose(rng, p.better, pool, f"禁语{cn(n)}“{p.short}”的替代说法", id=qid, kind="better",
                       stem="下面几句话回应的是同一件事，哪一句是客服该说的？",
                       why=f"其余几句都犯了禁语{cn(n)}“{p.short}”：{p.harm}", url=f"phrases/{n}.html")

    def _first_sources(self) -> Iterable[_Source]:
        says = {_norm(unquote(c.agent.say)) for c in self.cases}
        owners: dict[str, set[str]] = defaultdict(set)  # 别说 line → the cases that list it
        for c in self.cases:
            for said in (split_avoid(x)[0] for x in c.agent.avoid):
                if said and _norm(said) not in says:
                    owners[said].add(c.slug)
        self._avoid, self._avoid_owners = sorted(owners), owners
        for c in self.cases:
            say = unquote(c.agent.say)
            if not say or not self._heard(c) or self.found(say):
                continue
            qid = f"first-{c.slug}"
            yield _Source(qid, "first", c.meta.category, partial(self._first, qid, c, say))

    @staticmethod
    def _heard(c: Case) -> str:
        """The case's opening: what the owner says (owner_says), else the first sentence of 经过."""
        says = c.meta.owner_says
        if says:
            heard = says[0] if len(says) < 2 or len(says[0]) + len(says[1]) > 70 else f"{says[0]}……{says[1]}"
            return f"业主来电：“{heard}”"
        story = c.sections.get("经过")
        first = re.split(r"(?<=[。！？])", story.text.strip())[0] if story else ""
        return first if 0 < len(first) <= 120 else ""

    def _first(self, qid: str, c: Case, say: str, rng: random.Random) -> Question | None:
        population, owners = self._avoid, self._avoid_owners
        if len(population) > SAMPLE_FROM:  # a big library: a few lines at random, never all of them
            # from a generator of its own, so the right option's position (drawn from rng by
            # _choose) does not depend on how many lines the library has
            pick = random.Random(f"{qid}:{rng.getstate()[1][0]}")
            population = [population[pick.randrange(len(population))] for _ in range(SAMPLE_FROM)]
        pool = [(s, "接起电话先说（选了“别说”的话）") for s in population if len(owners[s]) > 1 or c.slug not in owners[s]]
        return _choose(rng, say, pool, "接起电话先说", id=qid, kind="first",
                       stem=f"{self._heard(c)}\n接起电话，你先说哪一句？",
                       why=f"这是案例“{c.meta.title}”的“先说”：先接住业主的感受，再说清马上做什么。"
                           "其余几句都是别的案例里列为“别说”的话。",
                       url=c.url)

    def _case_sources(self) -> Iterable[_Source]:
        ref = self.reference
        for c in self.cases:
            qid = f"level-{c.slug}"
            yield _Source(qid, "level", c.meta.level, partial(self._level, qid, c))
            if len(ref.principles) - len(c.meta.principles) >= 2:
                for n in c.meta.principles:
                    qid = f"principle-{c.slug}-{n}"
                    yield _Source(qid, "principle", str(n), partial(self._principle, qid, c, n))

    def masked(self, text: str) -> str:
        """The text with every level name hidden (成为重大投诉 → 成为□□投诉)."""
        for name in sorted(self.reference.level_names, key=len, reverse=True):
            text = text.replace(name, MASK)
        return text

    def _level(self, qid: str, c: Case, rng: random.Random) -> Question | None:
        ref = self.reference
        lv = next(x for x in ref.levels if x.name == c.meta.level)
        others = [x.name for x in ref.levels if x.name != lv.name]
        pool = [(x, f"把“{lv.name}”当成“{x}”") for x in others]
        why = f"本案是{lv.name}投诉：{lv.definition}"
        if lv.name == ref.default_level:  # its definition is "none of the above"
            why = f"本案是{lv.name}投诉：不属于{'、'.join(others)}中的任何一类。"
        return _choose(rng, lv.name, pool, f"{lv.name}投诉", id=qid, kind="level",
                       stem=f"案例：{self.masked(c.meta.summary)}\n这起投诉属于哪个等级？", why=why, url=c.url)

    def _principle(self, qid: str, c: Case, n: int, rng: random.Random) -> Question | None:
        ref = self.reference
        p = ref.principle(n)
        label = lambda q: f"原则{cn(q.n)}：{q.title}"  # noqa: E731
        pool = [(label(q), f"没认出原则{cn(n)}“{p.title}”") for q in ref.principles if q.n not in c.meta.principles]
        return _choose(rng, label(p), pool, f"原则{cn(n)}“{p.title}”", id=qid, kind="principle",
                       stem=f"案例：{c.meta.summary}\n这起投诉里，工作人员做到了或违背了下面哪一项原则？",
                       why=f"本案涉及原则{cn(n)}“{p.title}”：{p.text}其余几项不是这起投诉的要点。", url=c.url)

    def _reference_sources(self) -> Iterable[_Source]:
        ref = self.reference
        for lv in ref.levels:
            qid = f"rule-{ref.level_slug(lv.name)}"
            yield _Source(qid, "rule", lv.name, partial(self._rule, qid, lv.name))
        for t in ref.customer_types:
            qid = f"customer-{_hash(t.name)}"
            yield _Source(qid, "customer", t.name, partial(self._customer, qid, t.name))
        for cat in ref.categories:
            for side in ("d", "r"):
                qid = f"category-{side}-{_hash(cat.name)}"
                yield _Source(qid, "category", cat.name, partial(self._category, qid, cat.name, side))

    def _rule(self, qid: str, name: str, rng: random.Random) -> Question | None:
        levels = self.reference.levels
        lv = next(x for x in levels if x.name == name)
        pool = [(x.rule, f"把{lv.name}投诉的处理当成{x.name}投诉的") for x in levels if x.name != name]
        return _choose(rng, lv.rule, pool, f"{lv.name}投诉的处理", id=qid, kind="rule",
                       stem=f"{lv.name}投诉（{lv.definition}）应当怎样处理？",
                       why=f"{lv.name}投诉：{lv.rule}", url="levels.html")

    def _customer(self, qid: str, name: str, rng: random.Random) -> Question | None:
        types = self.reference.customer_types
        t = next(x for x in types if x.name == name)
        pool = [(x.tip, f"把“{t.name}”当成“{x.name}”") for x in types if x.name != name]
        return _choose(rng, t.tip, pool, t.name, id=qid, kind="customer", stem=f"遇到{t.name}的业主，该怎么应对？",
                       why=f"对{t.name}的业主：{t.tip}", url="training/difficult-customers.html")

    def _category(self, qid: str, name: str, side: str, rng: random.Random) -> Question | None:
        cats = self.reference.categories
        c = next(x for x in cats if x.name == name)
        pool = [(x.name, f"把“{c.name}”当成“{x.name}”") for x in cats if x.name != name]
        if side == "d":
            stem, why = f"“{c.definition}”\n这说的是哪一类投诉？", f"{c.name}投诉的对策：{c.remedy}"
        else:
            stem, why = f"对策是“{c.remedy}”\n这是哪一类投诉的对策？", f"{c.name}投诉指{c.definition}"
        return _choose(rng, c.name, pool, f"{c.name}投诉", id=qid, kind="category", stem=stem, why=why,
                       url="training/categories.html")
