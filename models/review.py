"""Review of completions by the level above, and waivers of tasks.

Reviews are append-only: every accept or return is a new row; the latest row for
the latest version of a completion chain is the decision in force. A waiver is
written once and only ever ended (expired, or the task was reported after all).
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Enum, Index
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class ReviewDecision(StrEnum):
    accepted = "accepted"   # 审核通过
    returned = "returned"   # 退回


class Review(SQLModel, table=True):
    __table_args__ = (Index("ix_review_completion", "completion_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    completion_id: int = Field(foreign_key="completion.id")
    # Non-native: the column is a VARCHAR, and multi-row INSERT … RETURNING on PostgreSQL casts
    # each value to the column type (a native enum type name would not exist).
    decision: ReviewDecision = Field(sa_type=Enum(ReviewDecision, native_enum=False, length=20))
    reason: str | None = Field(default=None, max_length=500)
    reviewer: str = Field(max_length=60)
    reviewing_unit_id: str = Field(foreign_key="unit.id", max_length=40)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WaiverKind(StrEnum):
    excused = "excused"                  # 豁免
    not_applicable = "not_applicable"    # 不适用


class WaiverEnd(StrEnum):
    expired = "expired"     # 到期失效
    reported = "reported"   # 豁免期内仍报送了活动


class Waiver(SQLModel, table=True):
    __table_args__ = (
        Index("ix_waiver_task", "task_id"),
        Index("ix_waiver_active_expiry", "ended_at", "expires_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    kind: WaiverKind = Field(max_length=20)
    approver: str = Field(max_length=60)
    approving_unit_id: str = Field(foreign_key="unit.id", max_length=40)
    reason: str = Field(max_length=500)
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_on: date                      # last Shanghai day the waiver holds
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    end_reason: WaiverEnd | None = Field(default=None, max_length=20)
