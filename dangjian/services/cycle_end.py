"""The end of a cycle: what is still not done becomes missed, the cycle closes, and a
final (unpublished) scoring run records the result for the district to review and publish."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlmodel import Session

from dangjian.errors import Conflict, NotFound
from dangjian.services import audit
from dangjian.services.scoring import score_cycle
from dangjian.services.sweep import sweep_overdue
from models import Cycle, CycleState, Task, TaskState, utcnow


@dataclass(frozen=True)
class CycleEndReport:
    cycle_code: str
    missed: int
    score_version: int


def close_cycle(*, session: Session, cycle_id: int, as_of: date, actor: str = "system") -> CycleEndReport:
    """Close an open cycle whose span has ended (as of a Shanghai date)."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    if cycle.state != CycleState.open:
        raise Conflict(f"考核周期 {cycle.code} 当前状态为 {cycle.state}，只能结束进行中的周期")
    if as_of <= cycle.end_on:
        raise Conflict(f"考核周期 {cycle.code} 到 {cycle.end_on} 才结束，不能在 {as_of} 结束")
    sweep_overdue(session=session, cycle_id=cycle_id, as_of=as_of, actor=actor)
    # Only tasks due by now become missed; a task whose due date rolled past the
    # cycle's end (a holiday) keeps its chance until then.
    missed = session.execute(
        update(Task).where(Task.cycle_id == cycle_id, Task.state == TaskState.overdue)
        .values(state=TaskState.missed, updated_at=utcnow())
    ).rowcount or 0
    cycle.state = CycleState.closed
    session.add(cycle)
    audit.record(session, actor=actor, action="cycle.close", entity="cycle", entity_id=cycle_id,
                 after={"as_of": as_of, "tasks_missed": missed})
    session.commit()
    run = score_cycle(session=session, cycle_id=cycle_id, as_of=as_of, actor=actor)
    return CycleEndReport(cycle.code, missed, run.version)
