"""The quizzes of the new-hire path (docs/newcomer/index.md): one per module, day 1 → week 1
→ week 2 → month 1, each drawing so many questions of each kind from the QuestionBank.

`assemble` picks an attempt's questions: the learner's wrong-answer book first (missed
questions come back until answered right twice), then fresh ones, avoiding the last
attempt's so a retry draws different questions. `grade` marks the answers from the ids and
the seed alone (the browser is never trusted with the answers). The pass mark is a setting
(``quiz_pass``, 0.8 by default).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from search.errors import NotFound
from search.learning.questions import Question, QuestionBank
from search.settings import Settings


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    covers: str
    anchor: str  # the module on the new-hire path, relative to the site root
    draw: tuple[tuple[str, int], ...]  # (question kind, how many)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.draw)

    def size(self, bank: QuestionBank) -> int:
        """How many questions an attempt has on this library (fewer when a kind runs short)."""
        return sum(min(n, len(bank.ids(kind))) for kind, n in self.draw)


MODULES: tuple[Module, ...] = (
    Module("day-1", "第 1 天：理念、禁语、接待", "九句禁语认得出、换得掉；接起电话第一句说什么",
           "newcomer/index.html#day-1", (("phrase", 4), ("better", 3), ("first", 3))),
    Module("week-1", "第 1 周：流程、原则、等级、方法", "案例里用到（或违背）了哪项原则，投诉属于哪个等级",
           "newcomer/index.html#week-1", (("principle", 4), ("level", 4), ("first", 2))),
    Module("week-2", "第 2 周：难缠客户、投诉类别、预防", "七种难缠客户怎么应对，五类投诉怎么分、怎么治",
           "newcomer/index.html#week-2", (("customer", 3), ("category", 3), ("phrase", 2), ("better", 2))),
    Module("month-1", "第 1 个月：危机、群诉、目标", "重大投诉的判断和处理，原则与接听要点的综合运用",
           "newcomer/index.html#month-1", (("level", 4), ("rule", 2), ("principle", 2), ("first", 2))),
)


def get_module(module_id: str) -> Module:
    for m in MODULES:
        if m.id == module_id:
            return m
    raise NotFound("module", f"没有测验“{module_id}” — 可选：{'、'.join(m.id for m in MODULES)}（GET /api/quiz 列出全部）")


def pass_mark(settings: Settings) -> float:
    return settings.quiz_pass


def passed(correct: int, total: int, mark: float) -> bool:
    """correct / total reaches the mark (8 of 10 passes at 0.8; no float rounding surprises)."""
    return total > 0 and correct >= math.ceil(mark * total - 1e-9)


def assemble(bank: QuestionBank, module: Module, rng: random.Random, review: Iterable[str] = (),
             exclude: Iterable[str] = ()) -> list[str]:
    """The question ids of a new attempt: ``review`` (the wrong-answer book, newest miss
    first) take up to their kind's share; the rest are drawn fresh, avoiding ``exclude``."""
    review = [q for q in dict.fromkeys(review) if q in bank]
    chosen: list[str] = []
    for kind, count in module.draw:
        again = [q for q in review if bank.kind(q) == kind][:count]
        fresh = bank.draw(kind, count - len(again), rng, exclude=set(exclude) | set(again))
        part = again + [q for q in fresh if q not in again]
        rng.shuffle(part)
        chosen += part
    return chosen


@dataclass(frozen=True)
class Graded:
    question: Question
    chosen: int | None
    correct: bool

    @property
    def miss(self) -> str | None:
        return self.question.miss(self.chosen)

    def result(self) -> dict:
        q = self.question
        return {"id": q.id, "correct": self.correct, "answer": q.correct, "chosen": self.chosen,
                "answer_text": q.options[q.correct], "why": q.why, "url": q.url, "topic": q.topic}


def grade(bank: QuestionBank, ids: Iterable[str], seed: int, answers: Mapping[str, int | None]) -> list[Graded]:
    """Each question regenerated from its id and the attempt's seed, then marked. A question
    whose source has left the library since (a case deleted) is left out."""
    out = []
    for qid in ids:
        q = bank.question(qid, seed)
        if q is None:
            continue
        chosen = answers.get(qid)
        out.append(Graded(q, chosen, chosen == q.correct))
    return out
