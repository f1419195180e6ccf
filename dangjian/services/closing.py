"""Secretaries close tasks with what happened: one event may close several tasks.

Everything is validated before anything is written; a completion is never edited
(a correction is a new version of the same chain).

Task states this module moves (see also services/review.py and services/waivers.py):

    open / overdue / excused --close--> done | late                        (duty without review)
                                              --close--> submitted         (any duty requires review)
    submitted / returned / done / late --correct (new version)--> submitted (review duty)
                                                               --> done | late (otherwise)

One event is never counted twice in one indicator: it may close tasks of several
duties (主题党日 + 党课), but never two tasks of the same duty.
"""
from __future__ import annotations

import hashlib
import shutil
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from dangjian.clock import now_utc, shanghai_date
from dangjian.db import get_by_id
from dangjian.domain.completion import (
    AttendanceEntry,
    RosterMember,
    check_attendance,
    check_group_attendance,
    check_held_on,
    voting_quorum,
)
from dangjian.domain.periods import outside_window, window_problem
from dangjian.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from dangjian.labels import TASK_STATE
from dangjian.services import audit
from dangjian.services.cycle_state import READ_ONLY, closed_message, require_writable
from dangjian.services.evidence import path_problems
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.settings import get_settings
from models import (
    Attendance,
    Completion,
    CompletionTask,
    Cycle,
    Evidence,
    Member,
    MemberStatus,
    Task,
    TaskState,
    Unit,
    Waiver,
    WaiverEnd,
)
from rules.duties import Duty, Quorum

CLOSED_STATES = {TaskState.done, TaskState.late}
OPEN_STATES = {TaskState.open, TaskState.overdue}
WAIVED_STATES = {TaskState.excused, TaskState.not_applicable}
REVIEW_STATES = {TaskState.submitted, TaskState.returned}
# An excused task may still be reported (the waiver then ends): the work was done after all.
# A not-applicable one is not owed at all and is not reported.
CLOSABLE_STATES = OPEN_STATES | {TaskState.excused}
CORRECTABLE_STATES = CLOSED_STATES | REVIEW_STATES


@dataclass
class Report:
    """What the secretary reports about one event."""

    held_on: date
    topic: str
    minutes: str
    attendance: Sequence[AttendanceEntry] = ()
    evidence: Sequence[Path] = ()
    reported_by: str = "支部书记"
    problems: list[str] = field(default_factory=list)


@dataclass
class BulkItem:
    """One event of a bulk close: the tasks it closes and what happened."""

    task_ids: Sequence[int]
    report: Report
    ref: str | None = None      # how messages name the item, e.g. "第3行"; default "第N项"


@dataclass(frozen=True)
class ItemFailure:
    ref: str
    ids: tuple[int, ...]
    error: DomainError

    def line(self) -> str:
        text = self.error.message.rstrip("：:")
        if self.error.details:
            text += "：" + "；".join(self.error.details)
        return f"{self.ref}：{text}"


@dataclass
class BulkResult:
    completions: list[Completion]              # written, in item order
    failures: list[ItemFailure] = field(default_factory=list)   # only when not all-or-nothing


def raise_bulk(failures: Sequence[ItemFailure], total: int, what: str, written: bool = False) -> None:
    """One error for a bulk call: the class of the failures when they agree, else ValidationFailed."""
    kinds = {type(f.error) for f in failures}
    cls: type[DomainError] = kinds.pop() if len(kinds) == 1 else ValidationFailed
    if cls is DomainError:
        cls = ValidationFailed
    tail = "，已通过的各项已写入" if written else "，全部未写入"
    raise cls(f"{what}：共 {total} 项，其中 {len(failures)} 项未通过{tail}：",
              details=[f.line() for f in failures])


