"""The pure scorer: one unit's metrics → items' points with reasons, section and total
caps, decimal rounding, and its grade band. No database; the scoring service feeds it.

Every line states its arithmetic; the points of all lines add up to the total exactly
(cap and rounding adjustments are lines of their own)."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from dangjian.errors import ValidationFailed
from rules.bands import band_for
from rules.loader import LoadedRuleSet
from rules.metrics import InvalidMetrics, MissingMetric, UnitContext
from rules.numbers import ZERO, dec, fmt, fmt_fixed, round_half_up
from rules.scoring import Section

__all__ = [
    "InvalidMetrics", "MissingMetric", "ScoreLineResult", "UnitScore",
    "grade_for", "rank_competition", "score_unit",
]

_NO_EVIDENCE: Mapping[str, Sequence[int]] = MappingProxyType({})


@dataclass(frozen=True)
class ScoreLineResult:
    item_code: str                 # an item code, or "<section>:cap", "total:cap", "total:rounding"
    item_name: str
    section_code: str              # "" for total-level lines
    points: float
    max_points: float | None       # None for adjustment lines
    reason: str
    clause: str                    # "file:line 节/条目名"
    task_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class UnitScore:
    total: float                   # rounded as the rule set says
    grade: str
    lines: list[ScoreLineResult]
    unit_id: str = ""


def score_unit(
    loaded: LoadedRuleSet,
    unit_id: str,
    metrics: Mapping[str, float],
    evidence: Mapping[str, Sequence[int]] = _NO_EVIDENCE,
) -> UnitScore:
    scoring = loaded.rule_set.scoring
    ctx = UnitContext(unit_id=unit_id, metrics=metrics, evidence=evidence, duties=loaded.duties)
    lines: list[ScoreLineResult] = []
    total = sum((_section(loaded, s, ctx, lines) for s in scoring.sections), ZERO)
    cap = dec(scoring.max_total)
    if total > cap and not scoring.allow_over_max:
        lines.append(ScoreLineResult(
            "total:cap", "总分封顶", "", float(cap - total), None,
            f"各节合计{fmt(total)}分，超过总分上限{fmt(cap)}分，按{fmt(cap)}分计（核减{fmt(total - cap)}分）",
            loaded.clause("scoring.max_total"),
        ))
        total = cap
    digits = scoring.rounding.digits
    rounded = round_half_up(total, digits)
    if rounded != total:
        lines.append(ScoreLineResult(
            "total:rounding", "总分取舍", "", float(rounded - total), None,
            f"总分{fmt(total)}分保留{digits}位小数（四舍五入）为{fmt_fixed(total, digits)}分",
            loaded.clause("scoring.rounding"),
        ))
    return UnitScore(float(rounded), _grade(loaded, rounded), lines, unit_id)


def _section(loaded: LoadedRuleSet, section: Section, ctx: UnitContext, lines: list[ScoreLineResult]) -> Decimal:
    subtotal = ZERO
    for item in section.items:
        outcome = item.evaluate(ctx)
        lines.append(ScoreLineResult(
            item.code, item.name, section.code, float(outcome.points), item.max,
            outcome.reason, loaded.clause(item.code), outcome.task_ids,
        ))
        subtotal += outcome.points
    for sub in section.sections:
        subtotal += _section(loaded, sub, ctx, lines)
    top = dec(section.max)
    if subtotal > top:
        lines.append(ScoreLineResult(
            f"{section.code}:cap", f"{section.name}封顶", section.code, float(top - subtotal), None,
            f"“{section.name}”各条目合计{fmt(subtotal)}分，超过本节满分{fmt(top)}分，按{fmt(top)}分计（核减{fmt(subtotal - top)}分）",
            loaded.clause(section.code),
        ))
        subtotal = top
    return subtotal


def _grade(loaded: LoadedRuleSet, rounded: Decimal) -> str:
    band = band_for(loaded.rule_set.scoring.grades, rounded)
    if band is None:                 # the loader proves coverage; this guards the impossible
        raise ValidationFailed(f"总分{fmt(rounded)}分不属于规则集 {loaded.file_name} 的任何等级")
    return band.name


def grade_for(loaded: LoadedRuleSet, total: float) -> str:
    """The band of a total, after the rule set's rounding (89.95 at 1 digit → 90.0)."""
    return _grade(loaded, round_half_up(dec(total), loaded.rule_set.scoring.rounding.digits))


def rank_competition(values: Sequence[float]) -> list[int]:
    """Standard competition ranking, higher is better: [90, 80, 80, 70] → [1, 2, 2, 4]."""
    for value in values:
        if not math.isfinite(value):
            raise ValueError(f"排名的分数必须是有限的数字：{value}")
    first: dict[float, int] = {}
    for position, value in enumerate(sorted(values, reverse=True), start=1):
        first.setdefault(value, position)
    return [first[value] for value in values]
