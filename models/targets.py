"""Targets (党建目标责任制): district targets split level by level to units, each with its
主要负责人, a signed responsibility letter per unit, and progress reported against the target.

"将街道社区党建的内容量化、细化，以责任书的形式逐层分解，逐层签订，量化到单位，到主要负责人"
(seeds/001). The letter itself is a `Task` (duty_code "target_letter", owner the unit);
`LetterSigning` is the record that closes it. Progress reports are append-only.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow

LETTER_DUTY = "target_letter"


class TargetKind(StrEnum):
    # The member shadows str.count on purpose: "count" is the stored value and the name the
    # services use. mypy reports any enum member named like a str method.
    count = "count"  # type: ignore[assignment]  # 数量（人、个）：下级分解数之和不得超过上级
    share = "share"    # 比例（%）：各级分别考核，不相加；每级 0–100


class Target(SQLModel, table=True):
    """One target of a cycle, set at the cycle's root unit (the district)."""

    __tablename__ = "target"
    __table_args__ = (UniqueConstraint("cycle_id", "code", name="uq_target_code"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    code: str = Field(max_length=40)
    name: str = Field(max_length=60)                  # 发展党员
    measure: str = Field(max_length=10)               # 计量单位：人、个、%
    total: float                                      # the root unit's (district's) total
    kind: TargetKind = Field(max_length=10)
    metric: str | None = Field(default=None, max_length=80)   # declared metric fed by progress
    note: str | None = Field(default=None, max_length=300)
    set_by: str = Field(max_length=80)
    set_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class TargetAllocation(SQLModel, table=True):
    """The share of a target a unit carries, given by the unit above (`from_unit_id`)."""

    __tablename__ = "target_allocation"
    __table_args__ = (
        UniqueConstraint("target_id", "unit_id", name="uq_target_allocation"),
        Index("ix_target_allocation_from", "target_id", "from_unit_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="target.id")
    unit_id: str = Field(foreign_key="unit.id", max_length=40)
    from_unit_id: str = Field(foreign_key="unit.id", max_length=40)
    amount: float
    responsible_name: str = Field(max_length=60)      # 主要负责人
    responsible_post: str | None = Field(default=None, max_length=60)   # 职务
    allocated_by: str = Field(max_length=80)
    allocated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LetterSigning(SQLModel, table=True):
    """A unit signed its 目标责任书 for a cycle; closes the letter task."""

    __tablename__ = "letter_signing"
    __table_args__ = (UniqueConstraint("cycle_id", "unit_id", name="uq_letter_signing_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    unit_id: str = Field(foreign_key="unit.id", max_length=40)
    task_id: int = Field(foreign_key="task.id", unique=True)
    signed_on: date
    signed_by: str = Field(max_length=60)
    note: str | None = Field(default=None, max_length=300)
    # The scanned letter, in the content-addressed evidence store (<sha256><suffix>).
    evidence_name: str | None = Field(default=None, max_length=255)
    evidence_stored: str | None = Field(default=None, max_length=120)
    evidence_sha256: str | None = Field(default=None, max_length=64)
    evidence_size: int | None = None
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ProgressReport(SQLModel, table=True):
    """Progress against an allocation as of a date (cumulative count, or the current share).

    Append-only: a correction is a later report, with a reason when the value goes down.
    """

    __tablename__ = "target_progress"
    __table_args__ = (Index("ix_target_progress_allocation", "allocation_id", "reported_on"),)

    id: int | None = Field(default=None, primary_key=True)
    allocation_id: int = Field(foreign_key="target_allocation.id")
    reported_on: date
    value: float
    reported_by: str = Field(max_length=60)
    note: str | None = Field(default=None, max_length=300)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
