"""The reference data: the forbidden phrases, the principles, complaint levels,
categories, difficult-customer types and the allowed channel/outcome/source values.

One YAML file (search/data/reference.yaml) is the single source; the validator, the site
hooks and the reply checker all read it through `load_reference()`. Code never writes down
how many phrases, principles or levels there are, nor their names: it asks the Reference
(``len(ref.phrases)``, ``ref.level_names``, ``ref.level_slug(name)``, ``ref.phrases_label``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

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
    # ASCII name for the badge's CSS class (cl-level-<slug>) and the browse page's anchor
    # (level-<slug>); a level without one gets its position (1, 2, …): see Reference.level_slug
    slug: str | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str | None) -> str | None:
        if v is not None and not _SLUG.match(v):
            raise ValueError(f"等级的 slug 只能用小写英文字母、数字和连字符，现在是“{v}”")
        return v


class Category(_Strict):
    name: str
    definition: str
    remedy: str
    keywords: tuple[str, ...] = ()  # words that suggest the category (Word import's guess)


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
    # (section title, the headings Word reports use for it): 事件经过 → 经过, read by
    # search/library/docx_import.py; optional, so a data file without it still loads. Pairs,
    # not a dict, so the Reference stays hashable.
    import_headings: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @field_validator("import_headings", mode="before")
    @classmethod
    def _heading_pairs(cls, v):
        return tuple(v.items()) if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _consistent(self):
        if not self.levels:
            raise ValueError("levels 至少要有一个等级")
        # pages link phrase n to n-1 and n+1, and messages say "1-N": numbered 1..N in order
        for what, items in (("phrases", self.phrases), ("principles", self.principles)):
            numbers = [x.n for x in items]
            if numbers != list(range(1, len(items) + 1)):
                raise ValueError(f"{what} 的编号应从 1 起依次排列（1、2、3…），现在是 {numbers}")
        slugs = tuple(map(self.level_slug, self.level_names))
        for what, names in (("levels", self.level_names), ("level slugs", slugs), ("categories", self.category_names),
                            ("customer_types", self.customer_type_names)):
            dup = sorted({x for x in names if names.count(x) > 1})
            if dup:
                raise ValueError(f"{what} 中有重复的名称：{'、'.join(dup)}")
        headings = [h for _section, synonyms in self.import_headings for h in synonyms]
        dup = sorted({h for h in headings if headings.count(h) > 1})
        if dup:
            raise ValueError(f"import_headings 中有标题同时归到两个章节：{'、'.join(dup)}")
        return self

    def phrase(self, n: int) -> Phrase:
        return next(p for p in self.phrases if p.n == n)

    def principle(self, n: int) -> Principle:
        return next(p for p in self.principles if p.n == n)

    @property
    def phrase_numbers(self) -> tuple[int, ...]:
        return tuple(p.n for p in self.phrases)

    @property
    def principle_numbers(self) -> tuple[int, ...]:
        return tuple(p.n for p in self.principles)

    def phrase_range(self, dash: str = "-") -> str:
        """The phrase numbers as written in messages: "1-9"."""
        return f"1{dash}{len(self.phrases)}"

    def principle_range(self, dash: str = "-") -> str:
        return f"1{dash}{len(self.principles)}"

    @property
    def phrases_label(self) -> str:
        """The phrases by their count, as the training material names them: 九句禁语."""
        return f"{cn(len(self.phrases))}句禁语"

    @property
    def principles_label(self) -> str:
        """七项原则."""
        return f"{cn(len(self.principles))}项原则"

    def numbered(self, kind: str) -> tuple[tuple[int, ...], str, str]:
        """(numbers, name by count, range) of "principles" or "phrases": ((1, …, 7), "七项原则", "1-7")."""
        if kind == "principles":
            return self.principle_numbers, self.principles_label, self.principle_range()
        if kind == "phrases":
            return self.phrase_numbers, self.phrases_label, self.phrase_range()
        raise ValueError(f"not numbered: {kind}")

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(x.name for x in self.levels)

    def level_slug(self, name: str) -> str | None:
        """The level's slug (CSS class cl-level-<slug>, anchor level-<slug>); its position
        (1-based) when reference.yaml gives none; None for a name that is not a level."""
        for i, lv in enumerate(self.levels, 1):
            if lv.name == name:
                return lv.slug or str(i)
        return None

    @property
    def default_level(self) -> str:
        """Levels are listed from the most to the least serious; the last one is the level
        of a complaint that is none of the others (caselib new offers it by default)."""
        return self.levels[-1].name

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