class ValidationContext:
    """What validation reads, loaded once per call (set-based for bulk calls)."""

    def __init__(self, session: Session):
        self.session = session
        self._duties: dict[int, dict[str, Duty]] = {}
        self._units: dict[str, Unit] = {}
        self._rosters: dict[str, list[RosterMember]] = {}

    def duties(self, cycle_id: int) -> dict[str, Duty]:
        if cycle_id not in self._duties:
            cycle = self.session.get(Cycle, cycle_id)
            assert cycle is not None
            loaded = load_stored(get_rule_set(self.session, cycle.rule_set_id))
            self._duties[cycle_id] = {d.code: d for d in loaded.rule_set.duties}
        return self._duties[cycle_id]

    def duty(self, task: Task) -> Duty:
        return self.duties(task.cycle_id)[task.duty_code]

    def units(self, ids: Iterable[str]) -> None:
        need = set(ids) - set(self._units)
        if need:
            for u in self.session.execute(select(Unit).where(Unit.id.in_(need))).scalars():
                self._units[u.id] = u

    def unit(self, uid: str) -> Unit:
        self.units([uid])
        return self._units[uid]

    def rosters(self, branch_ids: Iterable[str]) -> None:
        need = set(branch_ids) - set(self._rosters)
        if not need:
            return
        for b in need:
            self._rosters[b] = []
        rows = self.session.execute(
            select(Member).where(Member.unit_id.in_(need), Member.active.is_(True)).order_by(Member.id)
        ).scalars()
        for m in rows:
            if m.status in (MemberStatus.full, MemberStatus.probationary):
                self._rosters[m.unit_id].append(
                    RosterMember(m.id, m.name, m.status == MemberStatus.full, m.excused_from_quorum,
                                 m.group_id))

    def roster(self, branch_id: str) -> list[RosterMember]:
        self.rosters([branch_id])
        return self._rosters[branch_id]


@dataclass
class _Plan:
    """A validated event, ready to write."""

    tasks: list[Task]
    report: Report
    branch: Unit
    chain: Completion | None          # the version being corrected, if any
    review: bool                      # any of the duties requires review by the level above


def fetch_tasks(session: Session, task_ids: Iterable[int]) -> dict[int, Task]:
    ids = set(task_ids)
    if not ids:
        return {}
    return {t.id or 0: t for t in session.execute(select(Task).where(Task.id.in_(ids))).scalars()}


def _pick_tasks(found: dict[int, Task], task_ids: Sequence[int]) -> list[Task]:
    if not task_ids:
        raise ValidationFailed("至少指定一个任务编号", field="task")
    if len(set(task_ids)) != len(task_ids):
        dup = sorted({i for i in task_ids if list(task_ids).count(i) > 1})
        raise ValidationFailed(f"任务编号重复：{'、'.join(f'#{i}' for i in dup)}", field="task")
    missing = [str(i) for i in task_ids if i not in found]
    if missing:
        raise NotFound(f"任务 #{'、#'.join(missing)} 不存在", field="task")
    return [found[i] for i in task_ids]


def _load_tasks(session: Session, task_ids: Sequence[int]) -> list[Task]:
    return _pick_tasks(fetch_tasks(session, task_ids), task_ids)


def _check_access(tasks: Sequence[Task], acting_branch: str | None) -> str:
    owners = {t.owner_unit_id for t in tasks}
    if len(owners) > 1:
        raise ValidationFailed(
            f"一次活动只能办结同一支部的任务，所选任务分属：{'、'.join(sorted(owners))}", field="task"
        )
    owner = owners.pop()
    if acting_branch is not None and owner != acting_branch:
        wrong = [f"#{t.id}" for t in tasks]
        raise Forbidden(f"任务 {'、'.join(wrong)} 属于 {owner}，不属于 {acting_branch}，无权办理", field="task")
    return owner


def _check_one_per_duty(ctx: ValidationContext, tasks: Sequence[Task]) -> None:
    """One event counts once per indicator: two tasks of the same duty need two events."""
    by_duty: dict[str, list[Task]] = defaultdict(list)
    for t in tasks:
        by_duty[t.duty_code].append(t)
    clashes = [ts for ts in by_duty.values() if len(ts) > 1]
    if clashes:
        parts = [
            f"{ctx.duty(ts[0]).name}：" + "、".join(f"#{t.id}（{t.period_label}）" for t in ts)
            for ts in clashes
        ]
        raise ValidationFailed(
            "一次活动不能同时办结同一职责的多个任务（同一项活动在一个考核指标中只计一次，"
            "每期须分别开展、分别报送）：" + "；".join(parts), field="task")


