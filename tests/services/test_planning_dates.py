"""Due dates written in the new forms, planned for real: rest days roll to the next
working day of the Chinese calendar (调休 included), and a year without holiday data
stops planning before anything is written."""
from __future__ import annotations

import calendar as months
from datetime import date, timedelta

import chinese_calendar
import pytest
from sqlalchemy import func, select

from dangjian.domain.calendar import CalendarGap
from models import CycleState, Task
from tests.services.planning_rules import new_cycle, plan, rules_with
from tests.support.builders import county

EXTRA = """\
  - code: theme_day_15
    name: 主题党日（每月15日）
    applies_to: {kind: branch}
    frequency: {every: month, day: 15}
  - code: theme_day_14
    name: 主题党日（每月14日）
    applies_to: {kind: branch}
    frequency: {every: month, day: 14}
  - code: first_friday
    name: 主题党日（每月第一周的周五）
    applies_to: {kind: branch}
    frequency: {every: month, week: 1, weekday: 周五}
  - code: quarter_opening
    name: 季度工作部署会
    applies_to: {kind: branch}
    frequency: quarterly
    due: {rule: days_after_start, days: 0}
  - code: yearly_review
    name: 组织生活会（第四季度）
    applies_to: {kind: branch}
    frequency: {every: year, window: {from_month: 10, to_month: 12, name: 第四季度}}
"""


def raw_due(duty_code: str, start: date, end: date) -> date:
    """The date each test duty names, before any rolling (worked out here, independently)."""
    if duty_code in ("theme_day_15", "theme_day_14"):
        day = int(duty_code[-2:])
        return start.replace(day=min(day, months.monthrange(start.year, start.month)[1]))
    if duty_code == "first_friday":
        return start + timedelta(days=(4 - start.weekday()) % 7)
    if duty_code == "quarter_opening":
        return start
    return end


def next_working_day(day: date) -> date:
    while not chinese_calendar.is_workday(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def b1_due(session, tmp_path) -> dict[tuple[str, date], date]:
    c = county(session)
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, EXTRA))
    plan(session, cycle)
    tasks = session.execute(select(Task).where(Task.cycle_id == cycle.id)).scalars().all()
    for t in tasks:
        assert t.due_on == next_working_day(raw_due(t.duty_code, t.period_start, t.period_end)), \
            (t.duty_code, t.period_label, t.due_on)
    return {(t.duty_code, t.period_start): t.due_on for t in tasks if t.owner_unit_id == "B1"}


def test_a_due_date_on_national_day_moves_to_the_first_working_day_after_the_break(b1_due) -> None:
    assert b1_due[("quarter_opening", date(2026, 10, 1))] == date(2026, 10, 8)
    assert b1_due[("first_friday", date(2026, 10, 1))] == date(2026, 10, 8)   # 10-02


def test_a_due_date_in_the_spring_festival_break_moves_past_it(b1_due) -> None:
    assert b1_due[("theme_day_15", date(2026, 2, 1))] == date(2026, 2, 24)


def test_the_make_up_saturday_before_the_spring_festival_stays(b1_due) -> None:
    assert date(2026, 2, 14).weekday() == 5
    assert b1_due[("theme_day_14", date(2026, 2, 1))] == date(2026, 2, 14)


def test_a_weekend_due_date_moves_to_monday(b1_due) -> None:
    assert b1_due[("theme_day_15", date(2026, 3, 1))] == date(2026, 3, 16)    # a Sunday


def test_a_yearly_duty_with_a_window_shows_the_window_to_users(session, tmp_path) -> None:
    c = county(session)
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, EXTRA))
    plan(session, cycle)
    (task,) = session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.duty_code == "yearly_review", Task.subject_id == "B1")).scalars()
    assert task.period_label == "2026年度（一般安排在第四季度）"
    assert (task.period_start, task.period_end, task.due_on) == \
        (date(2026, 1, 1), date(2026, 12, 31), date(2026, 12, 31))


def test_a_cycle_reaching_into_a_year_without_holiday_data_writes_nothing(session, tmp_path) -> None:
    c = county(session)
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, EXTRA),
                      start=date(2026, 7, 1), end=date(2027, 6, 30))
    with pytest.raises(CalendarGap, match="2027.yaml") as info:
        plan(session, cycle)
    assert "2027年的节假日安排尚未收录" in str(info.value)
    # Same transaction, no rollback: nothing was written before the gap was found.
    count = select(func.count()).select_from(Task).where(Task.cycle_id == cycle.id)
    assert session.execute(count).scalar_one() == 0
    assert cycle.state == CycleState.draft
