"""rank_points: points by a rank ("在全市排名1-5名的依次赋予60分、57分、54分、51分、48分").

    - code: city_rank
      name: 全市考核排名
      max: 60
      method: rank_points
      metric: city_rank                # a rank: 1 is best (declare it with min: 1)
      points: [60, 57, 54, 51, 48]     # rank 1, 2, 3 …
      beyond: 40                       # ranks after the table: 40 points
      # or instead of beyond:
      # step: 3                        # ranks after the table keep dropping 3 per rank …
      # floor: 30                      # … but not below 30 (default 0)

Ranks are whole numbers from 1; the table does not rise from one rank to the next.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from rules.methods.base import Env, Evaluate, ItemBase, Path
from rules.methods.common import MetricRef, fmt, integral_count
from rules.metrics import InvalidMetrics, Outcome, UnitContext
from rules.numbers import ZERO, dec


class RankPoints(ItemBase):
    method: Literal["rank_points"]
    metric: MetricRef
    points: list[float] = Field(min_length=1, max_length=500)
    beyond: float | None = None
    step: float | None = Field(default=None, gt=0)
    floor: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RankPoints:
        if (self.beyond is None) == (self.step is None):
            raise ValueError(f"要写 beyond（第{len(self.points)}名以后得几分）或 step（以后每低一名减几分），只写其中一个")
        if self.floor is not None and self.step is None:
            raise ValueError("floor 只和 step 一起用（逐名递减的最低分）")
        top = max(self.points)
        if top > self.max:
            raise ValueError(f"名次分值最高{fmt(top)}分，超过满分 max（{fmt(self.max)}）")
        for n, (a, b) in enumerate(zip(self.points, self.points[1:]), start=1):
            if b > a:
                raise ValueError(f"第{n + 1}名（{fmt(b)}分）高于第{n}名（{fmt(a)}分）：名次越靠后分值不应越高")
        if self.beyond is not None and self.beyond > self.points[-1]:
            raise ValueError(f"beyond（{fmt(self.beyond)}分）高于第{len(self.points)}名（{fmt(self.points[-1])}分）")
        if self.floor is not None and self.floor > self.points[-1]:
            raise ValueError(f"floor（{fmt(self.floor)}分）高于第{len(self.points)}名（{fmt(self.points[-1])}分）")
        return self

    def metric_keys(self) -> list[str]:
        return [self.metric]

    def problems(self, env: Env) -> list[tuple[Path, str]]:
        decl = env.declared.get(env.key(self.metric))
        if decl is not None and (decl.min is None or decl.min < 1):
            return [(("metric",), f"名次指标 {decl.code} 应从第1名起：请在 metrics 中声明 min: 1")]
        return []

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        highest = dec(max(self.points))
        if self.beyond is not None:
            return dec(self.beyond), highest
        return (ZERO if self.floor is None else dec(self.floor)), highest

    def _floor(self) -> Decimal:
        return ZERO if self.floor is None else dec(self.floor)

    def prepare(self, env: Env) -> Evaluate:
        table = [dec(p) for p in self.points]
        size = len(table)
        label = env.label(env.key(self.metric))
        top = dec(self.max)
        full = f"（满分{fmt(top)}分）"
        listed = "、".join(fmt(p) for p in table)
        rule = f"按“第1–{size}名依次{listed}分”" if size > 1 else f"按“第1名{listed}分”"
        beyond = None if self.beyond is None else dec(self.beyond)
        step = None if self.step is None else dec(self.step)
        floor = self._floor()
        key, code = env.key(self.metric), self.code

        def evaluate(ctx: UnitContext) -> Outcome:
            value = ctx.values[key] if key in ctx.values else ctx.metric(key, item_code=code)
            rank = integral_count(ctx, value, label, code)
            if rank < 1:
                raise InvalidMetrics(f"{ctx.subject} {ctx.unit_id} 的{label}为 {rank}，名次应从1起", field=key)
            if rank <= size:
                points = table[rank - 1]
                return Outcome(points, f"{label}第{rank}名，{rule}，得{fmt(points)}分{full}")
            if beyond is not None:
                return Outcome(beyond, f"{label}第{rank}名，在第{size}名之后，按规定得{fmt(beyond)}分{full}")
            behind = rank - size
            raw = table[-1] - step * behind  # type: ignore[operator]
            text = (f"{label}第{rank}名，比第{size}名低{behind}名，每名减{fmt(step)}分："  # type: ignore[arg-type]
                    f"{fmt(table[-1])}−{behind}×{fmt(step)}={fmt(raw)}")  # type: ignore[arg-type]
            points = raw
            if raw < floor:
                points = floor
                text += f"，最低{fmt(floor)}分"
            return Outcome(points, f"{text}；得{fmt(points)}分{full}")

        return evaluate
