"""Assessment cycles and the tasks planned for them."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class CycleState(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    published = "published"


class Cycle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    root_unit_id: str = Field(foreign_key="unit.id", max_length=40)
    rule_set_id: int = Field(foreign_key="rule_set.id")
    start_on: date
    end_on: date
    state: CycleState = Field(default=CycleState.draft, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class TaskState(StrEnum):
    open = "open"                  # 待完成
    overdue = "overdue"            # 已逾期（未完成）
    done = "done"                  # 按期完成
    late = "late"                  # 逾期完成
    submitted = "submitted"        # 已报送，待上级审核（未完成）
    returned = "returned"          # 被退回，待重新报送（未完成）
    excused = "excused"            # 已豁免
    not_applicable = "not_applicable"  # 不适用
    missed = "missed"              # 未完成（周期结束）


class SubjectKind(StrEnum):
    unit = "unit"
    member = "member"


class Task(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("cycle_id", "duty_code", "subject_id", "period_start", name="uq_task_key"),
        Index("ix_task_owner_state", "cycle_id", "owner_unit_id", "state"),
        Index("ix_task_state_due", "cycle_id", "state", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    duty_code: str = Field(max_length=60)
    subject_kind: SubjectKind = Field(max_length=10)
    subject_id: str = Field(max_length=40)          # unit id or member id
    owner_unit_id: str = Field(foreign_key="unit.id", max_length=40)  # the accountable branch
    period_start: date
    period_end: date
    period_label: str = Field(max_length=40)
    due_on: date
    state: TaskState = Field(default=TaskState.open, max_length=20)
    done_on: date | None = None                    # held date of the completion that closed it
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
