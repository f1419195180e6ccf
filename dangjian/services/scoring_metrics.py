"""The inputs of scoring, gathered set-based for a whole cycle.

One GROUP BY over tasks for duty metrics, one query each for declared metric values,
manual scores and (member rule sets) attendance. Evidence ids only for the buckets that
cost points (late, missed, excused), so explanation lines can name their tasks.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session

from dangjian.services.scoring_inputs import manual_items
from models import (
    Attendance,
    Completion,
    Cycle,
    ManualScore,
    Member,
    MetricValue,
    Task,
    TaskState,
    Unit,
    UnitKind,
    Waiver,
)
from rules.loader import LoadedRuleSet
from rules.metrics import ManualEntry

BUCKETS = ("owed", "on_time", "late", "missed", "pending", "excused")
EXPLAINED = ("late", "missed", "excused")
ATTENDANCE = ("expected", "present", "leave", "absent")


@dataclass(frozen=True)
class Subject:
    subject_id: str          # the unit scored, or the member scored
    unit_id: str             # the unit itself, or the member's branch
    street_id: str | None
    name: str


@dataclass
class Inputs:
    metrics: dict[str, dict[str, float]]
    evidence: dict[str, dict[str, list[int]]]
    manual: dict[str, dict[str, ManualEntry]]


def scores_members(loaded: LoadedRuleSet) -> bool:
    subject = loaded.rule_set.scoring.subject
    return str(getattr(subject, "kind", "")) == "member"


def _streets(session: Session, root: Unit) -> list[tuple[str, str]]:
    return [tuple(r) for r in session.execute(
        select(Unit.id, Unit.path).where(Unit.path.startswith(root.path), Unit.kind == UnitKind.street)
    ).all()]


def _street_for(path: str, streets: list[tuple[str, str]]) -> str | None:
    owners = [(len(p), sid) for sid, p in streets if path.startswith(p)]
    return max(owners)[1] if owners else None


def scoring_subjects(session: Session, root: Unit, loaded: LoadedRuleSet) -> list[Subject]:
    streets = _streets(session, root)
    if scores_members(loaded):
        rows = session.execute(
            select(Member.id, Member.name, Unit.id, Unit.path).join(Unit, Unit.id == Member.unit_id)
            .where(Unit.path.startswith(root.path), Member.active.is_(True))
            .order_by(Unit.path, Member.id)
        ).all()
        return [Subject(mid, uid, _street_for(path, streets), name) for mid, name, uid, path in rows]
    kind = loaded.rule_set.scoring.subject.kind
    rows = session.execute(
        select(Unit.id, Unit.name, Unit.path).where(Unit.path.startswith(root.path), Unit.kind == kind)
        .order_by(Unit.path)
    ).all()
    return [Subject(uid, uid, _street_for(path, streets), name) for uid, name, path in rows]


def _bucket(as_of: date) -> Any:
    """A task's bucket as of a date: work held after `as_of` does not count yet."""
    held_by_then = Task.done_on <= as_of
    return case(
        (and_(Task.state == TaskState.done, held_by_then), literal("on_time")),
        (and_(Task.state == TaskState.late, held_by_then), literal("late")),
        # Excused only while the waiver is in force: one lapsed before as_of counts by due date.
        (Task.state.in_([TaskState.excused, TaskState.not_applicable])
         & Task.id.not_in(select(Waiver.task_id).where(Waiver.ended_at.is_(None), Waiver.expires_on < as_of)),
         literal("excused")),
        (Task.state == TaskState.missed, literal("missed")),
        (Task.due_on < as_of, literal("missed")),      # open, overdue, submitted, returned: not done
        else_=literal("pending"),
    )


