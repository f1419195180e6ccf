"""党费 services on a real database: income, payments, exemptions, statements, dues tasks."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.domain.dues import DueState, Month, parse_months
from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services.cycles import create_cycle
from dangjian.services.dues import (
    dues_schedule,
    member_dues,
    record_exemption,
    record_income,
    record_payment,
    unpaid,
)
from dangjian.services.rule_sets import register_rule_set
from models import (
    AuditEvent,
    Cycle,
    DuesExemption,
    DuesIncome,
    DuesPayment,
    DuesPaymentMonth,
    IncomeKind,
    Member,
    MemberCategory,
    MemberStatus,
    PaymentMode,
    SubjectKind,
    Task,
    TaskState,
)
from tests.support.builders import RULES, County, county

TODAY = date(2026, 12, 31)


@pytest.fixture
def c(session: Session) -> County:
    c = county(session)
    for m in c.big_members + c.small_members:
        m.category, m.joined_on = MemberCategory.in_service, date(2010, 7, 1)
        session.add(m)
    session.commit()
    return c


def counts(session: Session) -> tuple[int, ...]:
    return tuple(session.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (DuesPayment, DuesPaymentMonth, DuesIncome, DuesExemption, AuditEvent))


def income(session: Session, member: str, base: str, month: str = "2026-01",
           kind: IncomeKind = IncomeKind.salary) -> None:
    record_income(session=session, member_id=member, effective_month=Month(*map(int, month.split("-"))),
                  kind=kind, base=D(base), actor="组织委员")


def pay(session: Session, member: str, months: str, amount: str, paid_on: date, consent: bool = False):  # type: ignore[no-untyped-def]
    return record_payment(session=session, member_id=member, months=parse_months(months), amount=D(amount),
                          paid_on=paid_on, branch_consent=consent, actor="组织委员", today=TODAY)


def dues_tasks(session: Session, member: Member, year: int = 2026) -> list[Task]:
    """Monthly dues tasks as the member-duty planner will write them (subject the member)."""
    rules = register_rule_set(session=session, path=RULES, actor="测试")
    cycle = session.execute(select(Cycle).where(Cycle.code == str(year))).scalar_one_or_none()
    if cycle is None:
        cycle = create_cycle(session=session, code=str(year), name=f"{year}年度考核", root_unit_id="D",
                             rule_set_id=rules.id or 0, start_on=date(year, 1, 1),
                             end_on=date(year, 12, 31), actor="测试")
    tasks = []
    for m in range(1, 13):
        month = Month(year, m)
        t = Task(cycle_id=cycle.id or 0, duty_code="dues", subject_kind=SubjectKind.member,
                 subject_id=member.id, owner_unit_id=member.unit_id, period_start=month.first_day,
                 period_end=month.last_day, period_label=month.label, due_on=month.last_day)
        session.add(t)
        session.flush()     # one row at a time: PostgreSQL's batched insert casts to enum types
        tasks.append(t)
    session.commit()
    return tasks


# ---------------------------------------------------------------- owed and paid

def test_a_4800_salary_owes_48_yuan_every_month(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    statement = member_dues(session=session, member_id="M100", year=2026)
    assert [b.due.amount for b in statement.months] == [D("48.00")] * 12
    assert statement.owed == D("576.00") and statement.paid == 0 and statement.outstanding == D("576.00")


def test_a_salary_change_applies_from_the_first_month_of_the_new_pay(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    income(session, "M100", "5200", month="2026-07")
    owed = [b.due.amount for b in member_dues(session=session, member_id="M100", year=2026).months]
    assert owed == [D("48.00")] * 6 + [D("78.00")] * 6


def test_a_retired_member_on_5200_owes_52_yuan(session: Session, c: County) -> None:
    m = session.get(Member, "M101")
    assert m is not None
    m.category = MemberCategory.retired
    session.add(m)
    income(session, "M101", "5200", kind=IncomeKind.pension)
    assert member_dues(session=session, member_id="M101", year=2026).months[0].due.amount == D("52.00")


def test_a_student_owes_20_fen_without_registering_anything(session: Session, c: County) -> None:
    m = session.get(Member, "M102")
    assert m is not None
    m.category = MemberCategory.student
    session.add(m)
    session.commit()
    assert member_dues(session=session, member_id="M102", year=2026).owed == D("2.40")


def test_a_probationary_member_owes_from_the_month_admitted(session: Session, c: County) -> None:
    m = session.get(Member, "M190")
    assert m is not None and m.status == MemberStatus.probationary
    m.joined_on = date(2026, 3, 15)
    session.add(m)
    income(session, "M190", "4800")
    months = member_dues(session=session, member_id="M190", year=2026).months
    assert months[1].due.state == DueState.not_member and months[2].due.amount == D("48.00")
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        pay(session, "M190", "2026-02", "48", date(2026, 2, 20))
    assert "2026年2月 不需交纳党费" in str(err.value) and "M190" in str(err.value)
    assert counts(session) == before


def test_an_invalid_fixed_amount_is_refused_naming_the_member(session: Session, c: County) -> None:
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        income(session, "M100", "0.10", kind=IncomeKind.fixed)
    assert "党员M100" in str(err.value) and "0.20元 至 1.00元" in str(err.value)
    assert counts(session) == before


def test_a_second_base_for_the_same_month_needs_replace(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    with pytest.raises(Conflict, match="--replace"):
        income(session, "M100", "5200")
    record_income(session=session, member_id="M100", effective_month=Month(2026, 1), kind=IncomeKind.salary,
                  base=D(5200), actor="组织委员", replace=True)
    assert member_dues(session=session, member_id="M100", year=2026).months[0].due.amount == D("78.00")


# ---------------------------------------------------------------- payments

def test_paying_the_current_month_settles_it(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    result = pay(session, "M100", "2026-03", "48.00", date(2026, 3, 10))
    assert result.payment.mode == PaymentMode.monthly and result.payment.extra == 0
    statement = member_dues(session=session, member_id="M100", year=2026)
    march = statement.months[2]
    assert march.paid == D("48.00") and march.outstanding == 0 and march.balance == 0


def test_a_quarter_without_the_branchs_consent_is_refused_and_nothing_is_written(
        session: Session, c: County) -> None:
    income(session, "M100", "4800")
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        pay(session, "M100", "2026-01..2026-03", "144", date(2026, 1, 10))
    assert "按季交纳" in str(err.value) and "M100" in str(err.value)
    assert counts(session) == before
    assert pay(session, "M100", "2026-01..2026-03", "144", date(2026, 1, 10), consent=True).payment.mode \
        == PaymentMode.quarterly


def test_back_payment_older_than_six_months_is_refused_with_the_rule(session: Session, c: County) -> None:
    income(session, "M100", "4800", month="2025-01")
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        pay(session, "M100", "2025-12..2026-01", "96", date(2026, 7, 10), consent=True)
    assert "2025年12月" in str(err.value) and "一般不超过6个月" in str(err.value)
    assert counts(session) == before


def test_a_late_raise_leaves_a_difference_to_pay(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    pay(session, "M100", "2026-01", "48", date(2026, 1, 10))
    record_income(session=session, member_id="M100", effective_month=Month(2026, 1), kind=IncomeKind.salary,
                  base=D(5200), actor="组织委员", replace=True)
    january = member_dues(session=session, member_id="M100", year=2026).months[0]
    assert january.outstanding == D("30.00") and january.balance == D("-30.00")
    pay(session, "M100", "2026-01", "30", date(2026, 2, 5), consent=True)
    assert member_dues(session=session, member_id="M100", year=2026).months[0].outstanding == 0


def test_one_off_extra_of_1000_is_flagged_to_the_centre(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    result = pay(session, "M100", "2026-03", "1048", date(2026, 3, 10))
    assert result.payment.extra == D("1000.00") and result.payment.to_central
    row = session.get(DuesPayment, result.payment.id)
    assert row is not None and row.amount == D("1048.00")
    assert member_dues(session=session, member_id="M100", year=2026).extra == D("1000.00")


def test_a_month_without_a_registered_base_cannot_be_paid(session: Session, c: County) -> None:
    with pytest.raises(ValidationFailed, match="未登记党费计算基数"):
        pay(session, "M100", "2026-03", "48", date(2026, 3, 10))


def test_a_payment_dated_in_the_future_is_refused(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    with pytest.raises(ValidationFailed, match="晚于今天"):
        pay(session, "M100", "2026-03", "48", date(2027, 1, 2))


def test_an_unknown_member_is_named(session: Session, c: County) -> None:
    with pytest.raises(NotFound, match="NOPE"):
        pay(session, "NOPE", "2026-03", "48", date(2026, 3, 10))


# ---------------------------------------------------------------- dues tasks

def test_paying_marks_the_months_dues_task_done_and_a_late_payment_late(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    member = session.get(Member, "M100")
    assert member is not None
    tasks = dues_tasks(session, member)
    result = pay(session, "M100", "2026-03", "48", date(2026, 3, 10))
    assert result.tasks_closed == [tasks[2].id]
    pay(session, "M100", "2026-01..2026-02", "96", date(2026, 3, 10), consent=True)
    states = [session.get(Task, t.id).state for t in tasks[:4]]  # type: ignore[union-attr]
    assert states == [TaskState.late, TaskState.late, TaskState.done, TaskState.open]
    assert session.get(Task, tasks[2].id).done_on == date(2026, 3, 10)  # type: ignore[union-attr]


def test_exempt_months_excuse_their_dues_tasks(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    member = session.get(Member, "M100")
    assert member is not None
    tasks = dues_tasks(session, member)
    record_exemption(session=session, member_id="M100", first=Month(2026, 4), last=Month(2026, 6),
                     reason="大病住院，生活困难", approver_unit_id="S", approved_on=date(2026, 4, 2),
                     approved_by="街道党工委", actor="组织委员", today=TODAY)
    states = [session.get(Task, t.id).state for t in tasks[2:7]]  # type: ignore[union-attr]
    assert states == [TaskState.open, TaskState.excused, TaskState.excused, TaskState.excused, TaskState.open]
    owed = [b.due.amount for b in member_dues(session=session, member_id="M100", year=2026).months]
    assert owed[3:6] == [0, 0, 0] and owed[6] == D("48.00")


# ---------------------------------------------------------------- exemptions

def exempt(session: Session, approver: str, first: str = "2026-04", last: str = "2026-06",
           reduced_to: D | None = None, reason: str = "生活困难") -> DuesExemption:
    return record_exemption(session=session, member_id="M100", first=parse_months(first)[0],
                            last=parse_months(last)[0], reason=reason, approver_unit_id=approver,
                            approved_on=date(2026, 4, 2), approved_by="审批人", reduced_to=reduced_to,
                            actor="组织委员", today=TODAY)


@pytest.mark.parametrize("approver", ["B1", "B2", "G1"])
def test_an_exemption_must_be_approved_above_the_branch(session: Session, c: County, approver: str) -> None:
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        exempt(session, approver)
    assert "不是 东关社区党支部（B1）的上级党组织" in str(err.value) and "M100" in str(err.value)
    assert counts(session) == before


def test_an_exemption_needs_a_reason(session: Session, c: County) -> None:
    with pytest.raises(ValidationFailed) as err:
        exempt(session, "S", reason="  ")
    assert "理由" in str(err.value)


def test_exemptions_may_not_overlap(session: Session, c: County) -> None:
    exempt(session, "C1")
    with pytest.raises(Conflict, match="重叠"):
        exempt(session, "S", first="2026-06", last="2026-08")


def test_a_reduction_lowers_the_months_amount(session: Session, c: County) -> None:
    income(session, "M100", "4800")
    exempt(session, "D", reduced_to=D("10.00"))
    months = member_dues(session=session, member_id="M100", year=2026).months
    assert months[3].due.state == DueState.reduced and months[3].due.amount == D("10.00")
    assert months[3].due.standard == D("48.00")


# ---------------------------------------------------------------- set-based reading

def test_unpaid_lists_every_member_month_still_owing(session: Session, c: County) -> None:
    for m in c.small_members:
        income(session, m.id, "4800")
    pay(session, "M200", "2026-01", "48", date(2026, 1, 10))
    rows = unpaid(session=session, unit_id="B2", first=Month(2026, 1), last=Month(2026, 2))
    keys = {(r.member_id, r.month.iso, str(r.outstanding)) for r in rows}
    assert ("M200", "2026-01", "0.00") not in keys
    assert ("M200", "2026-02", "48.00") in keys
    assert {r.member_id for r in rows} == {m.id for m in c.small_members}
    assert len(rows) == 4 * 2 - 1


def test_schedule_covers_a_subtree_in_a_fixed_number_of_queries(session: Session, c: County) -> None:
    from sqlalchemy import event

    for m in c.big_members:
        income(session, m.id, "4800")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        schedule = dues_schedule(session=session, first=Month(2026, 1), last=Month(2026, 12), unit_id="S")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(schedule) == len(c.big_members) + len(c.small_members)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 5


# ---------------------------------------------------------------- through the planner

MEMBER_RULES = RULES.parent / "member_duties.yaml"


def test_dues_tasks_planned_from_the_member_duties_rule_set_close_when_paid(session: Session, c: County) -> None:
    from dangjian.services.planning import plan_cycle

    m = session.get(Member, "M190")
    assert m is not None
    m.joined_on = date(2026, 3, 15)        # 预备党员: owes from March
    session.add(m)
    session.commit()
    rules = register_rule_set(session=session, path=MEMBER_RULES, actor="测试")
    cycle = create_cycle(session=session, code="M2026", name="2026年党员个人职责", root_unit_id="D",
                         rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                         actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id or 0)
    labels = session.execute(select(Task.period_label).where(
        Task.cycle_id == cycle.id, Task.duty_code == "dues", Task.subject_id == "M190")
        .order_by(Task.period_start)).scalars().all()
    assert labels[0] == "2026年3月" and len(labels) == 10
    income(session, "M190", "4800")
    result = pay(session, "M190", "2026-03..2026-04", "96", date(2026, 4, 10), consent=True)
    assert len(result.tasks_closed) == 2
    states = dict(session.execute(select(Task.period_label, Task.state).where(
        Task.cycle_id == cycle.id, Task.duty_code == "dues", Task.subject_id == "M190")).all())
    assert states["2026年3月"] == TaskState.late and states["2026年4月"] == TaskState.done
    assert states["2026年5月"] == TaskState.open
