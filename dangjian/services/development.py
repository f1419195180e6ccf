"""发展党员: open a case from the 入党申请书, record its milestones, correct them, close it.

The rules are data (rules/data/development_process.yaml) checked by the pure
dangjian.domain.development. Every function validates everything before it writes:
a refused milestone leaves the database as it was (and rolls back on any later error).

- A milestone recorded too early, out of order, or without what its step requires is
  refused with the rule, its source clause and the earliest allowed date.
- One recorded after a maximum interval is accepted, stored with `late` and the rule it
  missed (Milestone.flags), and closes its task as late.
- Each recorded milestone closes the open task of its step and creates the tasks of the
  steps that may come next, each with its window: duty code "dev:<step>", subject the
  person's roster id (DevelopmentCase.member_id; subject kind member), owner the branch,
  period_start the window's opening day, period_end = due_on its last day (the rule's
  maximum; failing that the step's schedule in the data file; failing that the end of
  the cycle). Tasks of optional steps (延长预备期) are not created.
- Which cycle a task lands in: the open cycle above the branch whose span contains the
  window's opening day; when the window opened in the past, the open cycle containing
  today; otherwise none yet: `sync_tasks` adds it once that year's cycle is open.
- A closed cycle is read-only: its tasks stay as the close settled them (a milestone
  recorded later neither closes, drops nor reopens them), `sync_tasks` of a closed cycle
  is refused, and the state of every cycle written to is held to the commit (cycle_state).
- The roster follows the process: 确定入党积极分子 puts the person on it (status
  activist, under the case's member id), 确定发展对象 makes them a candidate, the approval
  of the 接收 probationary (入党日期 = the 支部大会 date), the approval of the 转正 full
  (转正日期 = the day probation ended). Status only moves forward.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from dangjian.clock import now_utc, shanghai_date
from dangjian.db import get_by_id
from dangjian.domain.development import (
    STATUS_ORDER,
    CaseFacts,
    MemberState,
    Problem,
    Process,
    Record,
    Severity,
    Step,
    Window,
    check_milestone,
    check_timeline,
    clean_details,
    default_process,
    member_state,
    next_windows,
    parse_id_number,
    probation_end,
)
from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services import audit
from dangjian.services.bulk import insert_ignoring_duplicates
from dangjian.services.cycle_state import READ_ONLY, require_writable
from dangjian.services.planning import TASK_COLUMNS
from dangjian.services.roster_format import CATEGORIES, CATEGORY_ALIASES
from models import (
    CaseOutcome,
    Cycle,
    CycleState,
    DevelopmentCase,
    Member,
    MemberCategory,
    MemberStatus,
    Milestone,
    SubjectKind,
    Task,
    TaskState,
    Unit,
    UnitKind,
    Waiver,
)

DUTY_PREFIX = "dev:"
OPEN_STATES = (TaskState.open, TaskState.overdue)
STATUS_LABEL = {MemberStatus.activist: "入党积极分子", MemberStatus.candidate: "发展对象",
                MemberStatus.probationary: "预备党员", MemberStatus.full: "正式党员"}
OUTCOME_LABEL = {CaseOutcome.completed: "已转为正式党员并归档", CaseOutcome.withdrawn: "本人撤回或停止培养",
                 CaseOutcome.cancelled: "不予接收或取消预备党员资格", CaseOutcome.transferred: "转出"}
_RESERVED_PREFIX = "FZ"


@dataclass
class Outcome:
    """What one call did, for the adapters to print."""

    case: DevelopmentCase
    milestone: Milestone | None = None
    flags: list[Problem] = field(default_factory=list)        # late and note problems kept
    tasks_closed: list[int] = field(default_factory=list)
    tasks_created: list[Task] = field(default_factory=list)
    tasks_dropped: list[int] = field(default_factory=list)    # made not_applicable
    member_change: str | None = None
    windows: list[Window] = field(default_factory=list)


# ---------------------------------------------------------------- reading

def get_case(session: Session, case_id: int) -> DevelopmentCase:
    case = get_by_id(session, DevelopmentCase, case_id)
    if case is None:
        raise NotFound(f"发展党员档案 #{case_id} 不存在", field="case")
    return case


def milestones(session: Session, case_id: int) -> list[Milestone]:
    """Every row of the case, corrections included, in the order written."""
    return list(session.execute(
        select(Milestone).where(Milestone.case_id == case_id).order_by(Milestone.id)).scalars())


def effective(rows: Sequence[Milestone]) -> list[Milestone]:
    superseded = {r.supersedes_id for r in rows if r.supersedes_id is not None}
    return [r for r in rows if r.id not in superseded]


def facts(case: DevelopmentCase, rows: Sequence[Milestone]) -> CaseFacts:
    return CaseFacts(case.birth_date,
                     tuple(Record(r.step, r.recorded_on, dict(r.details or {}), r.id) for r in rows))


def parse_category(value: MemberCategory | str) -> MemberCategory:
    if isinstance(value, MemberCategory):
        return value
    text = value.strip()
    try:
        return MemberCategory(text)
    except ValueError:
        pass
    found = CATEGORIES.get(text) or CATEGORY_ALIASES.get(text)
    if found is None:
        options = "、".join(f"{v.value}（{k}）" for k, v in CATEGORIES.items())
        raise ValidationFailed(f"category：未知的人员类别“{value}”（可选：{options}）", field="category")
    return found


# ---------------------------------------------------------------- open

def open_case(*, session: Session, branch_id: str, applied_on: date, actor: str,
              name: str | None = None, id_number: str | None = None, member_id: str | None = None,
              category: MemberCategory | str = MemberCategory.resident, note: str | None = None,
              now: datetime | None = None, process: Process | None = None) -> Outcome:
    """Open a case with its first milestone, 递交入党申请书 on `applied_on`.

    A newcomer gives name and 身份证号码 (birth date and gender are read from it). Someone
    already on the roster as an activist or candidate (whose earlier steps were recorded
    elsewhere) gives `member_id`; the earlier steps are then recorded with their real dates.
    """
    process = process or default_process()
    now = now or now_utc()
    today = shanghai_date(now)
    branch = session.get(Unit, branch_id)
    if branch is None:
        raise NotFound(f"未知的组织：{branch_id}（--branch 应为党支部的组织编码）", field="branch")
    if branch.kind != UnitKind.branch:
        raise ValidationFailed(f"{branch.name}（{branch.id}）不是党支部：入党申请向党支部提出", field="branch")
    kind = parse_category(category)
    member: Member | None = None
    if member_id:
        member = session.get(Member, member_id)
        if member is None:
            raise NotFound(f"未知的党员：{member_id}", field="member")
        if member.status in (MemberStatus.probationary, MemberStatus.full):
            raise Conflict(f"{member.name}（{member.id}）已是{STATUS_LABEL[member.status]}，无需立案发展",
                           field="member")
        if member.unit_id != branch.id:
            raise ValidationFailed(f"{member.name}（{member.id}）属于 {member.unit_id}，不属于 {branch.id}",
                                   field="branch")
        person_name, number, born, gender, kind = (member.name, member.id_number, member.birth_date,
                                                   member.gender, member.category)
    else:
        person_name = (name or "").strip()
        if not person_name:
            raise ValidationFailed("name：请填写申请人姓名", field="name")
        if len(person_name) > 60:
            raise ValidationFailed("name：姓名最多 60 个字", field="name")
        number, born, gender = parse_id_number(id_number or "")
        on_roster = session.execute(select(Member).where(Member.id_number == number)).scalar()
        if on_roster is not None:
            raise Conflict(
                f"身份证号码 {number} 已在党员名册中：{on_roster.name}（{on_roster.id}，"
                f"{STATUS_LABEL[on_roster.status]}）；入党积极分子或发展对象请用 --member {on_roster.id} 立案",
                field="id_number")
    already = session.execute(select(DevelopmentCase).where(
        DevelopmentCase.id_number == number, DevelopmentCase.closed_on.is_(None))).scalar()
    if already is not None:
        raise Conflict(f"{already.name} 已有未结束的发展党员档案 #{already.id}（{already.opened_on} 递交申请）",
                       field="id_number")
    if member is not None and session.execute(select(DevelopmentCase).where(
            DevelopmentCase.member_id == member.id)).scalar() is not None:
        raise Conflict(f"{member.name}（{member.id}）已有发展党员档案", field="member")
    first = process.steps[0]
    problems = check_milestone(process, CaseFacts(born), first.code, applied_on, {}, today=today)
    _refuse_if_any(problems, first, applied_on)

    with _rolled_back_on_error(session):
        case = DevelopmentCase(
            branch_id=branch.id, name=person_name, id_number=number, gender=gender, birth_date=born,
            category=kind, member_id=member.id if member else f"tmp-{uuid.uuid4().hex[:30]}",
            process_code=process.spec.process.code, step=first.code, stage=first.stage,
            opened_on=applied_on, created_by=actor, created_at=now)
        session.add(case)
        session.flush()
        if member is None:
            case.member_id = _reserved_member_id(session, case.id or 0)
        row = Milestone(case_id=case.id or 0, step=first.code, recorded_on=applied_on, details={},
                        note=_note(note), flags=[p.message for p in problems], recorded_by=actor,
                        recorded_at=now)
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="development.open", entity="development_case",
                     entity_id=case.id or 0,
                     after={"branch": branch.id, "name": case.name, "member_id": case.member_id,
                            "applied_on": applied_on, "milestone": row.id})
        result = _after_change(session, process, case, today, now, actor)
        result.milestone = row
        session.commit()
    return result


def _reserved_member_id(session: Session, case_id: int) -> str:
    candidate = f"{_RESERVED_PREFIX}{case_id:06d}"
    n = 1
    while session.get(Member, candidate) is not None:
        n += 1
        candidate = f"{_RESERVED_PREFIX}{case_id:06d}-{n}"
    return candidate


# ---------------------------------------------------------------- record

def record_milestone(*, session: Session, case_id: int, step: str, on: date, actor: str,
                     details: Mapping[str, Any] | None = None, note: str | None = None,
                     now: datetime | None = None, process: Process | None = None) -> Outcome:
    """Record one step on `on`; refused (nothing written) when too early, out of order or
    missing a requirement; accepted but flagged when late."""
    process = process or default_process()
    now = now or now_utc()
    today = shanghai_date(now)
    case = _open(session, case_id)
    the_step = process.find(step)
    rows = effective(milestones(session, case.id or 0))
    current = facts(case, rows)
    stored = clean_details(details or {})
    problems = check_milestone(process, current, the_step.code, on, stored, today=today)
    _refuse_if_any(problems, the_step, on)
    _precheck_member(session, process, case, current.plus(Record(the_step.code, on, stored)))

    with _rolled_back_on_error(session):
        row = Milestone(case_id=case.id or 0, step=the_step.code, recorded_on=on, details=stored,
                        note=_note(note), late=any(p.severity == Severity.late for p in problems),
                        flags=[p.message for p in problems], recorded_by=actor, recorded_at=now)
        session.add(row)
        session.flush()
        closed = _close_step_tasks(session, case, the_step, on, now, actor)
        audit.record(session, actor=actor, action="development.record", entity="development_case",
                     entity_id=case.id or 0,
                     after={"milestone": row.id, "step": the_step.code, "on": on, "details": stored,
                            "late": row.late, "flags": row.flags, "tasks_closed": closed})
        result = _after_change(session, process, case, today, now, actor)
        result.milestone, result.flags, result.tasks_closed = row, problems, closed
        session.commit()
    return result


def correct_milestone(*, session: Session, milestone_id: int, actor: str, reason: str,
                      on: date | None = None, details: Mapping[str, Any] | None = None,
                      note: str | None = None, now: datetime | None = None,
                      process: Process | None = None) -> Outcome:
    """A corrected version of a milestone (new row superseding it; the old stays readable).
    `details` given are merged over the old ones.

    The corrected milestone is checked like a new one, and every other milestone is
    checked again against it: a correction that would make a later step too early or out
    of order is refused, naming that step.
    """
    process = process or default_process()
    now = now or now_utc()
    today = shanghai_date(now)
    old = session.get(Milestone, milestone_id)
    if old is None:
        raise NotFound(f"发展党员记录 #{milestone_id} 不存在", field="milestone")
    case = _open(session, old.case_id)
    if not reason.strip():
        raise ValidationFailed("reason：更正须写明理由", field="reason")
    rows = milestones(session, case.id or 0)
    newer = next((r for r in rows if r.supersedes_id == old.id), None)
    if newer is not None:
        raise Conflict(f"记录 #{old.id} 已被 #{newer.id} 更正，请在最新版本上更正", field="milestone")
    the_step = process.step(old.step)
    live = effective(rows)
    stored = clean_details({**(old.details or {}), **{k: v for k, v in (details or {}).items() if v is not None}})
    day = on or old.recorded_on
    others = facts(case, [r for r in live if r.id != old.id])
    problems = check_milestone(process, others, the_step.code, day, stored, today=today)
    _refuse_if_any(problems, the_step, day)
    corrected = others.plus(Record(the_step.code, day, stored))
    broken = [(r, [p for p in found if p.severity == Severity.refuse])
              for r, found in check_timeline(process, corrected) if r.ref is not None]
    broken = [(r, ps) for r, ps in broken if ps]
    if broken:
        raise ValidationFailed(
            f"更正后已登记的其他步骤将不符合规定，未更正（{the_step.label}仍为 {old.recorded_on}）：",
            field="on", details=[f"{process.step(r.step).label}（{r.on}）：{p.message}" for r, ps in broken for p in ps])
    _precheck_member(session, process, case, corrected)

    with _rolled_back_on_error(session):
        row = Milestone(case_id=case.id or 0, step=the_step.code, recorded_on=day, details=stored,
                        note=_note(note) if note is not None else old.note,
                        late=any(p.severity == Severity.late for p in problems),
                        flags=[p.message for p in problems], supersedes_id=old.id,
                        correction_reason=reason.strip()[:300], recorded_by=actor, recorded_at=now)
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="development.correct", entity="development_case",
                     entity_id=case.id or 0,
                     before={"milestone": old.id, "on": old.recorded_on, "details": old.details},
                     after={"milestone": row.id, "on": day, "details": stored, "reason": row.correction_reason,
                            "late": row.late, "flags": row.flags})
        result = _after_change(session, process, case, today, now, actor)
        result.milestone, result.flags = row, problems
        session.commit()
    return result


# ---------------------------------------------------------------- close

def close_case(*, session: Session, case_id: int, outcome: CaseOutcome | str, on: date, reason: str,
               actor: str, now: datetime | None = None, process: Process | None = None) -> Outcome:
    """End a case before 材料归档: withdrawn, cancelled or transferred. The person leaves the
    roster if they were on it without being a full member; open tasks become not_applicable.
    (A case that reaches 材料归档 closes itself as completed.)"""
    process = process or default_process()
    now = now or now_utc()
    today = shanghai_date(now)
    case = _open(session, case_id)
    try:
        kind = CaseOutcome(outcome)
    except ValueError:
        options = "、".join(f"{k.value}（{v}）" for k, v in OUTCOME_LABEL.items() if k != CaseOutcome.completed)
        raise ValidationFailed(f"outcome：未知的结果“{outcome}”（可选：{options}）", field="outcome") from None
    if kind == CaseOutcome.completed:
        last = process.steps[-1] if not process.steps[-1].optional else next(
            s for s in reversed(process.steps) if s.closes_case)
        raise ValidationFailed(f"outcome：转正归档请登记 {last.label}，档案随之结束", field="outcome")
    if not reason.strip():
        raise ValidationFailed("reason：请写明结束的理由", field="reason")
    if on > today:
        raise ValidationFailed(f"on：日期 {on} 晚于今天（{today}），不能登记尚未发生的事项", field="on")
    if on < case.opened_on:
        raise ValidationFailed(f"on：日期 {on} 早于递交申请的日期 {case.opened_on}", field="on")
    with _rolled_back_on_error(session):
        case.closed_on, case.outcome, case.close_reason = on, kind, reason.strip()[:300]
        session.add(case)
        member = session.get(Member, case.member_id)
        change = None
        if member is not None and member.status != MemberStatus.full and member.active:
            member.active = False
            session.add(member)
            change = f"{member.name}（{member.id}）移出名册（原为{STATUS_LABEL[member.status]}）"
            audit.record(session, actor=actor, action="member.deactivate", entity="member", entity_id=member.id,
                         before={"active": True, "status": member.status},
                         after={"active": False, "reason": f"发展党员档案 #{case.id}：{OUTCOME_LABEL[kind]}"})
        audit.record(session, actor=actor, action="development.close", entity="development_case",
                     entity_id=case.id or 0,
                     after={"outcome": kind, "on": on, "reason": case.close_reason})
        result = _after_change(session, process, case, today, now, actor)
        result.member_change = change
        session.commit()
    return result


# ---------------------------------------------------------------- tasks for a cycle

def sync_tasks(*, session: Session, cycle_id: int, actor: str = "system", now: datetime | None = None,
               process: Process | None = None) -> int:
    """Create the missing tasks of every open case under the cycle's root (after the cycle
    that contains their windows was opened). Idempotent; returns how many were added."""
    process = process or default_process()
    now = now or now_utc()
    today = shanghai_date(now)
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在", field="cycle")
    require_writable(session, [cycle_id], "生成发展党员任务")
    root = session.get(Unit, cycle.root_unit_id)
    assert root is not None
    cases = session.execute(
        select(DevelopmentCase).join(Unit, Unit.id == DevelopmentCase.branch_id)
        .where(DevelopmentCase.closed_on.is_(None), Unit.path.startswith(root.path, autoescape=True))
        .order_by(DevelopmentCase.id)).scalars().all()
    added = 0
    with _rolled_back_on_error(session):
        for case in cases:
            current = facts(case, effective(milestones(session, case.id or 0)))
            created, _ = _sync_tasks(session, process, case, current, today, now, actor)
            added += len(created)
        session.commit()
    return added


# ---------------------------------------------------------------- views

@dataclass
class TimelineEntry:
    milestone: Milestone
    step: Step
    versions: list[Milestone]               # earlier versions it superseded, oldest first
    problems: list[Problem]                 # as the whole timeline stands now


@dataclass
class CaseView:
    case: DevelopmentCase
    branch: Unit
    member: Member | None
    entries: list[TimelineEntry]
    windows: list[Window]                   # what may come next (optional steps included)
    probation_end: date | None
    tasks: list[Task]


def case_view(*, session: Session, case_id: int, process: Process | None = None) -> CaseView:
    process = process or default_process()
    case = get_case(session, case_id)
    branch = session.get(Unit, case.branch_id)
    assert branch is not None
    rows = milestones(session, case.id or 0)
    live = effective(rows)
    current = facts(case, live)
    by_id = {r.id: r for r in rows}
    checked = {rec.ref: found for rec, found in check_timeline(process, current)}
    entries = []
    for row in sorted(live, key=lambda r: (r.recorded_on, r.id or 0)):
        chain, prev = [], row.supersedes_id
        while prev is not None and prev in by_id:
            chain.insert(0, by_id[prev])
            prev = by_id[prev].supersedes_id
        entries.append(TimelineEntry(row, process.step(row.step), chain, checked.get(row.id, [])))
    windows = [] if case.closed_on else next_windows(process, current, include_optional=True)
    tasks = list(session.execute(
        select(Task).where(Task.subject_id == case.member_id, Task.duty_code.startswith(DUTY_PREFIX))
        .order_by(Task.period_start, Task.id)).scalars())
    return CaseView(case, branch, session.get(Member, case.member_id), entries, windows,
                    probation_end(process, current), tasks)


@dataclass
class CaseRow:
    case: DevelopmentCase
    branch_name: str
    step: Step
    windows: list[Window]


def list_cases(*, session: Session, unit_id: str, due_before: date | None = None,
               include_closed: bool = False, process: Process | None = None) -> list[CaseRow]:
    """Cases of a unit's subtree with what comes next; with `due_before`, only cases with a
    next step whose last day (or task due date) falls on or before it."""
    process = process or default_process()
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"未知的组织：{unit_id}", field="branch")
    query = (select(DevelopmentCase, Unit.name).join(Unit, Unit.id == DevelopmentCase.branch_id)
             .where(Unit.path.startswith(unit.path, autoescape=True))
             .order_by(Unit.path, DevelopmentCase.opened_on, DevelopmentCase.id))
    if not include_closed:
        query = query.where(DevelopmentCase.closed_on.is_(None))
    out = []
    for case, branch_name in session.execute(query).all():
        current = facts(case, effective(milestones(session, case.id or 0)))
        windows = [] if case.closed_on else next_windows(process, current)
        if due_before is not None:
            windows = [w for w in windows if (w.latest or w.due) is not None and (w.latest or w.due) <= due_before]
            if not windows:
                continue
        out.append(CaseRow(case, branch_name, process.step(case.step), windows))
    return out


# ---------------------------------------------------------------- internals

def _open(session: Session, case_id: int) -> DevelopmentCase:
    case = get_case(session, case_id)
    if case.closed_on is not None:
        label = OUTCOME_LABEL.get(case.outcome, str(case.outcome)) if case.outcome else "已结束"
        raise Conflict(f"发展党员档案 #{case.id}（{case.name}）已于 {case.closed_on} 结束（{label}），不能再登记",
                       field="case")
    return case


def _refuse_if_any(problems: Sequence[Problem], step: Step, on: date) -> None:
    refused = [p for p in problems if p.severity == Severity.refuse]
    if refused:
        raise ValidationFailed(f"不能登记{step.label}（{on}）：", field="on",
                               details=[p.message for p in refused])


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    return text[:300] or None


@contextmanager
def _rolled_back_on_error(session: Session) -> Iterator[None]:
    """Writes happen inside; any error rolls the session back so nothing half-written stays."""
    try:
        yield
    except BaseException:
        session.rollback()
        raise


def _precheck_member(session: Session, process: Process, case: DevelopmentCase, after: CaseFacts) -> None:
    """Refuse before writing when the roster cannot follow (the id number is now taken)."""
    state = member_state(process, after)
    if state.status is None or session.get(Member, case.member_id) is not None:
        return
    clash = session.execute(select(Member).where(Member.id_number == case.id_number)).scalar()
    if clash is not None:
        raise Conflict(f"身份证号码 {case.id_number} 已在党员名册中（{clash.name}，{clash.id}），"
                       f"无法将 {case.name} 列入名册；请核对后处理", field="id_number")


def _after_change(session: Session, process: Process, case: DevelopmentCase, today: date,
                  now: datetime, actor: str) -> Outcome:
    """Bring the case row, the roster and the tasks in line with the effective milestones."""
    live = effective(milestones(session, case.id or 0))
    current = facts(case, live)
    numbered = [s for s in process.steps if s.number is not None and current.has(s.code)]
    if numbered:
        furthest = numbered[-1]
        case.step, case.stage = furthest.code, furthest.stage
    finished = next((s for s in process.steps if s.closes_case and current.has(s.code)), None)
    if finished is not None and case.closed_on is None:
        record = current.first(finished.code)
        assert record is not None
        case.closed_on, case.outcome = record.on, CaseOutcome.completed
        audit.record(session, actor=actor, action="development.close", entity="development_case",
                     entity_id=case.id or 0, after={"outcome": CaseOutcome.completed, "on": record.on})
    session.add(case)
    change = _sync_member(session, process, case, member_state(process, current), actor)
    created, dropped = _sync_tasks(session, process, case, current, today, now, actor)
    session.flush()
    windows = [] if case.closed_on else next_windows(process, current)
    return Outcome(case, tasks_created=created, tasks_dropped=dropped, member_change=change, windows=windows)


def _sync_member(session: Session, process: Process, case: DevelopmentCase, state: MemberState,
                 actor: str) -> str | None:
    if state.status is None:
        return None
    member = session.get(Member, case.member_id)
    if member is None:
        member = Member(id=case.member_id, name=case.name, gender=case.gender, birth_date=case.birth_date,
                        id_number=case.id_number, unit_id=case.branch_id, category=case.category,
                        status=state.status, joined_on=state.joined_on, full_on=state.full_on)
        session.add(member)
        session.flush()
        audit.record(session, actor=actor, action="member.create", entity="member", entity_id=member.id,
                     after={"name": member.name, "unit_id": member.unit_id, "status": member.status,
                            "source": f"发展党员档案 #{case.id}"})
        return f"{member.name} 列入党员名册（编号 {member.id}，{STATUS_LABEL[member.status]}）"
    before = {"status": member.status, "joined_on": member.joined_on, "full_on": member.full_on}
    if STATUS_ORDER.index(state.status) > STATUS_ORDER.index(member.status):
        member.status = state.status
    if member.status in (MemberStatus.probationary, MemberStatus.full) and state.joined_on is not None:
        member.joined_on = state.joined_on
    if member.status == MemberStatus.full and state.full_on is not None:
        member.full_on = state.full_on
    after = {"status": member.status, "joined_on": member.joined_on, "full_on": member.full_on}
    if after == before:
        return None
    session.add(member)
    audit.record(session, actor=actor, action="member.status", entity="member", entity_id=member.id,
                 before=before, after={**after, "source": f"发展党员档案 #{case.id}"})
    parts = [f"{member.name}（{member.id}）：{STATUS_LABEL[member.status]}"]
    if member.joined_on:
        parts.append(f"入党日期 {member.joined_on}")
    if member.full_on:
        parts.append(f"转正日期 {member.full_on}")
    return "，".join(parts)


def _close_step_tasks(session: Session, case: DevelopmentCase, step: Step, on: date, now: datetime,
                      actor: str) -> list[int]:
    tasks = session.execute(select(Task).join(Cycle, Cycle.id == Task.cycle_id).where(
        Task.subject_id == case.member_id, Task.duty_code == step.duty_code,
        Task.state.in_(OPEN_STATES), Cycle.state.not_in(READ_ONLY)).order_by(Task.id)).scalars().all()
    require_writable(session, {t.cycle_id for t in tasks}, "关闭发展党员任务")
    closed = []
    for task in tasks:
        before = {"state": task.state, "done_on": task.done_on}
        task.state = TaskState.done if on <= task.due_on else TaskState.late
        task.done_on, task.updated_at = on, now
        session.add(task)
        closed.append(task.id or 0)
        audit.record(session, actor=actor, action="task.close", entity="task", entity_id=task.id or 0,
                     before=before, after={"state": task.state, "done_on": on,
                                           "source": f"发展党员档案 #{case.id}"})
    return closed


def _open_cycles(session: Session, branch: Unit) -> list[Cycle]:
    rows = session.execute(
        select(Cycle, Unit.path).join(Unit, Unit.id == Cycle.root_unit_id)
        .where(Cycle.state == CycleState.open).order_by(Cycle.start_on, Cycle.id)).all()
    return [c for c, path in rows if branch.path.startswith(path)]


def cycle_for(cycles: Sequence[Cycle], opens: date, today: date) -> Cycle | None:
    """The open cycle containing the window's opening day; for a window that opened in the
    past, the open cycle containing today; else None (not planned yet)."""
    for c in cycles:
        if c.start_on <= opens <= c.end_on:
            return c
    if opens <= today:
        for c in cycles:
            if c.start_on <= today <= c.end_on:
                return c
    return None


def _label(case: DevelopmentCase, window: Window) -> str:
    tail = window.step.name + (f"（第{window.occurrence}次）" if window.occurrence > 1 else "")
    room = 40 - len(tail) - 1
    return f"{case.name[:max(room, 1)]}·{tail}"[:40]


def _sync_tasks(session: Session, process: Process, case: DevelopmentCase, current: CaseFacts,
                today: date, now: datetime, actor: str) -> tuple[list[Task], list[int]]:
    """Open tasks = the windows of what may come next: add the missing, drop (not_applicable)
    the ones no longer wanted, move a due date the rules moved."""
    branch = session.get(Unit, case.branch_id)
    assert branch is not None
    wanted: dict[tuple[str, date], tuple[Cycle, date, str]] = {}
    if case.closed_on is None:
        cycles = _open_cycles(session, branch)
        for w in next_windows(process, current):
            cycle = cycle_for(cycles, w.opens, today)
            if cycle is not None:
                due = max(w.due or cycle.end_on, w.opens)
                wanted[(w.step.duty_code, w.opens)] = (cycle, due, _label(case, w))
    existing = session.execute(select(Task).where(
        Task.subject_id == case.member_id, Task.duty_code.startswith(DUTY_PREFIX))).scalars().all()
    have = {(t.duty_code, t.period_start): t for t in existing}
    frozen = set(session.execute(select(Cycle.id).where(
        Cycle.id.in_({t.cycle_id for t in existing}), Cycle.state.in_(READ_ONLY))).scalars()) if existing else set()
    dropped: list[int] = []
    moved: list[int] = []
    revived: list[int] = []
    waived = set(session.execute(select(Waiver.task_id).where(
        Waiver.task_id.in_([t.id for t in existing]))).scalars()) if existing else set()
    for key, task in have.items():
        if task.cycle_id in frozen:      # a closed cycle's tasks stay as its close left them
            continue
        if task.state in OPEN_STATES and key not in wanted:
            task.state, task.updated_at = TaskState.not_applicable, now
            dropped.append(task.id or 0)
        elif key in wanted and task.state in (*OPEN_STATES, TaskState.not_applicable):
            _, due, _ = wanted[key]
            if task.state == TaskState.not_applicable:
                if task.id in waived:
                    continue
                task.state, task.updated_at = TaskState.open, now
                revived.append(task.id or 0)
            if task.due_on != due:
                task.due_on = task.period_end = due
                if task.state == TaskState.overdue and due >= today:
                    task.state = TaskState.open
                task.updated_at = now
                moved.append(task.id or 0)
    new = [(cycle.id, duty, SubjectKind.member.value, case.member_id, case.branch_id, opens, due, label,
            due, TaskState.open.value, now)
           for (duty, opens), (cycle, due, label) in wanted.items() if (duty, opens) not in have]
    touched = {t.id for t in existing} & {*dropped, *moved, *revived}
    require_writable(session, {t.cycle_id for t in existing if t.id in touched} | {row[0] for row in new},
                     "生成或调整发展党员任务")
    insert_ignoring_duplicates(session, Task.__table__, TASK_COLUMNS, new)  # type: ignore[arg-type]
    created: list[Task] = []
    if new:
        keys = {(row[1], row[5]) for row in new}
        created = [t for t in session.execute(select(Task).where(
            Task.subject_id == case.member_id, Task.duty_code.in_({k[0] for k in keys}),
            Task.state == TaskState.open).order_by(Task.period_start, Task.id)).scalars()
            if (t.duty_code, t.period_start) in keys]
    if created or dropped or moved or revived:
        audit.record(session, actor=actor, action="development.tasks", entity="development_case",
                     entity_id=case.id or 0,
                     after={"created": [t.id for t in created], "not_applicable": dropped,
                            "due_moved": moved, "reopened": revived})
    return created, dropped