def _duty_metrics(session: Session, cycle: Cycle, loaded: LoadedRuleSet, ids: list[str],
                  by_member: bool, as_of: date, inputs: Inputs) -> None:
    codes = [d.code for d in loaded.rule_set.duties]
    for sid in ids:
        inputs.metrics[sid].update({f"{d}.{b}": 0.0 for d in codes for b in BUCKETS})
    key = Task.subject_id if by_member else Task.owner_unit_id
    bucket = _bucket(as_of)
    for owner, duty, name, n in session.execute(
        select(key, Task.duty_code, bucket.label("bucket"), func.count())
        .where(Task.cycle_id == cycle.id).group_by(key, Task.duty_code, bucket)
    ):
        if owner in inputs.metrics and f"{duty}.owed" in inputs.metrics[owner]:
            inputs.metrics[owner][f"{duty}.{name}"] += float(n)
            inputs.metrics[owner][f"{duty}.owed"] += float(n)
    for owner, duty, name, task_id in session.execute(
        select(key, Task.duty_code, bucket, Task.id)
        .where(Task.cycle_id == cycle.id, bucket.in_(EXPLAINED)).order_by(Task.id)
    ):
        if owner in inputs.evidence:
            inputs.evidence[owner].setdefault(f"{duty}.{name}", []).append(task_id)


def _declared(session: Session, cycle: Cycle, loaded: LoadedRuleSet, inputs: Inputs) -> None:
    declared = getattr(loaded.rule_set, "metrics", None) or []
    defaults = {m.code: m.default for m in declared if getattr(m, "default", None) is not None}
    for values in inputs.metrics.values():
        values.update(defaults)
    for sid, metric, value in session.execute(
        select(MetricValue.subject_id, MetricValue.metric, MetricValue.value)
        .where(MetricValue.cycle_id == cycle.id)
    ):
        if sid in inputs.metrics:
            inputs.metrics[sid][metric] = float(value)


def _manual(session: Session, cycle: Cycle, loaded: LoadedRuleSet, inputs: Inputs) -> None:
    """Reviewers' scores for the manual items of these rules (a re-score under other rules
    may leave entries for items those rules do not have)."""
    wanted = set(manual_items(loaded))
    for row in session.execute(select(ManualScore).where(ManualScore.cycle_id == cycle.id)).scalars():
        if row.subject_id in inputs.manual and row.item_code in wanted:
            inputs.manual[row.subject_id][row.item_code] = ManualEntry(
                points=row.points, entered_by=row.entered_by, entered_at=row.entered_at, note=row.note)


def _attendance(session: Session, cycle: Cycle, subjects: list[Subject], inputs: Inputs) -> None:
    """Per member: meetings of their branch in the cycle (expected) and how they attended."""
    for s in subjects:
        inputs.metrics[s.subject_id].update({f"attendance.{k}": 0.0 for k in ATTENDANCE})
    held = (select(Completion.unit_id, func.count(func.distinct(Completion.chain_id)))
            .where(Completion.held_on.between(cycle.start_on, cycle.end_on))
            .group_by(Completion.unit_id))
    per_branch = dict(session.execute(held).all())
    for s in subjects:
        inputs.metrics[s.subject_id]["attendance.expected"] = float(per_branch.get(s.unit_id, 0))
    for member_id, presence, n in session.execute(
        select(Attendance.member_id, Attendance.presence, func.count())
        .join(Completion, Completion.id == Attendance.completion_id)
        .where(Completion.held_on.between(cycle.start_on, cycle.end_on))
        .group_by(Attendance.member_id, Attendance.presence)
    ):
        if member_id in inputs.metrics:
            inputs.metrics[member_id][f"attendance.{presence}"] = float(n)


def gather_inputs(session: Session, cycle: Cycle, loaded: LoadedRuleSet, subjects: list[Subject],
                  as_of: date) -> Inputs:
    ids = [s.subject_id for s in subjects]
    inputs = Inputs(metrics={i: {} for i in ids}, evidence=defaultdict(dict) | {i: {} for i in ids},
                    manual={i: {} for i in ids})
    by_member = scores_members(loaded)
    _duty_metrics(session, cycle, loaded, ids, by_member, as_of, inputs)
    if by_member:
        _attendance(session, cycle, subjects, inputs)
    _declared(session, cycle, loaded, inputs)
    _manual(session, cycle, loaded, inputs)
    return inputs
