"""ladder: points by how many times something happened, in steps
("缺席一次扣3分，两次扣5分，三次(含)以上不得分"), or per occurrence up to a count that
zeroes the item ("每缺1次扣2分，缺3次不得分").

    - code: attendance
      name: 参加组织生活
      max: 10
      method: ladder
      metric: attendance.absent            # a count: declared metric or <duty>.missed / .late;
                                           # a list is added up: [party_congress.missed, party_congress.late]
      steps:
        - {count: 1, deduct: 3}            # exactly 1: 扣3分
        - {count: 2, deduct: 5}
        - {count: 3, points: 0, or_more: true}   # 3 and more: 得0分

    - code: lectures
      name: 党课
      max: 10
      method: ladder
      metric: party_lecture.missed
      zero_at: 3                           # 3次(含)以上不得分
      each: 2                              # below that, 每次扣2分 (omit: full marks below zero_at)

A step covers `count` (to `to` when given, upwards with `or_more: true`) and gives
`points`, or the item's max less `deduct`. Counts below the first step earn full marks.
Steps must follow each other without gaps; the last one ends with `or_more: true` unless
`zero_at` follows it.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.duties import Strict
from rules.methods.base import Env, Evaluate, ItemBase
from rules.methods.common import MetricRef, fmt, integral_count
from rules.metrics import Outcome, UnitContext
from rules.numbers import ZERO, dec


class Step(Strict):
    count: int = Field(ge=0, le=100000)
    to: int | None = Field(default=None, ge=0, le=100000)
    or_more: bool = False
    deduct: float | None = Field(default=None, ge=0)
    points: float | None = None

    @model_validator(mode="after")
    def _one_effect(self) -> Step:
        if (self.deduct is None) == (self.points is None):
            raise ValueError("每一级要写 deduct（扣几分）或 points（得几分），只写其中一个")
        if self.to is not None and self.or_more:
            raise ValueError("to 和 or_more 只能写一个")
        if self.to is not None and self.to < self.count:
            raise ValueError(f"to（{self.to}）不能小于 count（{self.count}）")
        return self

    @property
    def upper(self) -> int | None:
        """Last count the step covers; None = and more."""
        if self.or_more:
            return None
        return self.count if self.to is None else self.to


class Ladder(ItemBase):
    method: Literal["ladder"]
    metric: MetricRef | list[MetricRef]
    steps: list[Step] = Field(default_factory=list, max_length=50)
    zero_at: int | None = Field(default=None, ge=1, le=100000)
    each: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Ladder:
        if isinstance(self.metric, list) and not self.metric:
            raise ValueError("metric 列表不能为空")
        if not self.steps and self.zero_at is None:
            raise ValueError("阶梯计分要写 steps（各级次数和分值）或 zero_at（几次不得分）")
        if self.steps and self.each is not None:
            raise ValueError("steps 和 each 只能写一种：each 是 zero_at 之前每次扣的分")
        if self.each is not None and self.zero_at is None:
            raise ValueError("each（每次扣分）要和 zero_at（几次不得分）一起写；只按次扣分请用 duty_deduction 或 penalty")
        top = self.max
        previous: Step | None = None
        for n, step in enumerate(self.steps, start=1):
            if step.deduct is not None and step.deduct > top:
                raise ValueError(f"第{n}级 deduct（{fmt(step.deduct)}）超过满分 max（{fmt(top)}）")
            if step.points is not None and step.points > top:
                raise ValueError(f"第{n}级 points（{fmt(step.points)}）超过满分 max（{fmt(top)}）")
            if previous is not None:
                upper = previous.upper
                if upper is None:
                    raise ValueError(f"第{n - 1}级已写 or_more（及以上），其后不能再有级")
                if step.count <= upper:
                    raise ValueError(f"第{n}级（{step.count}次）与第{n - 1}级重叠：各级次数应从小到大、互不重叠")
                if step.count != upper + 1:
                    raise ValueError(f"第{n - 1}级到第{n}级之间缺少 {upper + 1}"
                                     f"{'' if step.count == upper + 2 else f'–{step.count - 1}'} 次的分值")
            previous = step
        if self.zero_at is not None:
            if previous is not None:
                if previous.upper is None:
                    raise ValueError("写了 zero_at 时，最后一级不能写 or_more")
                if previous.upper + 1 != self.zero_at:
                    raise ValueError(f"最后一级止于 {previous.upper} 次，zero_at 应为 {previous.upper + 1}"
                                     f"（实际为 {self.zero_at}）：中间不能留空档")
        elif previous is not None and previous.upper is not None:
            raise ValueError(f"最后一级要写 or_more: true（{previous.upper}次以上怎么计分），或加 zero_at")
        return self

    def keys(self) -> list[str]:
        return list(self.metric) if isinstance(self.metric, list) else [self.metric]

    def metric_keys(self) -> list[str]:
        return self.keys()

    def duty_codes(self) -> list[str]:
        return [k.split(".")[0] for k in self.keys() if "." in k and not k.startswith("attendance.")]

    def _points(self, step: Step) -> Decimal:
        return dec(step.points) if step.points is not None else dec(self.max) - dec(step.deduct or 0)

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        top = dec(self.max)
        values = [top] + [self._points(s) for s in self.steps]
        if self.zero_at is not None:
            values.append(ZERO)
        return min(values), max(values)

    def describe(self, word: str) -> str:
        """1次扣3分，2次扣5分，3次及以上得0分"""
        parts: list[str] = []
        for step in self.steps:
            upper = step.upper
            span = (f"{step.count}{word}及以上" if upper is None
                    else f"{step.count}{word}" if upper == step.count else f"{step.count}–{upper}{word}")
            effect = f"扣{fmt(step.deduct)}分" if step.deduct is not None else (
                "不得分" if step.points == 0 else f"得{fmt(step.points or 0)}分")
            parts.append(span + effect)
        if self.each is not None:
            parts.append(f"每{word}扣{fmt(self.each)}分")
        if self.zero_at is not None:
            parts.append(f"{self.zero_at}{word}及以上不得分")
        return "，".join(parts)

    def prepare(self, env: Env) -> Evaluate:
        keys = [env.key(k) for k in self.keys()]
        word = env.unit_word(keys[0])
        label = "与".join(env.label(k) for k in keys) + ("合计" if len(keys) > 1 else "")
        top = dec(self.max)
        rule = f"按“{self.describe(word)}”"
        full = f"（满分{fmt(top)}分）"
        # count → (points, what happened), for every count below the open end
        table: dict[int, tuple[Decimal, str]] = {}
        first = self.steps[0].count if self.steps else (self.zero_at or 0)
        for n in range(first):
            if self.each is not None and n:
                off = dec(self.each) * n
                table[n] = (max(top - off, ZERO), f"每{word}扣{fmt(self.each)}分，共扣{fmt(off)}分")
            else:
                table[n] = (top, "不扣分")
        open_end: tuple[int, Decimal, str] | None = None
        for step in self.steps:
            points = self._points(step)
            effect = (f"扣{fmt(step.deduct)}分" if step.deduct is not None
                      else "不得分" if points == 0 else f"得{fmt(points)}分")
            if step.upper is None:
                open_end = (step.count, points, f"达到{step.count}{word}及以上，{effect}")
            else:
                for n in range(step.count, step.upper + 1):
                    table[n] = (points, f"{effect}")
        if self.zero_at is not None:
            open_end = (self.zero_at, ZERO, f"达到{self.zero_at}{word}，不得分")
        code = self.code

        def evaluate(ctx: UnitContext) -> Outcome:
            values = ctx.values
            total = ZERO
            for key in keys:
                total += values[key] if key in values else ctx.metric(key, item_code=code)
            n = integral_count(ctx, total, label, code)
            ids = ctx.task_ids(*keys) if ctx.evidence else []
            if open_end is not None and n >= open_end[0]:
                points, effect = open_end[1], open_end[2]
            else:
                points, effect = table[n]
            return Outcome(points, f"{label}{n}{word}，{rule}，{effect}；得{fmt(points)}分{full}", ids)

        return evaluate
