"""Review by the level above: a report of a duty with `requires: {review: true}` waits
as `submitted` until a unit above the branch accepts or returns it.

    submitted --accept--> done | late     (lateness judged on the report, not the review date)
    submitted --return (reason)--> returned
    returned  --resubmit (closing.correct_completion: a new version)--> submitted

Reviews are append-only rows (`Review`), each audited. Only the latest version of a
completion chain can be reviewed, and only by an ancestor of the branch (Unit.path).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from dangjian.clock import now_utc, shanghai_date
from dangjian.db import ID_LIMIT, get_by_id
from dangjian.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from dangjian.labels import TASK_STATE
from dangjian.services import audit
from dangjian.services.closing import ItemFailure, ValidationContext, judge, raise_bulk
from dangjian.services.cycle_state import require_writable
from dangjian.services.cycles import get_cycle
from models import (
    Completion,
    CompletionTask,
    Evidence,
    Review,
    ReviewDecision,
    Task,
    TaskState,
    Unit,
)


@dataclass(frozen=True)
class PendingReview:
    """A report waiting for (or returned by) the level above."""

    completion_id: int
    chain_id: int
    version: int
    branch_id: str
    branch_name: str
    held_on: date
    topic: str
    reported_by: str
    reported_at: datetime
    state: str
    tasks: list[tuple[int, str, str]] = field(default_factory=list)   # (task id, duty code, period label)
    evidence_files: int = 0
    last_reason: str | None = None


@dataclass
class ReviewResult:
    reviews: list[Review]
    failures: list[ItemFailure] = field(default_factory=list)


def is_above(reviewer: Unit, branch: Unit) -> bool:
    """A strict ancestor in the tree: its path is a proper prefix of the branch's."""
    return reviewer.id != branch.id and branch.path.startswith(reviewer.path)


def _reviewing_unit(session: Session, unit_id: str) -> Unit:
    unit = session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(f"审核单位 {unit_id or '（未填）'} 不存在", field="unit")
    return unit


def _check_reviewer(reviewer: str) -> str:
    if not (reviewer or "").strip():
        raise ValidationFailed("审核人（by）不能为空", field="by")
    return reviewer.strip()


@dataclass
class _Item:
    completion: Completion
    tasks: list[Task]
    branch: Unit


@dataclass
class _Loaded:
    completions: dict[int, Completion]
    latest: dict[int, tuple[int, int]]      # chain id -> (latest completion id, its version)
    tasks: dict[int, list[Task]]
    files: dict[int, int]


def _load(session: Session, ctx: ValidationContext, ids: Sequence[int]) -> _Loaded:
    """Completions, the latest version of each chain, their tasks and evidence counts: four queries."""
    ids = [i for i in ids if 0 < i <= ID_LIMIT]      # no row has another id (asking would be an error)
    comps = {c.id or 0: c
             for c in session.execute(select(Completion).where(Completion.id.in_(ids))).scalars()}
    chains = {c.chain_id for c in comps.values()}
    latest: dict[int, tuple[int, int]] = {}
    if chains:
        newer = aliased(Completion)
        rows = session.execute(
            select(Completion.chain_id, Completion.id, Completion.version)
            .where(Completion.chain_id.in_(chains))
            .where(~select(newer.id).where(newer.chain_id == Completion.chain_id,
                                           newer.version > Completion.version).exists())
        ).all()
        latest = {chain: (cid, ver) for chain, cid, ver in rows}
    tasks: dict[int, list[Task]] = defaultdict(list)
    for cid, task in session.execute(
        select(CompletionTask.completion_id, Task).join(Task, Task.id == CompletionTask.task_id)
        .where(CompletionTask.completion_id.in_(ids)).order_by(Task.id)
    ).all():
        tasks[cid].append(task)
    files: dict[int, int] = {cid: n for cid, n in session.execute(
        select(Evidence.completion_id, func.count()).where(Evidence.completion_id.in_(ids))
        .group_by(Evidence.completion_id)
    ).all()}
    ctx.units({c.unit_id for c in comps.values()})
    return _Loaded(comps, latest, tasks, files)


