"""The pure scorer: one subject's metrics → items' points with reasons, section caps and
floors, the total (sum of sections, or the rule set's formula), total cap and floor,
decimal rounding, and its grade band. No database; the scoring service feeds it.

Every line states its arithmetic; the points of all lines add up to the total exactly
(formula, cap, floor and rounding adjustments are lines of their own).

Speed: a rule set is prepared once (per LoadedRuleSet, cached): each item becomes a
function with its constants, labels and compiled formulas built in; the metrics the rule
set reads are listed with their checks. Scoring a subject then reads and checks each
metric once and runs the item functions (bench/bench_scoring.py).
"""
from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from dangjian.errors import ValidationFailed
from rules.bands import band_for
from rules.formula import Expression, FormulaEvalError
from rules.loader import LoadedRuleSet
from rules.methods.base import Env, Evaluate
from rules.methods.common import fmt
from rules.metrics import (
    InvalidManualScore,
    InvalidMetrics,
    ManualEntry,
    MetricDecl,
    MissingInputs,
    MissingManualScore,
    MissingMetric,
    UnitContext,
)
from rules.numbers import ZERO, dec, fmt_fixed, round_half_up
from rules.scoring import Section

__all__ = [
    "InvalidManualScore", "InvalidMetrics", "ManualEntry", "MissingInputs", "MissingManualScore", "MissingMetric",
    "ScoreLineResult", "UnitScore", "grade_for", "missing_inputs", "rank_competition", "score_unit",
]

_NO_EVIDENCE: Mapping[str, Sequence[int]] = MappingProxyType({})
_NO_MANUAL: Mapping[str, ManualEntry] = MappingProxyType({})


@dataclass(frozen=True)
class ScoreLineResult:
    item_code: str                 # an item code, or "<section>:cap", "<section>:floor", "total:formula",
                                   # "total:cap", "total:floor", "total:rounding"
    item_name: str
    section_code: str              # "" for total-level lines
    points: float
    max_points: float | None       # None for adjustment lines and uncapped items
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
    manual: Mapping[str, ManualEntry] | None = None,
) -> UnitScore:
    """Score one subject (a unit, or a member when the rule set scores members).

    `manual`: reviewers' entries for `method: manual` items, keyed by item code."""
    plan = _plan(loaded)
    entries = _NO_MANUAL if not manual else manual
    if entries:
        plan.check_manual(unit_id, entries)
    ctx = UnitContext(unit_id=unit_id, metrics=metrics, evidence=evidence or _NO_EVIDENCE,
                      duties=plan.duties, values=plan.read(unit_id, metrics), manual=entries,
                      subject=plan.subject)
    lines: list[ScoreLineResult] = []
    subtotals: dict[str, Decimal] = {}
    total = ZERO
    for section in plan.sections:
        total += _section(section, ctx, lines, subtotals)
    if plan.total is not None:
        total = _formula_total(plan, ctx, total, subtotals, lines)
    if plan.cap is not None and total > plan.cap:
        cap = plan.cap
        lines.append(ScoreLineResult(
            "total:cap", "总分封顶", "", float(cap - total), None,
            f"{plan.total_word}{fmt(total)}分，超过总分上限{fmt(cap)}分，按{fmt(cap)}分计（核减{fmt(total - cap)}分）",
            plan.cap_clause,
        ))
        total = cap
    if plan.floor is not None and total < plan.floor:
        floor = plan.floor
        lines.append(ScoreLineResult(
            "total:floor", "总分保底", "", float(floor - total), None,
            f"{plan.total_word}{fmt(total)}分，低于总分下限{fmt(floor)}分，按{fmt(floor)}分计（扣完为止）",
            plan.floor_clause,
        ))
        total = floor
    digits = plan.digits
    rounded = round_half_up(total, digits)
    if rounded != total:
        lines.append(ScoreLineResult(
            "total:rounding", "总分取舍", "", float(rounded - total), None,
            f"总分{fmt(total)}分保留{digits}位小数（四舍五入）为{fmt_fixed(total, digits)}分",
            plan.rounding_clause,
        ))
    return UnitScore(float(rounded), plan.grade(loaded, rounded), lines, unit_id)


