"""Listing tasks: an open task past its due date shows as overdue the moment it is listed,
not only after the nightly sweep (issue 11: `tasks list --state 已逾期` was empty until chase ran)."""
from __future__ import annotations

from datetime import date

from dangjian.services.tasks import list_tasks
from tests.services.test_planning_demo import planned_demo


def test_an_open_task_past_due_is_listed_as_overdue_before_any_sweep(session):
    _report, tasks = planned_demo(session)
    branch = "620621-01-01-ZB"
    as_of = date(2026, 5, 10)
    overdue = list_tasks(session=session, cycle_code="2026", unit_id=branch, state="已逾期", as_of=as_of)
    assert overdue, "open tasks due before 2026-05-10 must be listed as overdue"
    assert all(row.due_on < as_of and row.state == "overdue" for row in overdue)
    still_open = list_tasks(session=session, cycle_code="2026", unit_id=branch, state="open", as_of=as_of)
    assert still_open and all(row.due_on >= as_of and row.state == "open" for row in still_open)
    everything = list_tasks(session=session, cycle_code="2026", unit_id=branch, as_of=as_of)
    assert {r.id for r in overdue} | {r.id for r in still_open} == {r.id for r in everything}
    # Listing reads; it does not change what is stored.
    assert {str(t.state) for t in tasks if t.owner_unit_id == branch} == {"open"}
