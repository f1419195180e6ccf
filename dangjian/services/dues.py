"""党费 use cases: base income changes, payments, exemptions, and what is owed and unpaid.

What a month owes is computed, never stored: the income record in force, the tier table
(rules/data/dues_2008.yaml) and approved exemptions decide it, so a late-entered salary
change shows up as a difference to pay (补交差额) without rewriting anything. Reads are
set-based: one query each for members, income records, exemptions and paid sums over a
subtree and a span of months, then the pure code in dangjian.domain.dues.

Paying settles the member's `dues` tasks (member-subject tasks planned from a rule set's
duty with code `dues`) whose months are all settled; an exemption excuses the ones whose
months are all exempt.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.clock import today as shanghai_today
from dangjian.domain.dues import (
    ZERO,
    DuesTables,
    DueState,
    ExemptionRecord,
    IncomeRecord,
    MemberFacts,
    Month,
    MonthBalance,
    PaymentPlan,
    balances,
    check_income,
    default_tables,
    join_months,
    month_range,
    owed_months,
    plan_payment,
    yuan,
)
from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services import audit
from dangjian.services.cycle_state import READ_ONLY, require_writable
from models import (
    Cycle,
    DuesExemption,
    DuesIncome,
    DuesPayment,
    DuesPaymentMonth,
    ExemptionKind,
    IncomeKind,
    LifeLeave,
    Member,
    SubjectKind,
    Task,
    TaskState,
    Unit,
    utcnow,
)

DUES_DUTY = "dues"                       # the duty code of monthly dues tasks in a rule set
OPEN_TASK_STATES = (TaskState.open, TaskState.overdue)


# ---------------------------------------------------------------- lookups

def get_member(session: Session, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"未知的党员：{member_id}", field="member")
    return member


def who(member: Member) -> str:
    return f"党员 {member.name}（{member.id}）"


def _unit(session: Session, unit_id: str, field: str = "unit") -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"未知的组织：{unit_id}", field=field)
    return unit


def _kind(value: IncomeKind | str) -> IncomeKind:
    try:
        return IncomeKind(value)
    except ValueError:
        allowed = "、".join(k.value for k in IncomeKind)
        raise ValidationFailed(f"kind：未知的收入类别“{value}”（可选：{allowed}）", field="kind") from None


def _scope(unit: Unit | None, member_ids: Sequence[str] | None):  # type: ignore[no-untyped-def]
    """A subquery of member ids: one member list, or every member under a unit."""
    query = select(Member.id)
    if unit is not None:
        query = query.join(Unit, Unit.id == Member.unit_id).where(Unit.path.startswith(unit.path))
    if member_ids is not None:
        query = query.where(Member.id.in_(list(member_ids)))
    return query


def member_facts(session: Session, *, unit: Unit | None = None, member_ids: Sequence[str] | None = None,
                 as_of: date | None = None) -> dict[str, MemberFacts]:
    """Facts of every member in scope: three queries, whatever the number of members.

    `as_of`: only exemptions approved on or before that day (what was known then)."""
    scope = _scope(unit, member_ids)
    members = session.execute(
        select(Member).where(Member.id.in_(scope)).order_by(Member.unit_id, Member.id)
    ).scalars().all()
    incomes: dict[str, list[IncomeRecord]] = defaultdict(list)
    for row in session.execute(select(DuesIncome).where(DuesIncome.member_id.in_(scope))).scalars():
        incomes[row.member_id].append(IncomeRecord(Month.of(row.effective_month), row.kind, row.base))
    exemptions: dict[str, list[ExemptionRecord]] = defaultdict(list)
    exempt_query = select(DuesExemption).where(DuesExemption.member_id.in_(scope))
    if as_of is not None:
        exempt_query = exempt_query.where(DuesExemption.approved_on <= as_of)
    for ex in session.execute(exempt_query).scalars():
        exemptions[ex.member_id].append(ExemptionRecord(
            Month.of(ex.first_month), Month.of(ex.last_month), ex.kind, ex.reduced_to, ex.reason))
    return {
        m.id: MemberFacts(m.id, m.name, m.category, m.status, m.joined_on,
                          tuple(incomes.get(m.id, ())), tuple(exemptions.get(m.id, ())))
        for m in members
    }


def paid_by_month(session: Session, first: Month, last: Month, *, unit: Unit | None = None,
                  member_ids: Sequence[str] | None = None,
                  as_of: date | None = None) -> dict[tuple[str, Month], Decimal]:
    """Sum paid per (member, month) in [first, last]: one GROUP BY (`as_of`: paid by that day)."""
    query = (
        select(DuesPaymentMonth.member_id, DuesPaymentMonth.month, func.sum(DuesPaymentMonth.amount))
        .where(DuesPaymentMonth.member_id.in_(_scope(unit, member_ids)),
               DuesPaymentMonth.month.between(first.first_day, last.first_day))
        .group_by(DuesPaymentMonth.member_id, DuesPaymentMonth.month)
    )
    if as_of is not None:
        query = query.join(DuesPayment, DuesPayment.id == DuesPaymentMonth.payment_id).where(
            DuesPayment.paid_on <= as_of)
    rows = session.execute(query).all()
    return {(mid, Month.of(month)): Decimal(total).quantize(Decimal("0.01")) for mid, month, total in rows}


@dataclass(frozen=True)
class MemberDues:
    facts: MemberFacts
    months: list[MonthBalance]


def dues_schedule(*, session: Session, first: Month, last: Month, unit_id: str | None = None,
                  member_ids: Sequence[str] | None = None, as_of: date | None = None,
                  tables: DuesTables | None = None) -> dict[str, MemberDues]:
    """What every member in scope owes and has paid for each month of [first, last].

    `as_of` reads the books as they stood that day: payments made and exemptions
    approved by then (None: everything recorded)."""
    if last < first:
        raise ValidationFailed(f"结束月 {last.label} 早于开始月 {first.label}", field="months")
    unit = _unit(session, unit_id) if unit_id else None
    tables = tables or default_tables()
    facts = member_facts(session, unit=unit, member_ids=member_ids, as_of=as_of)
    paid = paid_by_month(session, first, last, unit=unit, member_ids=member_ids, as_of=as_of)
    months = month_range(first, last)
    out: dict[str, MemberDues] = {}
    for mid, f in facts.items():
        dues = owed_months(f, months, tables)
        out[mid] = MemberDues(f, balances(dues, {m: paid.get((mid, m), ZERO) for m in months}))
    return out


@dataclass(frozen=True)
class UnpaidRow:
    member_id: str
    member_name: str
    month: Month
    state: DueState
    owed: Decimal | None
    paid: Decimal
    outstanding: Decimal | None      # None: the base is not registered, so unknown
    note: str


def unpaid(*, session: Session, unit_id: str, first: Month, last: Month,
           tables: DuesTables | None = None) -> list[UnpaidRow]:
    """Every (member, month) of the subtree that still owes something, or whose amount is unknown."""
    rows: list[UnpaidRow] = []
    for mid, dues in dues_schedule(session=session, first=first, last=last, unit_id=unit_id,
                                   tables=tables).items():
        for b in dues.months:
            if b.due.state == DueState.not_member:
                continue
            left = b.outstanding
            if left is None or left > 0:
                rows.append(UnpaidRow(mid, dues.facts.name, b.month, b.due.state, b.due.amount,
                                      b.paid, left, b.due.note))
    return rows


# ---------------------------------------------------------------- income

def record_income(*, session: Session, member_id: str, effective_month: Month,
                  kind: IncomeKind | str, base: Decimal, actor: str, note: str | None = None,
                  replace: bool = False, tables: DuesTables | None = None) -> DuesIncome:
    """Record the dues base from `effective_month` on (调资从新工资的当月起).

    For kind `fixed` the base is the monthly amount itself (农民 0.2–1 元；学生、下岗失业 0.2 元).
    A second record for the same month is refused unless `replace` (a correction, audited).
    """
    member = get_member(session, member_id)
    income_kind = _kind(kind)
    table = (tables or default_tables()).for_month(effective_month)
    problems = check_income(income_kind, base, member.category, table, who=who(member))
    if problems:
        raise ValidationFailed(f"{who(member)} 的党费基数未登记：", field="base", details=problems)
    existing = session.execute(select(DuesIncome).where(
        DuesIncome.member_id == member.id, DuesIncome.effective_month == effective_month.first_day)
    ).scalar_one_or_none()
    if existing is not None and not replace:
        raise Conflict(f"{who(member)} 已登记 {effective_month.label} 起的基数 {yuan(existing.base)}"
                       f"（{existing.kind}）；如需更正请加 --replace", field="from")
    before = None
    if existing is not None:
        before = {"kind": existing.kind, "base": str(existing.base), "note": existing.note}
        row = existing
        row.kind, row.base, row.note = income_kind, base, note
        row.recorded_by, row.recorded_at = actor, utcnow()
    else:
        row = DuesIncome(member_id=member.id, effective_month=effective_month.first_day, kind=income_kind,
                         base=base, note=note, recorded_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="dues.income", entity="dues_income", entity_id=row.id or 0,
                 before=before, after={"member": member.id, "from": effective_month.iso,
                                       "kind": income_kind, "base": str(base), "note": note})
    session.commit()
    return row


# ---------------------------------------------------------------- payments

@dataclass(frozen=True)
class PaymentResult:
    payment: DuesPayment
    plan: PaymentPlan
    tasks_closed: list[int]


def record_payment(*, session: Session, member_id: str, months: Sequence[Month], amount: Decimal,
                   paid_on: date, actor: str, branch_consent: bool = False, paid_by: str | None = None,
                   note: str | None = None, today: date | None = None,
                   tables: DuesTables | None = None) -> PaymentResult:
    """Record a payment covering `months`; all checks pass or nothing is written.

    See dangjian.domain.dues.plan_payment for the rules (consent for 按季/预交/补交,
    six months at most, voluntary extra, 1000元 to the Centre).
    """
    member = get_member(session, member_id)
    today = today or shanghai_today()
    if paid_on > today:
        raise ValidationFailed(f"{who(member)}：交纳日期 {paid_on} 晚于今天（{today}）", field="paid-on")
    tables = tables or default_tables()
    covered = sorted(set(months)) or [Month.of(paid_on)]
    schedule = dues_schedule(session=session, first=covered[0], last=covered[-1],
                             member_ids=[member.id], tables=tables)[member.id]
    plan = plan_payment(who=who(member), paid_on=paid_on, months=months, amount=amount,
                        balances_by_month={b.month: b for b in schedule.months},
                        branch_consent=branch_consent, table=tables.for_month(Month.of(paid_on)))
    payment = DuesPayment(member_id=member.id, paid_on=paid_on, amount=amount, extra=plan.extra,
                          to_central=plan.to_central, mode=plan.mode, branch_consent=branch_consent,
                          paid_by=paid_by, note=note, recorded_by=actor)
    session.add(payment)
    session.flush()
    for month, part in plan.allocations.items():
        session.add(DuesPaymentMonth(payment_id=payment.id or 0, month=month.first_day,
                                     member_id=member.id, amount=part))
    session.flush()
    audit.record(session, actor=actor, action="dues.pay", entity="dues_payment", entity_id=payment.id or 0,
                 after={"member": member.id, "paid_on": paid_on, "amount": str(amount),
                        "months": {m.iso: str(v) for m, v in plan.allocations.items()},
                        "extra": str(plan.extra), "to_central": plan.to_central, "mode": plan.mode,
                        "branch_consent": branch_consent, "paid_by": paid_by})
    closed = _settle_tasks(session, member, paid_on=paid_on, actor=actor, tables=tables)
    session.commit()
    return PaymentResult(payment, plan, closed)


# ---------------------------------------------------------------- exemptions and leave

def _is_above(approver: Unit, branch: Unit) -> bool:
    return approver.id != branch.id and branch.path.startswith(approver.path)


def record_exemption(*, session: Session, member_id: str, first: Month, last: Month, reason: str,
                     approver_unit_id: str, approved_on: date, approved_by: str, actor: str,
                     reduced_to: Decimal | None = None, today: date | None = None,
                     tables: DuesTables | None = None) -> DuesExemption:
    """少交 (`reduced_to` a month) or 免交 (no `reduced_to`) for first..last, approved above the branch.

    经党支部研究，报上一级党委批准: the approving unit must be an ancestor of the member's
    branch. Exemptions of one member may not overlap. Open dues tasks whose months are
    all exempt become excused.
    """
    member = get_member(session, member_id)
    branch = _unit(session, member.unit_id)
    today = today or shanghai_today()
    problems: list[str] = []
    if not reason.strip():
        problems.append("须写明少交或免交的理由（reason）")
    if last < first:
        problems.append(f"有效期的结束月 {last.label} 早于开始月 {first.label}")
    if approved_on > today:
        problems.append(f"批准日期 {approved_on} 晚于今天（{today}）")
    if not approved_by.strip():
        problems.append("须写明批准人（approved-by）")
    if reduced_to is not None and reduced_to <= 0:
        problems.append(f"少交后的月交金额须大于0（收到 {yuan(reduced_to)}）；全免请不填 reduce-to")
    approver = session.get(Unit, approver_unit_id)
    if approver is None:
        problems.append(f"未知的批准单位：{approver_unit_id}")
    elif not _is_above(approver, branch):
        problems.append(f"批准单位 {approver.name}（{approver.id}）不是 {branch.name}（{branch.id}）的上级党组织："
                        "少交、免交党费须经党支部研究、报上一级党委批准")
    if problems:
        raise ValidationFailed(f"{who(member)} 的少交/免交党费未登记：", field="exemption", details=problems)
    overlap = session.execute(select(DuesExemption).where(
        DuesExemption.member_id == member.id,
        DuesExemption.first_month <= last.first_day, DuesExemption.last_month >= first.first_day,
    ).order_by(DuesExemption.first_month)).scalars().first()
    if overlap is not None:
        span = join_months(month_range(Month.of(overlap.first_month), Month.of(overlap.last_month)))
        raise Conflict(f"{who(member)} 在 {span} 已有经批准的少交/免交记录 #{overlap.id}，与 "
                       f"{join_months(month_range(first, last))} 重叠", field="months")
    kind = ExemptionKind.reduce if reduced_to is not None else ExemptionKind.exempt
    row = DuesExemption(member_id=member.id, kind=kind, first_month=first.first_day, last_month=last.first_day,
                        reduced_to=reduced_to, reason=reason.strip(), approver_unit_id=approver_unit_id,
                        approved_on=approved_on, approved_by=approved_by.strip(), recorded_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="dues.exempt", entity="dues_exemption", entity_id=row.id or 0,
                 after={"member": member.id, "kind": kind, "first": first.iso, "last": last.iso,
                        "reduced_to": None if reduced_to is None else str(reduced_to), "reason": row.reason,
                        "approver": approver_unit_id, "approved_on": approved_on, "approved_by": row.approved_by})
    _settle_tasks(session, member, paid_on=None, actor=actor, tables=tables or default_tables())
    session.commit()
    return row


def record_leave(*, session: Session, member_id: str, first: Month, last: Month, reason: str,
                 approved_by: str, actor: str) -> LifeLeave:
    """Approved leave from organisation life for whole months (a good reason in the 自行脱党 check)."""
    member = get_member(session, member_id)
    problems = []
    if not reason.strip():
        problems.append("须写明请假理由（reason）")
    if not approved_by.strip():
        problems.append("须写明批准人（approved-by）")
    if last < first:
        problems.append(f"请假的结束月 {last.label} 早于开始月 {first.label}")
    if problems:
        raise ValidationFailed(f"{who(member)} 的请假未登记：", field="leave", details=problems)
    row = LifeLeave(member_id=member.id, first_month=first.first_day, last_month=last.first_day,
                    reason=reason.strip(), approved_by=approved_by.strip(), recorded_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="life.leave", entity="life_leave", entity_id=row.id or 0,
                 after={"member": member.id, "first": first.iso, "last": last.iso, "reason": row.reason,
                        "approved_by": row.approved_by})
    session.commit()
    return row


# ---------------------------------------------------------------- dues tasks

def _months_of(task: Task) -> list[Month]:
    return month_range(Month.of(task.period_start), Month.of(task.period_end))


def _settle_tasks(session: Session, member: Member, *, paid_on: date | None, actor: str,
                  tables: DuesTables) -> list[int]:
    """Close the member's open dues tasks whose months are settled (paid up or exempt).

    All months exempt → excused; otherwise, on a payment, all months paid up → done (late
    when paid after the due date), done_on the payment date.
    """
    # A closed cycle's dues tasks stay as its close settled them (missed): a late payment is
    # recorded (it is money received) but does not rewrite a closed cycle.
    tasks = session.execute(select(Task).join(Cycle, Cycle.id == Task.cycle_id).where(
        Task.duty_code == DUES_DUTY, Task.subject_kind == SubjectKind.member,
        Task.subject_id == member.id, Task.state.in_(OPEN_TASK_STATES), Cycle.state.not_in(READ_ONLY),
    ).order_by(Task.period_start)).scalars().all()
    if not tasks:
        return []
    require_writable(session, {t.cycle_id for t in tasks}, "结清党费任务")
    first = min(Month.of(t.period_start) for t in tasks)
    last = max(Month.of(t.period_end) for t in tasks)
    state = {b.month: b for b in dues_schedule(session=session, first=first, last=last,
                                               member_ids=[member.id], tables=tables)[member.id].months}
    closed: list[int] = []
    now = utcnow()
    for task in tasks:
        months = [state[m] for m in _months_of(task)]
        if all(b.due.state == DueState.exempt for b in months):
            new_state, done_on = TaskState.excused, None
        elif paid_on is not None and all(b.outstanding == 0 for b in months):
            new_state = TaskState.done if paid_on <= task.due_on else TaskState.late
            done_on = paid_on
        else:
            continue
        before = {"state": task.state, "done_on": task.done_on}
        task.state, task.done_on, task.updated_at = new_state, done_on, now
        session.add(task)
        audit.record(session, actor=actor, action="task.dues_settled", entity="task", entity_id=task.id or 0,
                     before=before, after={"state": new_state, "done_on": done_on,
                                           "months": [b.month.iso for b in months]})
        closed.append(task.id or 0)
    session.flush()
    return closed


# ---------------------------------------------------------------- one member's year

@dataclass(frozen=True)
class MemberStatement:
    member: Member
    year: int
    months: list[MonthBalance]
    payments: list[DuesPayment]

    @property
    def owed(self) -> Decimal:
        return sum((b.due.amount or ZERO for b in self.months), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((b.paid for b in self.months), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return sum((b.outstanding or ZERO for b in self.months), ZERO)

    @property
    def unknown(self) -> list[Month]:
        return [b.month for b in self.months if b.due.state == DueState.unknown]

    @property
    def unpaid(self) -> list[Month]:
        """Months nothing was paid for though they owe (amount known or not)."""
        return [b.month for b in self.months if b.unpaid]

    @property
    def unpaid_unknown(self) -> list[Month]:
        """Unpaid months whose amount is unknown: owing, by an amount not yet known."""
        return [b.month for b in self.months if b.unpaid and b.due.amount is None]

    @property
    def extra(self) -> Decimal:
        return sum((p.extra for p in self.payments), ZERO)


def member_dues(*, session: Session, member_id: str, year: int,
                tables: DuesTables | None = None) -> MemberStatement:
    """Owed, paid and balance for each month of a year, and the payments touching it."""
    member = get_member(session, member_id)
    first, last = Month(year, 1), Month(year, 12)
    schedule = dues_schedule(session=session, first=first, last=last, member_ids=[member.id],
                             tables=tables)[member.id]
    touching = select(DuesPaymentMonth.payment_id).where(
        DuesPaymentMonth.member_id == member.id,
        DuesPaymentMonth.month.between(first.first_day, last.first_day))
    payments = session.execute(select(DuesPayment).where(
        DuesPayment.member_id == member.id,
        (DuesPayment.id.in_(touching)) | (DuesPayment.paid_on.between(first.first_day, last.last_day)),
    ).order_by(DuesPayment.paid_on, DuesPayment.id)).scalars().all()
    return MemberStatement(member, year, schedule.months, list(payments))


def payment_months(session: Session, payment_ids: Iterable[int]) -> dict[int, list[Month]]:
    out: dict[int, list[Month]] = defaultdict(list)
    for pid, month in session.execute(
        select(DuesPaymentMonth.payment_id, DuesPaymentMonth.month)
        .where(DuesPaymentMonth.payment_id.in_(list(payment_ids))).order_by(DuesPaymentMonth.month)
    ):
        out[pid].append(Month.of(month))
    return out
