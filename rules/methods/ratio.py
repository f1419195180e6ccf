"""ratio: full marks at a threshold ratio, linear below it ("参学率达到95%得满分，
低于95%按比例计分").

    - code: study_rate
      name: 党员参学率
      max: 5
      method: ratio
      metric: studied_members          # numerator (a count) …
      denominator: members             # … over a denominator; or omit it and name a ratio metric
      threshold: 95%                   # at or above: full marks (write 95% or 0.95)
      zero_at: 60%                     # optional: at or below, 0 points (default 0%)
      floor: 1                         # optional: lowest points
      digits: 2                        # points rounded half up to 2 decimals (default)
      if_no_denominator: error         # denominator 0: error (default) | full | zero

`better: lower` turns it round (失联率 ≤ 5% 满分, ≥ zero_at 不得分, linear between).
A ratio metric without a denominator is a fraction (0.3), or a percentage (30) when its
declared unit is "%".
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.methods.base import Env, Evaluate, ItemBase, Path
from rules.methods.common import HUNDRED, MetricRef, Ratio, fmt, memoized, pct, round_points
from rules.metrics import InvalidMetrics, Outcome, UnitContext
from rules.numbers import ZERO, dec

NoDenominator = Literal["error", "full", "zero"]
# (ratio, how it was computed) → (points, reason)
Score = Callable[[Decimal, str], tuple[Decimal, str]]


class RatioSource(ItemBase):
    """Numerator over denominator, or one ratio metric; shared by ratio and ratio_bands."""

    metric: MetricRef
    denominator: MetricRef | None = None
    if_no_denominator: NoDenominator = "error"
    digits: int = Field(default=2, ge=0, le=4)

    def metric_keys(self) -> list[str]:
        return [self.metric] + ([self.denominator] if self.denominator else [])

    def duty_codes(self) -> list[str]:
        return [k.split(".")[0] for k in self.metric_keys() if "." in k and not k.startswith("attendance.")]

    def problems(self, env: Env) -> list[tuple[Path, str]]:
        decl = env.declared.get(env.key(self.metric))
        if self.denominator is None and decl is not None and not decl.is_percent and (decl.max is None or decl.max > 10):
            return [(("metric",), (f"没有 denominator 时，{decl.code} 应是比例：声明 unit: \"%\"（百分数），"
                                   f"或声明 max（不超过10）表示小数（如 max: 1）；否则请写 denominator（分母）"))]
        return []

    def ratio_evaluator(self, env: Env, score: Score, top: Decimal, full: str) -> Evaluate:
        """Reads numerator (and denominator), computes the ratio and hands it to `score`
        (ratio, how it was computed) → (points, reason); remembered per input values."""
        code, num_key = self.code, env.key(self.metric)
        den_key = None if self.denominator is None else env.key(self.denominator)
        num_label = env.label(num_key)
        decl = env.declared.get(num_key)
        percent = decl is not None and decl.is_percent
        den_label = "" if den_key is None else env.label(den_key)
        num_unit = env.unit_word(num_key, "")
        den_unit = "" if den_key is None else env.unit_word(den_key, "")

        def compute(num: Decimal, den: Decimal | None) -> tuple[tuple[Decimal, str] | None, str]:
            if den is None:
                ratio = num / HUNDRED if percent else num
                return score(ratio, f"{num_label}{pct(ratio)}"), ""
            shown = f"{num_label}{fmt(num)}{num_unit}÷{den_label}{fmt(den)}{den_unit}"
            if den == 0:
                return None, shown
            ratio = num / den
            return score(ratio, f"{shown}={pct(ratio)}"), shown

        explain = memoized(compute)

        def evaluate(ctx: UnitContext) -> Outcome:
            values = ctx.values
            num = values[num_key] if num_key in values else ctx.metric(num_key, item_code=code)
            den = None if den_key is None else (
                values[den_key] if den_key in values else ctx.metric(den_key, item_code=code))
            result, shown = explain((num, den))
            if result is None:
                return self.no_denominator(ctx, shown, top, full)
            return Outcome(result[0], result[1])

        return evaluate

    def no_denominator(self, ctx: UnitContext, shown: str, top: Decimal, full: str) -> Outcome:
        if self.if_no_denominator == "full":
            return Outcome(top, f"{shown}，分母为0，按规定计满分；得{fmt(top)}分{full}")
        if self.if_no_denominator == "zero":
            return Outcome(ZERO, f"{shown}，分母为0，按规定不得分；得0分{full}")
        raise InvalidMetrics(
            f"{ctx.subject} {ctx.unit_id} 的 {self.denominator} 为0，无法计算评分条目 {self.code} 的比例"
            "（如本单位确实不适用，请在条目中写 if_no_denominator: full 或 zero）",
            field=self.denominator or self.code)


class RatioItem(RatioSource):
    method: Literal["ratio"]
    threshold: Ratio
    zero_at: Ratio | None = None
    better: Literal["higher", "lower"] = "higher"
    floor: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RatioItem:
        if self.floor is not None and not 0 <= self.floor <= self.max:
            raise ValueError(f"floor（{fmt(self.floor)}）应在0到满分 max（{fmt(self.max)}）之间")
        if self.better == "higher":
            if self.zero_at is not None and self.zero_at >= self.threshold:
                raise ValueError(f"zero_at（{pct(dec(self.zero_at))}）应低于 threshold（{pct(dec(self.threshold))}）")
        else:
            if self.zero_at is None:
                raise ValueError("better: lower 时要写 zero_at（比例达到多少不得分）")
            if self.zero_at <= self.threshold:
                raise ValueError(f"better: lower 时 zero_at（{pct(dec(self.zero_at))}）应高于 threshold"
                                 f"（{pct(dec(self.threshold))}）")
        return self

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        return (ZERO if self.floor is None else dec(self.floor)), dec(self.max)

    def prepare(self, env: Env) -> Evaluate:
        top = dec(self.max)
        full = f"（满分{fmt(top)}分）"
        threshold = dec(self.threshold)
        zero = ZERO if self.zero_at is None else dec(self.zero_at)
        floor = None if self.floor is None else dec(self.floor)
        digits = self.digits
        higher = self.better == "higher"
        span = threshold - zero if higher else zero - threshold
        if higher:
            rule = f"达到{pct(threshold)}得满分" + (f"，{pct(zero)}及以下不得分，之间按比例计分"
                                                 if self.zero_at is not None else "，不足按比例计分")
        else:
            rule = f"不超过{pct(threshold)}得满分，达到{pct(zero)}不得分，之间按比例计分"
        after = f"，保留{digits}位小数"
        top_text, threshold_text, zero_text = fmt(top), pct(threshold), pct(zero)
        linear_from_zero = higher and self.zero_at is None

        def score(ratio: Decimal, shown: str) -> tuple[Decimal, str]:
            if (higher and ratio >= threshold) or (not higher and ratio <= threshold):
                points, how = top, "得满分"
            elif (higher and ratio <= zero) or (not higher and ratio >= zero):
                points, how = ZERO, "不得分"
            else:
                gap = ratio - zero if higher else zero - ratio
                raw = top * gap / span
                points = round_points(raw, digits)
                shown_ratio = pct(ratio)
                if linear_from_zero:
                    formula = f"{top_text}×{shown_ratio}÷{threshold_text}"
                elif higher:
                    formula = f"{top_text}×({shown_ratio}−{zero_text})÷({threshold_text}−{zero_text})"
                else:
                    formula = f"{top_text}×({zero_text}−{shown_ratio})÷({zero_text}−{threshold_text})"
                how = f"{formula}={fmt(points)}{after if points != raw else ''}"
            text = f"{shown}，{rule}：{how}"
            if floor is not None and points < floor:
                points = floor
                text += f"，低于最低分按{fmt(floor)}分计"
            return points, f"{text}；得{fmt(points)}分{full}"

        return self.ratio_evaluator(env, score, top, full)
