"""Plan a cycle: every duty of its rule set × every unit or member that owes it × every period.

Run without a cycle (the monthly schedule) it re-plans every open cycle as of today, so
members who joined or moved and branches that gained a committee owe the periods not yet
started; started periods are never touched.
"""
from __future__ import annotations

from datetime import date

from prefect import flow, task

from dangjian.services.cycles import get_cycle, list_cycles
from dangjian.services.development import sync_tasks
from dangjian.services.planning import plan_cycle as plan_cycle_service
from flows._retry import transient_retries
from flows._session import session_scope
from models import CycleState


@task(name="plan-cycle-tasks", **transient_retries())
def plan_tasks(cycle_code: str, as_of: str | None = None) -> dict[str, int]:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        report = plan_cycle_service(session=session, cycle_id=cycle.id or 0,
                                    as_of=date.fromisoformat(as_of) if as_of else None,
                                    actor="flow:plan_cycle")
    return {"added": report.added, "total": report.total,
            "not_applicable": report.not_applicable}


@task(name="plan-development-tasks", **transient_retries())
def plan_development_tasks(cycle_code: str) -> int:
    """发展党员 cases whose next window opens in this cycle get their tasks here."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        return sync_tasks(session=session, cycle_id=cycle.id or 0, actor="flow:plan_cycle")


@task(name="open-cycles-to-plan", **transient_retries())
def open_cycles() -> list[str]:
    with session_scope() as session:
        return [c.code for c in list_cycles(session) if c.state == CycleState.open]


@flow(name="plan-cycle", description="按规则集为考核周期生成任务（幂等）；不指定周期时按当日重排所有进行中的周期")
def plan_cycle(cycle_code: str | None = None, as_of: str | None = None) -> dict[str, int] | dict[str, dict[str, int]]:
    """`as_of` (a Shanghai date) limits re-planning to periods starting after it."""
    codes = [cycle_code] if cycle_code else open_cycles()
    reports = {}
    for code in codes:
        reports[code] = plan_tasks(code, as_of)
        reports[code]["development"] = plan_development_tasks(code)
    return reports[cycle_code] if cycle_code else reports
