"""Append-only audit events, chained by hash so a removed or edited row shows.

`record()` queues an event on the session; the events of a transaction are chained and
written together, in bulk, just before it commits (and dropped if it rolls back). The
append first takes the lock on the one `audit_head` row, so concurrent writers queue up
and the chain never forks; the head then carries the new length and last hash, so a
truncated tail shows. Anchors copy the head at score runs and verifications: rewriting
and re-hashing events before an anchor shows too. The database refuses UPDATE and DELETE
on audit_event (triggers, migration 0009).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlmodel import Session

from dangjian.clock import now_utc
from models import AuditAnchor, AuditEvent, AuditHead

GENESIS = "0" * 64
_PENDING = "dangjian.audit.pending"


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


def event_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _payload(at: datetime, actor: str, action: str, entity: str, entity_id: str,
             before: Any, after: Any) -> dict[str, Any]:
    return {"at": at.isoformat(), "actor": actor, "action": action, "entity": entity,
            "entity_id": entity_id, "before": before, "after": after}


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Queue one audit event; the caller's commit chains and writes it."""
    at = now_utc()
    session.info.setdefault(_PENDING, []).append(
        _payload(at, actor, action, entity, str(entity_id), _jsonable(before), _jsonable(after)) | {"_at": at})


def _lock_head(session: Session) -> tuple[int, str]:
    """Take the head row's lock (a no-op UPDATE) and read it: appenders queue here."""
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(count=AuditHead.count))
    row = session.execute(select(AuditHead.count, AuditHead.hash).where(AuditHead.id == 1)).one_or_none()
    if row is None:   # a database created before the head existed is migrated with one
        session.execute(insert(AuditHead).values(id=1, count=0, hash=GENESIS))
        return 0, GENESIS
    return int(row[0]), str(row[1])


def _append(session: Session, events: list[dict[str, Any]]) -> tuple[int, str]:
    count, prev = _lock_head(session)
    rows = []
    for e in events:
        at = e.pop("_at")
        count += 1
        digest = event_hash(prev, e)
        rows.append({"seq": count, "at": at, "actor": e["actor"], "action": e["action"], "entity": e["entity"],
                     "entity_id": e["entity_id"], "before": e["before"], "after": e["after"],
                     "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(rows), 5000):
        session.execute(insert(AuditEvent), rows[start:start + 5000])
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(count=count, hash=prev))
    return count, prev


_MARKS = "dangjian.audit.savepoint_marks"


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return          # a savepoint released: its events wait for the outer commit
    events = session.info.pop(_PENDING, None)
    if events:
        _append(session, events)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: Any) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[id(transaction)] = len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    """A rolled-back savepoint drops the events recorded inside it; any other rollback, all."""
    if previous_transaction.nested:
        mark = session.info.get(_MARKS, {}).pop(id(previous_transaction), None)
        if mark is not None and _PENDING in session.info:
            del session.info[_PENDING][mark:]
    else:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_with_transaction(session: Session, transaction: Any) -> None:
    """Events never outlive the transaction they were recorded in (a closed session too)."""
    if transaction.parent is None:      # (a savepoint's mark is read by after_soft_rollback,
        session.info.pop(_PENDING, None)  # which runs after this event: marks go with the root)
        session.info.pop(_MARKS, None)


def flush_pending(session: Session) -> tuple[int, str] | None:
    """Write the queued events now (within the transaction); (length, head hash) after."""
    events = session.info.pop(_PENDING, None)
    return _append(session, events) if events else None


def anchor(session: Session, reason: str) -> AuditAnchor:
    """Copy the head (after this transaction's own events) into audit_anchor."""
    flush_pending(session)
    count, digest = _lock_head(session)
    row = AuditAnchor(at=now_utc(), count=count, hash=digest, reason=reason[:80])
    session.add(row)
    session.flush()
    return row


