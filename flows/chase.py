"""The daily chase: sweep (overdue tasks, lapsed waivers) → reminders and escalation → warnings.

One Prefect task per step and cycle (DESIGN.md: never one per domain task). Each step
is idempotent, so a retried or repeated run sends nothing twice (notify.py).
"""
from __future__ import annotations

from datetime import date

from prefect import flow, task

from dangjian.clock import today
from dangjian.services.chasing import raise_warnings, send_reminders, send_warning_notices
from dangjian.services.cycles import get_cycle, list_cycles
from dangjian.services.sweep import sweep_overdue
from flows._retry import transient_retries
from flows._session import session_scope
from models import CycleState


@task(name="chase-sweep", **transient_retries())
def sweep(cycle_code: str, as_of: str) -> dict[str, int]:
    """Overdue tasks and lapsed waivers (the sweep service expires waivers first)."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        report = sweep_overdue(session=session, cycle_id=cycle.id or 0,
                               as_of=date.fromisoformat(as_of), actor="flow:chase")
    return {"marked_overdue": report.marked_overdue,
            "waivers_expired": report.waivers_expired}


@task(name="chase-remind", **transient_retries())
def remind(cycle_code: str, as_of: str) -> dict[str, int]:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        report = send_reminders(session=session, cycle_id=cycle.id or 0, as_of=date.fromisoformat(as_of))
    return report.counts()


@task(name="chase-warn", **transient_retries())
def warn(cycle_code: str, as_of: str) -> dict[str, int]:
    day = date.fromisoformat(as_of)
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        raised = raise_warnings(session=session, cycle_id=cycle.id or 0, as_of=day, actor="flow:chase")
        notices = send_warning_notices(session=session, cycle_id=cycle.id or 0, as_of=day)
    return {**raised.counts(), "notices_sent": len(notices.sent), "notices_failed": len(notices.failed)}


@task(name="chase-open-cycles", **transient_retries())
def open_cycles() -> list[str]:
    with session_scope() as session:
        return [c.code for c in list_cycles(session) if c.state == CycleState.open]


@flow(name="chase", description="每日督办：标记逾期、发送提醒与督办上报、登记并通知预警")
def chase(cycle_code: str | None = None, as_of: str | None = None) -> dict[str, dict[str, int]]:
    """`as_of` is a Shanghai calendar date (YYYY-MM-DD); default today in Asia/Shanghai.
    Without a cycle, every open cycle."""
    day = as_of or today().isoformat()
    results: dict[str, dict[str, int]] = {}
    for code in [cycle_code] if cycle_code else open_cycles():
        swept = sweep(code, day)
        reminded = remind(code, day)
        warned = warn(code, day)
        results[code] = {**swept, **reminded, **warned}
    return results
