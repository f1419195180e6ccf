"""What every scoring method shares: an item's identity, its maximum and its contract."""
from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from rules.duties import Code, Strict
from rules.metrics import Outcome, UnitContext


class ItemBase(Strict):
    """One scored item (条目). Subclasses add `method: Literal[...]` and their own fields."""

    code: Code
    name: str = Field(min_length=1, max_length=100)
    max: float = Field(ge=0, le=10000)          # 满分
    note: str | None = None                     # 说明, shown to readers, not used in scoring

    def duty_codes(self) -> list[str]:
        """Duties this item reads (the loader checks they exist)."""
        return []

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """Lowest and highest points the item can give; None = unbounded (倒扣, 上不封顶)."""
        raise NotImplementedError

    def evaluate(self, ctx: UnitContext) -> Outcome:
        """Points, a Chinese reason stating the arithmetic, and the tasks behind it."""
        raise NotImplementedError
