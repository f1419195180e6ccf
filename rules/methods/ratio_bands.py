"""ratio_bands: points at a reference ratio, plus or minus per step of ratio
("入党积极分子比例达30%得3分，每上升或下降10%加减1分").

    - code: activists
      name: 入党积极分子比例
      max: 5                           # points never exceed max …
      method: ratio_bands
      metric: activists
      denominator: members             # or a ratio metric without denominator (see ratio)
      reference: 30%                   # 基准比例
      base: 3                          # 基准分：比例达到 reference 时的得分
      step: 10%                        # 每上升或下降 step …
      step_points: 1                   # … 加减 step_points 分
      min_points: 0                    # … and never fall below min_points (default 0)
      partial: whole_steps             # whole_steps (default): only whole steps count, 25% is
                                       # 2 points (reached 20%, not 30%); prorate: 25% is 2.5

By hand: 30% → 3, 50% → 5, 10% → 1, 0% → 0, 70% → 7 clamped to 5.
"""
from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.methods.base import Env, Evaluate
from rules.methods.common import Ratio, fmt, pct, round_points
from rules.methods.ratio import RatioSource
from rules.numbers import dec


class RatioBands(RatioSource):
    method: Literal["ratio_bands"]
    reference: Ratio
    base: float
    step: Ratio = Field(gt=0)
    step_points: float = Field(gt=0)
    min_points: float = 0
    partial: Literal["whole_steps", "prorate"] = "whole_steps"

    @model_validator(mode="after")
    def _consistent(self) -> RatioBands:
        if self.min_points > self.max:
            raise ValueError(f"min_points（{fmt(self.min_points)}）不能高于满分 max（{fmt(self.max)}）")
        if not self.min_points <= self.base <= self.max:
            raise ValueError(f"基准分 base（{fmt(self.base)}）应在 min_points（{fmt(self.min_points)}）"
                             f"和满分 max（{fmt(self.max)}）之间")
        return self

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        return dec(self.min_points), dec(self.max)

    def prepare(self, env: Env) -> Evaluate:
        top, low = dec(self.max), dec(self.min_points)
        full = f"（满分{fmt(top)}分，最低{fmt(low)}分）"
        reference, base, step, per = dec(self.reference), dec(self.base), dec(self.step), dec(self.step_points)
        whole = self.partial == "whole_steps"
        digits = self.digits
        rule = (f"达到{pct(reference)}得{fmt(base)}分，每上升或下降{pct(step)}加减{fmt(per)}分"
                + ("（不足一档不计）" if whole else "（不足一档按比例）"))

        def score(ratio: Decimal, shown: str) -> tuple[Decimal, str]:
            steps = (ratio - reference) / step
            if whole:
                steps = steps.to_integral_value(rounding=ROUND_FLOOR)
            raw = base + steps * per
            if not whole:
                raw = round_points(raw, digits)
            if steps == 0:
                how = f"按基准得{fmt(base)}分"
            else:
                word = "高" if steps > 0 else "低"
                sign = "+" if steps > 0 else "−"
                count = fmt(abs(steps)) if whole else fmt(round_points(abs(steps), 4))
                how = f"比基准{word}{count}档，{fmt(base)}{sign}{count}×{fmt(per)}={fmt(raw)}"
            points = raw
            if raw > top:
                points = top
                how += f"，超过满分按{fmt(top)}分计"
            elif raw < low:
                points = low
                how += f"，低于最低分按{fmt(low)}分计"
            return points, f"{shown}，{rule}：{how}；得{fmt(points)}分{full}"

        return self.ratio_evaluator(env, score, top, f"（满分{fmt(top)}分）")
