"""Waivers: a unit above the branch excuses a task, or marks it not applicable, until a date.

    open / overdue --waive--> excused | not_applicable
    excused | not_applicable --expire_waivers(as_of), expires_on < as_of--> overdue (due_on < as_of) | open
    excused --close (the work was done after all)--> done | late | submitted (the waiver ends)
    not_applicable: not reported (closing refuses it)

How an excused task scores is rule-set data (duty_deduction's `excused:` option); the
metrics count a task as excused only while its waiver is in force (services/scoring.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, literal, select, update
from sqlmodel import Session

from dangjian.clock import now_utc, shanghai_date
from dangjian.db import get_by_id
from dangjian.errors import Conflict, Forbidden, NotFound, ValidationFailed
from dangjian.labels import TASK_STATE, WAIVER_KIND
from dangjian.services import audit
from dangjian.services.closing import OPEN_STATES, WAIVED_STATES
from dangjian.services.cycle_state import require_writable
from dangjian.services.review import is_above
from models import Task, TaskState, Unit, Waiver, WaiverEnd, WaiverKind


@dataclass(frozen=True)
class ExpiryReport:
    as_of: date
    expired: int
    task_ids: list[int]


def waive(*, session: Session, task_id: int, kind: WaiverKind | str, reason: str, until: date,
          approver: str, approving_unit: str, now: datetime | None = None) -> Waiver:
    """Excuse a task (or mark it not applicable) until `until` (a Shanghai date, inclusive)."""
    now = now or now_utc()
    if kind not in WaiverKind.__members__:
        allowed = "、".join(f"{k}（{WAIVER_KIND[k]}）" for k in WaiverKind.__members__)
        raise ValidationFailed(f"未知的豁免类型：{kind}（可选：{allowed}）", field="kind")
    kind = WaiverKind(kind)
    task = get_by_id(session, Task, task_id)
    if task is None:
        raise NotFound(f"任务 #{task_id} 不存在", field="task")
    require_writable(session, [task.cycle_id], "豁免或标为不适用")   # held to the commit
    unit = session.get(Unit, approving_unit) if approving_unit else None
    if unit is None:
        raise NotFound(f"批准单位 {approving_unit or '（未填）'} 不存在", field="unit")
    branch = session.get(Unit, task.owner_unit_id)
    assert branch is not None
    if not is_above(unit, branch):
        raise Forbidden(f"{unit.name}（{unit.id}）不是 {branch.name}（{branch.id}）的上级组织，"
                        f"无权批准任务 #{task_id} 的{WAIVER_KIND[kind]}", field="unit")
    problems = []
    if not (reason or "").strip():
        problems.append("须填写理由（reason）")
    if not (approver or "").strip():
        problems.append("须填写批准人（by）")
    today = shanghai_date(now)
    if until < today:
        problems.append(f"有效期至 {until} 早于今天（{today}，北京时间）")
    if problems:
        raise ValidationFailed(f"任务 #{task_id} 的{WAIVER_KIND[kind]}申请未通过校验：", details=problems)
    if task.state not in OPEN_STATES:
        state = TASK_STATE.get(task.state, task.state)
        hint = ""
        if task.state in WAIVED_STATES:
            current = session.execute(
                select(Waiver).where(Waiver.task_id == task_id, Waiver.ended_at.is_(None))
                .order_by(Waiver.id.desc()).limit(1)).scalar()
            hint = f"（至 {current.expires_on}）" if current else ""
        raise Conflict(f"任务 #{task_id} 当前为“{state}”{hint}，只有待完成或已逾期的任务可以豁免或标为不适用",
                       field="task")
    waiver = Waiver(task_id=task_id, kind=kind, approver=approver.strip(), approving_unit_id=unit.id,
                    reason=reason.strip(), granted_at=now, expires_on=until)
    session.add(waiver)
    session.flush()
    before = {"state": task.state}
    task.state = TaskState(kind.value)
    task.updated_at = now
    session.add(task)
    audit.record(session, actor=approver.strip(), action="task.waive", entity="task", entity_id=task_id,
                 before=before, after={"state": task.state, "waiver_id": waiver.id})
    audit.record(session, actor=approver.strip(), action="waiver.grant", entity="waiver",
                 entity_id=waiver.id or 0,
                 after={"task_id": task_id, "kind": kind, "reason": waiver.reason, "expires_on": until,
                        "approving_unit": unit.id})
    session.commit()
    return waiver


def expire_waivers(*, session: Session, as_of: date, cycle_id: int | None = None, actor: str = "system",
                   now: datetime | None = None, commit: bool = True) -> ExpiryReport:
    """End every waiver whose last day is before `as_of`; its task goes back to open, or to
    overdue when already past due. Set-based: two UPDATEs; one audit event per task."""
    now = now or now_utc()
    lapsed = (select(Waiver.id, Waiver.task_id, Task.state)
              .join(Task, Task.id == Waiver.task_id)
              .where(Waiver.ended_at.is_(None), Waiver.expires_on < as_of))
    if cycle_id is not None:
        lapsed = lapsed.where(Task.cycle_id == cycle_id)
    rows = session.execute(lapsed.order_by(Waiver.id)).all()
    if not rows:
        if commit:
            session.commit()
        return ExpiryReport(as_of, 0, [])
    waiver_ids = [w for w, _, _ in rows]
    task_ids = sorted({t for _, t, state in rows if state in WAIVED_STATES})
    if task_ids:
        session.execute(
            update(Task).where(Task.id.in_(task_ids), Task.state.in_(WAIVED_STATES))
            .values(state=case((Task.due_on < as_of, literal(TaskState.overdue.value)),
                               else_=literal(TaskState.open.value)),
                    updated_at=now)
            .execution_options(synchronize_session="fetch")
        )
    session.execute(
        update(Waiver).where(Waiver.id.in_(waiver_ids))
        .values(ended_at=now, end_reason=WaiverEnd.expired)
        .execution_options(synchronize_session="fetch")
    )
    states = dict(session.execute(select(Task.id, Task.state).where(Task.id.in_(task_ids))).all())
    for waiver_id, task_id, before in rows:
        if task_id in states:
            audit.record(session, actor=actor, action="task.waiver_expired", entity="task", entity_id=task_id,
                         before={"state": before}, after={"state": states[task_id], "waiver_id": waiver_id,
                                                          "as_of": as_of})
    if commit:
        session.commit()
    return ExpiryReport(as_of, len(task_ids), task_ids)


def active_waivers(*, session: Session, task_ids: list[int]) -> dict[int, Waiver]:
    """The waiver in force for each task that has one."""
    return {w.task_id: w for w in session.execute(
        select(Waiver).where(Waiver.task_id.in_(task_ids), Waiver.ended_at.is_(None)).order_by(Waiver.id)
    ).scalars()}