def _check_item(ctx: ValidationContext, cid: int, loaded: _Loaded, unit: Unit, *, accepting: bool) -> _Item:
    files = loaded.files
    completion = loaded.completions.get(cid)
    if completion is None:
        raise NotFound(f"报送记录 #{cid} 不存在", field="completion")
    newest, version = loaded.latest[completion.chain_id or 0]
    if newest != cid:
        raise Conflict(f"报送记录 #{cid} 已被 #{newest}（第{version}版）更正，请审核最新版本 #{newest}",
                       field="completion")
    branch = ctx.unit(completion.unit_id)
    if not is_above(unit, branch):
        raise Forbidden(
            f"{unit.name}（{unit.id}）不是 {branch.name}（{branch.id}）的上级组织，"
            f"无权审核报送记录 #{cid}", field="unit")
    own = loaded.tasks.get(cid, [])
    if not any(ctx.duty(t).requires.review for t in own):
        raise Conflict(f"报送记录 #{cid} 所办结的职责无需上级审核", field="completion")
    waiting = [t for t in own if t.state != TaskState.submitted]
    if waiting:
        listed = "、".join(f"#{t.id}（{TASK_STATE.get(t.state, t.state)}）" for t in waiting)
        raise Conflict(f"报送记录 #{cid} 不在待审核状态：任务 {listed}", field="completion")
    if accepting:
        short = [
            f"{ctx.duty(t).name}须有至少 {ctx.duty(t).requires.evidence_files} 份佐证材料，"
            f"实有 {files.get(cid, 0)} 份"
            for t in own if files.get(cid, 0) < ctx.duty(t).requires.evidence_files
        ]
        if short:
            raise ValidationFailed(f"报送记录 #{cid} 不能审核通过：", details=short)
    return _Item(completion, own, branch)


def _decide(session: Session, ctx: ValidationContext, items: Sequence[_Item], decision: ReviewDecision,
            reason: str | None, reviewer: str, unit: Unit, now: datetime) -> list[Review]:
    require_writable(session, {t.cycle_id for it in items for t in it.tasks}, "审核")
    reviews = [Review(completion_id=it.completion.id or 0, decision=decision, reason=reason,
                      reviewer=reviewer, reviewing_unit_id=unit.id, at=now) for it in items]
    session.add_all(reviews)
    session.flush()
    for it, review in zip(items, reviews):
        reported_on = shanghai_date(it.completion.reported_at)
        for task in it.tasks:
            before = {"state": task.state, "done_on": task.done_on}
            if decision == ReviewDecision.accepted:
                task.state = judge(task, it.completion.held_on, reported_on, ctx.duty(task))
            else:
                task.state = TaskState.returned
                task.done_on = None          # not done; a resubmission sets it again
            task.updated_at = now
            audit.record(session, actor=reviewer, action=f"task.review_{decision.value}", entity="task",
                         entity_id=task.id or 0, before=before,
                         after={"state": task.state, "done_on": task.done_on,
                                "completion_id": it.completion.id, "review_id": review.id})
        audit.record(session, actor=reviewer, action=f"completion.{decision.value}", entity="completion",
                     entity_id=it.completion.id or 0,
                     after={"review_id": review.id, "decision": decision, "reason": reason,
                            "reviewing_unit": unit.id, "version": it.completion.version,
                            "tasks": [t.id for t in it.tasks]})
    session.flush()
    return reviews


def _review_many(session: Session, completion_ids: Sequence[int], decision: ReviewDecision,
                 reason: str | None, reviewer: str, reviewing_unit: str, now: datetime | None,
                 all_or_nothing: bool) -> ReviewResult:
    now = now or now_utc()
    what = "审核通过" if decision == ReviewDecision.accepted else "退回"
    if decision == ReviewDecision.returned and not (reason or "").strip():
        ids = "、".join(f"#{i}" for i in completion_ids)
        raise ValidationFailed(f"退回报送记录 {ids} 须填写退回原因（reason）", field="reason")
    reviewer = _check_reviewer(reviewer)
    unit = _reviewing_unit(session, reviewing_unit)
    if not completion_ids:
        raise ValidationFailed("至少指定一个报送记录编号", field="completion")
    dup = sorted({i for i in completion_ids if list(completion_ids).count(i) > 1})
    if dup:
        raise ValidationFailed(f"报送记录编号重复：{'、'.join(f'#{i}' for i in dup)}", field="completion")
    ctx = ValidationContext(session)
    loaded = _load(session, ctx, completion_ids)
    items: list[_Item] = []
    failures: list[ItemFailure] = []
    for cid in completion_ids:
        try:
            items.append(_check_item(ctx, cid, loaded, unit, accepting=decision == ReviewDecision.accepted))
        except DomainError as error:
            failures.append(ItemFailure(f"报送记录 #{cid}", (cid,), error))
    if failures and (all_or_nothing or not items):
        if len(completion_ids) == 1:
            raise failures[0].error
        raise_bulk(failures, len(completion_ids), f"批量{what}未执行")
    reviews = _decide(session, ctx, items, decision, reason.strip() if reason else None, reviewer, unit, now)
    session.commit()
    return ReviewResult(reviews, failures)


