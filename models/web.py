"""Web sign-in: user accounts with a role and a scope unit, API tokens, login attempts.

A user sees and acts within the subtree of `unit_id` (Unit.path), as the role allows:
administrator (the district), reviewer (a street), secretary (one branch), leader
(reads scorecards of the subtree). Passwords and tokens are stored only as hashes.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class Role(StrEnum):
    admin = "admin"            # 区县管理员：配置本区县的一切
    reviewer = "reviewer"      # 街道审核员：审核所辖社区的报送
    secretary = "secretary"    # 支部书记：只办理本支部
    leader = "leader"          # 领导：查看所辖范围的评分，不改任何数据


class User(SQLModel, table=True):
    __tablename__ = "web_user"          # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True)
    display_name: str = Field(max_length=60)
    password_hash: str = Field(max_length=200)
    role: Role = Field(max_length=20)
    unit_id: str = Field(foreign_key="unit.id", max_length=40)
    active: bool = True
    # Bumped on password change or deactivation: every session cookie issued before dies.
    session_version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="web_user.id", index=True)
    name: str = Field(max_length=60)
    prefix: str = Field(max_length=12)                    # shown to tell tokens apart
    token_hash: str = Field(max_length=64, unique=True)   # sha256 of the whole token
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class LoginAttempt(SQLModel, table=True):
    """Every sign-in attempt, kept so throttling survives restarts."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60)
    ip: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    succeeded: bool = False
