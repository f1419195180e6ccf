"""The daily sweep: open tasks past their due date become overdue, in one statement."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlmodel import Session

from dangjian.errors import NotFound
from dangjian.services import audit
from dangjian.services.waivers import expire_waivers
from models import Cycle, Task, TaskState, utcnow


@dataclass(frozen=True)
class SweepReport:
    cycle_code: str
    as_of: date
    marked_overdue: int
    waivers_expired: int = 0


def sweep_overdue(*, session: Session, cycle_id: int, as_of: date, actor: str = "system",
                  commit: bool = True) -> SweepReport:
    """Mark every open task due before `as_of` (a Shanghai date) as overdue. `commit=False`
    leaves the transaction open for a caller whose own change must land with it."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    expired = expire_waivers(session=session, as_of=as_of, cycle_id=cycle_id, actor=actor, commit=False)
    result = session.execute(
        update(Task)
        .where(Task.cycle_id == cycle_id, Task.state == TaskState.open, Task.due_on < as_of)
        .values(state=TaskState.overdue, updated_at=utcnow())
    )
    marked = result.rowcount or 0
    if marked:
        audit.record(session, actor=actor, action="task.sweep_overdue", entity="cycle",
                     entity_id=cycle_id,
                     after={"as_of": as_of, "marked_overdue": marked,
                            "rule": "state=open and due_on < as_of → overdue"})
    if commit:
        session.commit()
    return SweepReport(cycle_code=cycle.code, as_of=as_of, marked_overdue=marked,
                       waivers_expired=expired.expired)
