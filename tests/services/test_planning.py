from collections import Counter
from datetime import date

from sqlalchemy import func, select

from dangjian.services.planning import plan_cycle, work_calendar
from models import Task
from tests.support.builders import county, planned_cycle


def tasks_of(session, cycle):
    return session.execute(select(Task).where(Task.cycle_id == cycle.id)).scalars().all()


def test_each_branch_owes_what_the_calendar_implies(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    per_owner = Counter((t.owner_unit_id, t.duty_code) for t in tasks_of(session, cycle))
    expected_big = {"party_congress": 4, "monthly_member_meeting": 12, "committee_meeting": 12,
                    "group_meeting": 12, "party_lecture": 4, "theme_party_day": 12,
                    "organization_life_meeting": 1, "member_appraisal": 1}
    assert {d: n for (o, d), n in per_owner.items() if o == "B1"} == expected_big
    expected_small = {k: v for k, v in expected_big.items()
                      if k not in ("committee_meeting", "group_meeting")}
    assert {d: n for (o, d), n in per_owner.items() if o == "B2"} == expected_small


def test_planning_twice_adds_nothing(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    total = session.execute(select(func.count()).select_from(Task)).scalar_one()
    report = plan_cycle(session=session, cycle_id=cycle.id)
    assert report.added == 0
    assert report.total == total
    assert session.execute(select(func.count()).select_from(Task)).scalar_one() == total


def test_party_group_meetings_are_owed_by_the_group_and_answered_by_its_branch(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    group_tasks = [t for t in tasks_of(session, cycle) if t.duty_code == "group_meeting"]
    assert {t.subject_id for t in group_tasks} == {"G1"}
    assert {t.owner_unit_id for t in group_tasks} == {"B1"}


def test_every_due_date_is_a_working_day_on_or_after_its_period_end(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    calendar = work_calendar()
    for t in tasks_of(session, cycle):
        assert calendar.is_workday(t.due_on), (t.duty_code, t.period_label, t.due_on)
        assert t.due_on >= t.period_end or t.due_on >= t.period_start


def test_monthly_due_dates_roll_past_holidays(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    due = {t.period_start: t.due_on for t in tasks_of(session, cycle)
           if t.duty_code == "theme_party_day" and t.subject_id == "B1"}
    # 2026-05-31 is a Sunday: rolls to Monday 2026-06-01.
    assert due[date(2026, 5, 1)] == date(2026, 6, 1)
    # 2026-02-28 is a make-up working Saturday after 春节: it stays.
    assert due[date(2026, 2, 1)] == date(2026, 2, 28)
