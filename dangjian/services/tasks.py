"""Reading tasks: what a unit (and everything below it) owes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from dangjian.clock import today
from dangjian.errors import NotFound, ValidationFailed
from dangjian.labels import TASK_STATE
from dangjian.services.cycles import get_cycle
from dangjian.services.rule_sets import get_rule_set, load_stored
from models import Task, TaskState, Unit


@dataclass(frozen=True)
class TaskRow:
    id: int
    duty_code: str
    duty_name: str
    subject_id: str
    owner_unit_id: str
    owner_name: str
    period_label: str
    period_start: date
    period_end: date
    due_on: date
    state: str
    done_on: date | None


def task_duty_names(session: Session, rule_set_id: int) -> dict[str, str]:
    """Chinese names of every duty a task can carry: the rule set's, 发展党员 steps
    ("dev:<step>") and the 目标责任书 signing ("target_letter")."""
    from dangjian.domain.development import default_process
    from models.targets import LETTER_DUTY

    names = {d.code: d.name for d in load_stored(get_rule_set(session, rule_set_id)).rule_set.duties}
    names.update({f"dev:{s.code}": f"发展党员：{s.name}" for s in default_process().steps})
    names[LETTER_DUTY] = "签订党建目标责任书"
    return names


def list_tasks(*, session: Session, cycle_code: str, unit_id: str | None = None,
               state: str | None = None, within: date | None = None,
               duty_code: str | None = None, limit: int | None = None,
               as_of: date | None = None) -> list[TaskRow]:
    """Tasks of a cycle owned by `unit_id` or any unit below it, in due order.

    An open task past its due date is shown, and filtered, as overdue (已逾期) as of `as_of`
    (default today), whether or not the nightly sweep has marked it yet."""
    cycle = get_cycle(session, cycle_code)
    as_of = as_of or today()
    past_due = and_(Task.state == TaskState.open, Task.due_on < as_of)
    query = (
        select(Task, Unit.name).join(Unit, Unit.id == Task.owner_unit_id)
        .where(Task.cycle_id == cycle.id)
    )
    if unit_id:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"未知的组织：{unit_id}", field="unit")
        query = query.where(Unit.path.startswith(unit.path))
    if state:
        state = {label: code for code, label in TASK_STATE.items()}.get(state, state)
        if state not in TaskState.__members__:
            allowed = "、".join(f"{code}（{TASK_STATE.get(code, code)}）" for code in TaskState.__members__)
            raise ValidationFailed(f"未知的任务状态：{state}（可选：{allowed}）", field="state")
        if state == TaskState.overdue:
            query = query.where(or_(Task.state == TaskState.overdue, past_due))
        elif state == TaskState.open:
            query = query.where(Task.state == TaskState.open, Task.due_on >= as_of)
        else:
            query = query.where(Task.state == state)
    if within:
        query = query.where(Task.period_start <= within, Task.period_end >= within)
    duty_names = task_duty_names(session, cycle.rule_set_id)
    if duty_code:
        duty_code = {name: code for code, name in duty_names.items()}.get(duty_code, duty_code)
        if duty_code not in duty_names:
            known = "、".join(f"{c}（{n}）" for c, n in duty_names.items())
            raise ValidationFailed(f"未知的职责：{duty_code}（本周期的职责：{known}）", field="duty")
        query = query.where(Task.duty_code == duty_code)
    query = query.order_by(Task.due_on, Unit.path, Task.duty_code, Task.subject_id)
    if limit:
        query = query.limit(limit)
    return [
        TaskRow(t.id or 0, t.duty_code, duty_names.get(t.duty_code, t.duty_code), t.subject_id, t.owner_unit_id, name, t.period_label,
                t.period_start, t.period_end, t.due_on, _shown_state(t, as_of), t.done_on)
        for t, name in session.execute(query).all()
    ]


def _shown_state(task: Task, as_of: date) -> str:
    if task.state == TaskState.open and task.due_on < as_of:
        return str(TaskState.overdue)
    return str(task.state)
