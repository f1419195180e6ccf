"""Read-only page models: what a page shows, gathered in a few queries. Nothing here
decides anything; every decision is a service call in the routes."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.services import review as review_service
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.services.tasks import TaskRow
from models import (
    Attendance,
    Completion,
    CompletionTask,
    Cycle,
    Evidence,
    Member,
    MemberStatus,
    Review,
    Task,
    Unit,
)
from rules.duties import Duty

STATUS = {"full": "正式党员", "probationary": "预备党员", "activist": "入党积极分子", "candidate": "发展对象"}


@dataclass(frozen=True)
class RosterRow:
    id: str
    name: str
    status: str
    has_vote: bool
    excused: bool


def roster(db: Session, branch_id: str) -> list[RosterRow]:
    rows = db.execute(
        select(Member).where(Member.unit_id == branch_id, Member.active.is_(True),
                             Member.status.in_([MemberStatus.full, MemberStatus.probationary]))
        .order_by(Member.status.desc(), Member.id)
    ).scalars()
    return [RosterRow(m.id, m.name, STATUS.get(str(m.status), str(m.status)), m.status == MemberStatus.full,
                      m.excused_from_quorum) for m in rows]


def duties_of(db: Session, cycle_id: int) -> dict[str, Duty]:
    cycle = db.get(Cycle, cycle_id)
    assert cycle is not None
    return {d.code: d for d in load_stored(get_rule_set(db, cycle.rule_set_id)).rule_set.duties}


@dataclass
class Inbox:
    returned: list[TaskRow] = field(default_factory=list)
    overdue: list[TaskRow] = field(default_factory=list)
    due_soon: list[TaskRow] = field(default_factory=list)
    submitted: list[TaskRow] = field(default_factory=list)
    later: list[TaskRow] = field(default_factory=list)
    done: list[TaskRow] = field(default_factory=list)
    other: list[TaskRow] = field(default_factory=list)


def inbox(rows: list[TaskRow], today: date, soon_days: int = 30) -> Inbox:
    box = Inbox()
    for r in rows:
        if r.state == "returned":
            box.returned.append(r)
        elif r.state == "overdue" or (r.state == "open" and r.due_on < today):
            box.overdue.append(r)
        elif r.state == "open" and (r.period_start <= today or r.due_on <= today + timedelta(days=soon_days)):
            box.due_soon.append(r)
        elif r.state == "open":
            box.later.append(r)
        elif r.state == "submitted":
            box.submitted.append(r)
        elif r.state in ("done", "late"):
            box.done.append(r)
        else:
            box.other.append(r)
    box.done.sort(key=lambda r: r.done_on or r.due_on, reverse=True)
    box.overdue.sort(key=lambda r: r.due_on, reverse=True)      # the most recently missed first
    return box


@dataclass
class CompletionView:
    completion: Completion
    versions: list[Completion]
    tasks: list[Task]
    attendance: list[tuple[str, str, str, str | None]]     # member id, name, presence, reason
    evidence: list[Evidence]
    reviews: list[Review]
    branch: Unit
    duty_names: dict[str, str]

    @property
    def latest(self) -> Completion:
        return self.versions[-1]

    @property
    def is_latest(self) -> bool:
        return self.latest.id == self.completion.id

    @property
    def states(self) -> set[str]:
        return {str(t.state) for t in self.tasks}


def completion_view(db: Session, completion: Completion) -> CompletionView:
    versions = list(db.execute(select(Completion).where(Completion.chain_id == completion.chain_id)
                               .order_by(Completion.version)).scalars())
    tasks = list(db.execute(select(Task).join(CompletionTask, CompletionTask.task_id == Task.id)
                            .where(CompletionTask.completion_id == completion.id).order_by(Task.id)).scalars())
    people = [(mid, name, str(presence), reason) for mid, name, presence, reason in db.execute(
        select(Attendance.member_id, Member.name, Attendance.presence, Attendance.reason)
        .join(Member, Member.id == Attendance.member_id)
        .where(Attendance.completion_id == completion.id).order_by(Attendance.presence.desc(), Member.id)
    ).all()]
    evidence = list(db.execute(select(Evidence).where(Evidence.completion_id == completion.id)
                               .order_by(Evidence.id)).scalars())
    reviews = review_service.history(session=db, completion_id=completion.id or 0)
    branch = db.get(Unit, completion.unit_id)
    assert branch is not None
    names = duties_of(db, tasks[0].cycle_id) if tasks else {}
    return CompletionView(completion, versions, tasks, people, evidence, reviews, branch,
                          {code: d.name for code, d in names.items()})


@dataclass
class TaskView:
    task: Task
    cycle: Cycle
    duty: Duty | None
    owner: Unit
    subject_name: str
    chains: list[CompletionView]


def task_view(db: Session, task: Task) -> TaskView:
    cycle = db.get(Cycle, task.cycle_id)
    owner = db.get(Unit, task.owner_unit_id)
    assert cycle is not None and owner is not None
    duty = duties_of(db, task.cycle_id).get(task.duty_code)
    subject = db.get(Unit, task.subject_id) if task.subject_kind == "unit" else db.get(Member, task.subject_id)
    completions = list(db.execute(
        select(Completion).join(CompletionTask, CompletionTask.completion_id == Completion.id)
        .where(CompletionTask.task_id == task.id).order_by(Completion.chain_id, Completion.version)
    ).scalars())
    latest_per_chain: dict[int, Completion] = {}
    for c in completions:
        latest_per_chain[c.chain_id or 0] = c
    chains = [completion_view(db, c) for c in latest_per_chain.values()]
    return TaskView(task, cycle, duty, owner, getattr(subject, "name", task.subject_id), chains)


def other_closable(rows: list[TaskRow], task: Task) -> list[TaskRow]:
    """Open tasks of the same branch, of other duties, whose period overlaps this task's:
    one event may close them too (a 主题党日 that is also the quarter's 党课)."""
    return [r for r in rows if r.id != task.id and r.duty_code != task.duty_code
            and r.state in ("open", "overdue") and r.period_start <= task.period_end
            and r.period_end >= task.period_start]


def counts_by(db: Session, query: Any) -> dict[Any, int]:
    return {k: n for k, n in db.execute(query).all()}


def latest_evidence_counts(db: Session, completion_ids: list[int]) -> dict[int, int]:
    if not completion_ids:
        return {}
    return counts_by(db, select(Evidence.completion_id, func.count()).where(
        Evidence.completion_id.in_(completion_ids)).group_by(Evidence.completion_id))


def group_by(items: list[Any], key: Any) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


@dataclass(frozen=True)
class OrgNode:
    unit: Unit
    members: int           # 党员 (正式 + 预备) in its subtree
    children: int


def org_children(db: Session, unit: Unit) -> list[OrgNode]:
    kids = list(db.execute(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.sort_order, Unit.path)).scalars())
    per_branch = db.execute(
        select(Unit.path, func.count()).select_from(Member).join(Unit, Unit.id == Member.unit_id)
        .where(Unit.path.startswith(unit.path), Member.active.is_(True),
               Member.status.in_([MemberStatus.full, MemberStatus.probationary]))
        .group_by(Unit.path)).all()
    grandkids = dict(db.execute(select(Unit.parent_id, func.count()).where(
        Unit.parent_id.in_([k.id for k in kids])).group_by(Unit.parent_id)).all())
    return [OrgNode(k, sum(n for path, n in per_branch if path.startswith(k.path)), grandkids.get(k.id, 0))
            for k in kids]


def members_of(db: Session, branch_id: str) -> list[Member]:
    return list(db.execute(select(Member).where(Member.unit_id == branch_id).order_by(Member.id)).scalars())
