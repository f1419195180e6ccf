"""checklist: a list of named checks, each met or not ("缺一项扣1分", "每有一项得1分").

    - code: ledger
      name: 党建台账齐全
      max: 5
      method: checklist
      deduct_each: 1                     # 缺一项扣1分（或 points_each: 1 每有一项得1分）
      floor: 0                           # 扣完为止（deduct_each 时；null 可倒扣）
      checks:
        - {name: 党员名册, metric: roster_kept}               # a declared metric, 1 = 有, 0 = 无
        - {name: 组织生活会记录, duty: organization_life_meeting}  # a duty: met when none was missed

A duty check is met when the subject missed none of the duty's occurrences (late ones
count as done; not yet due and excused ones are not missing). A metric check must be
declared with min: 0 and max: 1.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.duties import Code, Strict
from rules.methods.base import Env, Evaluate, ItemBase, Path
from rules.methods.common import MetricRef, fmt, memoized
from rules.metrics import InvalidMetrics, Outcome, UnitContext
from rules.numbers import ZERO, dec

_ONE = Decimal(1)


class Check(Strict):
    name: str = Field(min_length=1, max_length=60)
    metric: MetricRef | None = None
    duty: Code | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Check:
        if (self.metric is None) == (self.duty is None):
            raise ValueError(f"检查项“{self.name}”要写 metric（0/1 指标）或 duty（职责），只写其中一个")
        return self

    @property
    def key(self) -> str:
        return self.metric if self.metric is not None else f"{self.duty}.missed"


class Checklist(ItemBase):
    method: Literal["checklist"]
    checks: list[Check] = Field(min_length=1, max_length=100)
    deduct_each: float | None = Field(default=None, ge=0)
    points_each: float | None = Field(default=None, ge=0)
    floor: float | None = 0

    @model_validator(mode="after")
    def _consistent(self) -> Checklist:
        if (self.deduct_each is None) == (self.points_each is None):
            raise ValueError("要写 deduct_each（缺一项扣几分）或 points_each（每有一项得几分），只写其中一个")
        if self.floor is not None and self.floor > self.max:
            raise ValueError(f"floor（{fmt(self.floor)}）不能高于满分 max（{fmt(self.max)}）")
        names = [c.name for c in self.checks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"检查项名称重复：{'、'.join(repeated)}")
        return self

    def metric_keys(self) -> list[str]:
        return [c.key for c in self.checks]

    def duty_codes(self) -> list[str]:
        return [c.duty for c in self.checks if c.duty is not None]

    def problems(self, env: Env) -> list[tuple[Path, str]]:
        found: list[tuple[Path, str]] = []
        for i, check in enumerate(self.checks):
            decl = env.declared.get(env.key(check.metric or ""))
            if decl is not None and (decl.min is None or decl.max is None or decl.min < 0 or decl.max > 1):
                found.append((("checks", i, "metric"),
                              (f"检查项的指标 {decl.code} 应为0或1：请在 metrics 中声明 min: 0, max: 1"
                               f"（现为 {decl.range_text()}）")))
        return found

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        top = dec(self.max)
        n = len(self.checks)
        if self.points_each is not None:
            return ZERO, min(top, dec(self.points_each) * n)
        low = top - dec(self.deduct_each or 0) * n
        if self.floor is not None:
            low = max(low, dec(self.floor))
        return low, top

    def prepare(self, env: Env) -> Evaluate:
        checks = [(c.name, env.key(c.key), c.duty is not None) for c in self.checks]
        top = dec(self.max)
        deduct = None if self.deduct_each is None else dec(self.deduct_each)
        gain = None if self.points_each is None else dec(self.points_each)
        floor = None if self.floor is None else dec(self.floor)
        full = f"（满分{fmt(top)}分）"
        n_checks = len(checks)
        code = self.code
        missed_keys = [key for _, key, is_duty in checks if is_duty]

        def evaluate(ctx: UnitContext) -> Outcome:
            values = ctx.values
            inputs = tuple(values[key] if key in values else ctx.metric(key, item_code=code) for _, key, _ in checks)
            for (name, key, is_duty), value in zip(checks, inputs):
                if not is_duty and value != _ONE and value != 0:
                    raise InvalidMetrics(
                        f"{ctx.subject} {ctx.unit_id} 的指标 {key}（检查项“{name}”）应为0或1，实际为 {fmt(value)}",
                        field=key)
            ids = ctx.task_ids(*missed_keys) if missed_keys and ctx.evidence else []
            points, reason = explain(inputs)
            return Outcome(points, reason, ids)

        def compute(*inputs: Decimal) -> tuple[Decimal, str]:
            done: list[str] = []
            lacking: list[str] = []
            for (name, _, is_duty), value in zip(checks, inputs):
                if is_duty:
                    (done if value == 0 else lacking).append(name)
                elif value == _ONE:
                    done.append(name)
                else:
                    lacking.append(name)
            if gain is not None:
                raw = gain * len(done)
                points = min(raw, top)
                text = f"共{n_checks}项，完成{len(done)}项"
                text += f"（{'、'.join(done)}）" if done else ""
                text += f"，每项{fmt(gain)}分，计{fmt(raw)}分"
                if raw > top:
                    text += f"，超过满分按{fmt(top)}分计"
                return points, f"{text}；得{fmt(points)}分{full}"
            if not lacking:
                return top, f"共{n_checks}项，全部齐全；得{fmt(top)}分{full}"
            off = deduct * len(lacking)  # type: ignore[operator]
            points = top - off
            text = f"共{n_checks}项，缺{len(lacking)}项（{'、'.join(lacking)}），每项扣{fmt(deduct)}分，共扣{fmt(off)}分"  # type: ignore[arg-type]
            if floor is not None and points < floor:
                points = floor
                text += f"，扣完为止（最低{fmt(floor)}分）"
            return points, f"{text}；得{fmt(points)}分{full}"

        explain = memoized(compute)
        return evaluate
