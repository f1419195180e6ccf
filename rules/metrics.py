"""What a scoring method reads: one subject's metrics, evidence and manual entries, with
loud failures; and the `metrics:` block that declares every non-duty metric.

Metrics contract (the scoring service computes these with SQL): for each duty code d,
`d.owed`, `d.on_time`, `d.late`, `d.missed`, `d.pending`, `d.excused`, where `owed` is
every task the unit is accountable for in the scored span and the other five split it:
owed = on_time + late + missed + pending + excused (not-applicable tasks are not owed;
overdue-but-open tasks count as missed). Evidence uses the same keys and maps them to
task ids. A metric an item needs but the mapping lacks is an error, never a zero.

Member rule sets (`scoring.subject: {kind: member}`) also read `attendance.expected`,
`attendance.present`, `attendance.leave`, `attendance.absent` (组织生活 应到/实到/请假/缺席).

Declared metrics (`metrics:` in the rule file) are every other metric the items read:

    metrics:
      - code: activist_ratio        # ASCII identifier: the key in the metrics mapping
        name: 入党积极分子比例        # Chinese display name, usable in formulas
        unit: "%"                   # 显示单位; "%" also means a ratio metric is in percent
        min: 0                      # values outside [min, max] are refused at scoring time
        max: 100
        per: unit                   # unit (default) | member (党员积分)
        description: 入党积极分子人数占党员人数的百分比
        default: 0                  # only when written: used when the data lacks the metric
"""
from __future__ import annotations

import keyword
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from dangjian.errors import ValidationFailed
from rules.duties import Code, Duty, Strict
from rules.numbers import dec, fmt

DUTY_METRICS = ("owed", "on_time", "late", "missed", "pending", "excused")
ATTENDANCE_METRICS = ("expected", "present", "leave", "absent")
# Chinese spellings, for reasons and formula names (党员大会_未完成, 参会_缺席).
DUTY_METRIC_WORDS = {"owed": "应完成", "on_time": "按期完成", "late": "逾期完成",
                     "missed": "未完成", "pending": "未到期", "excused": "免除"}
ATTENDANCE_WORDS = {"expected": "应到", "present": "实到", "leave": "请假", "absent": "缺席"}
ATTENDANCE_LABEL = "参会"


class MetricDecl(Strict):
    """One declared metric (see the module docstring)."""

    code: Code
    name: str = Field(min_length=1, max_length=40)
    unit: str | None = Field(default=None, max_length=10)
    min: float | None = None
    max: float | None = None
    per: Literal["unit", "member"] = "unit"
    description: str | None = Field(default=None, max_length=500)
    default: float | None = None

    @field_validator("code")
    @classmethod
    def _code_usable_in_formulas(cls, code: str) -> str:
        if "__" in code:
            raise ValueError(f"指标代码 {code} 不能含连续下划线“__”（公式用“职责代码__桶”引用职责指标）")
        if keyword.iskeyword(code) or code in _reserved():
            raise ValueError(f"指标代码 {code} 是公式的保留字或函数名，请换一个")
        return code

    @field_validator("name")
    @classmethod
    def _name_usable_in_formulas(cls, name: str) -> str:
        problem = name_problem(name)
        if problem:
            raise ValueError(f"“{name}”{problem}")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> MetricDecl:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min（{fmt(self.min)}）不能大于 max（{fmt(self.max)}）")
        if "default" in self.model_fields_set:
            if self.default is None:
                raise ValueError("default 不能为空；不写 default 表示缺少数据时报错")
            if (self.min is not None and self.default < self.min) or (self.max is not None and self.default > self.max):
                raise ValueError(f"default（{fmt(self.default)}）不在 [min, max] 范围内")
        return self

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set and self.default is not None

    @property
    def is_percent(self) -> bool:
        return (self.unit or "").strip() == "%"

    def range_text(self) -> str:
        low = "-∞" if self.min is None else fmt(self.min)
        high = "+∞" if self.max is None else fmt(self.max)
        return f"[{low}, {high}]"


def _reserved() -> set[str]:
    from rules.formula import FUNCTIONS
    return set(FUNCTIONS)


def name_problem(name: str) -> str | None:
    """Why a display name cannot be used as a formula name, or None."""
    if unicodedata.normalize("NFKC", name) != name:
        return "含全角字母、数字或符号，请改为半角"
    if not name.isidentifier():
        return "在公式中要用作名称，只能含汉字、字母、数字和下划线，不能以数字开头，不能有空格和标点"
    if keyword.iskeyword(name) or name in _reserved():
        return "是公式的保留字或函数名，请换一个"
    return None


def duty_metric_label(duty: Duty, bucket: str) -> str:
    """党员大会未完成"""
    return f"{duty.name}{DUTY_METRIC_WORDS[bucket]}"