_new = object.__new__


def _item_line(code: str, name: str, section: str, points: float, max_points: float | None, reason: str,
               clause: str, task_ids: list[int]) -> ScoreLineResult:
    """ScoreLineResult(...) without the frozen dataclass __init__, which sets each of the
    eight fields through object.__setattr__: the same object at under half the cost."""
    line = _new(ScoreLineResult)
    line.__dict__.update(item_code=code, item_name=name, section_code=section, points=points,
                         max_points=max_points, reason=reason, clause=clause, task_ids=task_ids)
    return line


def _section(plan: _SectionPlan, ctx: UnitContext, lines: list[ScoreLineResult],
             subtotals: dict[str, Decimal]) -> Decimal:
    subtotal = ZERO
    append = lines.append
    section_code = plan.code
    for code, name, evaluate, max_points, clause in plan.items:
        try:
            outcome = evaluate(ctx)
        except FormulaEvalError as exc:
            raise InvalidMetrics(f"{ctx.subject} {ctx.unit_id} 的评分条目 {code}：{exc.message}", field=code) from None
        points = outcome.points
        append(_item_line(code, name, section_code, float(points), max_points, outcome.reason, clause,
                          outcome.task_ids))
        subtotal += points
    for sub in plan.subs:
        subtotal += _section(sub, ctx, lines, subtotals)
    if plan.cap is not None and subtotal > plan.cap:
        top = plan.cap
        append(ScoreLineResult(
            f"{plan.code}:cap", f"{plan.name}封顶", plan.code, float(top - subtotal), None,
            f"“{plan.name}”各条目合计{fmt(subtotal)}分，超过本节满分{fmt(top)}分，按{fmt(top)}分计（核减{fmt(subtotal - top)}分）",
            plan.clause,
        ))
        subtotal = top
    elif plan.floor is not None and subtotal < plan.floor:
        bottom = plan.floor
        append(ScoreLineResult(
            f"{plan.code}:floor", f"{plan.name}保底", plan.code, float(bottom - subtotal), None,
            f"“{plan.name}”各条目合计{fmt(subtotal)}分，低于本节下限{fmt(bottom)}分，按{fmt(bottom)}分计",
            plan.clause,
        ))
        subtotal = bottom
    subtotals[plan.key] = subtotal
    return subtotal


def _formula_total(plan: _Plan, ctx: UnitContext, summed: Decimal, subtotals: dict[str, Decimal],
                   lines: list[ScoreLineResult]) -> Decimal:
    expression = plan.total
    assert expression is not None
    values: dict[str, Any] = ctx.values  # type: ignore[assignment]   # this subject's own dict (read())
    values.update(subtotals)
    try:
        raw = expression.evaluate(values)
    except FormulaEvalError as exc:
        raise InvalidMetrics(f"{ctx.subject} {ctx.unit_id} 的总分公式：{exc.message}", field="scoring.total") from None
    value: Decimal = raw  # type: ignore[assignment]
    lines.append(ScoreLineResult(
        "total:formula", "总分公式", "", float(value - summed), None,
        f"总分按公式 {expression.text.strip()} 计算：{expression.substitute(values, _show)} = {fmt(value)}分"
        f"（各节合计{fmt(summed)}分，按公式调整{fmt(value - summed)}分）",
        plan.total_clause,
    ))
    return value


def _show(value: Decimal) -> str:
    shown = fmt(value)
    return f"({shown})" if value < 0 else shown


# ---- the prepared rule set ------------------------------------------------------------------

@dataclass
class _SectionPlan:
    code: str
    name: str
    key: str                                  # "section:<code>", as in total formulas
    clause: str
    cap: Decimal | None
    floor: Decimal | None
    items: list[tuple[str, str, Evaluate, float | None, str]]   # code, name, evaluate, max, clause
    subs: list[_SectionPlan]


