"""The whole rule-set file as pydantic models: header, duties, scoring, examples.

File layout (YAML):
    rule_set: {code, version, name, description}
    duties:   [rules.duties.Duty, ...]
    scoring:  rules.scoring.Scoring (subject, max_total, rounding, sections → items, grades)
    examples: [Example, ...]   rule tests stored beside the rules
"""
from __future__ import annotations

from pydantic import Field, model_validator

from rules.duties import Duty, Strict
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

    @model_validator(mode="after")
    def _expects_something(self) -> ExampleExpect:
        if self.total is None and self.grade is None and not self.items:
            raise ValueError("expect 至少要写 total、grade、items 之一")
        return self


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
    expect: ExampleExpect


class RuleSet(Strict):
    rule_set: RuleSetMeta
    duties: list[Duty] = Field(min_length=1)
    scoring: Scoring
    examples: list[Example] = Field(default_factory=list)

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
