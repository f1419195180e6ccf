"""formula: points from an expression over metrics, for the rare item no other method fits
("每超平均年龄1岁的，扣0.5分"), clamped to [floor, max]. The language is rules.formula:
arithmetic, comparisons, conditionals and listed functions only.

    - code: age_structure
      name: 班子年龄结构
      max: 10
      method: formula
      expr: 10 - max(0, 班子平均年龄 - 45) * 0.5
      floor: 0                         # default 0; null: no lower limit
      digits: 2                        # result rounded half up to 2 decimals (default)

Duty metrics are written `party_congress__missed` or `党员大会_未完成` (no "." in formulas).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.formula import FormulaEvalError
from rules.methods.base import Env, Evaluate, ItemBase, Path
from rules.methods.common import fmt, memoized, round_points
from rules.metrics import InvalidMetrics, Outcome, UnitContext
from rules.numbers import dec


class FormulaItem(ItemBase):
    method: Literal["formula"]
    expr: str = Field(min_length=1, max_length=500)
    floor: float | None = 0
    digits: int = Field(default=2, ge=0, le=4)

    @model_validator(mode="after")
    def _floor_not_above_max(self) -> FormulaItem:
        if self.floor is not None and self.floor > self.max:
            raise ValueError(f"floor（{fmt(self.floor)}）不能高于满分 max（{fmt(self.max)}）")
        return self

    def formulas(self) -> list[tuple[Path, str, str]]:
        return [(("expr",), self.expr, "number")]

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        return (None if self.floor is None else dec(self.floor)), dec(self.max)

    def prepare(self, env: Env) -> Evaluate:
        expression = self.compile_in(env, self.expr, "number")
        top = dec(self.max)
        floor = None if self.floor is None else dec(self.floor)
        full = f"（满分{fmt(top)}分）"
        written = self.expr.strip()
        digits, code = self.digits, self.code
        keys = expression.names

        def evaluate(ctx: UnitContext) -> Outcome:
            values = ctx.values
            try:
                points, reason = explain(tuple(values[k] for k in keys))
            except FormulaEvalError as exc:
                raise InvalidMetrics(f"{ctx.subject} {ctx.unit_id} 的评分条目 {code}：{exc.message}",
                                     field=code) from None
            return Outcome(points, reason)

        def compute(*inputs: Decimal) -> tuple[Decimal, str]:
            values = dict(zip(keys, inputs))
            raw = expression.evaluate(values)
            value = round_points(raw, digits)
            text = f"按公式 {written} 计算：{expression.substitute(values, _show)} = {fmt(raw)}"
            if value != raw:
                text += f"，保留{digits}位小数为{fmt(value)}"
            points = value
            if points > top:
                points = top
                text += f"，超过满分按{fmt(top)}分计"
            elif floor is not None and points < floor:
                points = floor
                text += f"，低于最低分按{fmt(floor)}分计"
            return points, f"{text}；得{fmt(points)}分{full}"

        explain = memoized(compute)
        return evaluate


def _show(value: Decimal) -> str:
    shown = fmt(value)
    return f"({shown})" if value < 0 else shown
