"""Scorecards: one run per scoring of a cycle; a line for every point gained or lost."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class ScoreRun(SQLModel, table=True):
    __tablename__ = "score_run"
    __table_args__ = (UniqueConstraint("cycle_id", "version", name="uq_score_run_version"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    rule_set_id: int = Field(foreign_key="rule_set.id")
    version: int
    as_of: date
    published: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Scorecard(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "subject_id", name="uq_scorecard_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="score_run.id")
    unit_id: str = Field(foreign_key="unit.id", max_length=40)   # the unit, or the member's branch
    subject_id: str = Field(default="", max_length=40)            # the unit or member scored
    street_id: str | None = Field(default=None, max_length=40)
    total: float
    grade: str = Field(max_length=20)
    rank_in_street: int
    rank_overall: int
    designations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ScoreLine(SQLModel, table=True):
    __tablename__ = "score_line"

    id: int | None = Field(default=None, primary_key=True)
    scorecard_id: int = Field(foreign_key="scorecard.id", index=True)
    seq: int
    section_code: str = Field(default="", max_length=80)
    item_code: str = Field(max_length=80)
    item_name: str = Field(max_length=200)
    points: float
    max_points: float | None = None
    reason: str = Field(max_length=1000)
    clause: str = Field(max_length=300)         # where in the rule file: "file:line 条目路径"
    task_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
