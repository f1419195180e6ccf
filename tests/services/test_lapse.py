"""自行脱党 candidates over a real database: dues, meetings attended, good reasons."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dangjian.domain.dues import Month
from dangjian.domain.lapse import Reason
from dangjian.errors import NotFound, ValidationFailed
from dangjian.services.cycles import create_cycle
from dangjian.services.dues import record_exemption, record_income, record_leave, record_payment
from dangjian.services.lapse import lapse_candidates
from dangjian.services.rule_sets import register_rule_set
from models import (
    Attendance,
    Completion,
    CompletionTask,
    Cycle,
    IncomeKind,
    Member,
    MemberCategory,
    Presence,
    SubjectKind,
    Task,
)
from tests.support.builders import RULES, County, county

JUNE_END = date(2026, 6, 30)
FIRST_HALF = range(1, 7)


@pytest.fixture
def c(session: Session) -> County:
    c = county(session)
    for m in c.big_members + c.small_members:
        m.category, m.joined_on = MemberCategory.in_service, date(2010, 7, 1)
        session.add(m)
    session.commit()
    rules = register_rule_set(session=session, path=RULES, actor="测试")
    create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id="D",
                 rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31), actor="测试")
    return c


def _task(session: Session, subject: str, owner: str, month: int, duty: str = "theme_party_day",
          kind: SubjectKind = SubjectKind.unit) -> Task:
    cycle = session.execute(select(Cycle).where(Cycle.code == "2026")).scalar_one()
    m = Month(2026, month)
    task = Task(cycle_id=cycle.id or 0, duty_code=duty, subject_kind=kind, subject_id=subject,
                owner_unit_id=owner, period_start=m.first_day, period_end=m.last_day, period_label=m.label,
                due_on=m.last_day)
    session.add(task)
    session.flush()
    return task


def hold(session: Session, branch: str, month: int, present: Iterable[str] = (), leave: Iterable[str] = (),
         absent: Iterable[str] = (), *, task: Task | None = None, correcting: Completion | None = None) -> Completion:
    """A meeting of `branch` on the 10th, closing its 主题党日 task (or `task`), with attendance."""
    if correcting is None:
        task = task or _task(session, branch, branch, month)
    completion = Completion(chain_id=correcting.chain_id if correcting else None,
                            version=correcting.version + 1 if correcting else 1, unit_id=branch,
                            held_on=date(2026, month, 10), topic="主题党日", minutes="记录", reported_by="书记")
    session.add(completion)
    session.flush()
    completion.chain_id = completion.chain_id or completion.id
    if correcting is not None:
        task_ids = session.execute(select(CompletionTask.task_id).where(
            CompletionTask.completion_id == correcting.id)).scalars().all()
    else:
        assert task is not None
        task_ids = [task.id or 0]
    for tid in task_ids:
        session.add(CompletionTask(completion_id=completion.id or 0, task_id=tid, version=completion.version))
    for presence, ids in ((Presence.present, present), (Presence.leave, leave), (Presence.absent, absent)):
        for mid in ids:
            session.add(Attendance(completion_id=completion.id or 0, member_id=mid, presence=presence))
    session.commit()
    return completion


def pay_months(session: Session, member: str, months: Iterable[int]) -> None:
    record_income(session=session, member_id=member, effective_month=Month(2026, 1), kind=IncomeKind.salary,
                  base=D(4800), actor="组织委员")
    for m in months:
        record_payment(session=session, member_id=member, months=[Month(2026, m)], amount=D(48),
                       paid_on=date(2026, m, 10), actor="组织委员", today=JUNE_END)


def flags(session: Session, scope: str = "B1", as_of: date = JUNE_END, months: int = 6):  # type: ignore[no-untyped-def]
    report = lapse_candidates(session=session, scope=scope, as_of=as_of, months=months)
    return {f.member_id: f for f in report.flags}


def test_six_months_without_dues_or_meetings_flags_the_member_with_both_reasons(
        session: Session, c: County) -> None:
    pay_months(session, "M100", FIRST_HALF)
    for m in FIRST_HALF:
        hold(session, "B1", m, present=["M100"], absent=["M101"])
    found = flags(session)
    assert "M100" not in found
    f = found["M101"]
    assert f.reasons == [Reason.dues, Reason.life] and f.branch_name == "东关社区党支部"
    text = f.describe()
    assert "2026年1月至2026年6月连续6个月不交纳党费" in text
    assert "2026年1月至2026年6月连续6个月不参加党的组织生活" in text
    assert "均未参加" in f.month_line(Month(2026, 3))


def test_attending_one_meeting_on_leave_breaks_the_organisation_life_run(session: Session, c: County) -> None:
    for m in FIRST_HALF:
        hold(session, "B1", m, leave=["M101"] if m == 3 else [], absent=[] if m == 3 else ["M101"])
    assert flags(session)["M101"].reasons == [Reason.dues]


def test_an_exemption_and_approved_leave_are_good_reasons(session: Session, c: County) -> None:
    for m in FIRST_HALF:
        hold(session, "B1", m, absent=["M102"])
    record_exemption(session=session, member_id="M102", first=Month(2026, 3), last=Month(2026, 3),
                     reason="生活困难", approver_unit_id="S", approved_on=date(2026, 3, 1), approved_by="党工委",
                     actor="组织委员", today=JUNE_END)
    record_leave(session=session, member_id="M102", first=Month(2026, 4), last=Month(2026, 4),
                 reason="住院治疗", approved_by="支部书记", actor="组织委员")
    assert "M102" not in flags(session)
    assert "M103" in flags(session)


def test_a_branch_that_held_no_meeting_flags_nobody_for_organisation_life(session: Session, c: County) -> None:
    pay_months(session, "M200", FIRST_HALF)
    talk = _task(session, "M201", "B2", 2, duty="heart_talk", kind=SubjectKind.member)
    hold(session, "B2", 2, absent=["M201"], task=talk)       # a member duty, not a meeting
    found = flags(session, scope="B2")
    assert "M200" not in found
    assert found["M201"].reasons == [Reason.dues]


def test_only_the_latest_version_of_a_report_counts(session: Session, c: County) -> None:
    for m in FIRST_HALF:
        first = hold(session, "B1", m, present=["M103"] if m == 3 else [])
        if m == 3:
            assert "M103" not in {f for f, x in flags(session).items() if Reason.life in x.reasons}
            hold(session, "B1", m, correcting=first)        # corrected: M103 was not there after all
    assert Reason.life in flags(session)["M103"].reasons


def test_a_member_admitted_in_march_is_not_counted_before(session: Session, c: County) -> None:
    m = session.get(Member, "M190")
    assert m is not None
    m.joined_on = date(2026, 3, 1)
    session.add(m)
    session.commit()
    for month in FIRST_HALF:
        hold(session, "B1", month)
    assert "M190" not in flags(session)
    assert "M190" in flags(session, as_of=date(2026, 8, 31))


def test_the_month_of_as_of_counts_only_once_it_has_ended(session: Session, c: County) -> None:
    report = lapse_candidates(session=session, scope="B1", as_of=date(2026, 7, 15), months=6)
    assert (report.first, report.last) == (Month(2026, 1), Month(2026, 6))
    report = lapse_candidates(session=session, scope="B1", as_of=date(2026, 7, 31), months=6)
    assert report.last == Month(2026, 7)


def test_a_cycle_code_checks_its_whole_tree(session: Session, c: County) -> None:
    report = lapse_candidates(session=session, scope="2026", as_of=JUNE_END, months=6)
    assert report.unit_id == "D" and report.members_checked == 9 + 4


def test_bad_scope_and_window_are_named(session: Session, c: County) -> None:
    with pytest.raises(NotFound, match="NOPE"):
        lapse_candidates(session=session, scope="NOPE", as_of=JUNE_END)
    with pytest.raises(ValidationFailed, match="回看月数 3"):
        lapse_candidates(session=session, scope="B1", as_of=JUNE_END, months=3)


def test_payments_made_after_as_of_do_not_count(session: Session, c: County) -> None:
    record_income(session=session, member_id="M104", effective_month=Month(2026, 1), kind=IncomeKind.salary,
                  base=D(4800), actor="组织委员")
    record_payment(session=session, member_id="M104", months=[Month(2026, 3)], amount=D(48),
                   paid_on=date(2026, 7, 20), branch_consent=True, actor="组织委员", today=date(2026, 7, 31))
    assert Reason.dues in flags(session)["M104"].reasons                   # as of June: not yet paid
    later = flags(session, as_of=date(2026, 7, 31), months=7)              # March paid: runs of 2 and 4
    assert "M104" not in later or Reason.dues not in later["M104"].reasons


def test_the_dues_statement_and_the_lapse_check_agree_on_unpaid_months_of_unknown_amount(
        session: Session, c: County) -> None:
    from dangjian.services.dues import member_dues

    record_exemption(session=session, member_id="M101", first=Month(2026, 7), last=Month(2026, 7),
                     reason="生活困难", approver_unit_id="S", approved_on=date(2026, 6, 1), approved_by="党工委",
                     actor="组织委员", today=JUNE_END)
    statement = member_dues(session=session, member_id="M101", year=2026)
    report = lapse_candidates(session=session, scope="B1", as_of=JUNE_END, months=6)
    (flag,) = [f for f in report.flags if f.member_id == "M101"]
    lapsed = [m for m in (Month(2026, i) for i in FIRST_HALF)
              if "未交" in flag.month_line(m)]
    # no base registered: every month owes an unknown amount, but July is exempted
    assert [m for m in statement.unpaid if m <= Month(2026, 6)] == lapsed == [Month(2026, i) for i in FIRST_HALF]
    assert Month(2026, 7) not in statement.unpaid and statement.unpaid_unknown[0] == Month(2026, 1)
