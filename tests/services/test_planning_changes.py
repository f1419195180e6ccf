"""Changes during the cycle reach only periods that have not started: planning again
after a member moves or leaves, or a branch gains or loses its committee."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from dangjian.clock import today
from dangjian.domain.applicability import COMMITTEE_FROM
from models import AuditEvent, Task, TaskState, Waiver, WaiverKind
from tests.services.planning_rules import DUES, new_cycle, plan, rules_with
from tests.support.builders import County, county, member

MID_JUNE = date(2026, 6, 15)
JAN_TO_JUN = [date(2026, m, 1) for m in range(1, 7)]
JUL_TO_DEC = [date(2026, m, 1) for m in range(7, 13)]


@pytest.fixture
def planned(session, tmp_path):
    c = county(session)
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, DUES))
    plan(session, cycle)
    return c, cycle


def tasks(session, cycle, duty_code: str, subject_id: str) -> dict[date, Task]:
    found = session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.duty_code == duty_code, Task.subject_id == subject_id))
    return {t.period_start: t for t in found.scalars()}


def states(session, cycle, duty_code: str, subject_id: str) -> dict[date, str]:
    session.expire_all()
    return {d: str(t.state) for d, t in tasks(session, cycle, duty_code, subject_id).items()}


def events(session, action: str) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def roster_decides_committee(session, c: County, *branches) -> None:
    for branch in branches:
        branch.attributes = {**branch.attributes, COMMITTEE_FROM: "roster"}
        session.add(branch)
    session.commit()


def test_a_member_who_moves_branch_takes_only_the_periods_not_yet_started(session, planned) -> None:
    c, cycle = planned
    mover = c.big_members[1]
    mover.unit_id, mover.group_id = c.small.id, None
    session.add(mover)
    session.commit()

    report = plan(session, cycle, as_of=MID_JUNE)

    session.expire_all()
    owners = {d: t.owner_unit_id for d, t in tasks(session, cycle, "dues", mover.id).items()}
    assert owners == {**{d: "B1" for d in JAN_TO_JUN}, **{d: "B2" for d in JUL_TO_DEC}}
    assert (report.added, report.reassigned, report.not_applicable) == (0, 6, 0)
    (event,) = events(session, "task.reassign")
    assert event.after["owner_unit_id"] == "B2" and event.after["subjects"] == [mover.id]
    assert len(event.after["tasks"]) == 6


def test_a_member_who_leaves_owes_nothing_from_the_next_period_on(session, planned) -> None:
    c, cycle = planned
    leaver = c.small_members[1]
    by_month = tasks(session, cycle, "dues", leaver.id)
    session.execute(update(Task).where(Task.id == by_month[date(2026, 3, 1)].id)
                    .values(state=TaskState.done, done_on=date(2026, 3, 20)))
    session.execute(update(Task).where(Task.id == by_month[date(2026, 9, 1)].id)
                    .values(state=TaskState.excused))
    leaver.active = False
    session.add(leaver)
    session.commit()

    report = plan(session, cycle, as_of=MID_JUNE)

    after = states(session, cycle, "dues", leaver.id)
    # Started periods keep their state, whatever it was; so does a future task already excused.
    assert after[date(2026, 3, 1)] == "done"
    assert {after[d] for d in JAN_TO_JUN if d.month != 3} == {"open"}
    assert after[date(2026, 9, 1)] == "excused"
    assert {after[d] for d in JUL_TO_DEC if d.month != 9} == {"not_applicable"}
    assert report.not_applicable == 5
    (event,) = events(session, "task.not_applicable")
    assert event.before == {"state": "open"} and event.after["subjects"] == [leaver.id]
    assert event.after["as_of"] == "2026-06-15" and event.after["duty"] == "dues"


def test_a_branch_that_reaches_seven_full_members_owes_committee_meetings_for_later_months(
    session, planned,
) -> None:
    c, cycle = planned
    roster_decides_committee(session, c, c.small)
    assert plan(session, cycle, as_of=MID_JUNE).added == 0          # 4 正式党员: no committee yet
    for i in range(3):
        member(session, f"M25{i}", c.small)
    session.commit()

    report = plan(session, cycle, as_of=MID_JUNE)

    assert sorted(tasks(session, cycle, "committee_meeting", "B2")) == JUL_TO_DEC
    assert sorted(tasks(session, cycle, "dues", "M250")) == JUL_TO_DEC      # new members too
    assert report.added == 6 + 3 * 6


def test_a_branch_that_drops_below_seven_loses_later_committee_meetings_and_regains_them(
    session, planned,
) -> None:
    c, cycle = planned
    roster_decides_committee(session, c, c.big)
    assert plan(session, cycle, as_of=MID_JUNE).not_applicable == 0   # 8 正式党员: still a committee
    away = c.big_members[6:8]
    for m in away:
        m.active = False
        session.add(m)
    session.commit()

    lost = plan(session, cycle, as_of=MID_JUNE)

    committee = states(session, cycle, "committee_meeting", "B1")
    assert {committee[d] for d in JAN_TO_JUN} == {"open"}
    assert {committee[d] for d in JUL_TO_DEC} == {"not_applicable"}
    assert lost.not_applicable == 6 + 2 * 6                           # meetings and both members' dues

    for m in away:
        m.active = True
        session.add(m)
    session.commit()
    regained = plan(session, cycle, as_of=date(2026, 8, 15))

    committee = states(session, cycle, "committee_meeting", "B1")
    assert [committee[d] for d in JUL_TO_DEC] == ["not_applicable"] * 2 + ["open"] * 4
    assert regained.reopened == 4 + 2 * 4 and regained.added == 0
    assert len(events(session, "task.reopen")) == 2                   # one per duty


def test_a_task_someone_waived_is_not_reopened_by_planning(session, planned) -> None:
    c, cycle = planned
    leaver = c.small_members[2]
    leaver.active = False
    session.add(leaver)
    session.commit()
    plan(session, cycle, as_of=MID_JUNE)
    december = tasks(session, cycle, "dues", leaver.id)[date(2026, 12, 1)]
    session.add(Waiver(task_id=december.id, kind=WaiverKind.not_applicable, approver="街道党工委",
                       approving_unit_id="S", reason="长期外出", expires_on=date(2026, 12, 31)))
    leaver.active = True
    session.add(leaver)
    session.commit()

    report = plan(session, cycle, as_of=MID_JUNE)

    after = states(session, cycle, "dues", leaver.id)
    assert after[date(2026, 12, 1)] == "not_applicable"
    assert {after[d] for d in JUL_TO_DEC[:-1]} == {"open"}
    assert report.reopened == 5


def test_planning_again_with_nothing_changed_changes_nothing(session, planned) -> None:
    _, cycle = planned
    report = plan(session, cycle, as_of=MID_JUNE)
    assert (report.added, report.not_applicable, report.reassigned, report.reopened) == (0, 0, 0, 0)
    assert events(session, "task.not_applicable") == events(session, "task.reassign") == []


def test_planning_again_without_a_date_counts_from_today_in_shanghai(session, planned) -> None:
    _, cycle = planned
    assert plan(session, cycle).as_of == today()
