"""Warnings: 有组织无活动, 连续红色 (荣县三色), 应建未建 (空白点), and who is told about them."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dangjian.services.chasing import list_warnings, raise_warnings, send_warning_notices
from dangjian.services.notify import add_channel
from models import ChannelKind, MemberStatus, Task, UnitKind, UnitWarning, WarningKind, WarningLevel
from tests.services.test_chasing import report_through
from tests.support.builders import at, county, member, planned_cycle, present_for, unit
from tests.support.sinks import WebhookSink


@pytest.fixture
def robots():
    with WebhookSink() as sink:
        yield sink


def open_warnings(session, kind: WarningKind) -> dict[str, WarningLevel]:
    return {w.unit_id: w.level for w in list_warnings(session=session) if w.kind == kind}


def report_one(session, cycle, owner, members, duty, period, held=None):
    from dangjian.services.closing import Report, close_tasks

    task = session.execute(select(Task).where(Task.cycle_id == cycle.id, Task.owner_unit_id == owner,
                                              Task.duty_code == duty, Task.period_label == period)
                           ).scalar_one()
    held = held or min(task.period_end, task.period_start.replace(day=10))
    close_tasks(session=session, task_ids=[task.id],
                report=Report(held, "主题", "记录", present_for(task, members)),
                now=at(held))


def test_no_activity_for_30_days_is_a_yellow_warning_and_for_90_days_a_red_one(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    report_one(session, cycle, "B1", c.big_members, "theme_party_day", "2026年3月")   # held 10 March
    report_one(session, cycle, "B2", c.small_members, "theme_party_day", "2026年4月", date(2026, 4, 1))

    first = raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 9))
    assert open_warnings(session, WarningKind.inactivity) == {"B1": WarningLevel.yellow}
    (w,) = [w for w in list_warnings(session=session) if w.kind == WarningKind.inactivity]
    assert w.since == date(2026, 3, 10) and w.details["days"] == 30
    assert w.details["text"] == "已连续 30 天没有活动记录（最近一次活动：2026年3月10日）"
    assert w.id in first.raised

    later = raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 6, 8))
    assert open_warnings(session, WarningKind.inactivity) == {"B1": WarningLevel.red,
                                                             "B2": WarningLevel.yellow}
    assert later.upgraded == [w.id]
    session.refresh(w)
    assert (w.level, w.details["days"], w.raised_on) == (WarningLevel.red, 90, date(2026, 4, 9))

    report_one(session, cycle, "B1", c.big_members, "theme_party_day", "2026年6月")    # held 10 June
    resolved = raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 6, 11))
    assert resolved.resolved == [w.id]
    session.refresh(w)
    assert w.resolved_on == date(2026, 6, 11)
    assert open_warnings(session, WarningKind.inactivity) == {"B2": WarningLevel.yellow}


def test_raising_warnings_twice_the_same_day_changes_nothing(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    first = raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 9))
    again = raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 9))
    assert len(first.raised) == first.open > 0
    assert again.counts() == {"raised": 0, "upgraded": 0, "resolved": 0, "open": first.open}


def test_the_database_refuses_a_second_open_warning_of_a_kind_but_keeps_history(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 2, 1))
    (w,) = [w for w in list_warnings(session=session) if w.unit_id == "B1"]
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(UnitWarning(cycle_id=cycle.id, unit_id="B1", kind=w.kind, level=w.level,
                                    since=w.since, raised_on=w.raised_on))
    # Resolved rows are history: a new open warning of the same kind may follow.
    report_one(session, cycle, "B1", c.big_members, "theme_party_day", "2026年2月")
    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 2, 11))
    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 3, 20))
    rows = session.execute(select(UnitWarning).where(UnitWarning.unit_id == "B1",
                                                     UnitWarning.kind == WarningKind.inactivity)
                           .order_by(UnitWarning.id)).scalars().all()
    assert [(r.raised_on, r.resolved_on) for r in rows] == [
        (date(2026, 2, 1), date(2026, 2, 11)), (date(2026, 3, 20), None)]


def test_two_red_months_in_a_row_tell_the_street_and_three_tell_the_district(session, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    for unit_id, path in (("C1", "/c1"), ("S", "/s"), ("D", "/d")):
        add_channel(session=session, unit_id=unit_id, kind=ChannelKind.webhook, target=robots.url(path),
                    actor="测试")
    # B1 meets each month as a party group only: active, but 3 of its 4 monthly tasks stay
    # undone (red); B2 does everything until March, then misses most of it (one red month).
    for month in (1, 2, 3):
        report_one(session, cycle, "B1", c.big_members, "group_meeting", f"2026年{month}月")
    report_through(session, cycle, "B2", c.small_members, date(2026, 2, 28))
    report_one(session, cycle, "B2", c.small_members, "monthly_member_meeting", "2026年3月")

    # January's tasks fall due on Monday 2 February (31 January is a Saturday), February's
    # on Saturday 28 February (a make-up working day after 春节).
    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 2, 2))
    assert open_warnings(session, WarningKind.consecutive_red) == {}
    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 3, 3))
    assert open_warnings(session, WarningKind.consecutive_red) == {"B1": WarningLevel.yellow}
    notices = send_warning_notices(session=session, cycle_id=cycle.id, as_of=date(2026, 3, 3))
    (to_street,) = robots.received("/s")
    assert to_street["title"] == "【党建预警】1 个预警"
    assert ("东关社区党支部：黄色预警·连续红色。连续 2 个月评为红色（2026年1月—2026年2月），"
            "按规定由街道（乡镇）党组织约谈支部书记") in to_street["message"]
    assert robots.received("/c1") == robots.received("/d") == []
    assert len(notices.sent) == 1
    # Told once: the next day brings no second notice for the same warning.
    send_warning_notices(session=session, cycle_id=cycle.id, as_of=date(2026, 3, 4))
    assert len(robots.received("/s")) == 1

    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 1))
    assert open_warnings(session, WarningKind.consecutive_red) == {"B1": WarningLevel.red}
    send_warning_notices(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 1))
    (to_district,) = robots.received("/d")
    assert "东关社区党支部：红色预警·连续红色。连续 3 个月评为红色（2026年1月—2026年3月），按规定报县（区）委" \
        in to_district["message"]
    assert "西湖社区党支部" not in to_district["message"]     # one red month is no warning
    assert len(robots.received("/s")) == 1


def test_an_organisation_with_three_full_members_and_no_branch_is_a_coverage_gap(session, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    c1 = session.get(type(c.big), "C1")
    unit(session, "O1", "东关物流有限公司", UnitKind.community, c1,
         attributes={"org_type": "new_economic", "full_members": 4})
    unit(session, "O2", "东关律师事务所", UnitKind.community, c1,
         attributes={"org_type": "new_social", "full_members": 2})
    covered = unit(session, "O3", "县供电公司营业所", UnitKind.community, c1,
                   attributes={"org_type": "resident_unit", "full_members": 6})
    unit(session, "O3-ZB", "县供电公司营业所党支部", UnitKind.branch, covered)
    roster = unit(session, "O4", "东关快递驿站", UnitKind.community, c1, attributes={"org_type": "new_economic"})
    for i in range(3):
        member(session, f"O4M{i}", roster)
    member(session, "O4M9", roster, status=MemberStatus.probationary)
    session.commit()
    add_channel(session=session, unit_id="S", kind=ChannelKind.webhook, target=robots.url("/s"), actor="测试")

    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 1, 5))
    gaps = {w.unit_id: w for w in list_warnings(session=session) if w.kind == WarningKind.coverage_gap}
    assert set(gaps) == {"O1", "O4"}
    assert gaps["O1"].details["text"] == "新经济组织有正式党员 4 名，尚未单独建立党支部（应建未建）"
    assert (gaps["O4"].details["full_members"], gaps["O4"].details["source"]) == (3, "roster")
    send_warning_notices(session=session, cycle_id=cycle.id, as_of=date(2026, 1, 5))
    (notice,) = robots.received("/s")
    assert "东关物流有限公司：黄色预警·应建未建。新经济组织有正式党员 4 名" in notice["message"]

    unit(session, "O1-ZB", "东关物流有限公司党支部", UnitKind.branch, session.get(type(c.big), "O1"))
    session.commit()
    report = raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 1, 6))
    assert report.resolved == [gaps["O1"].id]


def test_warnings_raised_on_a_holiday_are_told_on_the_next_working_day(session, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    add_channel(session=session, unit_id="S", kind=ChannelKind.webhook, target=robots.url("/s"), actor="测试")
    report_one(session, cycle, "B2", c.small_members, "theme_party_day", "2026年4月")

    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 2))      # 劳动节
    assert open_warnings(session, WarningKind.inactivity) == {"B1": WarningLevel.red}
    assert send_warning_notices(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 2)).sent == []
    assert robots.posts == []

    raise_warnings(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 6))
    send_warning_notices(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 6))
    send_warning_notices(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 6))
    (notice,) = robots.received("/s")
    assert "东关社区党支部：红色预警·有组织无活动" in notice["message"]
    assert all(w.notified_level == w.level for w in list_warnings(session=session))
