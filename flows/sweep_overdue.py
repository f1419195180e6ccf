"""The daily sweep: open tasks past due become overdue, for one cycle or every open cycle."""
from __future__ import annotations

from datetime import date

from prefect import flow, task

from dangjian.clock import today
from dangjian.services.cycles import get_cycle, list_cycles
from dangjian.services.sweep import sweep_overdue as sweep_service
from flows._retry import transient_retries
from flows._session import session_scope
from models import CycleState


@task(name="sweep-cycle", **transient_retries())
def sweep_cycle(cycle_code: str, as_of: str) -> int:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        report = sweep_service(session=session, cycle_id=cycle.id or 0,
                               as_of=date.fromisoformat(as_of), actor="flow:sweep_overdue")
    return report.marked_overdue


@task(name="open-cycles", **transient_retries())
def open_cycles() -> list[str]:
    with session_scope() as session:
        return [c.code for c in list_cycles(session) if c.state == CycleState.open]


@flow(name="sweep-overdue", description="每日督办：把已过截止日期仍未完成的任务标为逾期")
def sweep_overdue(cycle_code: str | None = None, as_of: str | None = None) -> dict[str, int]:
    """`as_of` is a Shanghai calendar date (YYYY-MM-DD); default today in Asia/Shanghai."""
    day = as_of or today().isoformat()
    codes = [cycle_code] if cycle_code else open_cycles()
    return {code: sweep_cycle(code, day) for code in codes}
