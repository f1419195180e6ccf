"""What secretaries report: one event closes one or more tasks."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class Completion(SQLModel, table=True):
    """Append-only: a correction is a new row with the same chain and a higher version."""

    __table_args__ = (Index("ix_completion_chain", "chain_id", "version", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    chain_id: int | None = None            # id of the first version; set right after insert
    version: int = 1
    unit_id: str = Field(foreign_key="unit.id", max_length=40)   # the reporting branch
    held_on: date
    topic: str = Field(max_length=300)
    minutes: str = Field(sa_column=Column(Text, nullable=False))
    reported_by: str = Field(max_length=60)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class CompletionTask(SQLModel, table=True):
    """Which tasks an event closes. `version` is the completion's version: a task has at
    most one report of each version, so two first reports of one task cannot both land,
    however they race (the database refuses the second)."""

    __tablename__ = "completion_task"
    __table_args__ = (Index("ix_completion_task_task", "task_id"),
                      Index("uq_completion_task_version", "task_id", "version", unique=True))

    completion_id: int = Field(foreign_key="completion.id", primary_key=True)
    task_id: int = Field(foreign_key="task.id", primary_key=True)
    version: int = 1


class Presence(StrEnum):
    present = "present"   # 出席
    leave = "leave"       # 请假
    absent = "absent"     # 缺席


class Attendance(SQLModel, table=True):
    completion_id: int = Field(foreign_key="completion.id", primary_key=True)
    member_id: str = Field(foreign_key="member.id", primary_key=True, max_length=40)
    presence: Presence = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=200)


class Evidence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    completion_id: int = Field(foreign_key="completion.id", index=True)
    original_name: str = Field(max_length=255)
    stored_name: str = Field(max_length=120)     # content-addressed: <sha256><suffix>
    sha256: str = Field(max_length=64)
    size_bytes: int
    stored_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
