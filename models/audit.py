"""Append-only audit trail, each event chained to the previous by hash.

`audit_head` is one row: how many events the chain holds and the hash of the last. Every
append updates it first, which serialises appenders (a row lock on PostgreSQL, the write
lock on SQLite) so the chain cannot fork, and it shows a truncated tail. `audit_anchor`
copies the head at moments that matter (each score run, each verification), so rewriting
history before an anchor shows even if the head was rewritten too.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)               # position in the chain, from 1
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: str = Field(max_length=80)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    count: int = 0
    hash: str = Field(default="0" * 64, max_length=64)


class AuditAnchor(SQLModel, table=True):
    __tablename__ = "audit_anchor"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    count: int                                   # events in the chain at that moment
    hash: str = Field(max_length=64)             # the hash of event `count`
    reason: str = Field(max_length=80)           # "score_run #12", "audit verify"
