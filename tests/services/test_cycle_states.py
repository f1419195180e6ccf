"""What a cycle's state allows: no scoring before planning; a closed cycle is read-only
until an administrator reopens it (audited); closing settles every task of the cycle."""
from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.errors import Conflict
from dangjian.services.closing import close_tasks, correct_completion
from dangjian.services.cycle_end import close_cycle
from dangjian.services.cycle_state import reopen_cycle
from dangjian.services.cycles import create_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.review import accept
from dangjian.services.rule_sets import register_rule_set
from dangjian.services.scoring import publish_run, score_cycle
from dangjian.services.scoring_inputs import MetricEntry, set_manual_score, set_metric_values
from dangjian.services.waivers import waive
from dangjian.services.what_if import what_if
from models import (
    AuditEvent,
    Completion,
    Cycle,
    CycleState,
    ManualScore,
    MetricValue,
    Review,
    ScoreRun,
    Task,
    TaskState,
)
from tests.services.test_review import REVIEWED, report, review_cycle, submit_lecture, task
from tests.services.test_scoring_inputs import TARGET
from tests.support.builders import RULES, at, county, planned_cycle

END = date(2027, 1, 5)      # a day after the 2026 cycle's end


def rows(session):
    return tuple(session.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (Completion, Review, ScoreRun, AuditEvent, ManualScore))


def unplanned_cycle(session, c):
    rules = register_rule_set(session=session, path=RULES, actor="测试")
    return create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id=c.district.id,
                        rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                        actor="测试")


def test_a_cycle_never_planned_cannot_be_scored(session):
    cycle = unplanned_cycle(session, county(session))
    with pytest.raises(Conflict, match="周期 2026 尚未生成任务，不能评分：请先运行 dangjian plan 2026"):
        score_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 11, 20))
    assert session.execute(select(func.count()).select_from(ScoreRun)).scalar_one() == 0


def test_a_what_if_of_a_cycle_never_planned_is_refused_too(session):
    unplanned_cycle(session, county(session))
    with pytest.raises(Conflict, match="尚未生成任务"):
        what_if(session=session, cycle_code="2026", draft_path=RULES, as_of=date(2026, 11, 20))


def closed_with_a_report(session, c):
    """A 2026 cycle with one March 主题党日 reported, then closed."""
    cycle = planned_cycle(session, c)
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    completion = close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                             now=at(date(2026, 3, 11)))
    close_cycle(session=session, cycle_id=cycle.id, as_of=END)
    return cycle, t, completion


def test_a_closed_cycle_refuses_corrections_naming_the_day_it_closed(session):
    c = county(session)
    _cycle, _t, completion = closed_with_a_report(session, c)
    before = rows(session)
    with pytest.raises(Conflict) as error:
        correct_completion(session=session, completion_id=completion.id,
                           report=report(date(2026, 3, 12), c.big_members), now=at(date(2026, 12, 4)))
    assert "周期 2026 已结束（关闭于 2026-12-04），不能再更正" in error.value.message
    assert rows(session) == before


def test_a_closed_cycle_refuses_reports_of_tasks_still_excused(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 12, 1))
    waive(session=session, task_id=t.id, kind="excused", reason="书记住院", until=date(2027, 2, 1),
          approver="街道组织委员", approving_unit="S", now=at(date(2026, 12, 2)))
    close_cycle(session=session, cycle_id=cycle.id, as_of=END)
    before = rows(session)
    with pytest.raises(Conflict, match="已结束.*不能再报送"):
        close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 12, 3), c.big_members),
                    now=at(date(2026, 12, 4)))
    assert rows(session) == before and session.get(Task, t.id).state == TaskState.excused


