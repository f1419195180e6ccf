"""What a cycle's state allows: a cycle not yet planned cannot be scored; a closed cycle is
read-only (no reports, corrections, reviews, waivers, metric or manual values, planning or
new score runs) until an administrator reopens it (`reopen_cycle`, audited).

The state is read inside the caller's write transaction and held to its commit, so a
write cannot slip past a simultaneous close-cycle: on PostgreSQL the cycle row is read
FOR SHARE (close-cycle takes it FOR UPDATE, so one waits for the other, and a writer that
waited re-reads the closed state); on SQLite the database write lock is taken first
(every writer holds the one lock), so the state read is the committed one.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select, update
from sqlmodel import Session

from dangjian.clock import shanghai_date, today
from dangjian.db import serialise
from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services import audit
from models import AuditEvent, Cycle, CycleState, Task, TaskState, utcnow

READ_ONLY = {CycleState.closed, CycleState.published}


def closed_on(session: Session, cycle_id: int) -> date | None:
    """The Shanghai day of the cycle's last close (from the audit log)."""
    at = session.execute(
        select(AuditEvent.at).where(AuditEvent.action == "cycle.close", AuditEvent.entity == "cycle",
                                    AuditEvent.entity_id == str(cycle_id))
        .order_by(AuditEvent.seq.desc()).limit(1)).scalar()
    return shanghai_date(at) if at is not None else None


def closed_message(session: Session, cycle: Cycle, doing: str) -> str:
    day = closed_on(session, cycle.id or 0)
    when = f"（关闭于 {day}）" if day else ""
    return (f"周期 {cycle.code} 已结束{when}，不能再{doing}；"
            f"确需改动，请由区委管理员运行 dangjian cycle reopen {cycle.code} --reason … --by …")


def require_writable(session: Session, cycle_ids: Iterable[int], doing: str) -> None:
    """Refuse with Conflict if any of these cycles is closed; hold their state to commit."""
    ids = sorted(set(cycle_ids))
    if not ids:
        return
    if session.get_bind().dialect.name != "postgresql":
        serialise(session, "cycle-state")        # SQLite: the write lock first, then read
    cycles = session.execute(
        select(Cycle).where(Cycle.id.in_(ids)).with_for_update(read=True)
        .execution_options(populate_existing=True)).scalars().all()
    for cycle in cycles:
        if cycle.state in READ_ONLY:
            raise Conflict(closed_message(session, cycle, doing), field="cycle")


def require_planned(session: Session, cycle: Cycle) -> None:
    """Scoring a cycle without tasks would give every unit full marks for duties it never had."""
    planned = session.execute(select(func.count()).select_from(Task)
                              .where(Task.cycle_id == cycle.id)).scalar_one()
    if cycle.state == CycleState.draft or not planned:
        raise Conflict(f"周期 {cycle.code} 尚未生成任务，不能评分：请先运行 dangjian plan {cycle.code}",
                       field="cycle")


def reopen_cycle(*, session: Session, cycle_id: int, reason: str, actor: str) -> Cycle:
    """Administrator's undo of close-cycle: the cycle is open again, and the tasks the close
    settled as missed are overdue again (or open, when not yet due), so they can be reported
    or corrected; closing again settles them anew. Audited with the reason."""
    if not reason.strip() or not actor.strip():
        raise ValidationFailed("重新打开周期须填写原因（--reason）和操作人（--by）", field="reason")
    serialise(session, f"cycle-end:{cycle_id}")
    cycle = session.get(Cycle, cycle_id, populate_existing=True, with_for_update=True)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在", field="cycle")
    if cycle.state not in READ_ONLY:
        raise Conflict(f"周期 {cycle.code} 未结束，无须重新打开", field="cycle")
    day, now = today(), utcnow()
    overdue = session.execute(
        update(Task).where(Task.cycle_id == cycle_id, Task.state == TaskState.missed, Task.due_on < day)
        .values(state=TaskState.overdue, updated_at=now)).rowcount or 0
    reopened = session.execute(
        update(Task).where(Task.cycle_id == cycle_id, Task.state == TaskState.missed)
        .values(state=TaskState.open, updated_at=now)).rowcount or 0
    before = cycle.state
    cycle.state = CycleState.open
    session.add(cycle)
    audit.record(session, actor=actor.strip(), action="cycle.reopen", entity="cycle", entity_id=cycle_id,
                 before={"state": before},
                 after={"state": CycleState.open, "reason": reason.strip(),
                        "tasks_overdue": overdue, "tasks_open": reopened})
    session.commit()
    return cycle