def _check_closable(tasks: Sequence[Task]) -> None:
    done = [t for t in tasks if t.state in CLOSED_STATES]
    if done:
        listed = "、".join(f"#{t.id}（{t.done_on} 已办结）" for t in done)
        raise Conflict(f"任务 {listed} 不能重复报送；如需更正请用 tasks correct", field="task")
    in_review = [t for t in tasks if t.state in REVIEW_STATES]
    if in_review:
        listed = "、".join(f"#{t.id}（{TASK_STATE[t.state]}）" for t in in_review)
        raise Conflict(f"任务 {listed} 已报送过；待审核的请等待上级审核，被退回的请用 tasks resubmit 重新报送",
                       field="task")
    moot = [t for t in tasks if t.state == TaskState.not_applicable]
    if moot:
        listed = "、".join(f"#{t.id}" for t in moot)
        raise Conflict(f"任务 {listed} 已标为不适用，无需报送", field="task")
    shut = [t for t in tasks if t.state not in CLOSABLE_STATES]
    if shut:
        listed = "、".join(f"#{t.id}（{TASK_STATE.get(t.state, t.state)}）" for t in shut)
        raise Conflict(f"任务 {listed} 当前状态不能办结", field="task")


def _validate(ctx: ValidationContext, tasks: Sequence[Task], report: Report, now: datetime) -> Unit:
    owner_id = tasks[0].owner_unit_id
    branch = ctx.unit(owner_id)
    duties = ctx.duties(tasks[0].cycle_id)
    today = shanghai_date(now)
    roster = ctx.roster(owner_id)
    problems: list[str] = []
    if not report.topic.strip():
        problems.append("会议主题不能为空")
    for task in tasks:
        problems += check_held_on(report.held_on, task.period_start, task.period_end,
                                  task.period_label, task.id or 0, today)
    problems += check_attendance(report.attendance, {m.member_id for m in roster})
    groups = {t.subject_id for t in tasks if t.subject_kind == "unit" and t.subject_id != owner_id}
    if groups and all(t.subject_id in groups for t in tasks):
        problems += check_group_attendance(
            report.attendance, roster, {g: ctx.unit(g).name for g in sorted(groups)})
    problems += path_problems(report.evidence)       # same checks as a web upload
    for duty in {duties[t.duty_code].code: duties[t.duty_code] for t in tasks}.values():
        needs = duty.requires
        problems += window_problem(duty.name, duty.frequency, report.held_on)
        if needs.minutes and not report.minutes.strip():
            problems.append(f"{duty.name}须填写会议记录（minutes）")
        if needs.attendance and not report.attendance:
            problems.append(f"{duty.name}须登记参会人员")
        if len(report.evidence) < needs.evidence_files:
            problems.append(f"{duty.name}须上传至少 {needs.evidence_files} 份佐证材料（evidence）")
        if duty.quorum == Quorum.voting_majority:
            q = voting_quorum(roster, report.attendance)
            if not q.met:
                problems.append(
                    f"{duty.name}未达到法定人数：应到会有表决权的正式党员 {q.expected} 名，"
                    f"实到 {q.present} 名，须超过半数（至少 {q.required} 名）；预备党员不计入"
                )
    if problems:
        raise ValidationFailed(f"报送未通过校验（{branch.name}）：", details=problems)
    return branch


def _plan_close(ctx: ValidationContext, tasks: list[Task], report: Report, acting_branch: str | None,
                now: datetime) -> _Plan:
    if acting_branch is not None and ctx.session.get(Unit, acting_branch) is None:
        raise NotFound(f"未知的组织：{acting_branch}（--branch 应为本支部的组织编码）", field="branch")
    _check_access(tasks, acting_branch)
    _check_cycle_open(ctx, tasks, "报送")
    foreign = [f"#{t.id}（{t.duty_code}）" for t in tasks if t.duty_code not in ctx.duties(t.cycle_id)]
    if foreign:   # e.g. 发展党员 "dev:<step>" tasks, closed by recording the milestone
        raise Conflict(f"任务 {'、'.join(foreign)} 不是规则集中的职责，不能报送办结；"
                       "发展党员的步骤请用 dangjian develop record 登记，"
                       "目标责任书请用 dangjian targets sign 签订", field="task")
    _check_closable(tasks)
    _check_one_per_duty(ctx, tasks)
    branch = _validate(ctx, tasks, report, now)
    return _Plan(tasks, report, branch, None, any(ctx.duty(t).requires.review for t in tasks))


