"""Planning: the rule set's duties × the subjects that owe them × the cycle's periods.

Subjects are units (a branch, a party group) or members (交纳党费), decided by
dangjian.domain.applicability from facts read once per table. Dates are computed once
per duty and reused for every subject; every year any duty needs is checked against
the holiday calendar before anything is read or written, so a missing year fails
with one CalendarGap naming the files to add. Rows go in through the bulk path with
ON CONFLICT DO NOTHING on (cycle, duty, subject, period start): planning twice adds
nothing.

The first planning of a cycle (state draft) plans every period of its span, also when
given an `as_of` inside it: periods already started or ended are still owed (the audit
event counts them as tasks_planned_late). Any planning also fills a period of a duty that
holds no task at all (never planned). A closed cycle is not planned (cycle_state). Planning
again (after a roster change: a member moves branch or leaves, a branch gains a
committee) touches only periods that start after `as_of` (default: today in Shanghai):
- it adds their tasks for subjects that now owe them;
- open tasks of subjects that no longer owe them become not_applicable;
- open tasks whose subject now answers to another branch move to that branch;
- tasks it made not_applicable earlier reopen when their subject owes them again
  (never one a waiver made not_applicable).
Periods already started, and tasks in any other state, are never touched. Each
change is one set-based UPDATE … RETURNING id per batch of subjects, and one audit event
per duty and kind of change, listing the tasks.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlmodel import Session

from dangjian.clock import shanghai_date, today
from dangjian.db import serialise
from dangjian.domain import applicability
from dangjian.domain.applicability import MemberFacts, Subject, UnitFacts
from dangjian.domain.calendar import WorkCalendar
from dangjian.domain.periods import Period, due_date, periods_in, years_touched
from dangjian.errors import NotFound
from dangjian.services import audit
from dangjian.services.bulk import insert_ignoring_duplicates
from dangjian.services.cycle_state import require_writable
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.settings import get_settings
from models import (
    Cycle,
    CycleState,
    Member,
    MemberStatus,
    Task,
    TaskState,
    Unit,
    Waiver,
    utcnow,
)
from rules.duties import Duty

TASK_COLUMNS = (
    "cycle_id", "duty_code", "subject_kind", "subject_id", "owner_unit_id",
    "period_start", "period_end", "period_label", "due_on", "state", "updated_at",
)
_BATCH = 1000   # subjects per UPDATE … WHERE subject_id IN (…)


@dataclass(frozen=True)
class PlanReport:
    cycle_code: str
    added: int
    total: int
    as_of: date | None = None         # None: every period of the span was planned
    not_applicable: int = 0           # open tasks whose subject no longer owes them
    reassigned: int = 0               # open tasks moved to the subject's new branch
    reopened: int = 0                 # not_applicable tasks owed again


def work_calendar() -> WorkCalendar:
    extra = get_settings().calendar_dir
    return WorkCalendar.load([extra] if extra else [])


def plan_dates_for_all(duties: Sequence[Duty], start: date, end: date,
                       calendar: WorkCalendar) -> dict[str, list[tuple[Period, date]]]:
    """Every duty's periods and due dates; one CalendarGap listing every missing year first."""
    periods = {d.code: periods_in(d.frequency, start, end) for d in duties}
    years: set[int] = set()
    for duty in duties:
        years |= years_touched(periods[duty.code], duty.due)
    calendar.require_years(years)
    return {d.code: [(p, due_date(p, d.due, calendar)) for p in periods[d.code]] for d in duties}


def unit_facts(session: Session, root: Unit) -> list[UnitFacts]:
    """Every unit of the subtree, with has_committee decided from the roster where it should be."""
    full = dict(session.execute(
        select(Member.unit_id, func.count())
        .join(Unit, Unit.id == Member.unit_id)
        .where(Unit.path.startswith(root.path, autoescape=True),
               Member.status == MemberStatus.full, Member.active.is_(True))
        .group_by(Member.unit_id)
    ).all())
    rows = session.execute(
        select(Unit.id, Unit.kind, Unit.parent_id, Unit.area, Unit.has_committee, Unit.attributes)
        .where(Unit.path.startswith(root.path, autoescape=True)).order_by(Unit.path)
    ).all()
    return [
        UnitFacts(uid, kind, parent, area,
                  applicability.committee_now(bool(stored), attributes, full.get(uid, 0)))
        for uid, kind, parent, area, stored, attributes in rows
    ]


