"""The cycle's end: close every open cycle whose span has ended and score it finally."""
from __future__ import annotations

from datetime import date

from prefect import flow, task

from dangjian.clock import today
from dangjian.services.cycle_end import close_cycle as close_cycle_service
from dangjian.services.cycles import get_cycle, list_cycles
from flows._retry import transient_retries
from flows._session import session_scope
from models import CycleState


@task(name="close-one-cycle", **transient_retries())
def close_one(cycle_code: str, as_of: str) -> dict[str, int]:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        report = close_cycle_service(session=session, cycle_id=cycle.id or 0,
                                     as_of=date.fromisoformat(as_of), actor="flow:close_cycle")
    return {"missed": report.missed, "score_version": report.score_version,
            "already_closed": int(report.already_closed)}


@task(name="ended-cycles", **transient_retries())
def ended_cycles(as_of: str) -> list[str]:
    day = date.fromisoformat(as_of)
    with session_scope() as session:
        return [c.code for c in list_cycles(session) if c.state == CycleState.open and c.end_on < day]


@flow(name="close-cycle", description="周期结束：未完成任务记为未完成，关闭周期并生成最终评分（待发布）")
def close_cycle(cycle_code: str | None = None, as_of: str | None = None) -> dict[str, dict[str, int]]:
    day = as_of or today().isoformat()
    codes = [cycle_code] if cycle_code else ended_cycles(day)
    return {code: close_one(code, day) for code in codes}