def accept_many(*, session: Session, completion_ids: Sequence[int], reviewer: str, reviewing_unit: str,
                now: datetime | None = None, all_or_nothing: bool = True) -> ReviewResult:
    """Accept several reports in one transaction; each is checked like a single accept.

    All-or-nothing by default: any failing report leaves the database unchanged and the
    error lists every failing completion id. With all_or_nothing=False the valid ones are
    accepted and the failures returned."""
    return _review_many(session, completion_ids, ReviewDecision.accepted, None, reviewer, reviewing_unit,
                        now, all_or_nothing)


def accept(*, session: Session, completion_id: int, reviewer: str, reviewing_unit: str,
           now: datetime | None = None) -> Review:
    """Accept one report: its tasks become done or late, judged on the report itself."""
    return accept_many(session=session, completion_ids=[completion_id], reviewer=reviewer,
                       reviewing_unit=reviewing_unit, now=now).reviews[0]


def return_many(*, session: Session, completion_ids: Sequence[int], reason: str, reviewer: str,
                reviewing_unit: str, now: datetime | None = None,
                all_or_nothing: bool = True) -> ReviewResult:
    """Return several reports with one reason, in one transaction (all-or-nothing by default)."""
    return _review_many(session, completion_ids, ReviewDecision.returned, reason, reviewer, reviewing_unit,
                        now, all_or_nothing)


def return_completion(*, session: Session, completion_id: int, reason: str, reviewer: str,
                      reviewing_unit: str, now: datetime | None = None) -> Review:
    """Return a report to the branch with a reason; it resubmits a corrected version."""
    return return_many(session=session, completion_ids=[completion_id], reason=reason, reviewer=reviewer,
                       reviewing_unit=reviewing_unit, now=now).reviews[0]


def history(*, session: Session, completion_id: int) -> list[Review]:
    """Every review of every version of the completion's chain, oldest first."""
    completion = get_by_id(session, Completion, completion_id)
    if completion is None:
        raise NotFound(f"报送记录 #{completion_id} 不存在", field="completion")
    return list(session.execute(
        select(Review).join(Completion, Completion.id == Review.completion_id)
        .where(Completion.chain_id == completion.chain_id).order_by(Review.id)
    ).scalars())


def pending_reviews(*, session: Session, cycle_code: str, unit_id: str,
                    state: TaskState = TaskState.submitted) -> list[PendingReview]:
    """Latest reports of branches below `unit_id` whose tasks are `submitted` (or `returned`)."""
    if state not in (TaskState.submitted, TaskState.returned):
        raise ValidationFailed(f"审核列表只能按 submitted 或 returned 查询，收到：{state}", field="state")
    cycle = get_cycle(session, cycle_code)
    unit = _reviewing_unit(session, unit_id)
    newer = aliased(Completion)
    rows = session.execute(
        select(Completion, Unit.name, Task.id, Task.duty_code, Task.period_label)
        .join(CompletionTask, CompletionTask.completion_id == Completion.id)
        .join(Task, Task.id == CompletionTask.task_id)
        .join(Unit, Unit.id == Completion.unit_id)
        .where(Task.cycle_id == cycle.id, Task.state == state,
               Unit.path.startswith(unit.path), Unit.id != unit.id)
        .where(~select(newer.id).where(newer.chain_id == Completion.chain_id,
                                       newer.version > Completion.version).exists())
        .order_by(Completion.reported_at, Completion.id, Task.id)
    ).all()
    out: dict[int, PendingReview] = {}
    for c, name, task_id, duty, label in rows:
        row = out.get(c.id)
        if row is None:
            row = out[c.id] = PendingReview(c.id, c.chain_id, c.version, c.unit_id, name, c.held_on, c.topic,
                                            c.reported_by, c.reported_at, str(state))
        row.tasks.append((task_id, duty, label))
    if not out:
        return []
    ids = list(out)
    files = dict(session.execute(
        select(Evidence.completion_id, func.count()).where(Evidence.completion_id.in_(ids))
        .group_by(Evidence.completion_id)).all())
    reasons: dict[int, str | None] = {}
    chain_of = {r.chain_id: r.completion_id for r in out.values()}
    for chain, reason in session.execute(
        select(Completion.chain_id, Review.reason).join(Completion, Completion.id == Review.completion_id)
        .where(Completion.chain_id.in_(chain_of), Review.decision == ReviewDecision.returned)
        .order_by(Review.id)
    ).all():
        reasons[chain_of[chain]] = reason
    return [
        PendingReview(**{**r.__dict__, "evidence_files": files.get(r.completion_id, 0),
                         "last_reason": reasons.get(r.completion_id)})
        for r in out.values()
    ]