def member_facts(session: Session, root: Unit) -> list[MemberFacts]:
    rows = session.execute(
        select(Member.id, Member.unit_id, Member.category, Member.status, Member.active,
               Member.joined_on)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Unit.path.startswith(root.path, autoescape=True)).order_by(Member.id)
    ).all()
    return [MemberFacts(*row) for row in rows]


def subjects_for(session: Session, root: Unit, duty: Duty) -> list[tuple[str, str]]:
    """(subject id, accountable branch id) for every subject in the subtree that owes the duty."""
    members = member_facts(session, root) if duty.for_members else []
    found = applicability.subjects(duty.applies_to, unit_facts(session, root), members)
    return [(s.id, s.owner_unit_id) for s in found]


def plan_cycle(*, session: Session, cycle_id: int, as_of: date | None = None,
               actor: str = "system") -> PlanReport:
    """Plan (or re-plan) a cycle's tasks; see the module docstring for what re-planning touches."""
    # Two plans of one cycle at once would both count the other's rows as their own.
    serialise(session, f"plan:{cycle_id}")
    require_writable(session, [cycle_id], "生成或调整任务")
    cycle = session.get(Cycle, cycle_id, populate_existing=True)   # as the previous plan left it
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    root = session.get(Unit, cycle.root_unit_id)
    if root is None:
        raise NotFound(f"周期 {cycle.code} 的根组织 {cycle.root_unit_id} 不存在")
    duties = load_stored(get_rule_set(session, cycle.rule_set_id)).rule_set.duties
    first = cycle.state == CycleState.draft
    # The first plan plans every period, whatever `as_of` says: periods already started
    # (or ended) are still owed; their tasks are counted as planned late in the audit.
    cutoff = None if first else (as_of or today())
    dates = plan_dates_for_all(duties, cycle.start_on, cycle.end_on, work_calendar())

    units = unit_facts(session, root)
    members = member_facts(session, root) if any(d.for_members for d in duties) else []
    owed = {d.code: {s.id: s for s in applicability.subjects(d.applies_to, units, members)}
            for d in duties}

    count = select(func.count()).select_from(Task).where(Task.cycle_id == cycle.id)
    before = session.execute(count).scalar_one()
    now = utcnow()
    # Re-planning: what the periods not yet started already hold, per subject, so rows
    # that exist are not sent again (a row that only hits the unique key still costs
    # ~20 µs) and the rest can be reconciled with set-based updates.
    held = _future_summary(session, cycle, cutoff) if not first and cutoff is not None else {}
    # Only the rule set's duties are planning's to reconcile: tasks of other duties (发展党员
    # "dev:<step>" from dangjian.services.development) must not become not_applicable here.
    held = {key: groups for key, groups in held.items() if key[0] in owed}
    # A period no task of a duty was ever planned for (a cycle first planned from a mid-cycle
    # date before that was refused) is planned in full by any plan: only periods already
    # planned are the ones "周期开始后只影响尚未开始的周期" protects.
    unplanned = _unplanned_periods(session, cycle, dates) if cutoff is not None else {}
    late_day, planned_late = as_of or today(), 0
    for duty in duties:
        future = [(p, due) for p, due in dates[duty.code]
                  if cutoff is None or p.start > cutoff or p.start in unplanned[duty.code]]
        # Periods started by the day of planning hold no task yet: all of them are new.
        planned_late += sum(1 for s in owed[duty.code].values() for p, _ in future
                            if p.start <= late_day and applicability.owes(s, p.end))
        rows = (
            (cycle.id, duty.code, s.kind.value, s.id, s.owner_unit_id,
             period.start, period.end, period.label, due, TaskState.open.value, now)
            for s in owed[duty.code].values()
            if not held or _held_count(held, duty.code, s.id) < _owed_count(s, future)
            for period, due in future
            if applicability.owes(s, period.end)
        )
        insert_ignoring_duplicates(session, Task.__table__, TASK_COLUMNS, rows)
    after = session.execute(count).scalar_one()

    changed = {"not_applicable": 0, "reassigned": 0, "reopened": 0}
    if held and cutoff is not None:
        changed = _reconcile(session, cycle, cutoff, held, owed, actor, now)
    if cycle.state == CycleState.draft:
        cycle.state = CycleState.open
        session.add(cycle)
    audit.record(session, actor=actor, action="cycle.plan", entity="cycle", entity_id=cycle.id or 0,
                 after={"as_of": cutoff, "tasks_added": after - before, "tasks_total": after,
                        "tasks_planned_late": planned_late,
                        **{f"tasks_{k}": v for k, v in changed.items()}})
    session.commit()
    return PlanReport(cycle_code=cycle.code, added=after - before, total=after, as_of=cutoff,
                      **changed)


