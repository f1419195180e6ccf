"""Secretaries close tasks with what happened: one event may close several tasks.

Everything is validated before anything is written; a completion is never edited
(a correction is a new version of the same chain).
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from dangjian.clock import now_utc, shanghai_date
from dangjian.domain.completion import (
    AttendanceEntry,
    RosterMember,
    check_attendance,
    check_held_on,
    voting_quorum,
)
from dangjian.errors import Conflict, Forbidden, NotFound, ValidationFailed
from dangjian.services import audit
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
)
from rules.duties import Duty, Quorum

CLOSED_STATES = {TaskState.done, TaskState.late}
OPEN_STATES = {TaskState.open, TaskState.overdue}


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


def _load_tasks(session: Session, task_ids: Sequence[int]) -> list[Task]:
    if not task_ids:
        raise ValidationFailed("至少指定一个任务编号", field="task")
    if len(set(task_ids)) != len(task_ids):
        raise ValidationFailed("任务编号重复", field="task")
    tasks = session.execute(select(Task).where(Task.id.in_(task_ids))).scalars().all()
    found = {t.id for t in tasks}
    missing = [str(i) for i in task_ids if i not in found]
    if missing:
        raise NotFound(f"任务 #{'、#'.join(missing)} 不存在", field="task")
    return sorted(tasks, key=lambda t: task_ids.index(t.id or 0))


def _branch_roster(session: Session, branch_id: str) -> list[RosterMember]:
    rows = session.execute(
        select(Member).where(Member.unit_id == branch_id, Member.active.is_(True))
    ).scalars()
    return [
        RosterMember(m.id, m.name, m.status == MemberStatus.full, m.excused_from_quorum)
        for m in rows
        if m.status in (MemberStatus.full, MemberStatus.probationary)
    ]


def _duties(session: Session, cycle: Cycle) -> dict[str, Duty]:
    loaded = load_stored(get_rule_set(session, cycle.rule_set_id))
    return {d.code: d for d in loaded.rule_set.duties}


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


def _validate(session: Session, tasks: Sequence[Task], report: Report, now: datetime) -> Unit:
    owner_id = tasks[0].owner_unit_id
    branch = session.get(Unit, owner_id)
    assert branch is not None
    cycle = session.get(Cycle, tasks[0].cycle_id)
    assert cycle is not None
    duties = _duties(session, cycle)
    today = shanghai_date(now)
    roster = _branch_roster(session, owner_id)
    problems: list[str] = []
    if not report.topic.strip():
        problems.append("会议主题不能为空")
    for task in tasks:
        problems += check_held_on(report.held_on, task.period_start, task.period_end,
                                  task.period_label, task.id or 0, today)
    problems += check_attendance(report.attendance, {m.member_id for m in roster})
    for path in report.evidence:
        if not Path(path).is_file():
            problems.append(f"佐证材料文件不存在：{path}")
    for duty in {duties[t.duty_code].code: duties[t.duty_code] for t in tasks}.values():
        needs = duty.requires
        if needs.minutes and not report.minutes.strip():
            problems.append(f"{duty.name}须填写会议记录（minutes）")
        if needs.attendance and not report.attendance:
            problems.append(f"{duty.name}须登记参会人员")
        if len(report.evidence) < needs.evidence_files:
            problems.append(f"{duty.name}须上传至少 {needs.evidence_files} 份佐证材料")
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


def is_late(task: Task, report: Report, reported_on: date, duties: dict[str, Duty]) -> bool:
    """Held after the due date, or recorded too long after it (requires.report_within_days)."""
    grace = duties[task.duty_code].requires.report_within_days
    return report.held_on > task.due_on or (reported_on - task.due_on).days > grace


def _write(session: Session, tasks: Sequence[Task], branch: Unit, report: Report, now: datetime,
           actor: str, chain: Completion | None) -> Completion:
    cycle = session.get(Cycle, tasks[0].cycle_id)
    assert cycle is not None
    duties = _duties(session, cycle)
    reported_on = shanghai_date(now)
    completion = Completion(
        chain_id=chain.chain_id if chain else None,
        version=(chain.version + 1) if chain else 1,
        unit_id=branch.id, held_on=report.held_on, topic=report.topic.strip(),
        minutes=report.minutes, reported_by=report.reported_by, reported_at=now,
    )
    session.add(completion)
    session.flush()
    if completion.chain_id is None:
        completion.chain_id = completion.id
    for task in tasks:
        session.add(CompletionTask(completion_id=completion.id or 0, task_id=task.id or 0))
    for entry in report.attendance:
        session.add(Attendance(completion_id=completion.id or 0, member_id=entry.member_id,
                               presence=entry.presence, reason=entry.reason))
    for original, stored, digest, size in _store_evidence(report.evidence):
        session.add(Evidence(completion_id=completion.id or 0, original_name=original,
                             stored_name=stored, sha256=digest, size_bytes=size))
    for task in tasks:
        before = {"state": task.state, "done_on": task.done_on}
        task.state = TaskState.late if is_late(task, report, reported_on, duties) else TaskState.done
        task.done_on = report.held_on
        task.updated_at = now
        session.add(task)
        audit.record(session, actor=actor, action="task.close", entity="task", entity_id=task.id or 0,
                     before=before, after={"state": task.state, "done_on": task.done_on,
                                           "completion_id": completion.id})
    audit.record(session, actor=actor, action="completion.report", entity="completion",
                 entity_id=completion.id or 0,
                 after={"chain_id": completion.chain_id, "version": completion.version,
                        "tasks": [t.id for t in tasks], "held_on": report.held_on,
                        "topic": completion.topic,
                        "attendance": [[a.member_id, a.presence, a.reason] for a in report.attendance]})
    session.commit()
    return completion


def close_tasks(*, session: Session, task_ids: Sequence[int], report: Report,
                acting_branch: str | None = None, actor: str | None = None,
                now: datetime | None = None) -> Completion:
    """Close one or more tasks of one branch with one reported event."""
    now = now or now_utc()
    tasks = _load_tasks(session, task_ids)
    _check_access(tasks, acting_branch)
    done = [t for t in tasks if t.state in CLOSED_STATES]
    if done:
        listed = "、".join(f"#{t.id}（{t.done_on} 已办结）" for t in done)
        raise Conflict(f"任务 {listed} 不能重复报送；如需更正请用 tasks correct", field="task")
    shut = [t for t in tasks if t.state not in OPEN_STATES]
    if shut:
        raise Conflict(f"任务 {'、'.join(f'#{t.id}（{t.state}）' for t in shut)} 当前状态不能办结")
    branch = _validate(session, tasks, report, now)
    return _write(session, tasks, branch, report, now, actor or report.reported_by, None)


def correct_completion(*, session: Session, completion_id: int, report: Report,
                       acting_branch: str | None = None, actor: str | None = None,
                       now: datetime | None = None) -> Completion:
    """Report a corrected version of an event; the earlier version stays readable."""
    now = now or now_utc()
    previous = session.get(Completion, completion_id)
    if previous is None:
        raise NotFound(f"报送记录 #{completion_id} 不存在", field="completion")
    latest = session.execute(
        select(Completion).where(Completion.chain_id == previous.chain_id)
        .order_by(Completion.version.desc()).limit(1)
    ).scalar_one()
    if latest.id != previous.id:
        raise Conflict(f"报送记录 #{completion_id} 已被 #{latest.id}（第{latest.version}版）更正，请在最新版本上更正")
    task_ids = session.execute(
        select(CompletionTask.task_id).where(CompletionTask.completion_id == previous.id)
        .order_by(CompletionTask.task_id)
    ).scalars().all()
    tasks = _load_tasks(session, list(task_ids))
    _check_access(tasks, acting_branch)
    branch = _validate(session, tasks, report, now)
    return _write(session, tasks, branch, report, now, actor or report.reported_by, latest)
