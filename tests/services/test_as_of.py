"""`--as-of D` means "as known on day D": reports, corrections, reviews and waivers recorded
after D do not count; no future D is accepted; planning from a date inside the cycle keeps
the periods before it."""
from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.domain.dates import parse_as_of
from dangjian.errors import ValidationFailed
from dangjian.services.closing import close_tasks, correct_completion
from dangjian.services.cycles import create_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.review import accept
from dangjian.services.rule_sets import register_rule_set
from dangjian.services.scoring import score_cycle
from dangjian.services.waivers import waive
from dangjian.services.what_if import what_if
from models import AuditEvent, Scorecard, Task
from tests.services.test_review import REVIEWED, report, review_cycle, submit_lecture, task
from tests.support.builders import RULES, at, county, planned_cycle

D = date(2026, 11, 20)
AFTER = date(2026, 12, 3)     # after D, before the suite's today (2026-12-04)


def metrics(session, cycle, as_of, unit="B1"):
    run = score_cycle(session=session, cycle_id=cycle.id, as_of=as_of)
    return session.execute(select(Scorecard.metrics).where(Scorecard.run_id == run.id,
                                                           Scorecard.unit_id == unit)).scalar_one()


def day(session, cycle, month):
    return task(session, cycle, "theme_party_day", "B1", date(2026, month, 1))


def test_a_report_made_after_the_as_of_day_does_not_count(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    close_tasks(session=session, task_ids=[day(session, cycle, 3).id],
                report=report(date(2026, 3, 10), c.big_members), now=at(date(2026, 3, 11)))
    close_tasks(session=session, task_ids=[day(session, cycle, 4).id],     # held in April, reported now
                report=report(date(2026, 4, 10), c.big_members), now=at(AFTER))
    then = metrics(session, cycle, D)
    assert (then["theme_party_day.on_time"], then["theme_party_day.late"]) == (1, 0)
    assert then["theme_party_day.missed"] == 9     # January, February, April – October: due before D
    now = metrics(session, cycle, AFTER)
    assert (now["theme_party_day.on_time"], now["theme_party_day.late"]) == (1, 1)


def test_a_correction_made_after_the_as_of_day_does_not_change_the_figures(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    first = close_tasks(session=session, task_ids=[day(session, cycle, 3).id],
                        report=report(date(2026, 3, 10), c.big_members), now=at(date(2026, 3, 11)))
    # Corrected long after the due date: the corrected version is judged late.
    correct_completion(session=session, completion_id=first.id,
                       report=report(date(2026, 3, 12), c.big_members), now=at(AFTER))
    then = metrics(session, cycle, D)
    assert (then["theme_party_day.on_time"], then["theme_party_day.late"]) == (1, 0)
    assert metrics(session, cycle, AFTER)["theme_party_day.late"] == 1


def test_a_waiver_granted_after_the_as_of_day_does_not_excuse_then(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    waive(session=session, task_id=day(session, cycle, 3).id, kind="excused", reason="书记住院",
          until=date(2027, 1, 31), approver="街道组织委员", approving_unit="S", now=at(AFTER))
    assert metrics(session, cycle, D)["theme_party_day.excused"] == 0
    assert metrics(session, cycle, AFTER)["theme_party_day.excused"] == 1


def test_a_report_accepted_after_the_as_of_day_was_still_awaiting_review_then(session, tmp_path):
    c = county(session)
    cycle = review_cycle(session, c, tmp_path)
    _t, completion = submit_lecture(session, c, cycle)
    accept(session=session, completion_id=completion.id, reviewer="张三", reviewing_unit="S", now=at(AFTER))
    assert metrics(session, cycle, D)[f"{REVIEWED}.on_time"] == 0
    assert metrics(session, cycle, AFTER)[f"{REVIEWED}.on_time"] == 1


def test_what_if_is_as_of_the_stored_versions_date_not_today(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    score_cycle(session=session, cycle_id=cycle.id, as_of=D)
    assert what_if(session=session, cycle_code="2026", draft_path=RULES).as_of == D


@pytest.mark.parametrize("text", ["2026-12-05", "2099-01-01", "2026-12-05T00:30:00+08:00"])
def test_a_future_as_of_is_refused_in_chinese(text):
    with pytest.raises(ValidationFailed, match="晚于今天（2026-12-04，北京时间）"):
        parse_as_of(text, date(2026, 12, 4))


def test_today_and_past_as_of_dates_are_accepted():
    assert parse_as_of("2026-12-04", date(2026, 12, 4)) == date(2026, 12, 4)
    assert parse_as_of("2026-01-01", date(2026, 12, 4)) == date(2026, 1, 1)


def cycle_only(session, c):
    rules = register_rule_set(session=session, path=RULES, actor="测试")
    return create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id=c.district.id,
                        rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                        actor="测试")


def keys(session, cycle):
    return set(session.execute(select(Task.duty_code, Task.subject_id, Task.period_start)
                               .where(Task.cycle_id == cycle.id)).tuples())


def test_the_first_plan_from_a_mid_cycle_date_keeps_every_earlier_period(session):
    c = county(session)
    whole = keys(session, planned_cycle(session, c, code="full"))
    late = cycle_only(session, c)
    report_ = plan_cycle(session=session, cycle_id=late.id, as_of=date(2026, 6, 15))
    assert report_.as_of is None and report_.added == len(whole)
    assert {(d, s, p) for d, s, p in keys(session, late)} == whole
    yearly = session.execute(select(func.count()).select_from(Task).where(
        Task.cycle_id == late.id, Task.duty_code == "organization_life_meeting")).scalar_one()
    assert yearly > 0
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "cycle.plan",
                                                     AuditEvent.entity_id == str(late.id))).scalar_one()
    assert event.after["tasks_planned_late"] > 0


def test_a_later_plan_restores_periods_that_were_never_planned(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    whole = keys(session, cycle)
    # As the earlier code left a cycle first planned with --as-of 2026-06-15: no period
    # starting on or before that day.
    session.execute(Task.__table__.delete().where(Task.cycle_id == cycle.id,
                                                  Task.period_start <= date(2026, 6, 15)))
    session.commit()
    plan_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 11, 20))
    assert keys(session, cycle) == whole


def test_a_later_plan_leaves_started_periods_nobody_owed_at_the_first_plan_unplanned(session):
    """Periods that started after the cycle's first plan and hold no task (nobody owed the duty
    then) are not back-filled by a later plan: only the old mid-cycle first plan's cut is repaired."""
    from dangjian.clock import FixedClock, parse_instant, use_clock

    c = county(session)
    with use_clock(FixedClock(parse_instant("2025-12-20T10:00:00+08:00"))):
        cycle = planned_cycle(session, c)        # planned before the cycle began
    # As if no branch owed 主题党日 in the first half of the year (none held the duty then).
    session.execute(Task.__table__.delete().where(Task.cycle_id == cycle.id, Task.duty_code == "theme_party_day",
                                                  Task.period_start <= date(2026, 6, 15)))
    session.commit()
    before = keys(session, cycle)
    plan_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 11, 20))
    assert keys(session, cycle) == before
