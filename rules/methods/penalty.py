"""penalty: a deduction per event ("发生一起扣5分"), at most down to a floor
("最多扣20分") or without limit.

    - code: violations
      name: 违纪违规
      method: penalty
      metric: discipline_cases          # a count
      each: 5                           # 每起扣5分
      floor: -20                        # 最多扣20分; omit or null: 不设下限

A penalty's points are negative (扣5分 is −5) and add into its section like any item, so
"基础项扣除减分项" is written `基础项 + 减分项` in a total formula (the loader refuses
`基础项 - 减分项` when 减分项 can only be negative). A penalty item has no `max`.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.methods.base import Env, Evaluate, ItemBase
from rules.methods.common import MetricRef, fmt
from rules.metrics import Outcome, UnitContext
from rules.numbers import ZERO, dec


class Penalty(ItemBase):
    method: Literal["penalty"]
    max: float | None = None        # type: ignore[assignment]   # refused: a penalty gives ≤ 0
    metric: MetricRef
    each: float = Field(gt=0)
    floor: float | None = Field(default=None, le=0)

    @model_validator(mode="after")
    def _no_max(self) -> Penalty:
        if self.max is not None:
            raise ValueError("减分项不写 max（得分为0或负数）；最多扣几分写在 floor，如 floor: -20")
        return self

    def metric_keys(self) -> list[str]:
        return [self.metric]

    def duty_codes(self) -> list[str]:
        return [k.split(".")[0] for k in self.metric_keys() if "." in k and not k.startswith("attendance.")]

    def max_points(self) -> float | None:
        return 0

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        return (None if self.floor is None else dec(self.floor)), ZERO

    def prepare(self, env: Env) -> Evaluate:
        key, code = env.key(self.metric), self.code
        label, word = env.label(key), env.unit_word(key)
        each = dec(self.each)
        floor = None if self.floor is None else dec(self.floor)
        limit = f"（最多扣{fmt(-floor)}分）" if floor is not None else "（不设下限）"

        def evaluate(ctx: UnitContext) -> Outcome:
            count = ctx.values[key] if key in ctx.values else ctx.metric(key, item_code=code)
            ids = ctx.task_ids(key) if ctx.evidence else []
            if not count:
                return Outcome(ZERO, f"{label}0{word}，不扣分；得0分{limit}", ids)
            off = count * each
            points = -off
            text = f"{label}{fmt(count)}{word}，每{word or '次'}扣{fmt(each)}分，共扣{fmt(off)}分"
            if floor is not None and points < floor:
                points = floor
                text += f"，最多扣{fmt(-floor)}分"
            return Outcome(points, f"{text}；得{fmt(points)}分{limit}", ids)

        return evaluate
