"""Append-only audit events, chained by hash so a removed or edited row shows."""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models import AuditEvent, utcnow

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value


def event_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller's transaction commits it)."""
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = utcnow()
    payload = {
        "at": at.isoformat(), "actor": actor, "action": action, "entity": entity,
        "entity_id": str(entity_id), "before": _jsonable(before), "after": _jsonable(after),
    }
    event = AuditEvent(
        at=at, actor=actor, action=action, entity=entity, entity_id=str(entity_id),
        before=payload["before"], after=payload["after"], prev_hash=prev,
        hash=event_hash(prev, payload),
    )
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session) -> list[int]:
    """Ids of events whose hash does not match their content or predecessor (empty = intact)."""
    broken: list[int] = []
    prev = GENESIS
    for ev in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        payload = {
            "at": ev.at.isoformat(), "actor": ev.actor, "action": ev.action, "entity": ev.entity,
            "entity_id": ev.entity_id, "before": ev.before, "after": ev.after,
        }
        if ev.prev_hash != prev or ev.hash != event_hash(prev, payload):
            broken.append(ev.id or 0)
        prev = ev.hash
    return broken
