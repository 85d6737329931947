"""Learning progress of signed-in learners: attempts with every answer, the wrong-answer book
(错题本) and the trainer's team view.

- `record` saves one graded attempt (once per token: a second submission is a 409).
- The wrong-answer book is read from the answers: a question missed and not answered right
  twice since its last miss. Its questions come back in the next attempts of the module
  where they were last missed.
- `team` is each learner's modules passed, scores, last activity and the confusions they
  show most often (把“热点”当成“重要” …); `team_csv` the same as a spreadsheet.
Anonymous learners are never stored here: their progress stays in their browser.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from search.authoring.models import ROLE_NAMES, QuizAnswer, QuizAttempt, User, now
from search.errors import Conflict
from search.learning.modules import MODULES, Graded, Module, passed
from search.learning.questions import QuestionBank
from search.learning.tokens import Attempt

RIGHT_TWICE = 2  # right answers after the last miss that take a question out of the book
TOP_MISSES = 3


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat(timespec="seconds") if t else None


def record(s, user: User, attempt: Attempt, graded: list[Graded], mark: float) -> QuizAttempt:
    if s.scalar(select(QuizAttempt.id).where(QuizAttempt.nonce == attempt.nonce)) is not None:
        raise Conflict("attempt", "这份测验已经交过卷了 — 点“再做一次”换一组题")
    right = sum(g.correct for g in graded)
    row = QuizAttempt(nonce=attempt.nonce, user_id=user.id, module=attempt.module, correct=right, total=len(graded),
                      score=round(right / len(graded), 4), passed=passed(right, len(graded), mark),
                      started_at=datetime.fromtimestamp(attempt.issued, UTC), finished_at=now())
    row.answers = [QuizAnswer(question_id=g.question.id, kind=g.question.kind, topic=g.question.topic, chosen=g.chosen,
                              correct=g.correct, miss=g.miss) for g in graded]
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError as e:  # the same token submitted twice at once
        raise Conflict("attempt", "这份测验已经交过卷了 — 点“再做一次”换一组题") from e
    return row


@dataclass
class BookEntry:
    question_id: str
    module: str  # where it was last missed: it comes back in that module's attempts
    topic: str
    misses: int = 0
    right_since: int = 0  # right answers since the last miss
    last_miss: str | None = None  # what the last wrong answer confused
    missed_at: datetime | None = None


def _answers(s, user_ids: list[int] | None = None):
    q = (select(QuizAttempt.user_id, QuizAttempt.module, QuizAttempt.finished_at, QuizAnswer.question_id,
                QuizAnswer.topic, QuizAnswer.correct, QuizAnswer.miss)
         .join(QuizAnswer, QuizAnswer.attempt_id == QuizAttempt.id)
         .order_by(QuizAttempt.finished_at, QuizAttempt.id, QuizAnswer.id))
    if user_ids is not None:
        q = q.where(QuizAttempt.user_id.in_(user_ids))
    return s.execute(q).all()


def _books(rows) -> dict[int, list[BookEntry]]:
    state: dict[int, dict[str, BookEntry]] = defaultdict(dict)
    for uid, module, at, qid, topic, correct, miss in rows:
        e = state[uid].get(qid)
        if correct:
            if e is not None:
                e.right_since += 1
            continue
        if e is None:
            e = state[uid][qid] = BookEntry(qid, module, topic)
        e.misses, e.right_since, e.module, e.topic, e.last_miss, e.missed_at = e.misses + 1, 0, module, topic, miss, at
    return {uid: sorted((e for e in book.values() if e.right_since < RIGHT_TWICE), key=lambda e: e.missed_at, reverse=True)
            for uid, book in state.items()}


def wrong_book(s, user_id: int, module: str | None = None) -> list[BookEntry]:
    """The learner's open wrong-answer book, newest miss first (only ``module``'s if given)."""
    book = _books(_answers(s, [user_id])).get(user_id, [])
    return [e for e in book if module is None or e.module == module]


def last_attempt_ids(s, user_id: int, module: str) -> list[str]:
    """The questions of the learner's latest attempt of ``module`` (a retry avoids them)."""
    last = s.scalar(select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.module == module)
                    .order_by(QuizAttempt.finished_at.desc(), QuizAttempt.id.desc()).limit(1))
    return [a.question_id for a in last.answers] if last else []


