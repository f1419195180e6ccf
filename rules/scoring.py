"""Clause models of the `scoring:` block: who is scored, sections of items, caps and
floors, how sections combine into the total, rounding and grade bands.

    scoring:
      subject: {kind: branch}          # a unit kind, with has_committee/area tests; or {kind: member}
      max_total: 100
      allow_over_max: false            # true: the total may exceed max_total (加分不设上限)
      min_total: 0                     # optional floor of the total (扣完为止); omit: none
      total:                           # optional; default: the sum of the top-level sections
        formula: (基础项 + 减分项) * 0.7 + 评议项 * 0.3
      rounding: {digits: 1}            # 四舍五入 before banding
      sections: [...]                  # each: code, name, max (null: 不设上限), optional floor
      grades: [...]

A total formula names top-level sections by code or name (and declared metrics); every
top-level section must appear in it. Penalty sections are negative, so "扣除减分项" is
`+ 减分项` (the loader refuses subtracting a section that can only be negative).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from rules.duties import Applicability, Code, Strict
from rules.methods import Item, ItemBase
from rules.numbers import dec, fmt


class Rounding(Strict):
    """Round half up (四舍五入, decimal) to `digits` decimals before banding."""

    digits: int = Field(ge=0, le=4)


class Band(Strict):
    """A grade (等级) over an explicit interval; a missing bound is unbounded on that side."""

    name: str = Field(min_length=1, max_length=20)
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = False

    @model_validator(mode="after")
    def _non_empty(self) -> Band:
        if self.min is not None and self.max is not None and (
            self.min > self.max
            or (self.min == self.max and not (self.min_inclusive and self.max_inclusive))
        ):
            raise ValueError(f"等级“{self.name}”的区间为空：min {fmt(self.min)}，max {fmt(self.max)}")
        return self

    def contains(self, value: Decimal) -> bool:
        if self.min is not None:
            low = dec(self.min)
            if value < low or (value == low and not self.min_inclusive):
                return False
        if self.max is not None:
            high = dec(self.max)
            if value > high or (value == high and not self.max_inclusive):
                return False
        return True

    def label(self) -> str:
        """Interval notation: [80, 90), [90, +∞)."""
        low = "(-∞" if self.min is None else ("[" if self.min_inclusive else "(") + fmt(self.min)
        high = "+∞)" if self.max is None else fmt(self.max) + ("]" if self.max_inclusive else ")")
        return f"{low}, {high}"


def _sum_or_none(values: list[Decimal | None]) -> Decimal | None:
    """The sum of the bounds, or None (unbounded) when any of them is."""
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += value
    return total


class Section(Strict):
    """A node of the tree (节): items and sub-sections, its total capped at its own max
    (`max: null`: no cap) and floored at `floor` when given (减分项最多扣10分: floor: -10)."""

    code: Code
    name: str = Field(min_length=1, max_length=100)
    max: float | None = Field(ge=0, le=10000)
    floor: float | None = Field(default=None, ge=-10000, le=10000)
    note: str | None = None
    items: list[Item] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Section:
        if not self.items and not self.sections:
            raise ValueError(f"节“{self.name}”没有条目（items）也没有下级节（sections）")
        if self.floor is not None and self.max is not None and self.floor > self.max:
            raise ValueError(f"节“{self.name}”的 floor（{fmt(self.floor)}）高于 max（{fmt(self.max)}）")
        return self

    def walk_items(self) -> list[tuple[list[Section], ItemBase]]:
        """Every item under this section, with the chain of sections above it."""
        found: list[tuple[list[Section], ItemBase]] = [([self], item) for item in self.items]
        for sub in self.sections:
            found += [([self, *chain], item) for chain, item in sub.walk_items()]
        return found

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """Lowest and highest section total (after its cap); None = unbounded."""
        lows: list[Decimal | None] = []
        highs: list[Decimal | None] = []
        for item in self.items:
            low, high = item.bounds()
            lows.append(low)
            highs.append(high)
        for sub in self.sections:
            low, high = sub.bounds()
            lows.append(low)
            highs.append(high)
        low_sum = _sum_or_none(lows)
        high_sum = _sum_or_none(highs)
        if self.max is not None:
            top = dec(self.max)
            high_sum = top if high_sum is None else min(top, high_sum)
            if low_sum is not None:
                low_sum = min(low_sum, top)
        if self.floor is not None:
            bottom = dec(self.floor)
            low_sum = bottom if low_sum is None else max(low_sum, bottom)
            if high_sum is not None:
                high_sum = max(high_sum, bottom)
        return low_sum, high_sum


class MemberSubject(Strict):
    """Member scorecards (党员积分): one per member; items read member metrics."""

    kind: Literal["member"]


def _subject_form(value: Any) -> str:
    if isinstance(value, dict):
        return "member" if value.get("kind") == "member" else "unit"
    return "member" if isinstance(value, MemberSubject) else "unit"


Subject = Annotated[
    Annotated[Applicability, Tag("unit")] | Annotated[MemberSubject, Tag("member")],
    Discriminator(_subject_form),
]


class Total(Strict):
    """How the sections combine: a formula over top-level sections (by code or name)."""

    formula: str = Field(min_length=1, max_length=500)


class Scoring(Strict):
    subject: Subject                          # which units (or members) get a scorecard
    max_total: float = Field(gt=0, le=10000)
    allow_over_max: bool = False              # True: the total may exceed max_total (加分不设上限)
    min_total: float | None = Field(default=None, ge=-10000, le=10000)   # 总分最低分; None: no floor
    total: Total | None = None                # None: the sum of the top-level sections
    rounding: Rounding
    sections: list[Section] = Field(min_length=1)
    grades: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _floor_below_cap(self) -> Scoring:
        if self.min_total is not None and self.min_total > self.max_total:
            raise ValueError(f"min_total（{fmt(self.min_total)}）不能高于 max_total（{fmt(self.max_total)}）")
        return self

    @property
    def per_member(self) -> bool:
        return isinstance(self.subject, MemberSubject)

    def walk_items(self) -> list[tuple[list[Section], ItemBase]]:
        return [pair for section in self.sections for pair in section.walk_items()]

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """Lowest and highest possible total (before rounding) when the total is the sum of
        the sections; None = unbounded. With a total formula see `limit_total`."""
        pairs = [s.bounds() for s in self.sections]
        lows = [p[0] for p in pairs]
        highs = [p[1] for p in pairs]
        low = _sum_or_none(lows)
        high = _sum_or_none(highs)
        return self.limit_total(low, high)

    def limit_total(self, low: Decimal | None, high: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
        """Apply max_total (unless allow_over_max) and min_total to a (low, high) range."""
        if not self.allow_over_max:
            cap = dec(self.max_total)
            high = cap if high is None else min(high, cap)
            low = None if low is None else min(low, cap)
        if self.min_total is not None:
            bottom = dec(self.min_total)
            low = bottom if low is None else max(low, bottom)
            high = None if high is None else max(high, bottom)
        return low, high
