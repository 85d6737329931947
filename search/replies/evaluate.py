"""Evaluation of the reply checker: ``caselib eval-replies FILE``.

The file is a YAML list of {text: 回复, phrases: [禁语编号…]}; the phrase numbers allowed are
those of the Reference (search/data/reference.yaml), and so are the rows of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from search.errors import CaselibError
from search.library.reference import Reference, load_reference
from search.replies.checker import PhraseHit, ReplyChecker

_HINT = "文件应为 YAML 列表，每项形如 {text: 客服回复, phrases: [禁语编号, …]}，干净的回复写 phrases: []"


def load_replies(path: Path | str, reference: Reference | None = None) -> list[dict]:
    """A YAML list of {text: 回复, phrases: [禁语编号…]}; CaselibError (Chinese) when malformed."""
    path = Path(path)
    ref = reference or load_reference()
    numbers = set(ref.phrase_numbers)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CaselibError(f"{path}: 无法读取回复评测集：{e.strerror or e} — 检查文件路径") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else ""
        raise CaselibError(f"{path}: {where}YAML 格式错误：{getattr(e, 'problem', None) or e} — {_HINT}") from e
    if not isinstance(data, list) or not data:
        raise CaselibError(f"{path}: 回复评测集格式不对 — {_HINT}")
    out = []
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict) or "text" not in item or "phrases" not in item:
            raise CaselibError(f"{path}: 第 {i} 项缺少 text 或 phrases — {_HINT}")
        extra = set(item) - {"text", "phrases", "note"}
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            raise CaselibError(f"{path}: 第 {i} 项有未知字段 {names} — 只允许 text、phrases（可选 note）")
        text, phrases = item["text"], item["phrases"]
        if not isinstance(text, str) or not text.strip():
            raise CaselibError(f"{path}: 第 {i} 项的 text 应为非空文字 — {_HINT}")
        if phrases is None:
            phrases = []
        if not isinstance(phrases, list) or not all(_is_number(n) and n in numbers for n in phrases):
            allowed = f"{ref.phrase_range('–')} 的禁语编号列表"
            raise CaselibError(f"{path}: 第 {i} 项的 phrases 应为 {allowed}，如 [3] 或 []，现在是 {phrases!r}")
        out.append({"text": text, "phrases": sorted(set(phrases))})
    return out


def _is_number(n) -> bool:
    return isinstance(n, int) and not isinstance(n, bool)


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """1.0 when nothing was flagged (no false alarms)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """1.0 when nothing was to be found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def as_dict(self) -> dict:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.support,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


@dataclass
class ReplyEval:
    per_phrase: dict[int, PRF]
    overall: PRF  # micro-average over (text, phrase) pairs
    errors: list[dict]  # {text, expected, got} for every text with a wrong set of phrases
    n_texts: int

    def as_dict(self) -> dict:
        return {
            "texts": self.n_texts,
            "overall": self.overall.as_dict(),
            "per_phrase": {n: s.as_dict() for n, s in self.per_phrase.items()},
            "errors": self.errors,
        }

    def format(self, show_errors: bool = True) -> str:
        lines = [f"回复评测：{self.n_texts} 条", f"{'禁语':<6}{'样本':>4}{'精确率':>8}{'召回率':>8}   TP  FP  FN"]
        for n, s in self.per_phrase.items():
            lines.append(f"禁语{n:<4}{s.support:>5}{s.precision:>10.3f}{s.recall:>10.3f}{s.tp:>5}{s.fp:>4}{s.fn:>4}")
        o = self.overall
        lines.append(f"{'总计':<5}{o.support:>5}{o.precision:>10.3f}{o.recall:>10.3f}{o.tp:>5}{o.fp:>4}{o.fn:>4}")
        if show_errors and self.errors:
            lines.append("判错的回复：")
            for e in self.errors:
                lines.append(f"  - {e['text']}  应为 {e['expected']}，检出 {e['got']}")
        return "\n".join(lines)


def evaluate_replies(
    items: Iterable[dict],
    checker: ReplyChecker | Callable[[str], list[PhraseHit]],
    reference: Reference | None = None,
) -> ReplyEval:
    """Precision and recall per phrase and overall (micro-averaged over (text, phrase) pairs).
    One row per phrase of ``reference``: by default the checker's, else the data file's."""
    ref = reference or getattr(checker, "reference", None) or load_reference()
    items = list(items)
    texts = [item["text"] for item in items]
    if hasattr(checker, "check_many"):
        results = checker.check_many(texts)
    else:
        check = checker.check if hasattr(checker, "check") else checker
        results = [check(t) for t in texts]
    per = {n: PRF() for n in ref.phrase_numbers}
    errors = []
    n_texts = 0
    for item, hits in zip(items, results, strict=True):
        n_texts += 1
        gold = set(item["phrases"])
        got = {h.phrase for h in hits}
        for n in per:
            if n in got and n in gold:
                per[n].tp += 1
            elif n in got:
                per[n].fp += 1
            elif n in gold:
                per[n].fn += 1
        if got != gold:
            errors.append({"text": item["text"], "expected": sorted(gold), "got": sorted(got)})
    overall = PRF(sum(s.tp for s in per.values()), sum(s.fp for s in per.values()), sum(s.fn for s in per.values()))
    return ReplyEval(per, overall, errors, n_texts)