def formula_names(
    duties: Mapping[str, Duty], declared: Sequence[MetricDecl], *, member: bool = False,
) -> dict[str, str]:
    """Every spelling a formula may use for a metric → its canonical key (the metrics key):

        activist_ratio, 入党积极分子比例          → activist_ratio
        party_congress__missed, 党员大会_未完成   → party_congress.missed
        attendance__absent, 参会_缺席             → attendance.absent      (member rule sets)

    Chinese duty spellings are offered only for duty names that are identifiers."""
    names: dict[str, str] = {}
    for code, duty in duties.items():
        for bucket in DUTY_METRICS:
            key = f"{code}.{bucket}"
            names[f"{code}__{bucket}"] = key
            chinese = f"{duty.name}_{DUTY_METRIC_WORDS[bucket]}"
            if name_problem(chinese) is None:
                names.setdefault(chinese, key)
    if member:
        for bucket in ATTENDANCE_METRICS:
            key = f"attendance.{bucket}"
            names[f"attendance__{bucket}"] = key
            names[f"{ATTENDANCE_LABEL}_{ATTENDANCE_WORDS[bucket]}"] = key
    for metric in declared:
        names[metric.code] = metric.code
        if name_problem(metric.name) is None:
            names.setdefault(metric.name, metric.code)
    return names


@dataclass(frozen=True)
class ManualEntry:
    """A score a reviewer entered for a `method: manual` item (定性评分, 酌情扣分, 评议)."""

    points: float | int | Decimal
    entered_by: str
    entered_at: datetime | date | None = None
    note: str | None = None


class MissingMetric(ValidationFailed):
    """An item needs a metric the unit's mapping does not have."""

    def __init__(self, *, unit_id: str, metric: str, item_code: str, subject: str = "单位", label: str = ""):
        shown = f"{metric}（{label}）" if label and label != metric else metric
        super().__init__(
            f"{subject} {unit_id} 缺少指标 {shown}（评分条目 {item_code} 需要；缺失的指标不按0计）",
            field=metric,
        )
        self.unit_id = unit_id
        self.metric = metric
        self.item_code = item_code


class MissingInputs(ValidationFailed):
    """Scoring refused before it starts: every subject's missing metrics and manual scores, listed
    together (the reviewer enters them all at once instead of one error per run)."""


class InvalidMetrics(ValidationFailed):
    """Metrics that are present but impossible: negative, not finite, or not adding up."""


class MissingManualScore(ValidationFailed):
    """A `method: manual` item has no reviewer entry and does not say what to do then."""


class InvalidManualScore(ValidationFailed):
    """A reviewer entry outside the item's range, without a reviewer, or for no manual item."""


@dataclass(slots=True)
class Outcome:
    """What one item earned, why, and which tasks it rests on. (Not frozen: built once per
    item and subject, and a frozen dataclass costs four times as much to build.)"""

    points: Decimal
    reason: str
    task_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class UnitContext:
    """One subject's inputs, as seen by a scoring method.

    `values` holds the metrics the rule set reads, already checked and converted to
    Decimal by the scorer (once per subject); `metric()` reads from it and falls back to
    checking `metrics` itself for callers that build a context by hand."""

    unit_id: str
    metrics: Mapping[str, float]
    evidence: Mapping[str, Sequence[int]]
    duties: Mapping[str, Duty]
    values: Mapping[str, Decimal] = field(default_factory=dict)
    manual: Mapping[str, ManualEntry] = field(default_factory=dict)
    subject: str = "单位"          # 单位 | 党员, for messages

    def metric(self, name: str, *, item_code: str) -> Decimal:
        value = self.values.get(name)
        if value is not None:
            return value
        if name not in self.metrics:
            raise MissingMetric(unit_id=self.unit_id, metric=name, item_code=item_code)
        raw = self.metrics[name]
        if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
            raise InvalidMetrics(f"{self.subject} {self.unit_id} 的指标 {name} 不是数字：{raw!r}", field=name)
        if isinstance(raw, float) and not math.isfinite(raw):
            raise InvalidMetrics(f"{self.subject} {self.unit_id} 的指标 {name} 不是有限的数字：{raw}", field=name)
        value = dec(raw)
        if value < 0:
            raise InvalidMetrics(f"{self.subject} {self.unit_id} 的指标 {name} 为负数：{raw}", field=name)
        return value

    def task_ids(self, *names: str) -> list[int]:
        """Task ids behind the named metrics, in the order asked, without repeats."""
        evidence = self.evidence
        if not evidence:
            return []
        seen: dict[int, None] = {}
        for name in names:
            for task_id in evidence.get(name, ()):
                seen.setdefault(int(task_id), None)
        return list(seen)
