"""Outcomes after the individual scores: vetoes and overrides, designations, quotas, ranks.

    apply_outcomes(loaded, scores, subjects) -> list[UnitOutcome]      (pure)

Order, each step explained by lines of its own (points 0 except a zero_score line, whose
points take the total to 0 so that all lines of a unit still add up to its total):

1. vetoes (否决项、直接定级), in file order; a later clause overrides an earlier one's grade.
   lowest_grade / set_grade fix the grade: quotas neither move it nor skip it when
   counting (a fixed 五星 takes one of the 五星 places first).
2. designations (称号): every criterion must hold; `requires_no_veto` refuses a subject
   with a lowest_grade or zero_score clause applied; block_designation refuses its target.
3. quotas (名额), in file order, per scope (overall / district / street): allowed =
   rounding(count of subjects in scope × share); holders are ordered by `tie_break`, and
   those past the allowed places move down one grade (cascading through `shares` from the
   highest grade down) or lose the designation.
4. ranks: competition ranking (90, 80, 80, 70 → 1, 2, 2, 4) on the final total, within
   the street and overall.
"""
from __future__ import annotations

import functools
import math
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dangjian.errors import ValidationFailed
from rules.bands import band_for
from rules.loader import LoadedRuleSet
from rules.metrics import InvalidMetrics, MissingMetric
from rules.numbers import ZERO, dec, fmt
from rules.outcomes.conditions import (
    Conditions,
    Name,
    catalog,
    declared_metrics,
    is_member_rule_set,
)
from rules.outcomes.schema import ROUNDING_WORDS, Designation, Quota, ShareLevel, TieKey, Veto
from rules.scorer import ScoreLineResult, UnitScore, rank_competition
from rules.scoring import Section

__all__ = ["MissingOutcomeMetric", "Subject", "UnitOutcome", "apply_outcomes"]


@dataclass(frozen=True)
class Subject:
    """A scored subject (unit or member) with where it sits and the metrics the scorer saw."""

    unit_id: str
    street_id: str | None = None
    district_id: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitOutcome:
    unit_id: str
    total: float                     # after zero_score
    grade: str                       # after vetoes, promotions and quotas
    designations: list[str]          # designation codes, in file order
    rank_in_street: int
    rank_overall: int
    lines: list[ScoreLineResult]     # the outcome lines only (the scorer's lines stay in UnitScore)
    vetoes: list[str] = field(default_factory=list)   # codes of the vetoes/overrides that applied


@dataclass
class _State:
    subject: Subject
    total: Decimal
    grade: str
    sections: dict[str, Decimal]
    fixed_by: Veto | None = None                     # the clause that set the grade
    applied: list[Veto] = field(default_factory=list)
    blocked: dict[str, Veto] = field(default_factory=dict)
    designations: list[str] = field(default_factory=list)
    lines: list[ScoreLineResult] = field(default_factory=list)

    @property
    def unit_id(self) -> str:
        return self.subject.unit_id


class _Plan:
    """What one loaded rule set needs at run time: names, grade order, section trees."""

    def __init__(self, loaded: LoadedRuleSet):
        rule_set = loaded.rule_set
        self.loaded = loaded
        self.names: dict[str, Name] = catalog(rule_set)
        self.declared: dict[str, Any] = {m.code: m for m in declared_metrics(rule_set)}
        self.subject_word = "党员" if is_member_rule_set(rule_set) else "单位"
        self.conditions = Conditions(self.names, self.subject_word)
        bands = rule_set.scoring.grades
        ordered = sorted(bands, key=lambda b: (Decimal("-Infinity") if b.min is None else dec(b.min),
                                               not b.min_inclusive), reverse=True)
        self.grades = [b.name for b in ordered]               # highest first
        self.bands = bands
        self.designations: dict[str, Designation] = {d.code: d for d in rule_set.designations}
        self.vetoes: list[Veto] = list(rule_set.vetoes)
        self.quotas: list[Quota] = list(rule_set.quotas)
        self.subtrees: dict[str, set[str]] = {}
        self._index(rule_set.scoring.sections)

    def _index(self, sections: list[Section]) -> set[str]:
        below: set[str] = set()
        for section in sections:
            codes = {section.code} | self._index(section.sections)
            self.subtrees[section.code] = codes
            below |= codes
        return below

    def lower(self, grade: str) -> str | None:
        i = self.grades.index(grade)
        return self.grades[i + 1] if i + 1 < len(self.grades) else None

    def clause(self, key: str, name: str) -> str:
        try:
            return self.loaded.clause(key)
        except KeyError:
            return f"{self.loaded.file_name} {name}"


