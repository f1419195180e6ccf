"""What a scoring method reads: one unit's metrics and evidence, with loud failures.

Metrics contract (the scoring service computes these with SQL): for each duty code d,
`d.owed`, `d.on_time`, `d.late`, `d.missed`, `d.pending`, `d.excused`, where `owed` is
every task the unit is accountable for in the scored span and the other five split it:
owed = on_time + late + missed + pending + excused (not-applicable tasks are not owed;
overdue-but-open tasks count as missed). Evidence uses the same keys and maps them to
task ids. A metric an item needs but the mapping lacks is an error, never a zero.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dangjian.errors import ValidationFailed
from rules.duties import Duty
from rules.numbers import dec

DUTY_METRICS = ("owed", "on_time", "late", "missed", "pending", "excused")


class MissingMetric(ValidationFailed):
    """An item needs a metric the unit's mapping does not have."""

    def __init__(self, *, unit_id: str, metric: str, item_code: str):
        super().__init__(
            f"单位 {unit_id} 缺少指标 {metric}（评分条目 {item_code} 需要；缺失的指标不按0计）",
            field=metric,
        )
        self.unit_id = unit_id
        self.metric = metric
        self.item_code = item_code


class InvalidMetrics(ValidationFailed):
    """Metrics that are present but impossible: negative, not finite, or not adding up."""


@dataclass(frozen=True)
class Outcome:
    """What one item earned, why, and which tasks it rests on."""

    points: Decimal
    reason: str
    task_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class UnitContext:
    """One unit's inputs, as seen by a scoring method."""

    unit_id: str
    metrics: Mapping[str, float]
    evidence: Mapping[str, Sequence[int]]
    duties: Mapping[str, Duty]

    def metric(self, name: str, *, item_code: str) -> Decimal:
        if name not in self.metrics:
            raise MissingMetric(unit_id=self.unit_id, metric=name, item_code=item_code)
        raw = self.metrics[name]
        if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
            raise InvalidMetrics(f"单位 {self.unit_id} 的指标 {name} 不是数字：{raw!r}", field=name)
        if isinstance(raw, float) and not math.isfinite(raw):
            raise InvalidMetrics(f"单位 {self.unit_id} 的指标 {name} 不是有限的数字：{raw}", field=name)
        value = dec(raw)
        if value < 0:
            raise InvalidMetrics(f"单位 {self.unit_id} 的指标 {name} 为负数：{raw}", field=name)
        return value

    def task_ids(self, *names: str) -> list[int]:
        """Task ids behind the named metrics, in the order asked, without repeats."""
        seen: dict[int, None] = {}
        for name in names:
            for task_id in self.evidence.get(name, ()):
                seen.setdefault(int(task_id), None)
        return list(seen)
