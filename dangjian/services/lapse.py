"""自行脱党 candidates: members with six months in a row of no dues or no organisation life.

Set-based over a subtree and a window of whole months: one query each for members,
their dues (through dangjian.services.dues.dues_schedule), approved leave, meetings
attended and meetings held; the marks and runs are pure code (dangjian.domain.lapse).

A "meeting" is the latest version of a completion that closes at least one unit task
(党员大会、支委会、党小组会、党课、主题党日 …); taking part means attending one as present or
on leave. Months with a good reason (dues exempted, approved leave, no meeting held by
the member's branch or group) are excused and break a run.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, extract, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from dangjian.domain.dues import PAYING, DuesTables, DueState, Month, month_range
from dangjian.domain.lapse import RUN_LENGTH, LapseFlag, MonthFacts, assess, dues_mark, life_mark
from dangjian.errors import NotFound, ValidationFailed
from dangjian.services.dues import dues_schedule
from models import (
    Attendance,
    Completion,
    CompletionTask,
    Cycle,
    LifeLeave,
    Member,
    Presence,
    SubjectKind,
    Task,
    Unit,
)


@dataclass(frozen=True)
class LapseReport:
    unit_id: str
    unit_name: str
    first: Month
    last: Month
    as_of: date
    members_checked: int
    flags: list[LapseFlag]


def last_complete_month(as_of: date) -> Month:
    month = Month.of(as_of)
    return month if as_of == month.last_day else month.plus(-1)


def resolve_scope(session: Session, scope: str) -> Unit:
    """A unit id, a cycle code (its root unit), or 'unit:…' / 'cycle:…' when both exist."""
    kind, _, key = scope.partition(":") if scope.startswith(("unit:", "cycle:")) else ("", "", scope)
    unit = session.get(Unit, key) if kind in ("", "unit") else None
    cycle = (session.execute(select(Cycle).where(Cycle.code == key)).scalar_one_or_none()
             if kind in ("", "cycle") else None)
    if unit is not None and cycle is not None:
        raise ValidationFailed(f"“{key}”既是组织编码又是考核周期编码，请写成 unit:{key} 或 cycle:{key}",
                               field="scope")
    if cycle is not None:
        root = session.get(Unit, cycle.root_unit_id)
        if root is None:
            raise NotFound(f"周期 {cycle.code} 的根组织 {cycle.root_unit_id} 不存在", field="scope")
        return root
    if unit is None:
        raise NotFound(f"未知的组织或考核周期：{scope}", field="scope")
    return unit


def _meeting():  # type: ignore[no-untyped-def]
    """Completion rows that are the latest version of their chain and close a unit task."""
    newer = aliased(Completion)
    latest = ~exists().where(and_(newer.chain_id == Completion.chain_id, newer.version > Completion.version))
    unit_task = exists().where(and_(CompletionTask.completion_id == Completion.id,
                                    Task.id == CompletionTask.task_id,
                                    Task.subject_kind == SubjectKind.unit))
    return and_(latest, unit_task)


def _month_key(column):  # type: ignore[no-untyped-def]
    return extract("year", column), extract("month", column)


def lapse_candidates(*, session: Session, scope: str, as_of: date, months: int = 12,
                     run_length: int = RUN_LENGTH, tables: DuesTables | None = None) -> LapseReport:
    """Members of the subtree with `run_length` months in a row of missing dues or
    organisation life, within the `months` whole months ending before or on `as_of`."""
    if months < run_length:
        raise ValidationFailed(f"months：回看月数 {months} 少于连续月数 {run_length}", field="months")
    root = resolve_scope(session, scope)
    last = last_complete_month(as_of)
    first = last.plus(-(months - 1))
    window = month_range(first, last)
    start, end = first.first_day, last.last_day

    members = session.execute(
        select(Member.id, Member.name, Member.unit_id, Member.group_id, Unit.name)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Unit.path.startswith(root.path), Member.active.is_(True), Member.status.in_(PAYING))
        .order_by(Unit.path, Member.id)
    ).all()
    in_scope = (select(Member.id).join(Unit, Unit.id == Member.unit_id)
                .where(Unit.path.startswith(root.path)))
    dues = dues_schedule(session=session, first=first, last=last, unit_id=root.id, as_of=as_of,
                         tables=tables)

    leave: dict[tuple[str, Month], str] = {}
    for row in session.execute(select(LifeLeave).where(
        LifeLeave.member_id.in_(in_scope), LifeLeave.first_month <= last.first_day,
        LifeLeave.last_month >= first.first_day,
    )).scalars():
        for m in month_range(max(Month.of(row.first_month), first), min(Month.of(row.last_month), last)):
            leave.setdefault((row.member_id, m), row.reason)

    year, month = _month_key(Completion.held_on)
    attended: dict[tuple[str, Month], int] = {}
    for mid, y, mo, n in session.execute(
        select(Attendance.member_id, year, month, func.count(func.distinct(Completion.chain_id)))
        .join(Completion, Completion.id == Attendance.completion_id)
        .where(Attendance.member_id.in_(in_scope),
               Attendance.presence.in_([Presence.present, Presence.leave]),
               Completion.held_on.between(start, end), _meeting())
        .group_by(Attendance.member_id, year, month)
    ):
        attended[(mid, Month(int(y), int(mo)))] = int(n)

    held: dict[tuple[str, Month], int] = defaultdict(int)
    units_in_scope = select(Unit.id).where(Unit.path.startswith(root.path))
    for uid, y, mo, n in session.execute(
        select(Completion.unit_id, year, month, func.count(func.distinct(Completion.chain_id)))
        .where(Completion.unit_id.in_(units_in_scope), Completion.held_on.between(start, end), _meeting())
        .group_by(Completion.unit_id, year, month)
    ):
        held[(uid, Month(int(y), int(mo)))] += int(n)

    flags: list[LapseFlag] = []
    for mid, name, branch_id, group_id, branch_name in members:
        schedule = {b.month: b for b in dues[mid].months}
        facts = []
        for m in window:
            dues_state, dues_note = dues_mark(schedule[m])
            is_member = schedule[m].due.state != DueState.not_member
            meetings = held.get((branch_id, m), 0) + (held.get((group_id, m), 0) if group_id else 0)
            life_state, life_note = life_mark(member=is_member, attended=attended.get((mid, m), 0),
                                              meetings_held=meetings, leave_reason=leave.get((mid, m)))
            facts.append(MonthFacts(m, dues_state, dues_note, life_state, life_note))
        flag = assess(member_id=mid, member_name=name, branch_id=branch_id, branch_name=branch_name,
                      facts=facts, length=run_length)
        if flag is not None:
            flags.append(flag)
    return LapseReport(root.id, root.name, first, last, as_of, len(members), flags)