_Order = Callable[[Iterable["_State"]], list["_State"]]

_PLANS: weakref.WeakKeyDictionary[LoadedRuleSet, _Plan] = weakref.WeakKeyDictionary()


def _plan(loaded: LoadedRuleSet) -> _Plan:
    plan = _PLANS.get(loaded)
    if plan is None:
        plan = _PLANS[loaded] = _Plan(loaded)
    return plan


def apply_outcomes(
    loaded: LoadedRuleSet,
    scores: Sequence[UnitScore],
    subjects: Sequence[Subject],
    *,
    quotas: bool = True,
) -> list[UnitOutcome]:
    """Vetoes, designations, quotas and ranks over one cycle's scores (in `subjects` order).

    `quotas=False` skips the cohort step (a single example unit has no cohort)."""
    plan = _plan(loaded)
    by_id = _match(scores, subjects)
    states = [_start(plan, subject, by_id[subject.unit_id]) for subject in subjects]
    for state in states:
        for veto in plan.vetoes:
            _veto(plan, state, veto)
        for designation in plan.designations.values():
            _designate(plan, state, designation)
    if quotas:
        for quota in plan.quotas:
            _quota(plan, states, quota)
    overall = rank_competition([float(s.total) for s in states])
    in_street: dict[str, int] = {}
    by_street: dict[str | None, list[_State]] = defaultdict(list)
    for state in states:
        by_street[state.subject.street_id].append(state)
    for members in by_street.values():
        ranks = rank_competition([float(s.total) for s in members])
        in_street.update((s.unit_id, r) for s, r in zip(members, ranks))
    return [
        UnitOutcome(s.unit_id, float(s.total), s.grade, list(s.designations), in_street[s.unit_id],
                    rank, list(s.lines), [v.code for v in s.applied])
        for s, rank in zip(states, overall)
    ]


def _match(scores: Sequence[UnitScore], subjects: Sequence[Subject]) -> dict[str, UnitScore]:
    by_id: dict[str, UnitScore] = {}
    for score in scores:
        if score.unit_id in by_id:
            raise ValidationFailed(f"单位 {score.unit_id} 有两个得分", field="scores")
        by_id[score.unit_id] = score
    seen: set[str] = set()
    for subject in subjects:
        if subject.unit_id in seen:
            raise ValidationFailed(f"单位 {subject.unit_id} 重复出现在考核对象中", field="subjects")
        seen.add(subject.unit_id)
    missing = sorted(seen - set(by_id))
    extra = sorted(set(by_id) - seen)
    if missing or extra:
        text = "；".join(part for part in (
            f"没有得分的对象：{'、'.join(missing)}" if missing else "",
            f"没有对象的得分：{'、'.join(extra)}" if extra else "") if part)
        raise ValidationFailed(f"得分与考核对象不一致：{text}", field="subjects")
    return by_id


def _start(plan: _Plan, subject: Subject, score: UnitScore) -> _State:
    sections = {
        code: sum((dec(line.points) for line in score.lines if line.section_code in tree), ZERO)
        for code, tree in plan.subtrees.items()
    }
    return _State(subject, dec(score.total), score.grade, sections)