def _unplanned_periods(session: Session, cycle: Cycle,
                       dates: dict[str, list[tuple[Period, date]]]) -> dict[str, set[date]]:
    """Per duty, the starts of its periods that hold no task at all and that had started when
    the cycle was first planned: before issue 11 a first plan from a mid-cycle date dropped
    those. A period that started after the first plan and holds no task was owed by nobody
    then; like every started period it stays as it is."""
    from models import AuditEvent

    first_at = session.execute(
        select(AuditEvent.at).where(AuditEvent.action == "cycle.plan", AuditEvent.entity == "cycle",
                                    AuditEvent.entity_id == str(cycle.id))
        .order_by(AuditEvent.seq).limit(1)).scalar()
    if first_at is None:
        return {code: set() for code in dates}
    first_day = shanghai_date(first_at)
    planned: dict[str, set[date]] = defaultdict(set)
    for duty_code, start in session.execute(
        select(Task.duty_code, Task.period_start).where(Task.cycle_id == cycle.id).distinct()
    ):
        planned[duty_code].add(start)
    return {code: {p.start for p, _ in periods if p.start <= first_day} - planned[code]
            for code, periods in dates.items()}


@dataclass(frozen=True, slots=True)
class _Held:
    """Tasks of one subject and duty in periods not yet started, with one owner and state."""
    owner_unit_id: str
    state: str
    count: int
    first_end: date


Summary = dict[tuple[str, str], list[_Held]]   # (duty code, subject id) → groups


def _future_summary(session: Session, cycle: Cycle, cutoff: date) -> Summary:
    rows = session.execute(
        select(Task.duty_code, Task.subject_id, Task.owner_unit_id, Task.state, func.count(),
               func.min(Task.period_end))
        .where(Task.cycle_id == cycle.id, Task.period_start > cutoff)
        .group_by(Task.duty_code, Task.subject_id, Task.owner_unit_id, Task.state)
    ).all()
    summary: Summary = defaultdict(list)
    for duty_code, subject_id, owner, state, n, first_end in rows:
        summary[(duty_code, subject_id)].append(_Held(owner, str(state), n, first_end))
    return summary


def _held_count(held: Summary, duty_code: str, subject_id: str) -> int:
    return sum(g.count for g in held.get((duty_code, subject_id), ()))


def _owed_count(subject: Subject, future: Sequence[tuple[Period, date]]) -> int:
    if subject.owes_from is None:
        return len(future)
    return sum(1 for period, _ in future if applicability.owes(subject, period.end))