@dataclass
class ChainReport:
    events: int = 0
    broken: list[int] = field(default_factory=list)        # seq of events that do not verify
    gaps: list[int] = field(default_factory=list)          # seq missing from 1..n
    head_count: int | None = None
    head_hash: str | None = None
    last_hash: str = GENESIS
    anchors_checked: int = 0
    anchors_broken: list[str] = field(default_factory=list)
    last_anchor: AuditAnchor | None = None

    @property
    def intact(self) -> bool:
        return not (self.broken or self.gaps or self.anchors_broken or self.head_problem)

    @property
    def head_problem(self) -> str | None:
        if self.head_count is None:
            return "审计链头（audit_head）缺失" if self.events else None
        if self.head_count != self.events:
            return f"链头记录共 {self.head_count} 条，实有 {self.events} 条（末尾的记录被删除或链头被改动）"
        if self.head_hash != self.last_hash:
            return "链头哈希与最后一条记录不符（末尾的记录被改写）"
        return None


def _events_in_order(session: Session, up_to: int | None) -> Iterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if up_to is not None:
        query = query.where(AuditEvent.seq <= up_to)
    return session.execute(query.execution_options(yield_per=2000)).scalars()


def check_chain(session: Session) -> ChainReport:
    """Walk the chain up to the head as it stands now, and compare it with the head and with
    every anchor. The head is read first: events appended while the walk runs lie beyond it
    and are left for the next check, so a busy system does not look truncated."""
    report = ChainReport()
    # Anchors before the head: an anchor taken now cannot lie beyond the head read after it,
    # so one that does shows a head moved back (a cut tail with a rewritten head).
    anchors = list(session.execute(select(AuditAnchor).order_by(AuditAnchor.id)).scalars())
    head = session.get(AuditHead, 1)
    if head is not None:
        report.head_count, report.head_hash = head.count, head.hash
    wanted = {a.count for a in anchors}
    hashes_at: dict[int, str] = {}
    prev, expected_seq = GENESIS, 1
    for ev in _events_in_order(session, report.head_count):
        while expected_seq < ev.seq:
            report.gaps.append(expected_seq)
            expected_seq += 1
        expected_seq = ev.seq + 1
        payload = _payload(ev.at, ev.actor, ev.action, ev.entity, ev.entity_id, ev.before, ev.after)
        if ev.prev_hash != prev or ev.hash != event_hash(prev, payload):
            report.broken.append(ev.seq)
        prev = ev.hash
        report.events += 1
        if ev.seq in wanted:
            hashes_at[ev.seq] = ev.hash
    report.last_hash = prev
    for a in anchors:
        report.anchors_checked += 1
        if a.count and hashes_at.get(a.count) != a.hash:
            report.anchors_broken.append(f"锚点 #{a.id}（{a.reason}，第 {a.count} 条）")
    report.last_anchor = anchors[-1] if anchors else None
    return report


def verify_chain(session: Session) -> list[int]:
    """Seq numbers of events whose hash does not match their content or predecessor."""
    return check_chain(session).broken


def recent_events(session: Session, *, limit: int = 20, entity: str | None = None,
                  entity_id: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(max(1, min(limit, 1000)))
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    return list(session.execute(query).scalars())


def verify(*, session: Session, actor: str = "system") -> ChainReport:
    """Check the whole chain; when intact, record an anchor at its head (and commit)."""
    report = check_chain(session)
    if report.intact and report.events:
        # The anchor is what was verified, not the head as it may have moved meanwhile.
        row = AuditAnchor(at=now_utc(), count=report.events, hash=report.last_hash,
                          reason=f"核验（{actor}）"[:80])
        session.add(row)
        session.commit()
        session.refresh(row)
        report.last_anchor = row
    return report


def problems(report: ChainReport) -> list[str]:
    """What is wrong with a chain, in Chinese, one line each (empty when intact)."""
    lines = []
    if report.broken:
        shown = "、".join(f"第 {s} 条" for s in report.broken[:20])
        more = f" 等共 {len(report.broken)} 条" if len(report.broken) > 20 else ""
        lines.append(f"哈希不符（内容被改动或之前的记录被删除/改写）：{shown}{more}")
    if report.gaps:
        shown = "、".join(f"第 {s} 条" for s in report.gaps[:20])
        more = f" 等共 {len(report.gaps)} 条" if len(report.gaps) > 20 else ""
        lines.append(f"记录缺失：{shown}{more}")
    if report.head_problem:
        lines.append(report.head_problem)
    lines += [f"{a} 与现存记录不符（锚点之前的记录被改写并重算哈希）" for a in report.anchors_broken]
    return lines