def _values(plan: _Plan, state: _State, keys: list[str], clause: str) -> dict[str, Decimal]:
    """The values a clause reads: the current total and section subtotals, and metrics
    checked as the scorer checks them (declared default and range; others not negative)."""
    values: dict[str, Decimal] = {}
    for key in keys:
        name = plan.names[key]
        if name.source == "total":
            values[key] = state.total
        elif name.source == "section":
            values[key] = state.sections[key.split(":", 1)[1]]
        else:
            values[key] = _metric(plan, state, key, clause)
    return values


class MissingOutcomeMetric(MissingMetric):
    """A veto, designation or quota needs a metric the subject's mapping does not have."""

    def __init__(self, *, unit_id: str, metric: str, clause: str, subject: str, label: str):
        shown = f"{metric}（{label}）" if label and label != metric else metric
        ValidationFailed.__init__(
            self, f"{subject} {unit_id} 缺少指标 {shown}（{clause}需要；缺失的指标不按0计）", field=metric)
        self.unit_id, self.metric, self.item_code = unit_id, metric, clause


def _metric(plan: _Plan, state: _State, key: str, clause: str) -> Decimal:
    metrics, who, unit_id = state.subject.metrics, plan.subject_word, state.unit_id
    raw = metrics.get(key)
    decl = plan.declared.get(key)
    label = plan.names[key].label
    if raw is None:
        if decl is not None and decl.has_default:
            return dec(decl.default)
        if key in metrics:
            raise InvalidMetrics(f"{who} {unit_id} 的指标 {key} 为空（缺失的指标不按0计）", field=key)
        raise MissingOutcomeMetric(unit_id=unit_id, metric=key, clause=clause, subject=who, label=label)
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
        raise InvalidMetrics(f"{who} {unit_id} 的指标 {key} 不是数字：{raw!r}", field=key)
    finite = raw.is_finite() if isinstance(raw, Decimal) else math.isfinite(raw)
    if not finite:
        raise InvalidMetrics(f"{who} {unit_id} 的指标 {key} 不是有限的数字：{raw}", field=key)
    value = dec(raw)
    if decl is None:
        if value < 0:
            raise InvalidMetrics(f"{who} {unit_id} 的指标 {key} 为负数：{raw}", field=key)
    elif (decl.min is not None and value < dec(decl.min)) or (decl.max is not None and value > dec(decl.max)):
        raise InvalidMetrics(f"{who} {unit_id} 的指标 {key}（{label}）为 {fmt(value)}，"
                             f"超出声明的范围 {decl.range_text()}", field=key)
    return value


def _line(plan: _Plan, state: _State, kind: str, code: str, name: str, reason: str,
          points: Decimal = ZERO) -> None:
    state.lines.append(ScoreLineResult(
        f"{kind}:{code}", name, "", float(points), None, reason, plan.clause(f"{kind}:{code}", name)))


# -- 1. vetoes and overrides -------------------------------------------------------

def _veto(plan: _Plan, state: _State, veto: Veto) -> None:
    keys = plan.conditions.keys_of(veto.when)
    verdict = plan.conditions.evaluate(veto.when, _values(plan, state, keys, f"否决项“{veto.name}”"),
                                       unit_id=state.unit_id, clause=f"否决项“{veto.name}”的条件")
    if not verdict.holds:
        return
    state.applied.append(veto)
    effect = veto.effect
    why = f"{veto.reason}（{verdict.text}）"
    if effect.kind == "lowest_grade":
        lowest, was = plan.grades[-1], _was(state)
        state.grade, state.fixed_by = lowest, veto
        _line(plan, state, "veto", veto.code, veto.name,
              f"{why}：等级定为“{lowest}”（{was}），总分{fmt(state.total)}分不变")
    elif effect.kind == "zero_score":
        before = state.total
        band = band_for(plan.bands, ZERO)
        state.total = ZERO
        state.grade, state.fixed_by = (band.name if band else plan.grades[-1]), veto
        _line(plan, state, "veto", veto.code, veto.name,
              f"{why}：总分由{fmt(before)}分记为0分，等级“{state.grade}”", points=-before)
    elif effect.kind == "block_designation":
        target = plan.designations[effect.target or ""]
        state.blocked[target.code] = veto
        _line(plan, state, "veto", veto.code, veto.name, f"{why}：不得评为“{target.name}”")
    else:
        was = _was(state)
        state.grade, state.fixed_by = effect.target or state.grade, veto
        _line(plan, state, "veto", veto.code, veto.name,
              f"{why}：直接定为“{state.grade}”（{was}），总分{fmt(state.total)}分不变")


