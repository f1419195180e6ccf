"""Member scorecards (党员积分): one scorecard per member, from member tasks and attendance."""
from datetime import date

from sqlalchemy import select

from dangjian.domain.completion import AttendanceEntry
from dangjian.services.closing import Report, close_tasks
from dangjian.services.cycles import create_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.rule_sets import load_stored, register_rule_set
from dangjian.services.scorecards import scorecard_document
from dangjian.services.scoring import score_cycle
from dangjian.services.scoring_metrics import gather_inputs, scoring_subjects
from models import Presence, Scorecard, Task, Unit
from tests.support.builders import RULES, at, county, planned_cycle

MEMBER_RULES = RULES.parent / "member_duties.yaml"


def test_every_active_member_gets_a_scorecard_under_a_member_rule_set(session):
    c = county(session)
    rules = register_rule_set(session=session, path=MEMBER_RULES, actor="测试")
    cycle = create_cycle(session=session, code="M2026", name="2026年党员积分", root_unit_id="D",
                         rule_set_id=rules.id, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                         actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id)
    assert session.execute(select(Task).where(Task.cycle_id == cycle.id,
                                              Task.subject_kind == "member")).first()
    run = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 6, 30))
    cards = session.execute(select(Scorecard).where(Scorecard.run_id == run.id)).scalars().all()
    members = {m.id for m in c.big_members + c.small_members}
    assert {card.subject_id for card in cards} == members
    assert all(card.unit_id in ("B1", "B2") for card in cards)
    doc = scorecard_document(session=session, cycle_code="M2026")
    assert doc["units"][0]["subject_kind"] == "member"


def test_member_attendance_counts_the_meetings_of_their_branch(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    t = session.execute(select(Task).where(Task.cycle_id == cycle.id, Task.owner_unit_id == "B1",
                                           Task.duty_code == "theme_party_day")
                        .order_by(Task.period_start)).scalars().first()
    present, away = c.big_members[:6], c.big_members[6]
    close_tasks(session=session, task_ids=[t.id], now=at(date(2026, 1, 21)),
                report=Report(date(2026, 1, 20), "主题党日", "记录",
                              [AttendanceEntry(m.id, Presence.present) for m in present]
                              + [AttendanceEntry(away.id, Presence.leave, "住院")]))
    member_rules = load_stored(register_rule_set(session=session, path=MEMBER_RULES, actor="测试"))
    subjects = scoring_subjects(session, session.get(Unit, "D"), member_rules)
    inputs = gather_inputs(session, cycle, member_rules, subjects, date(2026, 12, 31))
    assert inputs.metrics[present[0].id]["attendance.present"] == 1
    assert inputs.metrics[away.id]["attendance.leave"] == 1
    assert inputs.metrics[away.id]["attendance.expected"] == 1
    assert inputs.metrics[c.small_members[0].id]["attendance.expected"] == 0
