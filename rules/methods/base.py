"""What every scoring method shares: an item's identity, its maximum and its contract.

A method is prepared once per loaded rule set (`prepare(env)` → a function of one
subject's context), so labels, Decimal constants and compiled formulas are built at load
time and scoring a subject only does that subject's arithmetic.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import Field

from rules.duties import Code, Duty, Strict
from rules.metrics import (
    ATTENDANCE_LABEL,
    ATTENDANCE_WORDS,
    DUTY_METRIC_WORDS,
    MetricDecl,
    Outcome,
    UnitContext,
    formula_names,
)

Evaluate = Callable[[UnitContext], Outcome]
Path = tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class Env:
    """What an item may consult while it is prepared: duties, declared metrics, whether the
    rule set scores members, and the formula names (spelling → metric key)."""

    duties: Mapping[str, Duty]
    declared: Mapping[str, MetricDecl] = field(default_factory=dict)
    member: bool = False
    names: Mapping[str, str] = field(default_factory=dict)
    _compiled: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, duties: Mapping[str, Duty], declared: Sequence[MetricDecl], *, member: bool = False) -> Env:
        first: dict[str, MetricDecl] = {}
        for metric in declared:
            first.setdefault(metric.code, metric)          # a repeated code is reported by the loader
        return cls(duties=duties, declared=first, member=member,
                   names=formula_names(duties, declared, member=member))

    def key(self, ref: str) -> str:
        """The metrics key of a metric as an item names it (code, Chinese name or dotted key)."""
        return self.names.get(ref, ref)

    def label(self, key: str) -> str:
        """Chinese label of a metric key: 党员大会未完成, 参会缺席, 入党积极分子比例."""
        decl = self.declared.get(key)
        if decl is not None:
            return decl.name
        head, _, bucket = key.partition(".")
        if head == "attendance" and bucket in ATTENDANCE_WORDS:
            return f"{ATTENDANCE_LABEL}{ATTENDANCE_WORDS[bucket]}"
        duty = self.duties.get(head)
        if duty is not None and bucket in DUTY_METRIC_WORDS:
            return f"{duty.name}{DUTY_METRIC_WORDS[bucket]}"
        return key

    def unit_word(self, key: str, default: str = "次") -> str:
        """What a count of this metric is counted in: 次 for duties and attendance, else the
        declared unit."""
        decl = self.declared.get(key)
        if decl is not None:
            return decl.unit or ("" if default == "次" else default)
        return "次" if "." in key else default

    def compile(self, text: str, where: str, *, expect: str = "number") -> Any:
        """A compiled formula over this rule set's metric names (once per text)."""
        from rules.formula import compile_expression

        key = (text, where, expect)
        if key not in self._compiled:
            self._compiled[key] = compile_expression(text, names=self.names, where=where,
                                                     expect=expect)  # type: ignore[arg-type]
        return self._compiled[key]


class ItemBase(Strict):
    """One scored item (条目). Subclasses add `method: Literal[...]` and their own fields."""

    code: Code
    name: str = Field(min_length=1, max_length=100)
    max: float = Field(ge=0, le=10000)          # 满分
    note: str | None = None                     # 说明, shown to readers, not used in scoring

    def duty_codes(self) -> list[str]:
        """Duties this item reads (the loader checks they exist)."""
        return []

    def metric_keys(self) -> list[str]:
        """Metric keys this item reads; the scorer reads and checks them once per subject."""
        return []

    def formulas(self) -> list[tuple[Path, str, str]]:
        """(path under the item, text, "number" | "bool") of every formula in the item."""
        return []

    def required_keys(self, env: Env) -> list[str]:
        """Every metric key the prepared item reads: metric_keys() and its formulas' names."""
        keys = dict.fromkeys(env.key(k) for k in self.metric_keys())
        for _, text, expect in self.formulas():
            keys.update(dict.fromkeys(self.compile_in(env, text, expect).names))
        return list(keys)

    def compile_in(self, env: Env, text: str, expect: str) -> Any:
        return env.compile(text, f"条目 {self.code} 的公式", expect=expect)

    def problems(self, env: Env) -> list[tuple[Path, str]]:
        """Problems only the whole file can reveal (e.g. a check metric not declared 0–1),
        as (path under the item, Chinese message)."""
        return []

    def max_points(self) -> float | None:
        """满分 shown on the score line; None when the item has no upper limit."""
        return self.max

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """Lowest and highest points the item can give; None = unbounded (倒扣, 上不封顶)."""
        raise NotImplementedError

    def prepare(self, env: Env) -> Evaluate:
        """The item's scoring function, built once per rule set."""
        return self.evaluate

    def evaluate(self, ctx: UnitContext) -> Outcome:
        """Points, a Chinese reason stating the arithmetic, and the tasks behind it."""
        return self.prepare(Env.build(ctx.duties, []))(ctx)
