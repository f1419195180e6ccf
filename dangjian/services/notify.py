"""Notification channels and delivery through apprise: the only module that sends.

Channels
    Each unit may have several channels. `target` is what the district staff paste in:
    - email:    an address (sent through DANGJIAN_SMTP_URL, e.g.
                `mailtos://user:password@smtp.example.org?from=dangjian@example.org`),
                or a full `mailto://` / `mailtos://` apprise URL;
    - wecom:    the robot key, the robot's https://qyapi.weixin.qq.com/…?key=… address,
                or a `wecombot://` URL;
    - dingtalk: the access token, the robot's https://oapi.dingtalk.com/…?access_token=…
                address, or a `dingtalk://[secret@]token` URL (加签 robots need the secret);
    - webhook:  any JSON/form/XML webhook: `json://`, `jsons://`, `form://`, `xml://` …,
                or an http(s) address (posted as apprise JSON).

Delivery: claim, then send, then record (at most once per key)
    1. claim: INSERT the log row with its unique key and status `sending`, and COMMIT.
       A key already sent, or claimed by a run that may have sent it, is never claimed
       again; a key whose last attempt the channel *reported* as failed is re-claimed by
       a compare-and-set UPDATE (status failed → sending), up to MAX_ATTEMPTS.
    2. send through apprise, outside any transaction (no lock is held over the network).
    3. record the outcome (sent / failed with the channel's error) and COMMIT.
    A crash between 1 and 3 leaves the row in `sending`: we do not know whether the
    message left, so it is not sent again automatically (`channels log` shows it as
    状态不明). A message is therefore delivered at most once per key, except where the
    channel itself reports a failure after accepting it (an HTTP timeout on a robot that
    did post): that attempt is retried and may arrive twice. Losing one day's digest to a
    crash costs little: the next working day's digest lists everything still open.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import apprise
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services import audit
from models import (
    ChannelKind,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    Unit,
    utcnow,
)

MAX_ATTEMPTS = 3
CHANNEL_KIND = {"email": "电子邮件", "wecom": "企业微信机器人", "dingtalk": "钉钉机器人",
                "webhook": "Webhook"}
NOTIFICATION_KIND = {"digest": "每日提醒", "escalation": "督办上报", "warning": "预警通知"}
NOTIFICATION_STATUS = {"sending": "状态不明（发送中断）", "sent": "已发送", "failed": "发送失败"}

_SCHEMES = {
    ChannelKind.email: ("mailto", "mailtos"),
    ChannelKind.wecom: ("wecombot",),
    ChannelKind.dingtalk: ("dingtalk",),
    ChannelKind.webhook: ("json", "jsons", "form", "forms", "xml", "xmls"),
}
_EMAIL = re.compile(r"^[^@\s/:?]+@[^@\s/:?]+\.[^@\s/:?]+$")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{6,128}$")


class MailSettings(BaseSettings):
    """DANGJIAN_SMTP_URL: the apprise mail URL that channels given as a bare address use."""

    model_config = SettingsConfigDict(env_prefix="DANGJIAN_", extra="ignore")
    smtp_url: str | None = None


@lru_cache
def mail_settings() -> MailSettings:
    return MailSettings()


# --- targets → apprise URLs ----------------------------------------------------------


def apprise_url(kind: ChannelKind, target: str) -> str:
    """The apprise URL a channel sends to; ValidationFailed names what is wrong."""
    target = target.strip()
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    if scheme in _SCHEMES[kind]:
        return target
    if kind == ChannelKind.email:
        if scheme or not _EMAIL.match(target):
            raise ValidationFailed(f"“{target}”不是有效的电子邮件地址或 mailto:// 地址", field="target")
        base = mail_settings().smtp_url
        if not base:
            raise ValidationFailed(
                "未配置发信服务器：请设置环境变量 DANGJIAN_SMTP_URL，例如 "
                "mailtos://用户名:授权码@smtp.example.org?from=dangjian@example.org",
                field="target")
        return _with_query(base, to=target)
    if kind == ChannelKind.wecom:
        if scheme in ("http", "https") or (not scheme and _TOKEN.match(target)):
            return target if scheme else f"wecombot://{target}"
    elif kind == ChannelKind.dingtalk:
        if scheme in ("http", "https"):
            token = parse_qs(urlsplit(target).query).get("access_token", [""])[0]
            if _TOKEN.match(token):
                return f"dingtalk://{token}"
        elif not scheme and _TOKEN.match(target):
            return f"dingtalk://{target}"
    elif kind == ChannelKind.webhook and scheme in ("http", "https"):
        return ("jsons" if scheme == "https" else "json") + target[len(scheme):]
    examples = {
        ChannelKind.wecom: "机器人 key、https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… 或 wecombot://…",
        ChannelKind.dingtalk: "access_token、https://oapi.dingtalk.com/robot/send?access_token=… 或 dingtalk://…",
        ChannelKind.webhook: "json://主机:端口/路径、jsons://…、form://… 或 http(s):// 地址",
        ChannelKind.email: "电子邮件地址",
    }
    raise ValidationFailed(f"{CHANNEL_KIND[kind]}的地址“{target}”无法识别，应为{examples[kind]}",
                           field="target")


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    query.update({k: [v] for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def _instantiate(url: str) -> Any:
    return apprise.Apprise.instantiate(url, asset=_asset(), suppress_exceptions=True)


@lru_cache
def _asset() -> apprise.AppriseAsset:
    return apprise.AppriseAsset(app_id="dangjian", app_desc="社区党建督办",
                                app_url="https://example.invalid/dangjian")


def masked(channel: NotificationChannel) -> str:
    """The target with secrets hidden: an e-mail address as given, anything else in
    apprise's privacy form (keys and tokens shortened, passwords starred)."""
    if channel.kind == ChannelKind.email and "://" not in channel.target:
        return channel.target
    try:
        plugin = _instantiate(apprise_url(channel.kind, channel.target))
    except ValidationFailed:
        plugin = None
    if plugin is None:
        return channel.target[:6] + "…"
    return str(plugin.url(privacy=True)).split("?", 1)[0]