def _check_cycle_open(ctx: ValidationContext, tasks: Sequence[Task], doing: str) -> None:
    """Early, per item (a bulk call lists it with the others); _write_rows checks again
    inside the write transaction, where a simultaneous close-cycle cannot slip between."""
    for cycle_id in sorted({t.cycle_id for t in tasks}):
        cycle = ctx.session.get(Cycle, cycle_id)
        if cycle is not None and cycle.state in READ_ONLY:
            raise Conflict(closed_message(ctx.session, cycle, doing), field="cycle")


def _store_evidence(paths: Sequence[Path]) -> list[tuple[str, str, str, int]]:
    """Copy files into the content-addressed store; (original, stored name, sha256, size)."""
    store = get_settings().files_dir
    store.mkdir(parents=True, exist_ok=True)
    out = []
    for path in map(Path, paths):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        stored = digest + path.suffix.lower()[:10]
        target = store / stored
        if not target.exists():
            shutil.copyfile(path, target)
        out.append((path.name, stored, digest, path.stat().st_size))
    return out


def judge(task: Task, held_on: date, reported_on: date, duty: Duty) -> TaskState:
    """done or late: held after the due date, or recorded too long after it
    (requires.report_within_days). Judged on the report, never on a review date."""
    grace = duty.requires.report_within_days
    late = held_on > task.due_on or (reported_on - task.due_on).days > grace
    late = late or outside_window(duty.frequency, held_on) == "late"   # 一般安排在…: rule set's choice
    return TaskState.late if late else TaskState.done


def is_late(task: Task, report: Report, reported_on: date, duties: dict[str, Duty]) -> bool:
    return judge(task, report.held_on, reported_on, duties[task.duty_code]) == TaskState.late