def _reconcile(session: Session, cycle: Cycle, cutoff: date, held: Summary,
               owed: dict[str, dict[str, Subject]], actor: str, now: Any) -> dict[str, int]:
    """Bring not-yet-started open (and planning-made not_applicable) tasks in line with who owes them."""
    lapsed: dict[str, set[str]] = defaultdict(set)                   # duty → subjects
    moved: dict[tuple[str, str], set[str]] = defaultdict(set)        # (duty, new owner) → subjects
    revived: dict[tuple[str, str], set[str]] = defaultdict(set)
    late_joiners: list[tuple[str, Subject]] = []                     # owe only some future periods
    for (duty_code, subject_id), groups in held.items():
        subject = owed.get(duty_code, {}).get(subject_id)
        for g in groups:
            if g.state == TaskState.open and subject is None:
                lapsed[duty_code].add(subject_id)
            elif g.state == TaskState.open and subject is not None:
                if subject.owes_from is not None and g.first_end < subject.owes_from:
                    late_joiners.append((duty_code, subject))
                if g.owner_unit_id != subject.owner_unit_id:
                    moved[(duty_code, subject.owner_unit_id)].add(subject_id)
            elif g.state == TaskState.not_applicable and subject is not None:
                revived[(duty_code, subject.owner_unit_id)].add(subject_id)

    def future(duty_code: str, state: TaskState) -> list[Any]:
        return [Task.cycle_id == cycle.id, Task.duty_code == duty_code,
                Task.period_start > cutoff, Task.state == state]

    base = {"cycle": cycle.code, "as_of": cutoff}
    not_applicable = {"state": TaskState.not_applicable, "updated_at": now}
    counts = {"not_applicable": 0, "reassigned": 0, "reopened": 0}
    for duty_code, subject_ids in lapsed.items():
        ids = _update(session, future(duty_code, TaskState.open), subject_ids, not_applicable)
        counts["not_applicable"] += len(ids)
        _audit(session, actor, cycle, "task.not_applicable", ids, subject_ids,
               before={"state": TaskState.open},
               after={**base, "duty": duty_code, "state": TaskState.not_applicable,
                      "reason": "主体已不再承担此项职责（组织或党员信息变更）"})
    for duty_code, subject in late_joiners:
        where = [*future(duty_code, TaskState.open), Task.period_end < subject.owes_from]
        ids = _update(session, where, {subject.id}, not_applicable)
        counts["not_applicable"] += len(ids)
        _audit(session, actor, cycle, "task.not_applicable", ids, {subject.id},
               before={"state": TaskState.open},
               after={**base, "duty": duty_code, "state": TaskState.not_applicable,
                      "reason": f"入党日期为 {subject.owes_from}，此前的周期不承担"})
    for (duty_code, owner), subject_ids in moved.items():
        where = [*future(duty_code, TaskState.open), Task.owner_unit_id != owner]
        ids = _update(session, where, subject_ids, {"owner_unit_id": owner, "updated_at": now})
        counts["reassigned"] += len(ids)
        _audit(session, actor, cycle, "task.reassign", ids, subject_ids, before=None,
               after={**base, "duty": duty_code, "owner_unit_id": owner,
                      "reason": "主体所在支部已变更"})
    unwaived = ~exists().where(Waiver.task_id == Task.id)   # a waiver's not_applicable stands
    for (duty_code, owner), subject_ids in revived.items():
        reopen = {"state": TaskState.open, "owner_unit_id": owner, "updated_at": now}
        ids, plain = [], set(subject_ids)
        for subject_id in sorted(subject_ids):     # late joiners: from their 入党日期 on
            starts = owed[duty_code][subject_id].owes_from
            if starts is not None and starts > cutoff:
                where = [*future(duty_code, TaskState.not_applicable), unwaived,
                         Task.period_end >= starts]
                ids += _update(session, where, {subject_id}, reopen)
                plain.discard(subject_id)
        ids += _update(session, [*future(duty_code, TaskState.not_applicable), unwaived],
                       plain, reopen)
        counts["reopened"] += len(ids)
        _audit(session, actor, cycle, "task.reopen", sorted(ids), subject_ids,
               before={"state": TaskState.not_applicable},
               after={**base, "duty": duty_code, "state": TaskState.open, "owner_unit_id": owner,
                      "reason": "主体重新承担此项职责"})
    return counts


def _update(session: Session, where: list[Any], subject_ids: set[str],
            values: dict[str, Any]) -> list[int]:
    """One UPDATE … RETURNING id per batch of subjects."""
    ordered = sorted(subject_ids)
    ids: list[int] = []
    for i in range(0, len(ordered), _BATCH):
        statement = (update(Task).where(*where, Task.subject_id.in_(ordered[i:i + _BATCH]))
                     .values(**values).returning(Task.id)
                     .execution_options(synchronize_session=False))
        ids += session.execute(statement).scalars().all()
    return sorted(ids)


def _audit(session: Session, actor: str, cycle: Cycle, action: str, task_ids: list[int],
           subject_ids: set[str], *, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    if task_ids:
        audit.record(session, actor=actor, action=action, entity="cycle", entity_id=cycle.id or 0,
                     before=before, after={**after, "tasks": task_ids, "subjects": sorted(subject_ids)})
