"""The reference data: nine forbidden phrases, seven principles, complaint levels,
categories, difficult-customer types and the allowed channel/outcome/source values.

One YAML file (search/data/reference.yaml) is the single source; the validator, the site
hooks and the reply checker all read it through `load_reference()`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REFERENCE_FILE = DATA_DIR / "reference.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phrase(_Strict):
    n: int
    text: str
    short: str
    harm: str
    better: str
    variants: tuple[str, ...] = ()


class Principle(_Strict):
    n: int
    title: str
    text: str


class Level(_Strict):
    name: str
    definition: str
    rule: str


class Category(_Strict):
    name: str
    definition: str
    remedy: str


class CustomerType(_Strict):
    name: str
    tip: str


class Checks(_Strict):
    """Numbers the content rules of `caselib check` use (search/library/consistency.py)."""

    say_max_chars: int
    do_items: int
    avoid_min_items: int
    major_min_people: int


class Reference(_Strict):
    phrases: tuple[Phrase, ...]
    principles: tuple[Principle, ...]
    levels: tuple[Level, ...]
    categories: tuple[Category, ...]
    customer_types: tuple[CustomerType, ...]
    channels: tuple[str, ...]
    outcomes: tuple[str, ...]
    sources: tuple[str, ...]
    checks: Checks

    def phrase(self, n: int) -> Phrase:
        return next(p for p in self.phrases if p.n == n)

    def principle(self, n: int) -> Principle:
        return next(p for p in self.principles if p.n == n)

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(x.name for x in self.levels)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(x.name for x in self.categories)

    @property
    def customer_type_names(self) -> tuple[str, ...]:
        return tuple(x.name for x in self.customer_types)


@lru_cache(maxsize=4)
def load_reference(path: Path = REFERENCE_FILE) -> Reference:
    with open(path, encoding="utf-8") as f:
        return Reference.model_validate(yaml.safe_load(f))


# Chinese numerals for display ("原则二", "禁语三"), as trainers write them.
CN_NUM = "零一二三四五六七八九十"


def cn(n: int) -> str:
    return CN_NUM[n] if 0 <= n <= 10 else str(n)