def _claim(session: Session, ctx: ValidationContext, plans: Sequence[_Plan], reported_on: date,
           now: datetime) -> None:
    """Move each task to its new state only if it is still in the state validation saw.

    A compare-and-set in the database, not a check in Python: of two reports racing for one
    task the second finds the state changed (PostgreSQL re-reads the row once the first
    commits; SQLite serialises writers) and is refused as a conflict, writing nothing.
    Two corrections keep the state (done stays done); the unique (chain, version) of
    completions and (task, version) of their links refuse the second of those.
    """
    groups: dict[tuple[TaskState, TaskState, date], list[Task]] = defaultdict(list)
    for p in plans:
        for task in p.tasks:
            new = TaskState.submitted if p.review else judge(task, p.report.held_on, reported_on, ctx.duty(task))
            groups[(task.state, new, p.report.held_on)].append(task)
    lost: list[Task] = []
    for (seen, new, held_on), tasks in groups.items():
        ids = [t.id for t in tasks]
        changed = session.execute(
            update(Task).where(Task.id.in_(ids), Task.state == seen)
            .values(state=new, done_on=held_on, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if changed != len(tasks):
            lost += tasks
            continue
        for task in tasks:   # keep the loaded objects in step without a second UPDATE
            set_committed_value(task, "state", new)
            set_committed_value(task, "done_on", held_on)
            set_committed_value(task, "updated_at", now)
    if lost:
        session.rollback()
        listed = "、".join(f"#{t.id}" for t in lost)
        raise Conflict(f"任务 {listed} 刚刚已被他人报送或更改，本次报送未写入；请刷新后查看最新状态", field="task")


def _write(session: Session, ctx: ValidationContext, plans: Sequence[_Plan], now: datetime,
           actor: str | None) -> list[Completion]:
    """Write validated events; a race lost to another report or correction is a Conflict."""
    try:
        return _write_rows(session, ctx, plans, now, actor)
    except IntegrityError as error:
        if not _lost_a_race(error):
            raise
        session.rollback()
        raise Conflict("与同时进行的另一次报送或更正冲突，本次未写入；请刷新后在最新版本上操作",
                       field="task") from error


# The unique keys a simultaneous report or correction runs into (PostgreSQL names the
# constraint, SQLite lists its columns).
_RACE_KEYS = ("uq_completion_task_version", "ix_completion_chain",
              "completion_task.task_id, completion_task.version", "completion.chain_id, completion.version")


def _lost_a_race(error: IntegrityError) -> bool:
    text = str(error.orig)
    return any(key in text for key in _RACE_KEYS)


def _write_rows(session: Session, ctx: ValidationContext, plans: Sequence[_Plan], now: datetime,
                actor: str | None) -> list[Completion]:
    """Write validated events; set-based inserts, one audit event per task and per completion.
    The caller commits."""
    reported_on = shanghai_date(now)
    doing = "更正" if all(p.chain for p in plans) else "报送"
    require_writable(session, {t.cycle_id for p in plans for t in p.tasks}, doing)
    before_states = {t.id or 0: t.state for p in plans for t in p.tasks}
    before_done = {t.id or 0: t.done_on for p in plans for t in p.tasks}
    _claim(session, ctx, plans, reported_on, now)
    completions = [
        Completion(
            chain_id=p.chain.chain_id if p.chain else None,
            version=(p.chain.version + 1) if p.chain else 1,
            unit_id=p.branch.id, held_on=p.report.held_on, topic=p.report.topic.strip(),
            minutes=p.report.minutes, reported_by=p.report.reported_by, reported_at=now,
        )
        for p in plans
    ]
    session.add_all(completions)
    session.flush()
    for c in completions:
        if c.chain_id is None:
            c.chain_id = c.id
    session.flush()

    links = [{"completion_id": c.id, "task_id": t.id, "version": c.version}
             for c, p in zip(completions, plans, strict=True) for t in p.tasks]
    session.execute(insert(CompletionTask), links)
    people = [{"completion_id": c.id, "member_id": a.member_id, "presence": a.presence, "reason": a.reason}
              for c, p in zip(completions, plans) for a in p.report.attendance]
    if people:
        session.execute(insert(Attendance), people)
    files = [{"completion_id": c.id, "original_name": o, "stored_name": s, "sha256": d, "size_bytes": n,
              "stored_at": now}
             for c, p in zip(completions, plans) for o, s, d, n in _store_evidence(p.report.evidence)]
    if files:
        session.execute(insert(Evidence), files)

    waived = [tid for tid, state in before_states.items() if state in WAIVED_STATES]
    if waived:
        session.execute(
            update(Waiver).where(Waiver.task_id.in_(waived), Waiver.ended_at.is_(None))
            .values(ended_at=now, end_reason=WaiverEnd.reported)
        )

    for c, p in zip(completions, plans):
        who = actor or p.report.reported_by
        for task in p.tasks:
            before = {"state": before_states[task.id or 0], "done_on": before_done[task.id or 0]}
            action = "task.submit" if p.review else ("task.close" if p.chain is None else "task.correct")
            audit.record(session, actor=who, action=action, entity="task", entity_id=task.id or 0,
                         before=before, after={"state": task.state, "done_on": task.done_on,
                                               "completion_id": c.id})
        audit.record(session, actor=who, action="completion.report", entity="completion",
                     entity_id=c.id or 0,
                     after={"chain_id": c.chain_id, "version": c.version,
                            "tasks": [t.id for t in p.tasks], "held_on": p.report.held_on,
                            "topic": c.topic, "review": p.review,
                            "attendance": [[a.member_id, a.presence, a.reason] for a in p.report.attendance],
                            "evidence": len(p.report.evidence)})
    session.flush()
    return completions


def close_tasks(*, session: Session, task_ids: Sequence[int], report: Report,
                acting_branch: str | None = None, actor: str | None = None,
                now: datetime | None = None) -> Completion:
    """Close one or more tasks of one branch with one reported event.

    Tasks of duties that require review end up `submitted`, the others done or late.
    """
    now = now or now_utc()
    ctx = ValidationContext(session)
    plan = _plan_close(ctx, _load_tasks(session, task_ids), report, acting_branch, now)
    (completion,) = _write(session, ctx, [plan], now, actor)
    session.commit()
    return completion


def close_many(*, session: Session, items: Sequence[BulkItem], acting_branch: str | None = None,
               actor: str | None = None, now: datetime | None = None,
               all_or_nothing: bool = True, earlier: Sequence[ItemFailure] = ()) -> BulkResult:
    """Close many events in one transaction; each item is validated like close_tasks.

    All-or-nothing by default: if any item fails, nothing is written and the error lists
    every failing item with its task ids. With all_or_nothing=False the valid items are
    written and the failures returned (an error is still raised when none is valid).
    `earlier`: items that failed before reaching here (rows of a file that did not parse),
    reported in the same error as the rest, so a file's problems come back in one pass.
    """
    now = now or now_utc()
    if not items and not earlier:
        raise ValidationFailed("没有要办结的任务（批量办结至少一项）", field="items")
    ctx = ValidationContext(session)
    found = fetch_tasks(session, (i for item in items for i in item.task_ids))
    ctx.units({t.owner_unit_id for t in found.values()})
    ctx.rosters({t.owner_unit_id for t in found.values()})
    claimed: dict[int, str] = {}
    plans: list[_Plan] = []
    failures: list[ItemFailure] = list(earlier)
    for n, item in enumerate(items, start=1):
        ref = item.ref or f"第{n}项"
        label = f"{ref}（任务 {'、'.join(f'#{i}' for i in item.task_ids) or '未填'}）"
        try:
            tasks = _pick_tasks(found, item.task_ids)
            again = [f"#{t.id}（已在{claimed[t.id or 0]}报送）" for t in tasks if t.id in claimed]
            if again:
                raise Conflict(f"任务 {'、'.join(again)}在本批中重复出现", field="task")
            plans.append(_plan_close(ctx, tasks, item.report, acting_branch, now))
            for t in tasks:
                claimed[t.id or 0] = ref
        except DomainError as error:
            failures.append(ItemFailure(label, tuple(item.task_ids), error))
    if failures and (all_or_nothing or not plans):
        raise_bulk(failures, len(items) + len(earlier), "批量办结未执行")
    completions = _write(session, ctx, plans, now, actor)
    session.commit()
    return BulkResult(completions, failures)


def latest_version(session: Session, completion: Completion) -> Completion:
    return session.execute(
        select(Completion).where(Completion.chain_id == completion.chain_id)
        .order_by(Completion.version.desc()).limit(1)
    ).scalar_one()


def completion_tasks(session: Session, completion_id: int) -> list[Task]:
    return list(session.execute(
        select(Task).join(CompletionTask, CompletionTask.task_id == Task.id)
        .where(CompletionTask.completion_id == completion_id).order_by(Task.id)
    ).scalars())


def correct_completion(*, session: Session, completion_id: int, report: Report,
                       acting_branch: str | None = None, actor: str | None = None,
                       now: datetime | None = None) -> Completion:
    """Report a corrected version of an event; the earlier version stays readable.

    This is also how a returned report is resubmitted: the new version goes back to
    `submitted`. Correcting an accepted report of a review duty needs review again.
    """
    now = now or now_utc()
    previous = get_by_id(session, Completion, completion_id)
    if previous is None:
        raise NotFound(f"报送记录 #{completion_id} 不存在", field="completion")
    latest = latest_version(session, previous)
    if latest.id != previous.id:
        raise Conflict(f"报送记录 #{completion_id} 已被 #{latest.id}（第{latest.version}版）更正，请在最新版本上更正",
                       field="completion")
    tasks = completion_tasks(session, previous.id or 0)
    ctx = ValidationContext(session)
    _check_access(tasks, acting_branch)
    stuck = [t for t in tasks if t.state not in CORRECTABLE_STATES]
    if stuck:
        listed = "、".join(f"#{t.id}（{TASK_STATE.get(t.state, t.state)}）" for t in stuck)
        raise Conflict(f"报送记录 #{completion_id} 的任务 {listed} 当前状态不能更正", field="completion")
    _check_cycle_open(ctx, tasks, "更正")
    _check_one_per_duty(ctx, tasks)
    branch = _validate(ctx, tasks, report, now)
    plan = _Plan(tasks, report, branch, latest, any(ctx.duty(t).requires.review for t in tasks))
    (completion,) = _write(session, ctx, [plan], now, actor)
    session.commit()
    return completion
