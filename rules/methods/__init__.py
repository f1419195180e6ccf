"""Scoring methods, one class per file, joined in a union discriminated on `method`.

    duty_deduction  every owed occurrence on time → full marks; per missed/late deduction
    ladder          points by count in steps; zero at a count
    checklist       named checks, 缺一项扣X分 or 每有一项得X分
    ratio           full marks at a threshold ratio, linear below
    ratio_bands     points at a reference ratio, ± per step of ratio, clamped
    rank_points     a table of points by rank, and what ranks beyond it get
    bonus           per event (capped or not, multiplier) or once on a condition
    penalty         per event deduction, floored or not
    manual          a reviewer's score within a range, with who entered it
    formula         an expression over metrics (rules.formula), clamped

To add a method: write a subclass of ItemBase with `method: Literal["<name>"]`,
`bounds()`, `metric_keys()` and `prepare(env)` (or `evaluate(ctx)`), and add it to the
union below (METHODS follows it). The loader lists METHODS' names when a file names another.
"""
from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field

from rules.methods.base import Env, ItemBase
from rules.methods.bonus import Bonus, Multiplier
from rules.methods.checklist import Check, Checklist
from rules.methods.duty_deduction import Deduct, DutyDeduction
from rules.methods.formula_item import FormulaItem
from rules.methods.ladder import Ladder, Step
from rules.methods.manual import Manual
from rules.methods.penalty import Penalty
from rules.methods.rank_points import RankPoints
from rules.methods.ratio import RatioItem
from rules.methods.ratio_bands import RatioBands

# The union is spelled out (not built from a tuple) so that type checkers see it too.
_Methods = (
    DutyDeduction | Ladder | Checklist | RatioItem | RatioBands | RankPoints | Bonus | Penalty | Manual
    | FormulaItem
)
METHODS: tuple[type[ItemBase], ...] = get_args(_Methods)

Item = Annotated[_Methods, Field(discriminator="method")]


def method_names() -> list[str]:
    return [get_args(cls.model_fields["method"].annotation)[0] for cls in METHODS]


__all__ = [
    "METHODS", "Bonus", "Check", "Checklist", "Deduct", "DutyDeduction", "Env", "FormulaItem", "Item", "ItemBase",
    "Ladder", "Manual", "Multiplier", "Penalty", "RankPoints", "RatioBands", "RatioItem", "Step", "method_names",
]