# --- channels ------------------------------------------------------------------------


def add_channel(*, session: Session, unit_id: str, kind: ChannelKind, target: str,
                label: str = "", actor: str) -> NotificationChannel:
    """Add a unit's channel after checking that apprise understands its address."""
    if session.get(Unit, unit_id) is None:
        raise NotFound(f"未知的组织：{unit_id}", field="unit")
    target = target.strip()
    try:
        url = apprise_url(kind, target)
    except ValidationFailed as error:
        # A bare address is fine before the mail server is configured; anything else is not.
        if not (kind == ChannelKind.email and _EMAIL.match(target) and "DANGJIAN_SMTP_URL" in str(error)):
            raise
        url = None
    if url is not None and _instantiate(url) is None:
        raise ValidationFailed(f"通知地址无法使用：{CHANNEL_KIND[kind]} “{target}”", field="target")
    clash = session.execute(select(NotificationChannel.id).where(
        NotificationChannel.unit_id == unit_id, NotificationChannel.kind == kind,
        NotificationChannel.target == target)).scalar()
    if clash is not None:
        raise Conflict(f"{unit_id} 已有相同的{CHANNEL_KIND[kind]}渠道（#{clash}）", field="target")
    channel = NotificationChannel(unit_id=unit_id, kind=kind, target=target, label=label)
    session.add(channel)
    session.flush()
    audit.record(session, actor=actor, action="channel.add", entity="notification_channel",
                 entity_id=channel.id or 0,
                 after={"unit_id": unit_id, "kind": kind, "target": masked(channel), "label": label})
    session.commit()
    return channel


def set_channel_active(*, session: Session, channel_id: int, active: bool, actor: str) -> NotificationChannel:
    channel = session.get(NotificationChannel, channel_id)
    if channel is None:
        raise NotFound(f"通知渠道 #{channel_id} 不存在", field="channel")
    before = channel.active
    channel.active = active
    session.add(channel)
    audit.record(session, actor=actor, action="channel.enable" if active else "channel.disable",
                 entity="notification_channel", entity_id=channel_id,
                 before={"active": before}, after={"active": active})
    session.commit()
    return channel