def _module_rows(attempts: list[QuizAttempt], bank: QuestionBank | None) -> list[dict]:
    by_module: dict[str, list[QuizAttempt]] = defaultdict(list)
    for a in attempts:
        by_module[a.module].append(a)
    out = []
    for m in MODULES:
        xs = sorted(by_module.get(m.id, []), key=lambda a: (a.finished_at, a.id))
        row = {"id": m.id, "title": m.title, "attempts": len(xs), "passed": any(a.passed for a in xs),
               "best": max((a.score for a in xs), default=None), "last": xs[-1].score if xs else None,
               "last_at": _iso(xs[-1].finished_at) if xs else None}
        if bank is not None:
            row["questions"] = m.size(bank)
        out.append(row)
    return out


def book_item(e: BookEntry, bank: QuestionBank) -> dict | None:
    """A wrong-answer book entry as the page shows it: the question, its answer and why.
    None when the question's source has left the library."""
    q = bank.question(e.question_id)
    if q is None:
        return None
    return {"id": q.id, "module": e.module, "kind": q.kind, "stem": q.stem, "answer_text": q.options[q.correct],
            "why": q.why, "url": q.url, "topic": e.topic, "last_miss": e.last_miss, "misses": e.misses,
            "right_since": e.right_since, "right_needed": RIGHT_TWICE, "missed_at": _iso(e.missed_at)}


def own(s, user: User, bank: QuestionBank, mark: float) -> dict:
    attempts = list(s.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user.id)
                              .order_by(QuizAttempt.finished_at.desc(), QuizAttempt.id.desc())))
    book = [x for x in (book_item(e, bank) for e in wrong_book(s, user.id)) if x is not None]
    recent = [{"module": a.module, "score": a.score, "correct": a.correct, "total": a.total, "passed": a.passed,
               "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
               "seconds": max(0, int((a.finished_at - a.started_at).total_seconds()))} for a in attempts[:50]]
    return {"user": {"username": user.username, "display_name": user.display_name, "role": user.role},
            "pass_mark": mark, "modules": _module_rows(attempts, bank), "attempts": recent, "wrong_book": book}


def team(s, mark: float) -> dict:
    """Every learner (each agent, and anyone who has taken a quiz): modules passed, scores,
    last activity, the confusions they show most, and how big their wrong-answer book is."""
    attempts = list(s.scalars(select(QuizAttempt)))
    takers = {a.user_id for a in attempts}
    users = s.scalars(select(User).where(or_(User.role == "agent", User.id.in_(takers)))
                      .where(or_(User.disabled.is_(False), User.id.in_(takers))).order_by(User.username)).all()
    by_user: dict[int, list[QuizAttempt]] = defaultdict(list)
    for a in attempts:
        by_user[a.user_id].append(a)
    rows = _answers(s, [u.id for u in users])
    books = _books(rows)
    misses: dict[int, Counter] = defaultdict(Counter)
    for uid, _module, _at, _qid, topic, correct, miss in rows:
        if not correct:
            misses[uid][miss or topic] += 1
    people = []
    for u in users:
        xs = by_user.get(u.id, [])
        modules = _module_rows(xs, None)
        last = max((a.finished_at for a in xs), default=None)
        people.append({"username": u.username, "display_name": u.display_name, "role": u.role,
                       "role_name": ROLE_NAMES.get(u.role, u.role), "disabled": u.disabled,
                       "passed": [m["id"] for m in modules if m["passed"]], "modules": modules,
                       "last_activity": _iso(last), "attempts": len(xs),
                       "missed_topics": [{"topic": t, "count": n} for t, n in misses[u.id].most_common(TOP_MISSES)],
                       "wrong_book": len(books.get(u.id, []))})
    return {"pass_mark": mark, "modules": [{"id": m.id, "title": m.title} for m in MODULES], "people": people}


def _pct(x: float | None) -> str:
    return "" if x is None else f"{round(x * 100)}%"


def team_csv(view: dict, modules: tuple[Module, ...] = MODULES) -> str:
    """The team view as CSV (UTF-8 with a BOM, so Excel opens the Chinese correctly)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["用户名", "姓名", "角色", "已通过", *[f"{m.title} 最好成绩" for m in modules], "测验次数", "最近活动",
                "常错的地方", "错题本"])
    titles = {m.id: m.title.split("：")[0] for m in modules}
    for p in view["people"]:
        best = {m["id"]: m["best"] for m in p["modules"]}
        w.writerow([p["username"], p["display_name"], p["role_name"], "、".join(titles[x] for x in p["passed"]) or "无",
                    *[_pct(best.get(m.id)) for m in modules], p["attempts"], p["last_activity"] or "",
                    "；".join(f"{t['topic']}（{t['count']} 次）" for t in p["missed_topics"]), p["wrong_book"]])
    return "\ufeff" + out.getvalue()
