"""The whole rule-set file as pydantic models: header, duties, scoring, examples.

File layout (YAML):
    rule_set: {code, version, name, description}
    duties:   [rules.duties.Duty, ...]
    metrics:  [rules.metrics.MetricDecl, ...]   declared non-duty metrics (optional)
    scoring:  rules.scoring.Scoring (subject, max_total, rounding, sections → items, grades)
    vetoes, designations, quotas: rules.outcomes.schema (after the individual scores)
    examples: [Example, ...]   rule tests stored beside the rules
    chasing:  rules.chasing.Chasing (optional: reminders, escalation, warnings; defaults there)
"""
from __future__ import annotations

from pydantic import Field, model_validator

from rules.chasing import Chasing
from rules.duties import Duty, Strict
from rules.metrics import MetricDecl
from rules.outcomes.schema import Designation, Quota, Veto
from rules.scoring import Scoring

RULE_SET_CODE = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class RuleSetMeta(Strict):
    code: str = Field(pattern=RULE_SET_CODE, max_length=80)       # kebab-case ASCII
    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]*$", max_length=40)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None


class ExampleExpect(Strict):
    total: float | None = None
    grade: str | None = None
    items: dict[str, float] = Field(default_factory=dict)   # item code → points
    designations: list[str] | None = None   # designation codes granted ([] = none)
    veto: list[str] | None = None           # codes of the vetoes/overrides that apply ([] = none)

    @model_validator(mode="after")
    def _expects_something(self) -> ExampleExpect:
        if (self.total is None and self.grade is None and not self.items
                and self.designations is None and self.veto is None):
            raise ValueError("expect 至少要写 total、grade、items、designations、veto 之一")
        return self


class ExampleManual(Strict):
    """A reviewer's entry for a manual item in an example: `{points: 18, by: 张三}`."""

    points: float
    by: str = Field(default="示例评分人", min_length=1, max_length=60)
    note: str | None = None


class Example(Strict):
    """A rule test: metrics in, expected total/grade/items out.

    `metrics` takes dotted keys (`party_congress.owed: 4`) or one mapping per duty
    (`party_congress: {owed: 4, on_time: 4, ...}`); `based_on` starts from an earlier
    example's metrics and evidence and overrides the keys given here.
    """

    name: str = Field(min_length=1, max_length=100)
    unit: str = "示例单位"
    based_on: str | None = None
    metrics: dict[str, float | dict[str, float]] = Field(default_factory=dict)
    evidence: dict[str, list[int]] = Field(default_factory=dict)
    manual: dict[str, ExampleManual] = Field(default_factory=dict)   # item code → reviewer's entry
    expect: ExampleExpect


class RuleSet(Strict):
    rule_set: RuleSetMeta
    duties: list[Duty] = Field(min_length=1)
    metrics: list[MetricDecl] = Field(default_factory=list)          # 声明的指标（rules.metrics）
    scoring: Scoring
    vetoes: list[Veto] = Field(default_factory=list)                # 否决项、直接定级（rules.outcomes）
    designations: list[Designation] = Field(default_factory=list)   # 称号
    quotas: list[Quota] = Field(default_factory=list)               # 名额
    examples: list[Example] = Field(default_factory=list)
    chasing: Chasing | None = None     # 督办与预警；省略时取 rules/chasing.py 的默认值

    @property
    def code(self) -> str:
        return self.rule_set.code

    @property
    def version(self) -> str:
        return self.rule_set.version

    @property
    def name(self) -> str:
        return self.rule_set.name

    def duty(self, code: str) -> Duty:
        for duty in self.duties:
            if duty.code == code:
                return duty
        raise KeyError(code)
