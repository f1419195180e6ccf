"""Member duties: one task per member and period, answered by the member's branch, owed
from the period the member joined in."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from models import MemberCategory, MemberStatus, SubjectKind, Task
from tests.services.planning_rules import DUES, new_cycle, plan, rules_with
from tests.support.builders import county, member

FLOATING_REPORT = """\
  - code: floating_report
    name: 流动党员向党组织报告情况
    applies_to: {subject: member, category: [floating]}
    frequency: yearly
    requires: {minutes: false, attendance: false}
"""


def member_tasks(session, cycle, duty_code: str) -> list[Task]:
    return list(session.execute(
        select(Task).where(Task.cycle_id == cycle.id, Task.duty_code == duty_code)
        .order_by(Task.subject_id, Task.period_start)).scalars())


def test_every_party_member_owes_dues_each_month_to_their_own_branch(session, tmp_path) -> None:
    c = county(session)
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, DUES))
    plan(session, cycle)
    tasks = member_tasks(session, cycle, "dues")
    members = c.big_members + c.small_members      # 正式党员 and one 预备党员 in B1
    assert Counter(t.subject_id for t in tasks) == {m.id: 12 for m in members}
    assert {t.subject_kind for t in tasks} == {SubjectKind.member}
    assert {t.subject_id: t.owner_unit_id for t in tasks} == {m.id: m.unit_id for m in members}
    march = next(t for t in tasks if t.subject_id == "M101" and t.period_start == date(2026, 3, 1))
    assert (march.period_label, march.due_on) == ("2026年3月", date(2026, 3, 31))


def test_a_member_who_joins_in_july_owes_dues_from_july(session, tmp_path) -> None:
    c = county(session)
    newcomer = member(session, "M300", c.small, status=MemberStatus.probationary)
    newcomer.joined_on = date(2026, 7, 15)
    session.add(newcomer)
    session.commit()
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, DUES))
    plan(session, cycle)
    owed = [t.period_label for t in member_tasks(session, cycle, "dues") if t.subject_id == "M300"]
    assert owed == ["2026年7月", "2026年8月", "2026年9月", "2026年10月", "2026年11月", "2026年12月"]


def test_activists_and_members_who_left_owe_no_dues(session, tmp_path) -> None:
    c = county(session)
    member(session, "M301", c.small, status=MemberStatus.activist)
    gone = c.small_members[0]
    gone.active = False
    session.add(gone)
    session.commit()
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, DUES))
    plan(session, cycle)
    subjects = {t.subject_id for t in member_tasks(session, cycle, "dues")}
    assert "M301" not in subjects and gone.id not in subjects
    assert "M201" in subjects


def test_a_member_duty_can_be_owed_by_one_category_only(session, tmp_path) -> None:
    c = county(session)
    floating = c.big_members[2]
    floating.category = MemberCategory.floating
    session.add(floating)
    session.commit()
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, FLOATING_REPORT))
    plan(session, cycle)
    ((subject, owner, label),) = [(t.subject_id, t.owner_unit_id, t.period_label)
                                  for t in member_tasks(session, cycle, "floating_report")]
    assert (subject, owner, label) == (floating.id, "B1", "2026年度")


def test_planning_member_duties_twice_adds_nothing(session, tmp_path) -> None:
    c = county(session)
    cycle = new_cycle(session, c.district.id, rules_with(session, tmp_path, DUES))
    first = plan(session, cycle)
    again = plan(session, cycle, as_of=date(2026, 1, 1))
    assert first.added > 0
    assert (again.added, again.total, again.not_applicable, again.reassigned, again.reopened) == \
        (0, first.total, 0, 0, 0)
