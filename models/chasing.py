"""Chasing: where each unit is told (channels), what it was told (log), and warnings.

- NotificationChannel: a unit's e-mail address or group robot, delivered through apprise.
- Notification: one row per message, unique on `key` (cycle, Shanghai day, kind, recipient,
  channel). The row is written and committed *before* the message is sent (status
  `sending`), so a re-run, a retry or a second worker can never send the same key twice.
- UnitWarning: a raised warning (有组织无活动, 连续红色, 应建未建); at most one open
  warning per cycle, unit and kind (a partial unique index over rows not yet resolved).
  Named UnitWarning, not Warning, so importing it never shadows the builtin.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class ChannelKind(StrEnum):
    email = "email"          # 电子邮件
    wecom = "wecom"          # 企业微信群机器人
    dingtalk = "dingtalk"    # 钉钉群机器人
    webhook = "webhook"      # 其他 Webhook（apprise 的 json:// 等地址）


class NotificationChannel(SQLModel, table=True):
    __tablename__ = "notification_channel"
    __table_args__ = (
        UniqueConstraint("unit_id", "kind", "target", name="uq_notification_channel_target"),
        Index("ix_notification_channel_unit", "unit_id", "active"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: str = Field(foreign_key="unit.id", max_length=40)
    kind: ChannelKind = Field(max_length=20)
    # An e-mail address, a robot key/token, or a full apprise URL (mailtos://, wecombot://,
    # dingtalk://, json://…). Holds secrets: shown masked, never copied into the log.
    target: str = Field(max_length=500)
    label: str = Field(default="", max_length=100)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class NotificationKind(StrEnum):
    digest = "digest"            # 每日提醒：即将到期和已逾期的任务
    escalation = "escalation"    # 督办上报：下级逾期超过宽限期的任务
    warning = "warning"          # 预警通知


class NotificationStatus(StrEnum):
    sending = "sending"          # 已登记、正在发送；进程中断时停在此状态（结果不明，不自动重发）
    sent = "sent"                # 已发送
    failed = "failed"            # 渠道报告发送失败（可重试）


class Notification(SQLModel, table=True):
    __table_args__ = (Index("ix_notification_recipient_day", "recipient_unit_id", "as_of"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    channel_id: int = Field(foreign_key="notification_channel.id")
    recipient_unit_id: str = Field(foreign_key="unit.id", max_length=40)
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id")
    kind: NotificationKind = Field(max_length=20)
    as_of: date                              # the Shanghai day the message is for
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: NotificationStatus = Field(default=NotificationStatus.sending, max_length=20)
    attempts: int = 1
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WarningKind(StrEnum):
    inactivity = "inactivity"              # 有组织无活动：连续 N 天没有活动记录
    consecutive_red = "consecutive_red"    # 连续 N 期评为红色
    coverage_gap = "coverage_gap"          # 应建未建：正式党员 3 人以上却没有单独建立党支部


class WarningLevel(StrEnum):
    yellow = "yellow"   # 黄色预警
    red = "red"         # 红色预警


class UnitWarning(SQLModel, table=True):
    __tablename__ = "warning"
    __table_args__ = (
        # One open warning per cycle, unit and kind; resolved ones are history.
        Index("uq_warning_open", "cycle_id", "unit_id", "kind", unique=True,
              sqlite_where=text("resolved_at IS NULL"),
              postgresql_where=text("resolved_at IS NULL")),
        Index("ix_warning_unit", "unit_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    unit_id: str = Field(foreign_key="unit.id", max_length=40)
    kind: WarningKind = Field(max_length=20)
    level: WarningLevel = Field(max_length=10)
    since: date                  # when the condition began (last activity, first red period …)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raised_on: date              # the Shanghai day it was first raised
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # The level the unit above was last told about; differs from `level` while a notice is due.
    notified_level: WarningLevel | None = Field(default=None, max_length=10)
    resolved_on: date | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
