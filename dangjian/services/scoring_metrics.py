"""The inputs of scoring, gathered set-based for a whole cycle.

One GROUP BY over tasks for duty metrics, one query each for declared metric values,
manual scores and (member rule sets) attendance. Evidence ids only for the buckets that
cost points (late, missed, excused), so explanation lines can name their tasks.

Everything is as known on the as-of day (Shanghai): tasks nobody had reported by its end
are bucketed in SQL by the waivers in force that day and their due dates; the reported
ones (a second query) by the report version in force then and, where reports are reviewed,
the decision in force then. Metric values and manual scores keep no history: the current
ones count.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from dangjian.clock import SHANGHAI, shanghai_date
from dangjian.services.closing import judge
from dangjian.services.scoring_inputs import manual_items
from models import (
    Attendance,
    Completion,
    CompletionTask,
    Cycle,
    ManualScore,
    Member,
    MetricValue,
    Review,
    ReviewDecision,
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


def day_end(as_of: date) -> datetime:
    """The first instant after the Shanghai day `as_of`: what was known on that day was
    recorded before it."""
    return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


def _reported_by(cutoff: datetime) -> Any:
    """The task has a completion reported before `cutoff`."""
    return (select(CompletionTask.task_id).join(Completion, Completion.id == CompletionTask.completion_id)
            .where(CompletionTask.task_id == Task.id, Completion.reported_at < cutoff).exists())


def _unreported_bucket(as_of: date, cutoff: datetime, after_end: bool) -> Any:
    """The bucket, as of a day, of a task nobody had reported by then (whatever happened since).
    The cycle's close marks every open task missed, due date or not: that counts only as of a
    day after the cycle's end (`after_end`), never earlier."""
    waived_then = select(Waiver.task_id).where(
        Waiver.granted_at < cutoff, or_(Waiver.ended_at.is_(None), Waiver.ended_at >= cutoff),
        Waiver.expires_on >= as_of)     # in force that day: granted, not ended, not lapsed
    whens: list[Any] = [
        (Task.id.in_(waived_then), literal("excused")),
        # Not applicable by planning (no waiver behind it): never owed.
        (and_(Task.state == TaskState.not_applicable, Task.id.not_in(select(Waiver.task_id))),
         literal("excused")),
    ]
    if after_end:
        whens.append((Task.state == TaskState.missed, literal("missed")))
    return case(*whens, (Task.due_on < as_of, literal("missed")), else_=literal("pending"))


def _reported_buckets(session: Session, cycle: Cycle, loaded: LoadedRuleSet, by_member: bool,
                      as_of: date, cutoff: datetime) -> list[tuple[str, str, str, int]]:
    """(owner, duty, bucket, task id) of the tasks reported before `cutoff`, judged on the
    version in force then (a correction made later does not count) and, where reports are
    reviewed, on the review decision in force then."""
    key = Task.subject_id if by_member else Task.owner_unit_id
    rows = session.execute(
        select(Task.id, key, Task.duty_code, Task.state, Task.due_on, CompletionTask.version,
               Completion.id, Completion.held_on, Completion.reported_at)
        .join(CompletionTask, CompletionTask.task_id == Task.id)
        .join(Completion, Completion.id == CompletionTask.completion_id)
        .where(Task.cycle_id == cycle.id, Completion.reported_at < cutoff)
        .order_by(Task.id, CompletionTask.version)
    ).all()
    then = {row[0]: row for row in rows}                 # the last version reported by then
    latest = dict(session.execute(
        select(CompletionTask.task_id, func.max(CompletionTask.version))
        .join(Task, Task.id == CompletionTask.task_id).where(Task.cycle_id == cycle.id)
        .group_by(CompletionTask.task_id)).tuples().all())
    reviewed_tasks = set(session.execute(
        select(CompletionTask.task_id).join(Review, Review.completion_id == CompletionTask.completion_id)
        .join(Task, Task.id == CompletionTask.task_id).where(Task.cycle_id == cycle.id).distinct()
    ).scalars())
    decision: dict[int, str] = {}                        # completion → last decision by then
    for completion_id, value in session.execute(
        select(Review.completion_id, Review.decision)
        .join(CompletionTask, CompletionTask.completion_id == Review.completion_id)
        .join(Task, Task.id == CompletionTask.task_id)
        .where(Task.cycle_id == cycle.id, Review.at < cutoff).order_by(Review.id)
    ):
        decision[completion_id] = str(value)
    duties = {d.code: d for d in loaded.rule_set.duties}
    out = []
    for task_id, owner, duty_code, state, due_on, version, completion_id, held_on, reported_at in then.values():
        duty = duties.get(duty_code)
        if duty is None:
            continue
        if task_id in reviewed_tasks or state in (TaskState.submitted, TaskState.returned):
            done = decision.get(completion_id) == ReviewDecision.accepted
        else:
            done = state in (TaskState.done, TaskState.late)
        done = done and held_on <= as_of
        if done and version == latest.get(task_id) and state in (TaskState.done, TaskState.late):
            bucket = "on_time" if state == TaskState.done else "late"
        elif done:      # judged as the report in force then was judged when made
            verdict = judge(Task(due_on=due_on), held_on, shanghai_date(reported_at), duty)
            bucket = "on_time" if verdict == TaskState.done else "late"
        else:
            closed_missed = state == TaskState.missed and as_of > cycle.end_on
            bucket = "missed" if closed_missed or due_on < as_of else "pending"
        out.append((owner, duty_code, bucket, task_id))
    return out


