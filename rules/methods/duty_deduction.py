"""duty_deduction: full marks when every owed occurrence was done on time; a fixed
deduction per late and per missed occurrence ("每少开1次扣X分"), down to a floor
("扣完为止") or below zero when `floor: null` ("倒扣")."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.duties import Code, Strict
from rules.methods.base import ItemBase
from rules.metrics import DUTY_METRICS, InvalidMetrics, Outcome, UnitContext
from rules.numbers import ZERO, dec, fmt


class Deduct(Strict):
    missed: float = Field(ge=0)     # 每未完成1次扣分
    late: float = Field(ge=0)       # 每逾期完成1次扣分


class DutyDeduction(ItemBase):
    method: Literal["duty_deduction"]
    duty: Code
    deduct: Deduct
    floor: float | None = 0                       # null: may go negative (倒扣)
    if_none_owed: Literal["full", "zero"] = "full"  # when the unit owed none (e.g. no committee)

    @model_validator(mode="after")
    def _floor_not_above_max(self) -> DutyDeduction:
        if self.floor is not None and self.floor > self.max:
            raise ValueError(f"floor（{fmt(self.floor)}）不能高于满分 max（{fmt(self.max)}）")
        return self

    def duty_codes(self) -> list[str]:
        return [self.duty]

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        top = dec(self.max)
        if self.floor is None:
            return None, top
        low = dec(self.floor)
        if self.if_none_owed == "zero":
            low = min(low, ZERO)
        return low, top

    def evaluate(self, ctx: UnitContext) -> Outcome:
        n = {k: ctx.metric(f"{self.duty}.{k}", item_code=self.code) for k in DUTY_METRICS}
        parts = n["on_time"] + n["late"] + n["missed"] + n["pending"] + n["excused"]
        if parts != n["owed"]:
            raise InvalidMetrics(
                f"单位 {ctx.unit_id} 的 {self.duty} 指标不一致：owed={fmt(n['owed'])}，"
                f"但 on_time+late+missed+pending+excused={fmt(parts)}",
                field=f"{self.duty}.owed",
            )
        duty = ctx.duties[self.duty]
        top = dec(self.max)
        ids = ctx.task_ids(*(f"{self.duty}.{k}" for k in ("late", "missed", "excused", "on_time")))
        if n["owed"] - n["excused"] == 0:
            excused = f"（免除{fmt(n['excused'])}次）" if n["excused"] else ""
            if self.if_none_owed == "full":
                return Outcome(top, f"本单位无应完成的{duty.name}{excused}，按满分计{fmt(top)}分", ids)
            return Outcome(ZERO, f"本单位无应完成的{duty.name}{excused}，按规定不得分（满分{fmt(top)}分）", ids)

        late_off = n["late"] * dec(self.deduct.late)
        missed_off = n["missed"] * dec(self.deduct.missed)
        text = (
            f"{duty.name}应完成{fmt(n['owed'])}次：按期完成{fmt(n['on_time'])}次，"
            f"{_count('逾期完成', n['late'], late_off, self.deduct.late)}，"
            f"{_count('未完成', n['missed'], missed_off, self.deduct.missed)}"
        )
        if n["pending"]:
            text += f"，未到期{fmt(n['pending'])}次不计"
        if n["excused"]:
            text += f"，免除{fmt(n['excused'])}次不计"
        raw = top - late_off - missed_off
        points = raw
        if self.floor is not None and raw < dec(self.floor):
            points = dec(self.floor)
            text += f"；共扣{fmt(late_off + missed_off)}分，扣完为止（最低{fmt(points)}分）"
        elif raw < 0:
            text += "；可倒扣"
        return Outcome(points, f"{text}；得{fmt(points)}分（满分{fmt(top)}分）", ids)


def _count(label: str, count: Decimal, off: Decimal, each: float) -> str:
    if not count:
        return f"{label}0次"
    rate = f"（每次{fmt(each)}分）" if count != 1 else ""
    return f"{label}{fmt(count)}次扣{fmt(off)}分{rate}"