def list_channels(*, session: Session, unit_id: str | None = None,
                  active_only: bool = False) -> list[NotificationChannel]:
    query = select(NotificationChannel).order_by(NotificationChannel.unit_id, NotificationChannel.id)
    if unit_id:
        query = query.where(NotificationChannel.unit_id == unit_id)
    if active_only:
        query = query.where(NotificationChannel.active.is_(True))
    return list(session.execute(query).scalars())


def channels_by_unit(session: Session) -> dict[str, list[NotificationChannel]]:
    """Every active channel, by unit (a few per unit, a few thousand at most)."""
    result: dict[str, list[NotificationChannel]] = {}
    for channel in list_channels(session=session, active_only=True):
        result.setdefault(channel.unit_id, []).append(channel)
    return result


def notification_log(*, session: Session, as_of: date | None = None, unit_id: str | None = None,
                     status: NotificationStatus | None = None, limit: int = 200) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if as_of:
        query = query.where(Notification.as_of == as_of)
    if unit_id:
        query = query.where(Notification.recipient_unit_id == unit_id)
    if status:
        query = query.where(Notification.status == status)
    return list(session.execute(query).scalars())


# --- delivery ------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    key: str
    channel: NotificationChannel
    recipient_unit_id: str
    cycle_id: int | None
    kind: NotificationKind
    as_of: date
    title: str
    body: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)        # keys
    failed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)     # sent earlier, or in doubt: not resent

    def merge(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(self.sent + other.sent, self.failed + other.failed,
                              self.already + other.already)


def _insert(session: Session) -> Any:
    return pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert


def claim(session: Session, message: Message) -> bool:
    """Step 1: take the key, committed. False when it was sent, is in doubt, or gave up."""
    values = {
        "key": message.key, "channel_id": message.channel.id,
        "recipient_unit_id": message.recipient_unit_id, "cycle_id": message.cycle_id,
        "kind": message.kind.value, "as_of": message.as_of, "title": message.title,
        "body": message.body, "details": message.details,
        "status": NotificationStatus.sending.value, "attempts": 1, "created_at": utcnow(),
    }
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here.
    taken = session.execute(
        _insert(session)(Notification.__table__).values(**values)
        .on_conflict_do_nothing(index_elements=["key"]).returning(Notification.__table__.c.id)
    ).first()
    if taken is None:
        taken = session.execute(
            update(Notification)
            .where(Notification.key == message.key,
                   Notification.status == NotificationStatus.failed,
                   Notification.attempts < MAX_ATTEMPTS)
            .values(status=NotificationStatus.sending, attempts=Notification.attempts + 1,
                    title=message.title, body=message.body, details=message.details, error=None)
            .returning(Notification.id)
        ).first()
    session.commit()
    return taken is not None


def send(channel: NotificationChannel, title: str, body: str) -> str | None:
    """Step 2: send one message through apprise. None when sent, else the channel's error."""
    try:
        url = apprise_url(channel.kind, channel.target)
    except ValidationFailed as error:
        return error.message
    sender = apprise.Apprise(asset=_asset())
    if not sender.add(url):
        return f"通知地址无法使用（渠道 #{channel.id}）"
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if ok:
        return None
    lines = [line.split(" - ", 2)[-1] for line in log.getvalue().splitlines() if line.strip()]
    return "；".join(lines)[-1000:] or "渠道返回失败"


def record(session: Session, key: str, error: str | None) -> None:
    """Step 3: the outcome, committed."""
    values: dict[str, Any] = {"status": NotificationStatus.failed, "error": error}
    if error is None:
        values = {"status": NotificationStatus.sent, "sent_at": utcnow(), "error": None}
    session.execute(update(Notification).where(Notification.key == key).values(**values))
    session.commit()


def deliver(session: Session, messages: Iterable[Message]) -> DeliveryReport:
    report = DeliveryReport()
    for message in messages:
        if not claim(session, message):
            report.already.append(message.key)
            continue
        error = send(message.channel, message.title, message.body)
        record(session, message.key, error)
        (report.failed if error else report.sent).append(message.key)
    return report