@dataclass(frozen=True)
class _Read:
    key: str
    item_code: str                            # the first item that needs it (for messages)
    label: str
    decl: MetricDecl | None
    low: Decimal | None
    high: Decimal | None
    default: Decimal | None


_FLOATS: dict[float, Decimal] = {}


def _float_decimal(raw: float) -> Decimal:
    """Decimal(repr(x)), cached: the same few counts and percentages recur across units."""
    value = _FLOATS.get(raw)
    if value is None:
        value = Decimal(repr(raw))
        if len(_FLOATS) > 20000:
            _FLOATS.clear()
        _FLOATS[raw] = value
    return value


class _Plan:
    def __init__(self, loaded: LoadedRuleSet):
        rule_set = loaded.rule_set
        scoring = rule_set.scoring
        declared: list[MetricDecl] = list(getattr(rule_set, "metrics", None) or [])
        self.duties = loaded.duties
        self.subject = "党员" if scoring.per_member else "单位"
        self.env = env = Env.build(loaded.duties, declared, member=scoring.per_member)
        needed: dict[str, str] = {}
        self.manual_codes: dict[str, str] = {}

        def build(section: Section) -> _SectionPlan:
            items = []
            for item in section.items:
                for key in item.required_keys(env):
                    needed.setdefault(key, item.code)
                if getattr(item, "method", "") == "manual":
                    self.manual_codes[item.code] = item.name
                items.append((item.code, item.name, item.prepare(env), item.max_points(), loaded.clause(item.code)))
            return _SectionPlan(
                code=section.code, name=section.name, key=f"section:{section.code}", clause=loaded.clause(section.code),
                cap=None if section.max is None else dec(section.max),
                floor=None if section.floor is None else dec(section.floor),
                items=items, subs=[build(sub) for sub in section.sections],
            )

        self.sections = [build(section) for section in scoring.sections]
        self.total: Expression | None = None
        self.total_clause = ""
        if scoring.total is not None:
            self.total = compile_total(loaded, scoring.total.formula, env)
            self.total_clause = loaded.clauses.get("scoring.total", loaded.clause("scoring.max_total"))
            for key in self.total.names:
                if not key.startswith("section:"):
                    needed.setdefault(key, "scoring.total")
        self.total_word = "按公式计算的总分" if self.total is not None else "各节合计"
        self.cap = None if scoring.allow_over_max else dec(scoring.max_total)
        self.cap_clause = loaded.clause("scoring.max_total")
        self.floor = None if scoring.min_total is None else dec(scoring.min_total)
        self.floor_clause = loaded.clauses.get("scoring.min_total", self.cap_clause)
        self.rounding_clause = loaded.clause("scoring.rounding")
        self.digits = scoring.rounding.digits
        decls = env.declared

        def read_of(key: str, item_code: str) -> _Read:
            decl = decls.get(key)
            return _Read(key, item_code, env.label(key), decl,
                         None if decl is None else _bound(decl.min), None if decl is None else _bound(decl.max),
                         dec(decl.default) if decl is not None and decl.has_default else None)  # type: ignore[arg-type]

        self.reads = [read_of(key, code) for key, code in needed.items()]
        self.fast_reads = [(r.key, r.decl is not None, r.low, r.high, r) for r in self.reads]
        self.bands = [(b, b.contains) for b in scoring.grades]

    def read(self, unit_id: str, metrics: Mapping[str, Any]) -> dict[str, Decimal]:
        """Every metric the rule set reads, checked and as Decimal; missing → MissingMetric."""
        values: dict[str, Decimal] = {}
        get = metrics.get
        floats = _FLOATS
        for key, declared, low, high, read in self.fast_reads:
            raw: Any = get(key)                         # whatever the caller passed; checked below
            kind = type(raw)
            if kind is float:
                value = floats.get(raw)                 # NaN and ±inf are never cached
                if value is None:
                    if not math.isfinite(raw):
                        raise InvalidMetrics(f"{self.subject} {unit_id} 的指标 {key} 不是有限的数字：{raw}", field=key)
                    value = _float_decimal(raw)
            elif kind is int:
                value = Decimal(raw)
            elif raw is None:
                if read.default is not None:
                    values[key] = read.default
                    continue
                if key in metrics:
                    raise InvalidMetrics(f"{self.subject} {unit_id} 的指标 {key} 为空（缺失的指标不按0计）", field=key)
                raise MissingMetric(unit_id=unit_id, metric=key, item_code=read.item_code,
                                    subject=self.subject, label=read.label if declared else "")
            elif kind is Decimal and raw.is_finite():
                value = raw
            else:
                raise InvalidMetrics(f"{self.subject} {unit_id} 的指标 {key} 不是数字：{raw!r}", field=key)
            if not declared:
                if value < 0:
                    raise InvalidMetrics(f"{self.subject} {unit_id} 的指标 {key} 为负数：{raw}", field=key)
            elif (low is not None and value < low) or (high is not None and value > high):
                raise InvalidMetrics(
                    f"{self.subject} {unit_id} 的指标 {key}（{read.label}）为 {fmt(value)}，"
                    f"超出声明的范围 {read.decl.range_text()}", field=key)  # type: ignore[union-attr]
            values[key] = value
        return values

    def check_manual(self, unit_id: str, entries: Mapping[str, ManualEntry]) -> None:
        for code in entries:
            if code not in self.manual_codes:
                known = "、".join(f"{c}（{n}）" for c, n in self.manual_codes.items()) or "（本规则集没有人工评分条目）"
                raise InvalidManualScore(
                    f"{self.subject} {unit_id} 的人工评分 {code} 不对应任何人工评分条目（method: manual）；可用：{known}",
                    field=code)

    def grade(self, loaded: LoadedRuleSet, rounded: Decimal) -> str:
        for band, contains in self.bands:
            if contains(rounded):
                return band.name
        return _grade(loaded, rounded)


