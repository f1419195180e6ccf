"""duty_deduction: full marks when every owed occurrence was done on time; a fixed
deduction per late and per missed occurrence ("每少开1次扣X分"), down to a floor
("扣完为止") or below zero when `floor: null` ("倒扣").

    - code: congress
      name: 党员大会按期召开
      max: 15
      method: duty_deduction
      duty: party_congress
      deduct: {missed: 5, late: 2}
      floor: 0                  # 扣完为止; null: 倒扣
      if_none_owed: full        # 本期无应完成的: full 满分 | zero 不得分
      excused: not_owed         # 免除（请假、经批准缓办）的: not_owed 不计（默认）| on_time 按按期完成计 | missed 按未完成计

`excused` is the rule set's decision on what an approved waiver is worth: not owed at
all, as good as done on time, or no excuse (counted as missed).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.duties import Code, Strict
from rules.methods.base import Env, Evaluate, ItemBase
from rules.methods.common import fmt, memoized
from rules.metrics import DUTY_METRICS, InvalidMetrics, Outcome, UnitContext
from rules.numbers import ZERO, dec


class Deduct(Strict):
    missed: float = Field(ge=0)     # 每未完成1次扣分
    late: float = Field(ge=0)       # 每逾期完成1次扣分


class DutyDeduction(ItemBase):
    method: Literal["duty_deduction"]
    duty: Code
    deduct: Deduct
    floor: float | None = 0                       # null: may go negative (倒扣)
    if_none_owed: Literal["full", "zero"] = "full"  # when the unit owed none (e.g. no committee)
    excused: Literal["not_owed", "on_time", "missed"] = "not_owed"

    @model_validator(mode="after")
    def _floor_not_above_max(self) -> DutyDeduction:
        if self.floor is not None and self.floor > self.max:
            raise ValueError(f"floor（{fmt(self.floor)}）不能高于满分 max（{fmt(self.max)}）")
        return self

    def duty_codes(self) -> list[str]:
        return [self.duty]

    def metric_keys(self) -> list[str]:
        return [f"{self.duty}.{k}" for k in DUTY_METRICS]

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        top = dec(self.max)
        if self.floor is None:
            return None, top
        low = dec(self.floor)
        if self.if_none_owed == "zero":
            low = min(low, ZERO)
        return low, top

    def prepare(self, env: Env) -> Evaluate:
        duty_name = env.duties[self.duty].name
        keys = [f"{self.duty}.{k}" for k in DUTY_METRICS]
        k_owed, k_on_time, k_late, k_missed, k_pending, k_excused = keys
        evidence_keys = (k_late, k_missed, k_excused, k_on_time)
        top = dec(self.max)
        late_each, missed_each = dec(self.deduct.late), dec(self.deduct.missed)
        floor = None if self.floor is None else dec(self.floor)
        full = f"（满分{fmt(top)}分）"
        full_if_none = self.if_none_owed == "full"
        excused_as = self.excused
        duty_code = self.duty

        def evaluate(ctx: UnitContext) -> Outcome:
            values = ctx.values
            try:
                owed, on_time, late = values[k_owed], values[k_on_time], values[k_late]
                missed, pending, excused = values[k_missed], values[k_pending], values[k_excused]
            except KeyError:
                owed, on_time, late, missed, pending, excused = (ctx.metric(k, item_code=self.code) for k in keys)
            parts = on_time + late + missed + pending + excused
            if parts != owed:
                raise InvalidMetrics(
                    f"{ctx.subject} {ctx.unit_id} 的 {duty_code} 指标不一致：owed={fmt(owed)}，"
                    f"但 on_time+late+missed+pending+excused={fmt(parts)}",
                    field=k_owed,
                )
            ids = ctx.task_ids(*evidence_keys) if ctx.evidence else []
            points, reason = explain((owed, on_time, late, missed, pending, excused, ctx.subject))
            return Outcome(points, reason, ids)

        def compute(owed: Decimal, on_time: Decimal, late: Decimal, missed: Decimal, pending: Decimal,
                    excused: Decimal, subject: str) -> tuple[Decimal, str]:
            note = ""
            if excused and excused_as != "not_owed":
                if excused_as == "on_time":
                    on_time += excused
                    note = f"，免除{fmt(excused)}次按按期完成计"
                else:
                    missed += excused
                    note = f"，免除{fmt(excused)}次按未完成计"
                excused = ZERO
            if owed - excused == 0:
                shown = f"（免除{fmt(excused)}次）" if excused else ""
                who = "本单位" if subject == "单位" else "本人"
                if full_if_none:
                    return top, f"{who}无应完成的{duty_name}{shown}，按满分计{fmt(top)}分"
                return ZERO, f"{who}无应完成的{duty_name}{shown}，按规定不得分（满分{fmt(top)}分）"

            late_off = late * late_each
            missed_off = missed * missed_each
            text = (
                f"{duty_name}应完成{fmt(owed)}次：按期完成{fmt(on_time)}次，"
                f"{_count('逾期完成', late, late_off, late_each)}，"
                f"{_count('未完成', missed, missed_off, missed_each)}"
            )
            if pending:
                text += f"，未到期{fmt(pending)}次不计"
            if excused:
                text += f"，免除{fmt(excused)}次不计"
            text += note
            points = top - late_off - missed_off
            if floor is not None and points < floor:
                points = floor
                text += f"；共扣{fmt(late_off + missed_off)}分，扣完为止（最低{fmt(points)}分）"
            elif points < 0:
                text += "；可倒扣"
            return points, f"{text}；得{fmt(points)}分{full}"

        explain = memoized(compute)
        return evaluate


def _count(label: str, count: Decimal, off: Decimal, each: Decimal) -> str:
    if not count:
        return f"{label}0次"
    rate = f"（每次{fmt(each)}分）" if count != 1 else ""
    return f"{label}{fmt(count)}次扣{fmt(off)}分{rate}"
