"""bonus: points added per event, up to a cap ("上限10分") or without one ("加分不设上限"),
or once when a condition holds; optionally multiplied when a condition holds ("得分加倍").

    - code: suggestions
      name: 建议被采纳
      method: bonus
      metric: adopted_suggestions      # a count
      each: 2                          # 每条加2分
      cap: 10                          # 上限10分; cap: null 加分不设上限 (the key is required)
      multiplier: {factor: 2, when: "市级采纳 > 0"}   # optional: 得分加倍 when the condition holds

    - code: full_attendance
      name: 全勤
      method: bonus
      when: "参会_实到 == 参会_应到"    # a condition (rules.formula) …
      points: 3                        # … worth 3 points once
      cap: 3

A bonus item has no `max`: its cap is its upper limit.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.duties import Strict
from rules.methods.base import Env, Evaluate, ItemBase, Path
from rules.methods.common import MetricRef, fmt
from rules.metrics import Outcome, UnitContext
from rules.numbers import ZERO, dec


class Multiplier(Strict):
    factor: float = Field(gt=0, le=100)
    when: str = Field(min_length=1, max_length=500)


class Bonus(ItemBase):
    method: Literal["bonus"]
    max: float | None = None        # type: ignore[assignment]   # refused: bonuses use cap
    cap: float | None = Field(ge=0, le=10000)
    metric: MetricRef | None = None
    each: float | None = Field(default=None, gt=0)
    when: str | None = Field(default=None, min_length=1, max_length=500)
    points: float | None = Field(default=None, gt=0)
    multiplier: Multiplier | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Bonus:
        if self.max is not None:
            raise ValueError("加分项不写 max，上限写在 cap（cap: null 表示加分不设上限）")
        per_event = self.metric is not None or self.each is not None
        once = self.when is not None or self.points is not None
        if per_event == once:
            raise ValueError("加分项要写 metric + each（每次加几分），或 when + points（条件成立时加几分），只写其中一种")
        if per_event and (self.metric is None or self.each is None):
            raise ValueError("按次加分要同时写 metric（次数指标）和 each（每次加几分）")
        if once and (self.when is None or self.points is None):
            raise ValueError("条件加分要同时写 when（条件）和 points（加几分）")
        return self

    def metric_keys(self) -> list[str]:
        return [self.metric] if self.metric else []

    def duty_codes(self) -> list[str]:
        return [k.split(".")[0] for k in self.metric_keys() if "." in k and not k.startswith("attendance.")]

    def formulas(self) -> list[tuple[Path, str, str]]:
        found: list[tuple[Path, str, str]] = []
        if self.when is not None:
            found.append((("when",), self.when, "bool"))
        if self.multiplier is not None:
            found.append((("multiplier", "when"), self.multiplier.when, "bool"))
        return found

    def max_points(self) -> float | None:
        return self.cap

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        if self.cap is not None:
            return ZERO, dec(self.cap)
        if self.points is not None:
            factor = dec(self.multiplier.factor) if self.multiplier else Decimal(1)
            return ZERO, dec(self.points) * max(factor, Decimal(1))
        return ZERO, None

    def prepare(self, env: Env) -> Evaluate:
        cap = None if self.cap is None else dec(self.cap)
        limit = f"（上限{fmt(cap)}分）" if cap is not None else "（加分不设上限）"
        code = self.code
        condition = None if self.when is None else self.compile_in(env, self.when, "bool")
        multiplier = None
        if self.multiplier is not None:
            multiplier = (self.compile_in(env, self.multiplier.when, "bool"), dec(self.multiplier.factor),
                          self.multiplier.when.strip())
        # _consistent: `points` is set whenever `when` is, `metric` and `each` otherwise; the
        # placeholders for the unset ones are never read.
        points = ZERO if self.points is None else dec(self.points)
        each = ZERO if self.each is None else dec(self.each)
        key = "" if self.metric is None else env.key(self.metric)
        label = env.label(key) if key else ""
        word = env.unit_word(key) if key else ""

        def evaluate(ctx: UnitContext) -> Outcome:
            values = ctx.values
            ids: list[int] = []
            if condition is not None:
                holds = condition.evaluate(values)
                shown = condition.substitute(values)
                if not holds:
                    return Outcome(ZERO, f"条件“{condition.text.strip()}”不成立（{shown}），不加分；得0分{limit}")
                raw = points
                text = f"条件“{condition.text.strip()}”成立（{shown}），加{fmt(points)}分"
            else:
                count = values[key] if key in values else ctx.metric(key, item_code=code)
                raw = count * each
                text = f"{label}{fmt(count)}{word}，每{word or '次'}加{fmt(each)}分，计{fmt(raw)}分"
                ids = ctx.task_ids(key) if ctx.evidence else []
            if multiplier is not None and raw:
                test, factor, written = multiplier
                if test.evaluate(values):
                    raw = raw * factor
                    text += f"；“{written}”成立（{test.substitute(values)}），得分×{fmt(factor)}为{fmt(raw)}分"
            result: Decimal = raw
            if cap is not None and result > cap:
                text += f"，超过上限按{fmt(cap)}分计"
                result = cap
            return Outcome(result, f"{text}；得{fmt(result)}分{limit}", ids)

        return evaluate
