"""发展党员 cases in the database: milestones, refusals that write nothing, the next tasks
with their windows, the roster following the process."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.errors import Conflict, ValidationFailed
from dangjian.services.closing import Report, close_tasks
from dangjian.services.cycles import create_cycle
from dangjian.services.development import (
    case_view,
    close_case,
    correct_milestone,
    list_cases,
    open_case,
    record_milestone,
    sync_tasks,
)
from dangjian.services.planning import plan_cycle
from dangjian.services.rule_sets import register_rule_set
from models import (
    AuditEvent,
    CaseOutcome,
    DevelopmentCase,
    Member,
    MemberStatus,
    Milestone,
    Task,
    TaskState,
)
from tests.support.builders import RULES, at, county, planned_cycle

D = date.fromisoformat
VOTE = {"expected": 8, "present": 7, "in_favour": 7}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(born: str, serial: str = "123") -> str:
    body = f"620621{born.replace('-', '')}{serial}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


def snapshot(session: Session) -> dict[str, Any]:
    """Everything a development call may touch."""
    session.expire_all()
    return {
        "cases": session.execute(select(DevelopmentCase.id, DevelopmentCase.step, DevelopmentCase.closed_on)
                                 .order_by(DevelopmentCase.id)).all(),
        "milestones": session.execute(select(func.count()).select_from(Milestone)).scalar_one(),
        "tasks": session.execute(select(Task.id, Task.state, Task.due_on).order_by(Task.id)).all(),
        "members": session.execute(select(Member.id, Member.status, Member.joined_on, Member.full_on,
                                          Member.active).order_by(Member.id)).all(),
        "audit": session.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
    }


def dev_tasks(session: Session, subject: str) -> dict[str, Task]:
    rows = session.execute(select(Task).where(Task.subject_id == subject, Task.duty_code.startswith("dev:"))
                           .order_by(Task.id)).scalars()
    return {t.duty_code: t for t in rows}


def cycle_for_year(session: Session, c: Any, year: int) -> int:
    rules = register_rule_set(session=session, path=RULES, actor="测试")
    cycle = create_cycle(session=session, code=str(year), name=f"{year}年度考核", root_unit_id=c.district.id,
                         rule_set_id=rules.id or 0, start_on=date(year, 1, 1), end_on=date(year, 12, 31),
                         actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id or 0)
    return cycle.id or 0


@pytest.fixture
def c(session: Session) -> Any:
    return county(session)


def opened(session: Session, c: Any, applied: str = "2026-01-10", today: str | None = None) -> DevelopmentCase:
    result = open_case(session=session, branch_id=c.big.id, name="张晓明", id_number=id_number("1998-04-21"),
                       applied_on=D(applied), actor="支部书记", now=at(D(today or applied)))
    return result.case


def record(session: Session, case: DevelopmentCase, step: str, on: str, today: str | None = None,
           **details: Any) -> Any:
    return record_milestone(session=session, case_id=case.id or 0, step=step, on=D(on), actor="支部书记",
                            details=details, now=at(D(today or on)))


def to_activist(session: Session, case: DevelopmentCase) -> None:
    record(session, case, "talk", "2024-01-25")
    record(session, case, "activist", "2024-03-01")
    record(session, case, "activist_filing", "2024-03-05")
    record(session, case, "contact_persons", "2024-03-05", persons=["王芳", "李强"])
    record(session, case, "activist_education", "2024-08-30")
    record(session, case, "activist_education", "2025-02-20")


# ---------------------------------------------------------------- the check that must pass

def test_an_activist_recorded_as_a_development_target_after_eleven_months_is_refused_and_nothing_written(
        session: Session, c: Any) -> None:
    case = opened(session, c, "2024-01-10")
    to_activist(session, case)
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as refused:
        record(session, case, "candidate", "2025-02-01")
    text = str(refused.value)
    assert "《中国共产党发展党员工作细则》第十三条" in text and "经过一年以上培养教育和考察" in text
    assert "最早可在 2025-03-01 登记" in text
    assert snapshot(session) == before
    assert session.get(Member, case.member_id).status == MemberStatus.activist   # type: ignore[union-attr]


def test_twelve_months_after_the_activist_is_accepted_and_the_roster_says_candidate(
        session: Session, c: Any) -> None:
    case = opened(session, c, "2024-01-10")
    to_activist(session, case)
    result = record(session, case, "candidate", "2025-03-01")
    assert result.flags == [] and result.milestone.late is False
    member = session.get(Member, case.member_id)
    assert member is not None and member.status == MemberStatus.candidate and member.unit_id == c.big.id
    assert result.case.step == "candidate" and result.case.stage == 3


# ---------------------------------------------------------------- tasks with their windows

def test_opening_a_case_creates_the_talk_task_with_its_one_month_window(session: Session, c: Any) -> None:
    cycle = planned_cycle(session, c)
    case = opened(session, c, "2026-01-31")
    assert case.member_id == f"FZ{case.id:06d}" and session.get(Member, case.member_id) is None
    talk = dev_tasks(session, case.member_id)["dev:talk"]
    assert (talk.cycle_id, talk.owner_unit_id, talk.subject_kind) == (cycle.id, c.big.id, "member")
    assert (talk.period_start, talk.period_end, talk.due_on) == (D("2026-01-31"), D("2026-02-28"), D("2026-02-28"))
    assert talk.period_label == "张晓明·党组织派人谈话" and talk.state == TaskState.open


def test_each_milestone_closes_its_task_and_creates_the_next_ones(session: Session, c: Any) -> None:
    planned_cycle(session, c)
    case = opened(session, c, "2026-01-10")
    record(session, case, "talk", "2026-01-20")
    result = record(session, case, "activist", "2026-02-10")
    tasks = dev_tasks(session, case.member_id)
    assert tasks["dev:talk"].state == TaskState.done and tasks["dev:talk"].done_on == D("2026-01-20")
    assert tasks["dev:activist"].state == TaskState.done
    assessment = tasks["dev:activist_education"]
    assert (assessment.period_start, assessment.due_on) == (D("2026-02-10"), D("2026-08-10"))
    # No maximum in the rules: due at the end of the cycle.
    assert tasks["dev:activist_filing"].due_on == D("2026-12-31")
    assert {t.duty_code for t in result.tasks_created} == {
        "dev:activist_filing", "dev:contact_persons", "dev:activist_education"}
    assert "列入党员名册" in (result.member_change or "")
    again = record(session, case, "activist_education", "2026-08-01")
    nxt = [t for t in again.tasks_created if t.duty_code == "dev:activist_education"]
    assert [(t.period_start, t.due_on, t.period_label) for t in nxt] == [
        (D("2026-08-02"), D("2027-02-01"), "张晓明·培养教育考察（第2次）")]


def test_a_talk_after_forty_days_is_accepted_but_flagged_late_and_its_task_closes_late(
        session: Session, c: Any) -> None:
    planned_cycle(session, c)
    case = opened(session, c, "2026-01-10")
    result = record(session, case, "talk", "2026-02-19")
    assert result.milestone.late is True
    (flag,) = result.milestone.flags
    assert "逾期 9 天" in flag and "第七条" in flag
    assert dev_tasks(session, case.member_id)["dev:talk"].state == TaskState.late


def test_a_window_in_a_year_without_an_open_cycle_gets_its_task_once_that_cycle_is_opened(
        session: Session, c: Any) -> None:
    this_year = cycle_for_year(session, c, 2025)
    case = opened(session, c, "2025-01-10")
    record(session, case, "talk", "2025-01-20")
    record(session, case, "activist", "2025-03-01")
    record(session, case, "activist_filing", "2025-03-05")
    record(session, case, "contact_persons", "2025-03-05", persons="王芳")
    record(session, case, "activist_education", "2025-08-30")
    tasks = dev_tasks(session, case.member_id)
    assert tasks["dev:activist_education"].cycle_id == this_year
    assert "dev:candidate" not in tasks                                    # opens 2026-03-01
    next_year = planned_cycle(session, c).id
    assert sync_tasks(session=session, cycle_id=next_year or 0, now=at(D("2025-12-20"))) == 1
    candidate = dev_tasks(session, case.member_id)["dev:candidate"]
    assert (candidate.cycle_id, candidate.period_start, candidate.due_on) == (next_year, D("2026-03-01"), D("2026-12-31"))
    assert sync_tasks(session=session, cycle_id=next_year or 0, now=at(D("2025-12-20"))) == 0


def test_replanning_the_cycle_leaves_development_tasks_alone_and_they_cannot_be_closed_as_meetings(
        session: Session, c: Any) -> None:
    cycle = planned_cycle(session, c)
    case = opened(session, c, "2026-01-10")
    record(session, case, "talk", "2026-01-20")
    record(session, case, "activist", "2026-03-01")
    future = dev_tasks(session, case.member_id)["dev:activist_education"]
    plan_cycle(session=session, cycle_id=cycle.id or 0, as_of=D("2026-02-01"))
    session.refresh(future)
    assert future.state == TaskState.open
    with pytest.raises(Conflict, match="develop record"):
        close_tasks(session=session, task_ids=[future.id or 0],
                    report=Report(held_on=D("2026-03-02"), topic="考察", minutes="略"), now=at(D("2026-03-02")))


# ---------------------------------------------------------------- requirements refused, nothing written

def test_training_of_two_days_is_refused_without_writing_and_twenty_four_hours_accepted(
        session: Session, c: Any) -> None:
    case = opened(session, c, "2024-01-10")
    to_activist(session, case)
    record(session, case, "candidate", "2025-03-01")
    before = snapshot(session)
    with pytest.raises(ValidationFailed, match="不足 3 天（或 24 个学时）"):
        record(session, case, "training", "2025-04-10", days=2)
    assert snapshot(session) == before
    result = record(session, case, "training", "2025-04-12", hours=24)
    assert result.milestone.details == {"hours": 24}


# ---------------------------------------------------------------- probation and full membership

def admit(session: Session, case: DevelopmentCase) -> None:
    to_activist(session, case)
    record(session, case, "candidate", "2025-03-01")
    record(session, case, "candidate_filing", "2025-03-05")
    record(session, case, "introducers", "2025-03-05", persons=["王芳", "李强"])
    record(session, case, "political_review", "2025-04-01")
    record(session, case, "training", "2025-04-10", days=3)
    record(session, case, "committee_review", "2025-05-06")
    record(session, case, "pre_review", "2025-05-20")
    record(session, case, "application_form", "2025-05-25")
    record(session, case, "admission_meeting", "2025-06-10", **VOTE)
    record(session, case, "higher_talk", "2025-06-20")
    record(session, case, "admission_approval", "2025-07-15")
    record(session, case, "admission_filing", "2025-07-20")
    record(session, case, "placement", "2025-07-20")
    record(session, case, "oath", "2025-07-20")
    record(session, case, "probation_education", "2026-01-10")
    record(session, case, "full_application", "2026-06-01")


def test_probation_runs_a_year_from_the_branch_meeting_and_an_early_meeting_is_refused(
        session: Session, c: Any) -> None:
    case = opened(session, c, "2024-01-10")
    admit(session, case)
    member = session.get(Member, case.member_id)
    assert member is not None
    assert (member.status, member.joined_on, member.full_on) == (MemberStatus.probationary, D("2025-06-10"), None)
    assert case_view(session=session, case_id=case.id or 0).probation_end == D("2026-06-10")
    before = snapshot(session)
    with pytest.raises(ValidationFailed, match="不得早于 2026-06-10"):
        record(session, case, "full_meeting", "2026-06-09", **VOTE)
    assert snapshot(session) == before
    record(session, case, "full_meeting", "2026-06-10", **VOTE)
    record(session, case, "full_approval", "2026-07-20")
    session.refresh(member)
    assert (member.status, member.full_on) == (MemberStatus.full, D("2026-06-10"))
    done = record(session, case, "archive", "2026-07-25")
    assert (done.case.closed_on, done.case.outcome) == (D("2026-07-25"), CaseOutcome.completed)
    with pytest.raises(Conflict, match="已于 2026-07-25 结束"):
        record(session, case, "talk", "2026-07-26")


def test_probation_is_extended_once_by_six_to_twelve_months(session: Session, c: Any) -> None:
    case = opened(session, c, "2024-01-10")
    admit(session, case)
    before = snapshot(session)
    with pytest.raises(ValidationFailed, match="延长 5 个月不符合规定，应为 6 至 12 个月"):
        record(session, case, "probation_extension", "2026-06-10", months=5)
    assert snapshot(session) == before
    record(session, case, "延长预备期", "2026-06-10", months=6)
    before = snapshot(session)
    with pytest.raises(ValidationFailed, match="预备期只能延长一次"):
        record(session, case, "probation_extension", "2026-12-10", months=6)
    with pytest.raises(ValidationFailed, match="不得早于 2026-12-10"):
        record(session, case, "full_meeting", "2026-12-09", **VOTE)
    assert snapshot(session) == before
    record(session, case, "full_meeting", "2026-12-10", **VOTE)
    record(session, case, "full_approval", "2027-01-10")
    member = session.get(Member, case.member_id)
    assert member is not None and (member.status, member.full_on) == (MemberStatus.full, D("2026-12-10"))


# ---------------------------------------------------------------- corrections and closing

def test_a_correction_that_would_make_a_later_step_too_early_is_refused_and_a_valid_one_supersedes(
        session: Session, c: Any) -> None:
    case = opened(session, c, "2024-01-10")
    to_activist(session, case)
    record(session, case, "candidate", "2025-03-01")
    activist = session.execute(select(Milestone).where(Milestone.case_id == case.id,
                                                       Milestone.step == "activist")).scalar_one()
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as refused:
        correct_milestone(session=session, milestone_id=activist.id or 0, on=D("2024-04-01"),
                          reason="日期记错", actor="支部书记", now=at(D("2025-03-10")))
    assert "第7步“确定发展对象”（2025-03-01）" in str(refused.value) and "第十三条" in str(refused.value)
    assert snapshot(session) == before
    fixed = correct_milestone(session=session, milestone_id=activist.id or 0, on=D("2024-02-28"),
                              reason="以支委会会议记录为准", actor="支部书记", now=at(D("2025-03-10")))
    assert fixed.milestone.supersedes_id == activist.id
    view = case_view(session=session, case_id=case.id or 0)
    entry = next(e for e in view.entries if e.step.code == "activist")
    assert entry.milestone.recorded_on == D("2024-02-28") and [v.id for v in entry.versions] == [activist.id]
    with pytest.raises(Conflict, match="已被"):
        correct_milestone(session=session, milestone_id=activist.id or 0, on=D("2024-02-27"),
                          reason="再改", actor="支部书记", now=at(D("2025-03-10")))


def test_closing_a_case_takes_the_person_off_the_roster_and_drops_open_tasks(session: Session, c: Any) -> None:
    planned_cycle(session, c)
    case = opened(session, c, "2026-01-10")
    record(session, case, "talk", "2026-01-20")
    record(session, case, "activist", "2026-02-10")
    result = close_case(session=session, case_id=case.id or 0, outcome="withdrawn", on=D("2026-04-01"),
                        reason="本人撤回入党申请", actor="支部书记", now=at(D("2026-04-02")))
    assert result.case.outcome == CaseOutcome.withdrawn
    assert session.get(Member, case.member_id).active is False   # type: ignore[union-attr]
    states = {t.duty_code: t.state for t in dev_tasks(session, case.member_id).values()}
    assert states["dev:talk"] == TaskState.done and states["dev:activist_filing"] == TaskState.not_applicable
    assert list_cases(session=session, unit_id=c.district.id) == []


def test_opening_twice_or_for_someone_on_the_roster_is_refused(session: Session, c: Any) -> None:
    opened(session, c, "2026-01-10")
    with pytest.raises(Conflict, match="已有未结束的发展党员档案"):
        opened(session, c, "2026-02-10")
    existing = c.big_members[0]
    with pytest.raises(Conflict, match="已是正式党员"):
        open_case(session=session, branch_id=c.big.id, member_id=existing.id, applied_on=D("2026-01-10"),
                  actor="支部书记", now=at(D("2026-01-10")))


def test_list_shows_cases_with_a_step_due_before_a_date(session: Session, c: Any) -> None:
    first = opened(session, c, "2026-01-10")
    open_case(session=session, branch_id=c.small.id, name="李华", id_number=id_number("1990-07-01", "456"),
              applied_on=D("2026-03-01"), actor="支部书记", now=at(D("2026-03-01")))
    rows = list_cases(session=session, unit_id=c.district.id, due_before=D("2026-02-15"))
    assert [(r.case.id, [w.step.code for w in r.windows]) for r in rows] == [(first.id, ["talk"])]
    assert len(list_cases(session=session, unit_id=c.district.id)) == 2


def test_the_overview_counts_activists_named_this_year_from_their_milestones(session: Session, c: Any) -> None:
    from dangjian.services.overview import members_behind, overview

    case = opened(session, c, "2026-01-10")
    record(session, case, "talk", "2026-01-25")
    record(session, case, "activist", "2026-03-01")
    older = open_case(session=session, branch_id=c.big.id, name="李红", id_number=id_number("1990-05-02", "246"),
                      applied_on=D("2025-01-10"), actor="支部书记", now=at(D("2025-01-10"))).case
    record(session, older, "talk", "2025-01-20")
    record(session, older, "activist", "2025-03-01")
    figures = {f.key: f.total for f in overview(session=session, unit_id="D", as_of=D("2026-11-24")).members}
    assert figures["activists_trained"] == 1 and figures["activists"] == 2
    listed = members_behind(session=session, unit_id="D", figure="activists_trained", as_of=D("2026-11-24"))
    assert [m.name for m in listed] == ["张晓明"]
