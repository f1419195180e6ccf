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
from dangjian.services.development import correct_milestone, sync_tasks
from dangjian.services.planning import plan_cycle
from dangjian.services.review import accept
from dangjian.services.rule_sets import register_rule_set
from dangjian.services.scoring import publish_run, score_cycle
from dangjian.services.scoring_inputs import MetricEntry, set_manual_score, set_metric_values
from dangjian.services.targets import (
    Share,
    TargetSpec,
    feed_metrics,
    issue_letters,
    set_targets,
    sign_letter,
    split_target,
)
from dangjian.services.waivers import waive
from dangjian.services.what_if import what_if
from models import (
    AuditEvent,
    Completion,
    Cycle,
    CycleState,
    ManualScore,
    MetricValue,
    Milestone,
    Review,
    ScoreRun,
    Task,
    TaskState,
)
from tests.services.test_development import cycle_for_year, dev_tasks, opened, record
from tests.services.test_input_properties import database_state
from tests.services.test_review import REVIEWED, report, review_cycle, submit_lecture, task
from tests.services.test_scoring_inputs import TARGET
from tests.services.test_targets import BY, DUE, ISSUED, TODAY, split_down
from tests.services.test_targets import report as progress
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


def closed_targets_cycle(session):
    """The 2026 cycle with a target split down, letters issued and one progress report, closed."""
    cycle = planned_cycle(session, county(session))
    set_targets(session=session, cycle_code="2026", actor=BY, targets=[TargetSpec("develop", "发展党员", 30, "人")])
    split_down(session)
    issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED, today=TODAY)
    progress(session, "B1", 3, date(2026, 5, 31))
    close_cycle(session=session, cycle_id=cycle.id, as_of=END)
    return cycle


def test_a_closed_cycle_refuses_targets_letters_progress_and_feeding_them_into_metrics(session):
    closed_targets_cycle(session)
    before = database_state(session)
    refused = {
        "设定目标": lambda: set_targets(session=session, cycle_code="2026", actor=BY,
                                    targets=[TargetSpec("develop", "发展党员", 40, "人")]),
        "分解目标": lambda: split_target(session=session, cycle_code="2026", target_code="develop",
                                     from_unit="D", actor=BY, shares=[Share("S", 12, "王镇")]),
        "下达目标责任书": lambda: issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY,
                                         issued_on=ISSUED, today=TODAY),
        "签订目标责任书": lambda: sign_letter(session=session, cycle_code="2026", unit_id="S",
                                       signed_on=date(2026, 3, 1), signed_by="王镇", today=TODAY),
        "报送目标进度": lambda: progress(session, "B1", 4, date(2026, 6, 15)),
        "将目标进度写入指标": lambda: feed_metrics(session=session, cycle_code="2026", actor=BY),
    }
    for doing, call in refused.items():
        with pytest.raises(Conflict) as error:
            call()
        session.rollback()
        assert f"周期 2026 已结束（关闭于 2026-12-04），不能再{doing}" in error.value.message
    assert database_state(session) == before


def closed_year_with_a_development_case(session):
    """A 2025 cycle where a case's 培养教育考察 was corrected (its next task dropped as not
    applicable), closed, and the 2026 cycle open."""
    c = county(session)
    year_2025 = cycle_for_year(session, c, 2025)
    case = opened(session, c, "2025-01-10")
    record(session, case, "talk", "2025-01-20")
    record(session, case, "activist", "2025-03-01")
    record(session, case, "activist_filing", "2025-03-05")
    record(session, case, "contact_persons", "2025-03-05", persons="王芳")
    record(session, case, "activist_education", "2025-08-30")
    first = session.execute(select(Milestone).where(Milestone.step == "activist_education")).scalar_one()
    correct_milestone(session=session, milestone_id=first.id, on=date(2025, 8, 20), reason="日期记错",
                      actor="支部书记", now=at(date(2025, 9, 1)))
    close_cycle(session=session, cycle_id=year_2025, as_of=date(2026, 1, 5))
    planned_cycle(session, c)
    return year_2025, case


def test_a_closed_cycle_refuses_the_development_task_sync(session):
    year_2025, _case = closed_year_with_a_development_case(session)
    before = database_state(session)
    with pytest.raises(Conflict, match="周期 2025 已结束.*不能再生成发展党员任务"):
        sync_tasks(session=session, cycle_id=year_2025, now=at(date(2026, 2, 1)))
    session.rollback()
    assert database_state(session) == before


def test_a_later_correction_leaves_a_closed_cycles_development_tasks_as_the_close_left_them(session):
    year_2025, case = closed_year_with_a_development_case(session)
    settled = session.execute(select(Task.id, Task.state, Task.due_on).where(Task.cycle_id == year_2025)
                              .order_by(Task.id)).all()
    latest = session.execute(select(Milestone).where(Milestone.step == "activist_education",
                                                     Milestone.supersedes_id.is_not(None))).scalar_one()
    # Back to the first date: the dropped 2025 task's window is wanted again.
    correct_milestone(session=session, milestone_id=latest.id, on=date(2025, 8, 30), reason="以会议记录为准",
                      actor="支部书记", now=at(date(2026, 2, 1)))
    session.expire_all()
    assert session.execute(select(Task.id, Task.state, Task.due_on).where(Task.cycle_id == year_2025)
                           .order_by(Task.id)).all() == settled
    assert dev_tasks(session, case.member_id)["dev:candidate"].cycle_id != year_2025
