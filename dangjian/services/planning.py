"""Planning: the rule set's duties × the units that owe them × the cycle's periods.

Dates are computed once per duty and reused for every unit; rows go in through the
bulk path with ON CONFLICT DO NOTHING on (cycle, duty, subject, period start), so
planning twice adds nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.domain.calendar import WorkCalendar
from dangjian.domain.periods import plan_dates
from dangjian.errors import NotFound
from dangjian.services import audit
from dangjian.services.bulk import insert_ignoring_duplicates
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.settings import get_settings
from models import Cycle, CycleState, SubjectKind, Task, TaskState, Unit, UnitKind, utcnow
from rules.duties import Duty

TASK_COLUMNS = (
    "cycle_id", "duty_code", "subject_kind", "subject_id", "owner_unit_id",
    "period_start", "period_end", "period_label", "due_on", "state", "updated_at",
)


@dataclass(frozen=True)
class PlanReport:
    cycle_code: str
    added: int
    total: int


def work_calendar() -> WorkCalendar:
    extra = get_settings().calendar_dir
    return WorkCalendar.load([extra] if extra else [])


def subjects_for(session: Session, root: Unit, duty: Duty) -> list[tuple[str, str]]:
    """(subject unit id, accountable branch id) for every unit in the subtree the duty applies to."""
    rule = duty.applies_to
    query = select(Unit.id, Unit.parent_id, Unit.kind).where(
        Unit.path.startswith(root.path), Unit.kind == rule.kind
    )
    if rule.has_committee is not None:
        query = query.where(Unit.has_committee == rule.has_committee)
    if rule.area is not None:
        query = query.where(Unit.area == rule.area)
    rows = session.execute(query.order_by(Unit.path)).all()
    # A party group's meetings are its branch's responsibility.
    return [(uid, parent if kind == UnitKind.group else uid) for uid, parent, kind in rows]


def plan_cycle(*, session: Session, cycle_id: int, actor: str = "system") -> PlanReport:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    root = session.get(Unit, cycle.root_unit_id)
    if root is None:
        raise NotFound(f"周期 {cycle.code} 的根组织 {cycle.root_unit_id} 不存在")
    loaded = load_stored(get_rule_set(session, cycle.rule_set_id))
    calendar = work_calendar()
    count = select(func.count()).select_from(Task).where(Task.cycle_id == cycle.id)
    before = session.execute(count).scalar_one()
    now = utcnow()

    for duty in loaded.rule_set.duties:
        dates = plan_dates(duty.frequency, duty.due, cycle.start_on, cycle.end_on, calendar)
        subjects = subjects_for(session, root, duty)
        rows = (
            (cycle.id, duty.code, SubjectKind.unit.value, subject, owner,
             period.start, period.end, period.label, due, TaskState.open.value, now)
            for subject, owner in subjects
            for period, due in dates
        )
        insert_ignoring_duplicates(session, Task.__table__, TASK_COLUMNS, rows)

    after = session.execute(count).scalar_one()
    if cycle.state == CycleState.draft:
        cycle.state = CycleState.open
        session.add(cycle)
    audit.record(session, actor=actor, action="cycle.plan", entity="cycle", entity_id=cycle.id or 0,
                 after={"tasks_added": after - before, "tasks_total": after})
    session.commit()
    return PlanReport(cycle_code=cycle.code, added=after - before, total=after)