def _bound(value: float | None) -> Decimal | None:
    return None if value is None else dec(value)


def compile_total(loaded: LoadedRuleSet, text: str, env: Env) -> Expression:
    """The total formula over top-level sections (code or name → "section:<code>") and metrics."""
    from rules.formula import compile_expression
    return compile_expression(text, names=total_names(loaded.rule_set.scoring.sections, env.names),
                              where="总分公式", expect="number")


def total_names(sections: Sequence[Any], metric_names: Mapping[str, str]) -> dict[str, str]:
    names = dict(metric_names)
    for section in sections:
        key = f"section:{section.code}"
        names[section.code] = key
        names[section.name] = key
    return names


_PLANS: weakref.WeakKeyDictionary[LoadedRuleSet, _Plan] = weakref.WeakKeyDictionary()


def missing_inputs(loaded: LoadedRuleSet, unit_id: str, metrics: Mapping[str, Any],
                   manual: Mapping[str, ManualEntry]) -> list[str]:
    """What scoring `unit_id` would stop at: every metric an item reads that is absent (and has
    no declared default), and every manual item without an entry that may not be left empty."""
    plan = _plan(loaded)
    problems = [
        MissingMetric(unit_id=unit_id, metric=r.key, item_code=r.item_code, subject=plan.subject,
                      label=r.label if r.decl is not None else "").message
        for r in plan.reads if r.key not in metrics and r.default is None
    ]
    for _, item in loaded.rule_set.scoring.walk_items():
        if getattr(item, "method", "") == "manual" and getattr(item, "if_missing", "") == "error" \
                and item.code not in manual:
            problems.append(f"{plan.subject} {unit_id} 的评分条目 {item.code}（{item.name}）尚未录入人工评分"
                            f"（范围{item.range_text()}）")  # type: ignore[attr-defined]
    return problems


def _plan(loaded: LoadedRuleSet) -> _Plan:
    plan = _PLANS.get(loaded)
    if plan is None:
        plan = _PLANS[loaded] = _Plan(loaded)
    return plan


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
