"""The organisation tree and its members."""
from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class UnitKind(StrEnum):
    district = "district"        # 区/县
    street = "street"            # 街道/乡镇（党工委、党总支）
    community = "community"      # 社区
    branch = "branch"            # 党支部
    group = "group"              # 党小组


class Area(StrEnum):
    urban = "urban"              # 城区
    town = "town"                # 建制镇


class Unit(SQLModel, table=True):
    __table_args__ = (Index("ix_unit_parent", "parent_id"), Index("ix_unit_path", "path"))

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    kind: UnitKind = Field(max_length=20)
    parent_id: str | None = Field(default=None, foreign_key="unit.id", max_length=40)
    # "/<root id>/.../<own id>/": a subtree is everything whose path starts with this.
    path: str = Field(max_length=600)
    depth: int = 0
    area: Area | None = Field(default=None, max_length=10)
    has_committee: bool = False
    sort_order: int = 0
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MemberCategory(StrEnum):
    in_service = "in_service"        # 在职
    retired = "retired"              # 离退休
    laid_off = "laid_off"            # 下岗/失业
    floating = "floating"            # 流动
    self_employed = "self_employed"  # 个体私营
    resident = "resident"            # 居民
    student = "student"              # 学生
    farmer = "farmer"                # 农民


class MemberStatus(StrEnum):
    activist = "activist"            # 入党积极分子
    candidate = "candidate"          # 发展对象
    probationary = "probationary"    # 预备党员
    full = "full"                    # 正式党员


class Gender(StrEnum):
    male = "male"
    female = "female"


class Member(SQLModel, table=True):
    __table_args__ = (Index("ix_member_unit", "unit_id"),)

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=60)
    gender: Gender = Field(max_length=10)
    birth_date: date
    id_number: str = Field(max_length=18, unique=True)
    unit_id: str = Field(foreign_key="unit.id", max_length=40)      # the branch
    group_id: str | None = Field(default=None, foreign_key="unit.id", max_length=40)
    category: MemberCategory = Field(max_length=20)
    status: MemberStatus = Field(max_length=20)
    joined_on: date | None = None        # 入党（预备）日期
    full_on: date | None = None          # 转正日期
    # Approved exclusion from 应到会人数 (DOMAIN 2.1: floating, long illness …).
    excused_from_quorum: bool = False
    active: bool = True

    @property
    def has_vote(self) -> bool:
        """预备党员 have no vote; only full members count toward quorum."""
        return self.status == MemberStatus.full
