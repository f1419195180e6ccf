"""Clause models of the `scoring:` block: sections of items, caps, rounding and grade bands."""
from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator

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
        if self.min is not None and self.max is not None:
            if self.min > self.max or (
                self.min == self.max and not (self.min_inclusive and self.max_inclusive)
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


class Section(Strict):
    """A node of the tree (节): items and sub-sections, its total capped at its own max."""

    code: Code
    name: str = Field(min_length=1, max_length=100)
    max: float = Field(ge=0, le=10000)
    note: str | None = None
    items: list[Item] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Section:
        if not self.items and not self.sections:
            raise ValueError(f"节“{self.name}”没有条目（items）也没有下级节（sections）")
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
        top = dec(self.max)
        low_sum = None if None in lows else sum(lows, Decimal(0))
        high_sum = top if None in highs else min(top, sum(highs, Decimal(0)))  # type: ignore[arg-type]
        if low_sum is not None:
            low_sum = min(low_sum, top)
        return low_sum, high_sum


class Scoring(Strict):
    subject: Applicability                    # which units get a scorecard
    max_total: float = Field(gt=0, le=10000)
    allow_over_max: bool = False              # True: the total may exceed max_total (加分不设上限)
    rounding: Rounding
    sections: list[Section] = Field(min_length=1)
    grades: list[Band] = Field(min_length=1)

    def walk_items(self) -> list[tuple[list[Section], ItemBase]]:
        return [pair for section in self.sections for pair in section.walk_items()]

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """Lowest and highest possible total (before rounding); None = unbounded."""
        pairs = [s.bounds() for s in self.sections]
        lows = [p[0] for p in pairs]
        highs = [p[1] for p in pairs]
        low = None if None in lows else sum(lows, Decimal(0))  # type: ignore[arg-type]
        high = None if None in highs else sum(highs, Decimal(0))  # type: ignore[arg-type]
        if not self.allow_over_max:
            cap = dec(self.max_total)
            high = cap if high is None else min(high, cap)
            low = None if low is None else min(low, cap)
        return low, high
