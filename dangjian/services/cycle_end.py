"""The end of a cycle: what is still not done becomes missed, the cycle closes, and a
final (unpublished) scoring run records the result for the district to review and publish.

The close is the cycle's last deadline: every task still open or overdue becomes missed,
also one whose due date lies after the close (a yearly duty due after the cycle's end, a
due date rolled past it by a holiday). Its period belongs to the cycle, and a closed cycle
takes no more reports (dangjian.services.cycle_state), so leaving it open would leave it
open for ever. Tasks awaiting review (submitted, returned) keep their state: the final
run counts them by their due date, and a reopened cycle can still decide them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlmodel import Session

from dangjian.db import serialise
from dangjian.errors import Conflict, NotFound
from dangjian.services import audit
from dangjian.services.scoring import add_score_run
from dangjian.services.sweep import sweep_overdue
from models import Cycle, CycleState, ScoreRun, Task, TaskState, utcnow


@dataclass(frozen=True)
class CycleEndReport:
    cycle_code: str
    missed: int
    score_version: int
    already_closed: bool = False


def _already_closed(session: Session, cycle: Cycle) -> CycleEndReport:
    missed = session.execute(select(func.count()).select_from(Task).where(
        Task.cycle_id == cycle.id, Task.state == TaskState.missed)).scalar_one()
    version = session.execute(select(func.max(ScoreRun.version)).where(ScoreRun.cycle_id == cycle.id)).scalar()
    return CycleEndReport(cycle.code, int(missed), int(version or 0), already_closed=True)


def close_cycle(*, session: Session, cycle_id: int, as_of: date, actor: str = "system") -> CycleEndReport:
    """Close an open cycle whose span has ended (as of a Shanghai date)."""
    serialise(session, f"cycle-end:{cycle_id}")     # a second, simultaneous end finds it closed
    # FOR UPDATE: a report, review or score holding the cycle FOR SHARE (cycle_state) lands
    # first; one starting now waits and then finds the cycle closed.
    cycle = session.get(Cycle, cycle_id, populate_existing=True, with_for_update=True)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    if cycle.state in (CycleState.closed, CycleState.published):
        # Ending an ended cycle again (a retry, a re-run after a crash) changes nothing and
        # reports what the end did.
        return _already_closed(session, cycle)
    if cycle.state != CycleState.open:
        raise Conflict(f"考核周期 {cycle.code} 尚未开始（未生成任务），不能结束")
    if as_of <= cycle.end_on:
        raise Conflict(f"考核周期 {cycle.code} 到 {cycle.end_on} 才结束，不能在 {as_of} 结束")
    sweep_overdue(session=session, cycle_id=cycle_id, as_of=as_of, actor=actor, commit=False)
    # Everything not done, whatever its due date (see the module docstring).
    missed = session.execute(
        update(Task).where(Task.cycle_id == cycle_id, Task.state.in_([TaskState.open, TaskState.overdue]))
        .values(state=TaskState.missed, updated_at=utcnow())
    ).rowcount or 0
    cycle.state = CycleState.closed
    session.add(cycle)
    audit.record(session, actor=actor, action="cycle.close", entity="cycle", entity_id=cycle_id,
                 after={"as_of": as_of, "tasks_missed": missed})
    session.flush()
    # One transaction: a cycle is never closed without its final run (a crash in between
    # would leave a closed cycle that a re-run refuses to close again).
    run = add_score_run(session=session, cycle_id=cycle_id, as_of=as_of, actor=actor, closing=True)
    session.commit()
    return CycleEndReport(cycle.code, missed, run.version)