def _was(state: _State) -> str:
    if state.fixed_by is None:
        return f"按得分应为“{state.grade}”"
    return f"此前由“{state.fixed_by.name}”定为“{state.grade}”"


# -- 2. designations ---------------------------------------------------------------

def _designate(plan: _Plan, state: _State, designation: Designation) -> None:
    code, title = designation.code, designation.name

    def line(reason: str) -> None:
        _line(plan, state, "designation", code, title, reason)

    if code in state.blocked:
        veto = state.blocked[code]
        line(f"{title}：不授予，否决项“{veto.name}”（{veto.reason}）")
        return
    vetoes = [v for v in state.applied if v.is_veto]
    if designation.requires_no_veto and vetoes:
        line(f"{title}：不授予，须无否决项，本单位有否决项“{'”“'.join(v.name for v in vetoes)}”")
        return
    count = len(designation.criteria)
    failing: list[str] = []
    for criterion in designation.criteria:
        keys = plan.conditions.keys_of(criterion.when)
        verdict = plan.conditions.evaluate(criterion.when, _values(plan, state, keys, f"称号“{title}”的标准“{criterion.name}”"),
                                           unit_id=state.unit_id, clause=f"“{title}”标准“{criterion.name}”")
        if not verdict.holds:
            failing.append(f"“{criterion.name}”未达到（{criterion.unmet or verdict.text}）")
    if not failing:
        state.designations.append(code)
        line(f"{title}：{count}项标准全部达到（{'、'.join(c.name for c in designation.criteria)}），授予“{title}”")
    elif len(failing) == 1:
        line(f"{title}：{count}项标准中{failing[0]}，不授予")
    else:
        line(f"{title}：{count}项标准中{len(failing)}项未达到：{'；'.join(failing)}，不授予")


# -- 3. quotas ---------------------------------------------------------------------

_SCOPE_WORDS = {"overall": "全部", "district": "本区", "street": "本街道"}


def _quota(plan: _Plan, states: list[_State], quota: Quota) -> None:
    groups: dict[str | None, list[_State]] = defaultdict(list)
    for state in states:
        groups[_scope_key(state.subject, quota.scope)].append(state)
    order = _tie_order(plan, quota)
    for group in groups.values():
        if quota.designation is not None:
            _designation_quota(plan, quota, group, order)
            continue
        for level in sorted(quota.levels(), key=lambda lv: plan.grades.index(lv.grade)):
            _grade_level(plan, quota, level, group, order)


def _scope_key(subject: Subject, scope: str) -> str | None:
    if scope == "street":
        return subject.street_id
    if scope == "district":
        return subject.district_id
    return ""


def _allowance(quota: Quota, share: float, count: int, what: str) -> tuple[int, str]:
    exact, allowed = quota.allowed(share, count)
    text = (f"{quota.name}：“{what}”至多占{fmt(dec(share) * 100)}%，{_SCOPE_WORDS[quota.scope]}{count}个单位"
            f"×{fmt(share)}={fmt(exact)}，{ROUNDING_WORDS[quota.rounding]}为{allowed}个")
    return allowed, text