def _duty_metrics(session: Session, cycle: Cycle, loaded: LoadedRuleSet, ids: list[str],
                  by_member: bool, as_of: date, inputs: Inputs) -> None:
    """Buckets as known on `as_of`: reports, corrections, reviews and waivers recorded after
    that Shanghai day do not count."""
    codes = [d.code for d in loaded.rule_set.duties]
    for sid in ids:
        inputs.metrics[sid].update({f"{d}.{b}": 0.0 for d in codes for b in BUCKETS})
    cutoff = day_end(as_of)
    key = Task.subject_id if by_member else Task.owner_unit_id
    bucket = _unreported_bucket(as_of, cutoff, as_of > cycle.end_on)
    unreported = [Task.cycle_id == cycle.id, ~_reported_by(cutoff)]

    def count(owner: str, duty: str, name: str, n: float) -> None:
        if owner in inputs.metrics and f"{duty}.owed" in inputs.metrics[owner]:
            inputs.metrics[owner][f"{duty}.{name}"] += n
            inputs.metrics[owner][f"{duty}.owed"] += n

    for owner, duty, name, n in session.execute(
        select(key, Task.duty_code, bucket.label("bucket"), func.count())
        .where(*unreported).group_by(key, Task.duty_code, bucket)
    ):
        count(owner, duty, name, float(n))
    explained = list(session.execute(
        select(key, Task.duty_code, bucket, Task.id).where(*unreported, bucket.in_(EXPLAINED))))
    for owner, duty, name, task_id in _reported_buckets(session, cycle, loaded, by_member, as_of, cutoff):
        count(owner, duty, name, 1.0)
        if name in EXPLAINED:
            explained.append((owner, duty, name, task_id))
    for owner, duty, name, task_id in sorted(explained, key=lambda row: row[3]):
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


def _attendance(session: Session, cycle: Cycle, subjects: list[Subject], inputs: Inputs,
                cutoff: datetime) -> None:
    """Per member: meetings of their branch in the cycle (expected) and how they attended,
    by the version of each report in force before `cutoff`."""
    for s in subjects:
        inputs.metrics[s.subject_id].update({f"attendance.{k}": 0.0 for k in ATTENDANCE})
    newer = aliased(Completion)
    in_force = [Completion.held_on.between(cycle.start_on, cycle.end_on), Completion.reported_at < cutoff,
                ~select(newer.id).where(newer.chain_id == Completion.chain_id, newer.version > Completion.version,
                                        newer.reported_at < cutoff).exists()]
    held = (select(Completion.unit_id, func.count(func.distinct(Completion.chain_id)))
            .where(*in_force).group_by(Completion.unit_id))
    per_branch = dict(session.execute(held).all())
    for s in subjects:
        inputs.metrics[s.subject_id]["attendance.expected"] = float(per_branch.get(s.unit_id, 0))
    for member_id, presence, n in session.execute(
        select(Attendance.member_id, Attendance.presence, func.count())
        .join(Completion, Completion.id == Attendance.completion_id)
        .where(*in_force)
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
        _attendance(session, cycle, subjects, inputs, day_end(as_of))
    _declared(session, cycle, loaded, inputs)
    _manual(session, cycle, loaded, inputs)
    return inputs
