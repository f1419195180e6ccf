"""What people enter for scoring: values of declared metrics and reviewers' manual scores."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class MetricValue(SQLModel, table=True):
    """A declared metric's value for one unit or member in one cycle (群众满意率, 发展党员数 …)."""

    __tablename__ = "metric_value"
    __table_args__ = (UniqueConstraint("cycle_id", "subject_id", "metric", name="uq_metric_value"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    subject_id: str = Field(max_length=40)
    metric: str = Field(max_length=80)
    value: float
    entered_by: str = Field(max_length=80)
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    note: str | None = Field(default=None, max_length=500)


class ManualScore(SQLModel, table=True):
    """A reviewer's score for a manual item (定性评分, 评议项), within the item's stated range."""

    __tablename__ = "manual_score"
    __table_args__ = (UniqueConstraint("cycle_id", "subject_id", "item_code", name="uq_manual_score"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    subject_id: str = Field(max_length=40)
    item_code: str = Field(max_length=80)
    points: float
    entered_by: str = Field(max_length=80)
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    note: str | None = Field(default=None, max_length=500)