def _grade_level(plan: _Plan, quota: Quota, level: ShareLevel, group: list[_State],
                 order: _Order) -> None:
    holders = [s for s in group if s.grade == level.grade]
    if not holders:
        return
    allowed, head = _allowance(quota, level.share, len(group), level.grade)
    fixed = [s for s in holders if s.fixed_by is not None]
    movable = order(s for s in holders if s.fixed_by is None)
    slots = max(0, allowed - len(fixed))
    if fixed:
        head += f"，其中{len(fixed)}个由否决项或直接定级确定，余{slots}个按排序"
    lower = plan.lower(level.grade)
    for state in fixed:
        clause = state.fixed_by.name if state.fixed_by else ""
        _line(plan, state, "quota", quota.code, quota.name,
              f"{head}；本单位由“{clause}”定为“{level.grade}”，不参与名额排序，占名额1个")
    for position, state in enumerate(movable, start=1):
        where = f"本单位在“{level.grade}”中排第{position}（{_tie_words(plan, quota)}）"
        if position <= slots or lower is None:
            _line(plan, state, "quota", quota.code, quota.name, f"{head}；{where}，在名额内，保持“{level.grade}”")
        else:
            state.grade = lower
            _line(plan, state, "quota", quota.code, quota.name, f"{head}；{where}，超出名额，降为“{lower}”")


def _designation_quota(plan: _Plan, quota: Quota, group: list[_State],
                       order: _Order) -> None:
    code = quota.designation or ""
    title = plan.designations[code].name
    holders = order(s for s in group if code in s.designations)
    if not holders:
        return
    allowed, head = _allowance(quota, quota.max_share or 0, len(group), title)
    for position, state in enumerate(holders, start=1):
        where = f"本单位在“{title}”中排第{position}（{_tie_words(plan, quota)}）"
        if position <= allowed:
            _line(plan, state, "quota", quota.code, quota.name, f"{head}；{where}，在名额内，保持“{title}”")
        else:
            state.designations.remove(code)
            _line(plan, state, "quota", quota.code, quota.name, f"{head}；{where}，超出名额，不授予“{title}”")


def _tie_words(plan: _Plan, quota: Quota) -> str:
    parts = [key.describe(_key_label(plan, key)) for key in quota.tie_break]
    return "排序：" + parts[0] + "".join(f"，同分按{p}" if i == 1 else f"，再按{p}"
                                        for i, p in enumerate(parts[1:], start=1))


def _key_label(plan: _Plan, key: TieKey) -> str:
    name = plan.names.get(plan.conditions.aliases.get(key.key, key.key))
    return name.label if name else key.key


def _tie_order(plan: _Plan, quota: Quota) -> _Order:
    """Sorts holders by the quota's tie-break keys (aliases resolved; unit_id last)."""
    keys = [(plan.conditions.aliases.get(k.key, k.key), k.descending) for k in quota.tie_break]
    metric_keys = [k for k, _ in keys if k in plan.names and plan.names[k].source == "metric"]

    def value(state: _State, key: str) -> Decimal | str:
        if key == "unit_id":
            return state.unit_id
        name = plan.names[key]
        if name.source == "total":
            return state.total
        if name.source == "section":
            return state.sections[key.split(":", 1)[1]]
        return _values(plan, state, [key], f"名额“{quota.name}”的排序")[key]

    def compare(a: _State, b: _State) -> int:
        for key, descending in keys:
            x, y = value(a, key), value(b, key)
            if x != y:
                less = x < y  # type: ignore[operator]
                return (1 if less else -1) if descending else (-1 if less else 1)
        return 0

    def order(states: Iterable[_State]) -> list[_State]:
        found = list(states)
        for state in found:                                   # a missing metric fails loudly
            _values(plan, state, metric_keys, f"名额“{quota.name}”的排序")
        return sorted(found, key=functools.cmp_to_key(compare))

    return order
