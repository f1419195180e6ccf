"""Planning 2026 for the demo county (民勤县): every branch owes exactly what the branch
meeting calendar and its own roster imply, every due date on a working day."""
from __future__ import annotations

import csv
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
from sqlalchemy import select

import dangjian.demo
from dangjian.services.org_import import import_org
from models import Task
from tests.services.planning_rules import new_cycle, plan
from tests.support.builders import RULES

DATA = Path(dangjian.demo.__file__).resolve().parent / "data"
PER_BRANCH = {"party_congress": 4, "party_lecture": 4, "monthly_member_meeting": 12,
              "theme_party_day": 12, "organization_life_meeting": 1, "member_appraisal": 1}


def rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def expected_from_the_csv_files() -> dict[str, dict[str, int]]:
    """Straight from the CSV files: a committee where 设支委会 says so, or else where 7 or
    more 正式党员 are on the roster; 12 党小组会 a year per party group."""
    units, members = rows("units.csv"), rows("members.csv")
    full = Counter(m["所在支部"] for m in members if m["党员状态"] == "正式党员")
    groups = Counter(u["上级编码"] for u in units if u["组织类型"] == "党小组")
    expected = {}
    for u in units:
        if u["组织类型"] != "党支部":
            continue
        branch = u["组织编码"]
        committee = u["设支委会"] == "是" if u["设支委会"] else full[branch] >= 7
        owed = dict(PER_BRANCH)
        if committee:
            owed["committee_meeting"] = 12
        if groups[branch]:
            owed["group_meeting"] = 12 * groups[branch]
        expected[branch] = owed
    return expected


def planned_demo(session):
    import_org(session=session, paths=[DATA / "units.csv", DATA / "members.csv"], actor="测试")
    from dangjian.services.rule_sets import register_rule_set

    rules = register_rule_set(session=session, path=RULES, actor="测试")
    cycle = new_cycle(session, "620621", rules)
    report = plan(session, cycle)
    tasks = session.execute(select(Task).where(Task.cycle_id == cycle.id)).scalars().all()
    return report, tasks


def next_working_day(day: date) -> date:
    while not chinese_calendar.is_workday(day):
        day += timedelta(days=1)
    return day


def test_each_demo_branch_owes_what_its_roster_and_the_calendar_imply(session) -> None:
    expected = expected_from_the_csv_files()
    # The demo exercises both sides of every rule.
    assert {"committee_meeting" in e for e in expected.values()} == {True, False}
    assert {"group_meeting" in e for e in expected.values()} == {True, False}

    report, tasks = planned_demo(session)
    found: dict[str, Counter[str]] = {}
    for t in tasks:
        found.setdefault(t.owner_unit_id, Counter())[t.duty_code] += 1
    assert {b: dict(c) for b, c in found.items()} == expected
    assert report.added == report.total == sum(sum(e.values()) for e in expected.values())


def test_every_demo_due_date_is_the_period_end_or_the_next_working_day_after_it(session) -> None:
    _, tasks = planned_demo(session)
    moved = {(t.period_end, t.due_on) for t in tasks if t.due_on != t.period_end}
    for t in tasks:
        assert t.due_on == next_working_day(t.period_end), (t.duty_code, t.period_label)
    # 1-31 (Saturday) → 2-02; 5-31 (Sunday) → 6-01; 10-31 (Saturday) → 11-02.
    assert moved == {(date(2026, 1, 31), date(2026, 2, 2)), (date(2026, 5, 31), date(2026, 6, 1)),
                     (date(2026, 10, 31), date(2026, 11, 2))}
