"""组织生活会 once a year, normally in Q4: the window is shown on the task, and a meeting
held outside it counts unless the rule set says it is late or refused."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from dangjian.domain.completion import AttendanceEntry
from dangjian.errors import ValidationFailed
from dangjian.services.closing import Report, close_tasks
from models import Presence, Task, TaskState
from tests.services.planning_rules import new_cycle, plan, rules_with
from tests.support.builders import at, county


def yearly_review(outside: str) -> str:
    return f"""\
  - code: yearly_review
    name: 年度组织生活会
    applies_to: {{kind: branch}}
    frequency: {{every: year, window: {{from_month: 10, to_month: 12, name: 第四季度, outside: {outside}}}}}
    requires: {{minutes: true, attendance: true}}
"""


def close_in(session, tmp_path, outside: str, held_on: date) -> Task:
    c = county(session)
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, yearly_review(outside)))
    plan(session, cycle)
    task = session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.duty_code == "yearly_review", Task.subject_id == "B1")).scalar_one()
    assert task.period_label == "2026年度（一般安排在第四季度）"
    report = Report(held_on=held_on, topic="年度组织生活会", minutes="查摆问题，开展批评和自我批评",
                    attendance=[AttendanceEntry(m.id, Presence.present) for m in c.big_members])
    close_tasks(session=session, task_ids=[task.id], report=report, acting_branch="B1",
                now=at(held_on))
    session.refresh(task)
    return task


def test_held_in_the_window_is_on_time(session, tmp_path, files_dir) -> None:
    assert close_in(session, tmp_path, "late", date(2026, 11, 20)).state == TaskState.done


def test_held_outside_the_window_still_counts_by_default(session, tmp_path, files_dir) -> None:
    assert close_in(session, tmp_path, "counts", date(2026, 6, 20)).state == TaskState.done


def test_a_rule_set_may_count_a_meeting_outside_the_window_as_late(session, tmp_path, files_dir) -> None:
    assert close_in(session, tmp_path, "late", date(2026, 6, 20)).state == TaskState.late


def test_a_rule_set_may_refuse_a_meeting_outside_the_window(session, tmp_path, files_dir) -> None:
    with pytest.raises(ValidationFailed) as info:
        close_in(session, tmp_path, "refused", date(2026, 6, 20))
    assert "年度组织生活会须在第四季度（10月至12月）召开，召开日期 2026-06-20 不在其内" in str(info.value)
