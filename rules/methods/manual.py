"""manual: a score a reviewer enters within a stated range (定性评分, 酌情扣分, 评议项),
recorded with who entered it.

    - code: appraisal
      name: 群众评议
      method: manual
      range: [0, 20]                   # the reviewer enters a number in [0, 20]
      max: 20                          # optional: defaults to the top of range (or 0)
      if_missing: error                # no entry: error (default) | zero | max | min
      note: 由街道党工委根据走访情况评定

    - code: discretion
      name: 酌情扣分
      method: manual
      range: [-5, 0]                   # 酌情扣0–5分

Entries reach the scorer as `score_unit(..., manual={"appraisal": ManualEntry(points=18,
entered_by="张三", entered_at=..., note=...)})`; the reason line names who entered it.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.methods.base import Env, Evaluate, ItemBase
from rules.methods.common import fmt
from rules.metrics import InvalidManualScore, ManualEntry, MissingManualScore, Outcome, UnitContext
from rules.numbers import ZERO, dec


class Manual(ItemBase):
    method: Literal["manual"]
    max: float | None = Field(default=None, ge=0, le=10000)      # type: ignore[assignment]
    range: tuple[float, float]
    if_missing: Literal["error", "zero", "max", "min"] = "error"

    @model_validator(mode="after")
    def _consistent(self) -> Manual:
        low, high = self.range
        if low > high:
            raise ValueError(f"range 的下限（{fmt(low)}）不能大于上限（{fmt(high)}）")
        if self.max is not None and high > self.max:
            raise ValueError(f"range 的上限（{fmt(high)}）超过满分 max（{fmt(self.max)}）")
        return self

    def max_points(self) -> float | None:
        return self.max if self.max is not None else max(self.range[1], 0)

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        low, high = dec(self.range[0]), dec(self.range[1])
        if self.if_missing == "zero":
            low, high = min(low, ZERO), max(high, ZERO)
        return low, high

    def range_text(self) -> str:
        return f"{fmt(self.range[0])}～{fmt(self.range[1])}分"

    def prepare(self, env: Env) -> Evaluate:
        low, high = dec(self.range[0]), dec(self.range[1])
        span = self.range_text()
        code, name, if_missing = self.code, self.name, self.if_missing
        top = self.max_points()
        full = f"（满分{fmt(top)}分）" if top else f"（范围{span}）"
        missing_points = {"zero": ZERO, "max": high, "min": low}.get(if_missing)
        missing_words = {"zero": "计0分", "max": f"按最高分计{fmt(high)}分", "min": f"按最低分计{fmt(low)}分"}

        def evaluate(ctx: UnitContext) -> Outcome:
            entry = ctx.manual.get(code)
            if entry is None:
                if missing_points is None:
                    raise MissingManualScore(
                        f"{ctx.subject} {ctx.unit_id} 的评分条目 {code}（{name}）尚未录入人工评分（范围{span}）",
                        field=code)
                return Outcome(missing_points, f"未录入人工评分，按规定{missing_words[if_missing]}；"
                                               f"得{fmt(missing_points)}分{full}")
            points = _points(ctx, entry, code, name)
            who = (entry.entered_by or "").strip()
            if not who:
                raise InvalidManualScore(f"{ctx.subject} {ctx.unit_id} 的评分条目 {code}（{name}）的人工评分没有评分人",
                                         field=code)
            if points < low or points > high:
                raise InvalidManualScore(
                    f"{ctx.subject} {ctx.unit_id} 的评分条目 {code}（{name}）：{who} 录入的 {fmt(points)} 分"
                    f"超出范围 [{fmt(low)}, {fmt(high)}]", field=code)
            when = "" if entry.entered_at is None else f"于{_when(entry.entered_at)}"
            note = f"；说明：{entry.note.strip()}" if entry.note and entry.note.strip() else ""
            return Outcome(points, f"人工评分{fmt(points)}分（范围{span}），由{who}{when}录入{note}；得{fmt(points)}分{full}")

        return evaluate


def _when(at: datetime | date) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if isinstance(at, datetime) else at.strftime("%Y-%m-%d")


def _points(ctx: UnitContext, entry: ManualEntry, code: str, name: str) -> Decimal:
    raw = entry.points
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal) or (
            isinstance(raw, float) and not math.isfinite(raw)) or (isinstance(raw, Decimal) and not raw.is_finite()):
        raise InvalidManualScore(f"{ctx.subject} {ctx.unit_id} 的评分条目 {code}（{name}）的人工评分不是数字：{raw!r}",
                                 field=code)
    return dec(raw)
