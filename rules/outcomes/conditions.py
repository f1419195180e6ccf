"""What a condition may name, and how a condition is evaluated and explained.

Names (canonical keys, as in the subject's metrics mapping): the duty metrics
`<duty>.<owed|on_time|late|missed|pending|excused>`, in member rule sets
`attendance.<expected|present|leave|absent>`, the metrics declared in the `metrics:`
block, `total` (the subject's score at that point) and `section:<code>` (a section's
subtotal after its cap). Formulas spell them as rules.formula does (party_congress__missed,
党员大会_未完成, 入党积极分子比例, total, 总分, a section's code or name); a `metric:` may use
any spelling. A value a subject's metrics lack is an error (MissingMetric), never a zero.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dangjian.errors import ValidationFailed
from rules.formula import Expression, FormulaEvalError, compile_condition
from rules.metrics import (
    ATTENDANCE_LABEL,
    ATTENDANCE_METRICS,
    ATTENDANCE_WORDS,
    DUTY_METRIC_WORDS,
    DUTY_METRICS,
    name_problem,
)
from rules.numbers import dec, fmt
from rules.outcomes.schema import OP_WORDS, Condition
from rules.schema import RuleSet
from rules.scoring import Section


@dataclass(frozen=True)
class Name:
    key: str          # canonical key: "party_congress.missed", "total", "section:basic", a metric code
    label: str        # Chinese: 党员大会未完成, 总分, “基础项”得分 (shown as label + value + unit)
    unit: str = ""    # 分, %, 人, 个月 …
    source: str = "metric"   # metric | total | section
    duty: str = ""    # the duty's name, for duty metrics ("参会" for attendance)
    title: str = ""   # the section's name, for sections


def _sections(sections: list[Section]) -> list[Section]:
    found: list[Section] = []
    for section in sections:
        found += [section, *_sections(section.sections)]
    return found


def declared_metrics(rule_set: Any) -> list[Any]:
    """The `metrics:` block (rules.metrics.MetricDecl: code, name, unit, …)."""
    return list(getattr(rule_set, "metrics", None) or [])


def is_member_rule_set(rule_set: Any) -> bool:
    return bool(getattr(rule_set.scoring, "per_member", False))


def duty_names(code: str, title: str) -> dict[str, Name]:
    return {f"{code}.{b}": Name(f"{code}.{b}", f"{title}{DUTY_METRIC_WORDS[b]}", "次", duty=title)
            for b in DUTY_METRICS}


def attendance_names() -> dict[str, Name]:
    return {f"attendance.{b}": Name(f"attendance.{b}", f"{ATTENDANCE_LABEL}{ATTENDANCE_WORDS[b]}", "人次",
                                    duty=ATTENDANCE_LABEL)
            for b in ATTENDANCE_METRICS}


def catalog(rule_set: RuleSet) -> dict[str, Name]:
    """Every name a condition or tie-break may use, by canonical key."""
    names: dict[str, Name] = {}
    for duty in rule_set.duties:
        names.update(duty_names(duty.code, duty.name))
    if is_member_rule_set(rule_set):
        names.update(attendance_names())
    for metric in declared_metrics(rule_set):
        code = str(metric.code)
        names[code] = Name(code, str(getattr(metric, "name", code)), str(getattr(metric, "unit", "") or ""))
    names["total"] = Name("total", "总分", "分", "total")
    for section in _sections(rule_set.scoring.sections):
        key = f"section:{section.code}"
        names[key] = Name(key, f"“{section.name}”得分", "分", "section", title=section.name)
    return names


_WORDS = {**DUTY_METRIC_WORDS, **ATTENDANCE_WORDS}


def aliases(names: Mapping[str, Name]) -> dict[str, str]:
    """Every spelling a condition may use → canonical key, as rules.metrics.formula_names
    spells metrics (party_congress__missed, 党员大会_未完成, attendance__absent, 参会_缺席,
    a declared metric's code and Chinese name), plus the canonical keys themselves (for
    `metric:`), `total` / 总分, and each section by code and by name. A spelling two keys
    would share goes to the first: metrics, then total, then sections."""
    found: dict[str, str] = {}
    for key in names:
        found.setdefault(key, key)
    for key, name in names.items():
        if name.source == "metric" and name.duty:
            code, bucket = key.split(".", 1)
            found.setdefault(f"{code}__{bucket}", key)
            chinese = f"{name.duty}_{_WORDS[bucket]}"
            if name_problem(chinese) is None:
                found.setdefault(chinese, key)
    for key, name in names.items():
        if name.source == "metric" and not name.duty:
            found.setdefault(name.label, key)
    found.setdefault("总分", "total")
    for key, name in names.items():
        if name.source == "section":
            found.setdefault(key.split(":", 1)[1], key)
            if name.title:
                found.setdefault(name.title, key)
    return found


class Conditions:
    """Evaluates the conditions of one rule set; formulas are compiled once per text."""

    def __init__(self, names: Mapping[str, Name], subject_word: str = "单位"):
        self.names = names
        self.subject_word = subject_word            # 单位 | 党员, for messages
        self.aliases = aliases(names)
        self._compiled: dict[str, Expression] = {}

    def _formula(self, text: str) -> Expression:
        if text not in self._compiled:
            self._compiled[text] = compile_condition(text, names=self.aliases, where="条件")
        return self._compiled[text]

    def keys_of(self, condition: Condition) -> list[str]:
        """Canonical keys a condition reads, in order, without repeats."""
        found: dict[str, None] = {}
        for node in condition.walk():
            if node.metric is not None:
                found.setdefault(self.aliases[node.metric], None)
            elif node.expr is not None:
                for key in expression_names(self._formula(node.expr)):
                    found.setdefault(key, None)
        return list(found)

    def evaluate(self, condition: Condition, values: Mapping[str, Decimal], *, unit_id: str, clause: str) -> Verdict:
        """Whether the condition holds on these values, and the numbers that decided it.

        `values` must hold every key the condition reads (the engine checks that first)."""
        if condition.metric is not None:
            key = self.aliases[condition.metric]
            name, value = self.names[key], values[key]
            op = condition.op or "=="
            limit = dec(condition.value if condition.value is not None else 0)
            return Verdict(_compare(value, op, limit), f"{show(name, value)}，条件为{OP_WORDS[op]}{fmt(limit)}")
        if condition.expr is not None:
            expression = self._formula(condition.expr)
            keys = expression_names(expression)
            try:
                holds = bool(expression.evaluate({k: values[k] for k in keys}))
            except FormulaEvalError as exc:
                raise ValidationFailed(f"{self.subject_word} {unit_id} 的{clause}无法计算：{exc.message}", field=clause) from None
            shown = "，".join(show(self.names[k], values[k]) for k in keys)
            rule = " ".join(condition.expr.split())
            return Verdict(holds, f"{shown}，条件为 {rule}" if shown else f"条件为 {rule}")
        parts = [self.evaluate(sub, values, unit_id=unit_id, clause=clause)
                 for sub in (condition.all or condition.any or [])]
        if condition.all is not None:
            failing = [p for p in parts if not p.holds]
            if failing:
                return Verdict(False, "；".join(p.text for p in failing))
            return Verdict(True, "；".join(p.text for p in parts))
        passing = [p for p in parts if p.holds]
        if passing:
            return Verdict(True, "；".join(p.text for p in passing))
        return Verdict(False, "以下均不满足：" + "；".join(p.text for p in parts))


def expression_names(expression: Expression) -> list[str]:
    return list(expression.names)


@dataclass(frozen=True)
class Verdict:
    holds: bool
    text: str        # Chinese: the numbers behind the verdict


def show(name: Name, value: Decimal) -> str:
    return f"{name.label}{fmt(value)}{name.unit}"


def _compare(left: Decimal, op: str, right: Decimal) -> bool:
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right,
            "==": left == right, "!=": left != right}[op]