def test_a_closed_cycle_refuses_waivers_planning_and_new_score_runs(session):
    c = county(session)
    cycle, _t, _completion = closed_with_a_report(session, c)
    missed = session.execute(select(Task).where(Task.cycle_id == cycle.id, Task.state == TaskState.missed)
                             .limit(1)).scalar_one()
    before = rows(session)
    with pytest.raises(Conflict, match="已结束.*不能再豁免"):
        waive(session=session, task_id=missed.id, kind="excused", reason="补批", until=date(2027, 2, 1),
              approver="街道组织委员", approving_unit="S", now=at(date(2026, 12, 4)))
    with pytest.raises(Conflict, match="已结束.*不能再生成或调整任务"):
        plan_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 12, 4))
    with pytest.raises(Conflict, match="已结束.*不能再评分"):
        score_cycle(session=session, cycle_id=cycle.id, as_of=END)
    assert rows(session) == before
    # Publishing the final run the close made is what a closed cycle is for.
    assert publish_run(session=session, cycle_id=cycle.id, version=1, actor="区委组织部").published


def test_a_closed_cycle_refuses_review_decisions(session, tmp_path):
    c = county(session)
    cycle = review_cycle(session, c, tmp_path)
    t, completion = submit_lecture(session, c, cycle)
    close_cycle(session=session, cycle_id=cycle.id, as_of=END)
    before = rows(session)
    with pytest.raises(Conflict, match="已结束.*不能再审核"):
        accept(session=session, completion_id=completion.id, reviewer="张三", reviewing_unit="S",
               now=at(date(2026, 12, 4)))
    assert rows(session) == before and session.get(Task, t.id).state == TaskState.submitted
    assert t.duty_code == REVIEWED


def test_a_closed_cycle_refuses_metric_values_and_manual_scores(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    cycle.rule_set_id = register_rule_set(session=session, path=TARGET, actor="测试").id
    cycle.state = CycleState.closed
    session.add(cycle)
    session.commit()
    with pytest.raises(Conflict, match="已结束.*不能再录入人工评分"):
        set_manual_score(session=session, cycle_code="2026", subject_id="B1", item_code="street_appraisal",
                         points=30, entered_by="街道党工委")
    with pytest.raises(Conflict, match="已结束.*不能再录入指标值"):
        set_metric_values(session=session, cycle_code="2026", entries=[MetricEntry("B1", "satisfaction_rate", 96)],
                          entered_by="街道党工委")
    assert session.execute(select(func.count()).select_from(ManualScore)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(MetricValue)).scalar_one() == 0


def test_closing_settles_tasks_due_after_the_cycles_end(session):
    """A cycle ending 30 June still owes the year's duties, due 31 December: the close is
    their last deadline, so none of them is left open in a closed cycle."""
    c = county(session)
    rules = register_rule_set(session=session, path=RULES, actor="测试")
    cycle = create_cycle(session=session, code="2026H1", name="上半年", root_unit_id=c.district.id,
                         rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 6, 30),
                         actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id)
    later = session.execute(select(func.count()).select_from(Task).where(
        Task.cycle_id == cycle.id, Task.due_on > date(2026, 7, 1))).scalar_one()
    assert later > 0
    report_ = close_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 7, 1))
    left = session.execute(select(func.count()).select_from(Task).where(
        Task.cycle_id == cycle.id, Task.state.in_([TaskState.open, TaskState.overdue]))).scalar_one()
    assert left == 0
    total = session.execute(select(func.count()).select_from(Task).where(Task.cycle_id == cycle.id)).scalar_one()
    assert report_.missed == total


def test_an_administrator_reopens_a_closed_cycle_with_a_reason_and_it_is_audited(session):
    c = county(session)
    cycle, _t, completion = closed_with_a_report(session, c)
    reopen_cycle(session=session, cycle_id=cycle.id, reason="街道补报漏登的活动", actor="区委管理员")
    assert session.get(Cycle, cycle.id).state == CycleState.open
    assert not session.execute(select(Task).where(Task.state == TaskState.missed)).first()
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "cycle.reopen")).scalar_one()
    assert (event.actor, event.after["reason"]) == ("区委管理员", "街道补报漏登的活动")
    correct_completion(session=session, completion_id=completion.id,
                       report=report(date(2026, 3, 12), c.big_members), now=at(date(2026, 12, 4)))
