"""Stored rule sets: the exact source a cycle was planned and scored with."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class RuleSetVersion(SQLModel, table=True):
    __tablename__ = "rule_set"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_rule_set_code_version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=80)
    version: str = Field(max_length=40)
    name: str = Field(max_length=200)
    sha256: str = Field(max_length=64, unique=True)
    file_name: str = Field(max_length=300)
    source: str = Field(sa_column=Column(Text, nullable=False))
    published: bool = False
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
