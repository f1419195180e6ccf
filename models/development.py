"""发展党员: one case per person from the application on, and its milestones.

Before 确定入党积极分子 the person is not on the roster: the case itself holds their
name, 身份证号码, gender and birth date. `member_id` is the roster id they have (a case
opened for someone already on the roster as an activist) or will get: the Member row is
created under that id when 推荐和确定入党积极分子 is recorded, so every task of the case
names the same subject from the first step to the last. It is not a foreign key for that
reason; dangjian.services.development keeps it consistent.

Milestones are append-only: a correction is a new row that supersedes the old one
(`supersedes_id`, at most one successor per row); the effective milestones of a case are
the rows nothing supersedes.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.org import Gender, MemberCategory
from models.types import UtcDateTime, utcnow


class CaseOutcome(StrEnum):
    completed = "completed"        # 转为正式党员，材料归档
    withdrawn = "withdrawn"        # 本人撤回申请或停止培养
    cancelled = "cancelled"        # 不予接收或取消预备党员资格
    transferred = "transferred"    # 工作、学习单位（居住地）变动，转出


class DevelopmentCase(SQLModel, table=True):
    __tablename__ = "development_case"
    __table_args__ = (
        Index("ix_development_case_branch", "branch_id", "closed_on"),
        Index("ix_development_case_id_number", "id_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: str = Field(foreign_key="unit.id", max_length=40)
    name: str = Field(max_length=60)
    id_number: str = Field(max_length=18)
    gender: Gender = Field(max_length=10)
    birth_date: date
    category: MemberCategory = Field(max_length=20)
    # The roster id the person has or will get (see the module docstring); tasks name it.
    member_id: str = Field(max_length=40, unique=True)
    process_code: str = Field(max_length=40)          # which process definition (cpc-2014)
    step: str = Field(max_length=40)                  # the furthest step recorded
    stage: int
    opened_on: date                                   # 递交入党申请书的日期
    closed_on: date | None = None
    outcome: CaseOutcome | None = Field(default=None, max_length=20)
    close_reason: str | None = Field(default=None, max_length=300)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Milestone(SQLModel, table=True):
    __tablename__ = "development_milestone"
    __table_args__ = (Index("ix_development_milestone_case", "case_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="development_case.id")
    step: str = Field(max_length=40)
    recorded_on: date                                 # the day it happened (Shanghai date)
    # Training days/hours, persons, votes (expected/present/in_favour), extension months,
    # leaving_on, reason: whatever the step's requirements read.
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=300)
    late: bool = False                                # recorded after a maximum interval
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    supersedes_id: int | None = Field(default=None, foreign_key="development_milestone.id", unique=True)
    correction_reason: str | None = Field(default=None, max_length=300)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
