"""Duty definitions of a rule set: who owes what, how often, by when, and what makes it count.

Plain pydantic data; the loader (rules.loader) maps validation errors back to file:line:column.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.org import UnitKind

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Frequency(StrEnum):
    monthly = "monthly"          # 每月
    quarterly = "quarterly"      # 每季度
    half_yearly = "half_yearly"  # 每半年
    yearly = "yearly"            # 每年


class DueAtPeriodEnd(Strict):
    rule: Literal["period_end"] = "period_end"


class DueDaysAfterStart(Strict):
    """Due N calendar days after the period starts (day 1 of the period + N)."""

    rule: Literal["days_after_start"]
    days: int = Field(ge=0, le=366)


class DueWorkingDaysAfterStart(Strict):
    """Due on the Nth working day of the period (Chinese calendar, 调休 included)."""

    rule: Literal["working_days_after_start"]
    days: int = Field(ge=1, le=250)


DueRule = Annotated[
    DueAtPeriodEnd | DueDaysAfterStart | DueWorkingDaysAfterStart, Field(discriminator="rule")
]


class Applicability(Strict):
    """Which units owe the duty: a unit kind plus attribute tests (all must hold)."""

    kind: UnitKind
    has_committee: bool | None = None
    area: Literal["urban", "town"] | None = None


class Quorum(StrEnum):
    none = "none"
    # 第十一条: 半数以上有表决权的党员到会 (预备党员 have no vote; approved exclusions leave 应到).
    voting_majority = "voting_majority"


class Requirements(Strict):
    minutes: bool = True
    attendance: bool = True
    evidence_files: int = Field(default=0, ge=0, le=20)
    # 台账须及时录入: a record reported more than this many days after the due date counts as
    # late even when the meeting itself was held in time.
    report_within_days: int = Field(default=10, ge=0, le=366)


class Duty(Strict):
    code: Code
    name: str = Field(min_length=1, max_length=60)
    basis: str | None = None                   # 依据: the clause of the source document
    applies_to: Applicability
    frequency: Frequency
    due: DueRule = Field(default_factory=DueAtPeriodEnd)
    quorum: Quorum = Quorum.none
    requires: Requirements = Field(default_factory=Requirements)

    @model_validator(mode="after")
    def _group_duties_have_no_committee_test(self) -> "Duty":
        if self.applies_to.kind == UnitKind.group and self.applies_to.has_committee is not None:
            raise ValueError("党小组没有支委会，applies_to.has_committee 只能用于党支部")
        return self
