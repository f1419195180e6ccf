"""党建目标责任制: targets set at the district, split level by level to units with their
主要负责人, a signed 目标责任书 per unit, progress reported against the target, and
progress fed into the assessment's declared metrics.

"将街道社区党建的内容量化、细化，以责任书的形式逐层分解，逐层签订，量化到单位，到主要负责人"
(seeds/001). The figures such targets carry: 新发展党员、培养入党积极分子、创建“五好”社区党支部
(seeds/002).

Rules kept here:
- A target belongs to a cycle; its `total` is what the cycle's root unit (the district) owes.
- A unit splits only what it holds (the root holds the total), only to its direct children.
  For a count target the children's amounts together may not exceed the parent's amount,
  and a re-split may not leave a child with less than it has already split further down.
  A share target (五好支部占比 %) is not additive: every level carries its own share, 0–100.
- One 目标责任书 per unit and cycle, issued as a task (duty "target_letter", owner the
  unit) through the bulk insert path; signing records who signed when and closes the
  task (done, or late when signed after its due date).
- Progress reports are append-only and in date order; a count may go down only with a
  reason (a correction).
- `feed_metrics` writes each unit's latest reported value into the declared metric its
  target names, through scoring_inputs.set_metric_values (so the rule set's ranges apply).

Every function validates everything before it writes: a refusal leaves the database as it was.
A closed cycle's targets, letters and progress are read-only (cycle_state.require_writable).
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlmodel import Session

from dangjian.clock import today as shanghai_today
from dangjian.errors import Conflict, DomainError, NotFound, ValidationFailed
from dangjian.labels import TASK_STATE
from dangjian.services import audit
from dangjian.services.bulk import insert_ignoring_duplicates
from dangjian.services.cycle_state import require_writable
from dangjian.services.cycles import get_cycle
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.services.scoring_inputs import (
    MetricEntry,
    declared_metrics,
    number_problem,
    set_metric_values,
)
from models import (
    LETTER_DUTY,
    Cycle,
    LetterSigning,
    ProgressReport,
    SubjectKind,
    Target,
    TargetAllocation,
    TargetKind,
    Task,
    TaskState,
    Unit,
    utcnow,
)

KIND_LABEL = {TargetKind.count: "数量", TargetKind.share: "比例"}
LETTER_LABEL = "目标责任书"
SIGNABLE = {TaskState.open, TaskState.overdue}
EPS = 1e-9


# --- helpers ---------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:g}"


def _amount(value: float, measure: str) -> str:
    return f"{_n(value)}{'' if measure == '%' else ' '}{measure}"


def _named(unit: Unit) -> str:
    return f"{unit.name}（{unit.id}）"


def _writable_cycle(session: Session, cycle_code: str, doing: str) -> Cycle:
    """The cycle, refused when closed; its state is held to this call's commit (cycle_state),
    so a simultaneous close-cycle cannot slip in between the check and the write."""
    cycle = get_cycle(session, cycle_code)
    require_writable(session, [cycle.id or 0], doing)
    return cycle


def _root(session: Session, cycle: Cycle) -> Unit:
    root = session.get(Unit, cycle.root_unit_id)
    if root is None:
        raise NotFound(f"周期 {cycle.code} 的根组织 {cycle.root_unit_id} 不存在")
    return root


def _unit(session: Session, unit_id: str, field_name: str = "unit") -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"未知的组织：{unit_id}", field=field_name)
    return unit


def get_target(session: Session, cycle: Cycle, code: str) -> Target:
    target = session.execute(select(Target).where(Target.cycle_id == cycle.id, Target.code == code)
                             ).scalar_one_or_none()
    if target is None:
        known = session.execute(select(Target.code, Target.name).where(Target.cycle_id == cycle.id)
                                .order_by(Target.code)).all()
        hint = "、".join(f"{c}（{n}）" for c, n in known) or "本周期尚未设定目标"
        raise NotFound(f"考核周期 {cycle.code} 没有目标 {code}（{hint}）", field="target")
    return target


def _value_problems(kind: TargetKind, value: float, what: str) -> list[str]:
    # The checks metric values get (finite, |x| <= 10^15), so what feeds a metric is storable.
    problem = number_problem(value)
    if problem:
        return [f"{what} {problem}"]
    if value < 0:
        return [f"{what} {_n(value)} 不能为负数"]
    if kind == TargetKind.count and value != int(value):
        return [f"{what} {_n(value)} 须为整数（数量目标）"]
    if kind == TargetKind.share and value > 100:
        return [f"{what} {_n(value)}% 超出 0–100%（比例目标）"]
    return []


def _parse_kind(kind: TargetKind | str) -> TargetKind:
    text = str(kind).strip()
    for k, label in KIND_LABEL.items():
        if text in (k.value, label):
            return k
    raise ValidationFailed(f"kind：未知的目标类型“{kind}”（可选：count 数量、share 比例）", field="kind")


# --- setting targets -------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    code: str
    name: str
    total: float
    measure: str = "人"
    kind: TargetKind | str = TargetKind.count
    metric: str | None = None        # declared metric code or Chinese name
    note: str | None = None


def set_targets(*, session: Session, cycle_code: str, targets: Sequence[TargetSpec],
                actor: str) -> list[Target]:
    """Set (add or change) the cycle's targets at its root unit; all valid or nothing written."""
    cycle = _writable_cycle(session, cycle_code, "设定目标")
    if not targets:
        raise ValidationFailed("没有要设定的目标", field="targets")
    declared = declared_metrics(load_stored(get_rule_set(session, cycle.rule_set_id)))
    existing = {t.code: t for t in session.execute(select(Target).where(Target.cycle_id == cycle.id)).scalars()}
    root_split = dict(session.execute(
        select(TargetAllocation.target_id, func.sum(TargetAllocation.amount))
        .where(TargetAllocation.target_id.in_([t.id for t in existing.values()]),
               TargetAllocation.from_unit_id == cycle.root_unit_id)
        .group_by(TargetAllocation.target_id)).all())
    held_anywhere = set(session.execute(
        select(TargetAllocation.target_id).distinct()
        .where(TargetAllocation.target_id.in_([t.id for t in existing.values()]))).scalars())
    problems: list[str] = []
    resolved: list[tuple[TargetSpec, TargetKind, str | None]] = []
    codes = [s.code.strip() for s in targets]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"目标编码 {dup} 在本次设定中重复")
    metric_owner = {t.metric: t.code for t in existing.values() if t.metric}
    for spec in targets:
        code, where = spec.code.strip(), f"目标 {spec.code.strip() or '（未填编码）'}："
        try:
            kind = _parse_kind(spec.kind)
        except ValidationFailed as error:
            problems.append(where + error.message)
            continue
        if not code or len(code) > 40 or any(ch.isspace() for ch in code):
            problems.append(f"{where}编码须为1–40个字符且不含空格")
        if not spec.name.strip() or len(spec.name.strip()) > 60:
            problems.append(f"{where}名称须为1–60个字")
        if not spec.measure.strip() or len(spec.measure.strip()) > 10:
            problems.append(f"{where}计量单位须为1–10个字（如 人、个、%）")
        problems += [where + p for p in _value_problems(kind, spec.total, "总数")]
        metric = None
        if spec.metric:
            decl = declared.get(spec.metric) or next(
                (m for m in declared.values() if m.name == spec.metric), None)
            if decl is None:
                known = "、".join(f"{m.code}（{m.name}）" for m in declared.values()) or "（本规则集未声明任何指标）"
                problems.append(f"{where}规则集没有声明指标 {spec.metric}；可用：{known}")
            elif getattr(decl, "per", "unit") != "unit":
                problems.append(f"{where}指标 {decl.code}（{decl.name}）按党员填报，不能由单位目标的进度写入")
            else:
                metric = decl.code
                other = metric_owner.get(metric)
                if other is not None and other != code:
                    problems.append(f"{where}指标 {metric}（{decl.name}）已由目标 {other} 写入，一个指标只能对应一个目标")
                metric_owner[metric] = code
        old = existing.get(code)
        if old is not None:
            if old.kind != kind and old.id in held_anywhere:
                problems.append(f"{where}已分解到下级，不能从{KIND_LABEL[old.kind]}目标改为{KIND_LABEL[kind]}目标")
            split = float(root_split.get(old.id, 0) or 0)
            if kind == TargetKind.count and spec.total + EPS < split:
                problems.append(f"{where}总数 {_amount(spec.total, spec.measure)} 少于已分解给下级的合计 "
                                f"{_amount(split, spec.measure)}，请先调减下级分解数")
        resolved.append((spec, kind, metric))
    if problems:
        raise ValidationFailed(f"目标未设定（考核周期 {cycle.code}）：", details=problems)
    rows = []
    now = utcnow()
    for spec, kind, metric in resolved:
        code = spec.code.strip()
        row = existing.get(code)
        before = None if row is None else {
            "name": row.name, "measure": row.measure, "total": row.total, "kind": row.kind,
            "metric": row.metric, "note": row.note}
        row = row or Target(cycle_id=cycle.id or 0, code=code, name="", measure="", total=0,
                            kind=kind, set_by=actor)
        row.name, row.measure, row.total, row.kind = spec.name.strip(), spec.measure.strip(), spec.total, kind
        row.metric, row.note, row.set_by, row.set_at = metric, spec.note, actor, now
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="target.set", entity="target", entity_id=row.id or 0,
                     before=before, after={"cycle": cycle.code, "code": code, "name": row.name,
                                           "measure": row.measure, "total": row.total, "kind": kind,
                                           "metric": metric, "note": row.note})
        rows.append(row)
    session.commit()
    return rows


def list_targets(*, session: Session, cycle_code: str) -> list[Target]:
    cycle = get_cycle(session, cycle_code)
    return list(session.execute(select(Target).where(Target.cycle_id == cycle.id).order_by(Target.id)).scalars())


# --- splitting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """What one child unit is given: its amount and its 主要负责人."""

    unit_id: str
    amount: float
    responsible: str
    post: str | None = None


def split_target(*, session: Session, cycle_code: str, target_code: str, from_unit: str,
                 shares: Sequence[Share], actor: str) -> list[TargetAllocation]:
    """Split a target that `from_unit` holds among its direct children (add or change).

    Children not named keep what they have. Validated as a set before anything is written.
    """
    cycle = _writable_cycle(session, cycle_code, "分解目标")
    target = get_target(session, cycle, target_code)
    parent = _unit(session, from_unit, "from")
    if not shares:
        raise ValidationFailed("没有要分解的下级单位", field="to")
    measure = target.measure
    if parent.id == cycle.root_unit_id:
        parent_amount = target.total
    else:
        held = session.execute(select(TargetAllocation).where(
            TargetAllocation.target_id == target.id, TargetAllocation.unit_id == parent.id)).scalar_one_or_none()
        if held is None:
            raise ValidationFailed(
                f"{_named(parent)} 没有分到目标“{target.name}”，不能向下分解（目标由 {cycle.root_unit_id} "
                "设定，须先由上级分解到本单位）", field="from")
        parent_amount = held.amount

    ids = [s.unit_id.strip() for s in shares]
    units = {u.id: u for u in session.execute(select(Unit).where(Unit.id.in_(ids))).scalars()}
    unknown = [i for i in dict.fromkeys(ids) if i not in units]
    if unknown:
        raise NotFound(f"未知的组织：{'、'.join(unknown)}", field="to")
    problems: list[str] = []
    for dup in [i for i in dict.fromkeys(ids) if ids.count(i) > 1]:
        problems.append(f"{_named(units[dup])} 在本次分解中出现了不止一次")
    for uid in dict.fromkeys(ids):
        if units[uid].parent_id != parent.id:
            above = units[uid].parent_id or "无"
            problems.append(f"{_named(units[uid])} 不是 {_named(parent)} 的直接下级（其上级为 {above}），"
                            "只能逐级分解")
    existing = {a.unit_id: a for a in session.execute(select(TargetAllocation).where(
        TargetAllocation.target_id == target.id,
        or_(TargetAllocation.unit_id.in_(ids), TargetAllocation.from_unit_id == parent.id))).scalars()}
    for uid in ids:
        a = existing.get(uid)
        if a is not None and a.from_unit_id != parent.id:
            problems.append(f"{_named(units[uid])} 的“{target.name}”已由 {a.from_unit_id} 分解，不能再由 "
                            f"{parent.id} 分解")
    below = dict(session.execute(
        select(TargetAllocation.from_unit_id, func.sum(TargetAllocation.amount))
        .where(TargetAllocation.target_id == target.id, TargetAllocation.from_unit_id.in_(ids))
        .group_by(TargetAllocation.from_unit_id)).all())
    for s in shares:
        uid = s.unit_id.strip()
        where = f"{_named(units[uid])}："
        problems += [where + p for p in _value_problems(target.kind, s.amount, "分解数")]
        if not s.responsible.strip():
            problems.append(f"{where}须写明主要负责人")
        elif len(s.responsible.strip()) > 60:
            problems.append(f"{where}负责人姓名不超过60字")
        if s.post and len(s.post.strip()) > 60:
            problems.append(f"{where}职务不超过60字")
        further = float(below.get(uid, 0) or 0)
        if target.kind == TargetKind.count and s.amount + EPS < further:
            problems.append(f"{where}分解数 {_amount(s.amount, measure)} 少于其已分解给下级的合计 "
                            f"{_amount(further, measure)}，请先调减其下级")
    if target.kind == TargetKind.count:
        siblings = {a.unit_id: a.amount for a in existing.values() if a.from_unit_id == parent.id}
        combined = {**siblings, **{s.unit_id.strip(): s.amount for s in shares}}
        total = sum(combined.values())
        if total > parent_amount + EPS:
            names = {u.id: u.name for u in session.execute(
                select(Unit).where(Unit.id.in_(list(combined)))).scalars()}
            parts = " + ".join(f"{names[u]} {_n(v)}" for u, v in combined.items())
            problems.append(
                f"分解超出上级目标：{_named(parent)} 的“{target.name}”为 {_amount(parent_amount, measure)}，"
                f"下级合计 {_amount(total, measure)}（{parts}），超出 {_amount(total - parent_amount, measure)}")
    if problems:
        raise ValidationFailed(f"目标“{target.name}”未分解：", details=problems)

    now = utcnow()
    rows = []
    for s in shares:
        uid = s.unit_id.strip()
        row = existing.get(uid)
        before = None if row is None else {"amount": row.amount, "responsible": row.responsible_name,
                                           "post": row.responsible_post}
        row = row or TargetAllocation(target_id=target.id or 0, unit_id=uid, from_unit_id=parent.id,
                                      amount=0, responsible_name="", allocated_by=actor)
        row.amount, row.responsible_name = s.amount, s.responsible.strip()
        row.responsible_post = (s.post or "").strip() or None
        row.allocated_by, row.allocated_at = actor, now
        session.add(row)
        session.flush()
        audit.record(session, actor=actor, action="target.split", entity="target_allocation",
                     entity_id=row.id or 0, before=before,
                     after={"cycle": cycle.code, "target": target.code, "from": parent.id, "unit": uid,
                            "amount": row.amount, "responsible": row.responsible_name,
                            "post": row.responsible_post})
        rows.append(row)
    session.commit()
    return rows


# --- letters -----------------------------------------------------------------------------


LETTER_COLUMNS = (
    "cycle_id", "duty_code", "subject_kind", "subject_id", "owner_unit_id",
    "period_start", "period_end", "period_label", "due_on", "state", "updated_at",
)


@dataclass(frozen=True)
class LetterReport:
    created: list[int]             # new letter task ids
    already: int                   # units that had a letter already


def issue_letters(*, session: Session, cycle_code: str, due_on: date, actor: str,
                  issued_on: date | None = None, today: date | None = None) -> LetterReport:
    """One 目标责任书 task per unit holding an allocation (amount > 0) in the cycle.

    Idempotent: units that already have a letter are skipped. The task's period starts
    no later than the day of issue (re-planning never touches periods already started).
    """
    cycle = _writable_cycle(session, cycle_code, "下达目标责任书")
    today = today or shanghai_today()
    issued_on = issued_on or today
    problems = []
    if issued_on > today:
        problems.append(f"下达日期 {issued_on} 晚于今天（{today}）")
    if due_on < issued_on:
        problems.append(f"签订截止日期 {due_on} 早于下达日期 {issued_on}")
    if due_on > cycle.end_on:
        problems.append(f"签订截止日期 {due_on} 晚于考核周期结束日 {cycle.end_on}")
    if problems:
        raise ValidationFailed("目标责任书未下达：", field="due", details=problems)
    holders = list(session.execute(
        select(TargetAllocation.unit_id).distinct()
        .join(Target, Target.id == TargetAllocation.target_id)
        .where(Target.cycle_id == cycle.id, TargetAllocation.amount > 0)
        .order_by(TargetAllocation.unit_id)).scalars())
    if not holders:
        raise ValidationFailed(f"考核周期 {cycle.code} 还没有分解到任何单位的目标，无责任书可下达", field="cycle")
    have = set(session.execute(select(Task.subject_id).where(
        Task.cycle_id == cycle.id, Task.duty_code == LETTER_DUTY)).scalars())
    new = [u for u in holders if u not in have]
    start = min(issued_on, cycle.start_on)
    now = utcnow()
    insert_ignoring_duplicates(session, Task.__table__, LETTER_COLUMNS, (
        (cycle.id, LETTER_DUTY, SubjectKind.unit.value, uid, uid, start, cycle.end_on, LETTER_LABEL,
         due_on, TaskState.open.value, now) for uid in new))
    created = list(session.execute(select(Task.id).where(
        Task.cycle_id == cycle.id, Task.duty_code == LETTER_DUTY, Task.subject_id.in_(new))
        .order_by(Task.id)).scalars()) if new else []
    if created:
        audit.record(session, actor=actor, action="target.letters", entity="cycle", entity_id=cycle.id or 0,
                     after={"cycle": cycle.code, "issued_on": issued_on, "due_on": due_on,
                            "tasks": created, "units": new})
    session.commit()
    return LetterReport(created, len(holders) - len(new))


def sign_letter(*, session: Session, cycle_code: str, unit_id: str, signed_on: date, signed_by: str,
                actor: str | None = None, evidence: Path | None = None, note: str | None = None,
                today: date | None = None) -> LetterSigning:
    """Record that the unit signed its 目标责任书; closes the letter task (done or late)."""
    from dangjian.services.closing import _store_evidence  # the one evidence store
    from dangjian.services.evidence import path_problems

    cycle = _writable_cycle(session, cycle_code, "签订目标责任书")
    unit = _unit(session, unit_id)
    task = session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.duty_code == LETTER_DUTY, Task.subject_id == unit.id)).scalar_one_or_none()
    if task is None:
        raise NotFound(f"{_named(unit)} 在考核周期 {cycle.code} 没有待签订的目标责任书（请先分解目标并下达责任书）",
                       field="unit")
    signed = session.execute(select(LetterSigning).where(LetterSigning.task_id == task.id)).scalar_one_or_none()
    if signed is not None:
        raise Conflict(f"{_named(unit)} 的目标责任书已于 {signed.signed_on} 由 {signed.signed_by} 签订", field="unit")
    if task.state not in SIGNABLE:
        raise Conflict(f"{_named(unit)} 的目标责任书任务 #{task.id} 当前状态为“{TASK_STATE.get(task.state, task.state)}”，不能签订", field="unit")
    today = today or shanghai_today()
    problems = []
    if not signed_by.strip():
        problems.append("须写明签订人（--by）")
    elif len(signed_by.strip()) > 60:
        problems.append("签订人不超过60字")
    if signed_on > today:
        problems.append(f"签订日期 {signed_on} 晚于今天（{today}）")
    if signed_on < task.period_start:
        problems.append(f"签订日期 {signed_on} 早于责任书下达日期（{task.period_start}）")
    if evidence is not None:
        problems += path_problems([evidence])
    if note and len(note) > 300:
        problems.append("说明不超过300字")
    if problems:
        raise ValidationFailed(f"{_named(unit)} 的目标责任书未签订：", details=problems)
    stored = _store_evidence([Path(evidence)]) if evidence is not None else []
    who = actor or signed_by.strip()
    row = LetterSigning(cycle_id=cycle.id or 0, unit_id=unit.id, task_id=task.id or 0, signed_on=signed_on,
                        signed_by=signed_by.strip(), note=note, recorded_by=who)
    if stored:
        row.evidence_name, row.evidence_stored, row.evidence_sha256, row.evidence_size = stored[0]
    before = {"state": task.state, "done_on": task.done_on}
    task.state = TaskState.late if signed_on > task.due_on else TaskState.done
    task.done_on, task.updated_at = signed_on, utcnow()
    session.add_all([row, task])
    session.flush()
    audit.record(session, actor=who, action="target.sign", entity="task", entity_id=task.id or 0,
                 before=before, after={"state": task.state, "done_on": signed_on, "signing_id": row.id,
                                       "signed_by": row.signed_by, "evidence": row.evidence_sha256})
    session.commit()
    return row


# --- progress ----------------------------------------------------------------------------


def report_progress(*, session: Session, cycle_code: str, target_code: str, unit_id: str, value: float,
                    reported_on: date, reported_by: str, note: str | None = None,
                    today: date | None = None) -> ProgressReport:
    """Append a progress report for a unit's allocation (cumulative count, or current share)."""
    cycle = _writable_cycle(session, cycle_code, "报送目标进度")
    target = get_target(session, cycle, target_code)
    unit = _unit(session, unit_id)
    allocation = session.execute(select(TargetAllocation).where(
        TargetAllocation.target_id == target.id, TargetAllocation.unit_id == unit.id)).scalar_one_or_none()
    if allocation is None:
        holders = session.execute(select(TargetAllocation.unit_id).where(
            TargetAllocation.target_id == target.id).order_by(TargetAllocation.unit_id)).scalars().all()
        hint = "、".join(holders) or "尚未分解到任何单位"
        extra = "（根组织的完成数由下级汇总，不单独报送）" if unit.id == cycle.root_unit_id else ""
        raise NotFound(f"{_named(unit)} 没有分到目标“{target.name}”{extra}；分到此目标的单位：{hint}",
                       field="unit")
    today = today or shanghai_today()
    last = session.execute(select(ProgressReport).where(ProgressReport.allocation_id == allocation.id)
                           .order_by(ProgressReport.reported_on.desc(), ProgressReport.id.desc())
                           .limit(1)).scalar_one_or_none()
    problems = _value_problems(target.kind, value, "完成数")
    if not reported_by.strip():
        problems.append("须写明报送人（--by）")
    elif len(reported_by.strip()) > 60:
        problems.append("报送人不超过60字")
    if note and len(note) > 300:
        problems.append("说明不超过300字")
    if reported_on > today:
        problems.append(f"报送日期 {reported_on} 晚于今天（{today}）")
    if reported_on < cycle.start_on:
        problems.append(f"报送日期 {reported_on} 早于考核周期开始日 {cycle.start_on}")
    if last is not None and reported_on < last.reported_on:
        problems.append(f"进度须按日期顺序报送：最近一次报送为 {last.reported_on}（{_n(last.value)}），"
                        f"不能补报更早的 {reported_on}")
    if (last is not None and target.kind == TargetKind.count and value + EPS < last.value
            and not (note or "").strip()):
        problems.append(f"完成数 {_n(value)} 比上次报送（{last.reported_on}：{_n(last.value)}）减少，"
                        "须说明原因（--note）")
    if problems:
        raise ValidationFailed(f"{_named(unit)} 的“{target.name}”进度未报送：", details=problems)
    row = ProgressReport(allocation_id=allocation.id or 0, reported_on=reported_on, value=value,
                         reported_by=reported_by.strip(), note=(note or "").strip() or None)
    session.add(row)
    session.flush()
    audit.record(session, actor=row.reported_by, action="target.progress", entity="target_progress",
                 entity_id=row.id or 0,
                 before=None if last is None else {"reported_on": last.reported_on, "value": last.value},
                 after={"cycle": cycle.code, "target": target.code, "unit": unit.id,
                        "reported_on": reported_on, "value": value, "note": row.note})
    session.commit()
    return row


@dataclass
class ProgressRow:
    target_code: str
    target_name: str
    measure: str
    kind: TargetKind
    unit_id: str
    unit_name: str
    depth: int                        # levels below the cycle's root (root = 0)
    amount: float                     # 分解数 (the total for the root)
    split_below: float                # what this unit has split to its children
    reported: float | None            # 已完成: own latest report, or the children's sum
    reported_on: date | None
    rolled_up: bool                   # reported is the sum of the children's values
    rate: float | None                # reported / amount
    expected: float | None            # count: what time elapsed asks by as_of (rounded down)
    on_track: bool | None
    responsible: str | None
    post: str | None
    letter: str                       # 未下达 / 待签订 / 已逾期 / 已签订 … / —
    children: list[str] = field(default_factory=list)


def _letter_text(task: Task | None, signing: LetterSigning | None, as_of: date) -> str:
    if task is None:
        return "未下达"
    if signing is not None:
        late = "（逾期）" if task.state == TaskState.late else ""
        return f"已签订 {signing.signed_on}{late}"
    if task.state in (TaskState.overdue, TaskState.missed) or (task.state == TaskState.open and task.due_on < as_of):
        return f"逾期未签（截止 {task.due_on}）"
    return f"待签订（截止 {task.due_on}）"


def progress_view(*, session: Session, cycle_code: str, unit_id: str | None = None,
                  as_of: date | None = None) -> list[ProgressRow]:
    """Per target and unit (the root first, then down the tree): amount, reported, share
    done, on track, responsible person and letter. `unit_id` limits to that subtree."""
    cycle = get_cycle(session, cycle_code)
    root = _root(session, cycle)
    scope = _unit(session, unit_id) if unit_id else root
    as_of = as_of or shanghai_today()
    targets = list(session.execute(select(Target).where(Target.cycle_id == cycle.id).order_by(Target.id)).scalars())
    if not targets:
        return []
    allocations = list(session.execute(
        select(TargetAllocation, Unit).join(Unit, Unit.id == TargetAllocation.unit_id)
        .where(TargetAllocation.target_id.in_([t.id for t in targets]))).all())
    latest: dict[int, ProgressReport] = {}
    for p in session.execute(select(ProgressReport).where(
            ProgressReport.allocation_id.in_([a.id for a, _ in allocations]))
            .order_by(ProgressReport.reported_on, ProgressReport.id)).scalars():
        latest[p.allocation_id] = p
    tasks = {t.subject_id: t for t in session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.duty_code == LETTER_DUTY)).scalars()}
    signings = {s.unit_id: s for s in session.execute(select(LetterSigning).where(
        LetterSigning.cycle_id == cycle.id)).scalars()}

    span = (cycle.end_on - cycle.start_on).days + 1
    elapsed = min(max((as_of - cycle.start_on).days + 1, 0), span) / span
    rows: list[ProgressRow] = []
    for target in targets:
        tree = _TargetTree(target, [(a, u) for a, u in allocations if a.target_id == target.id], latest)
        context = _RowContext(root, elapsed, as_of, tasks, signings)
        if root.path.startswith(scope.path):
            rows.append(tree.row(root.id, root, target.total, None, context))
        for uid in tree.below(root.id):
            alloc, unit = tree.by_unit[uid]
            if unit.path.startswith(scope.path):
                rows.append(tree.row(uid, unit, alloc.amount, alloc, context))
    return rows


@dataclass(frozen=True)
class _RowContext:
    root: Unit
    elapsed: float                    # share of the cycle's days gone by as_of
    as_of: date
    tasks: dict[str, Task]            # letter tasks by unit
    signings: dict[str, LetterSigning]


Reported = tuple[float | None, date | None, bool]   # value, as of, rolled up from children


class _TargetTree:
    """One target's allocations as a tree under the cycle's root, with reported values."""

    def __init__(self, target: Target, allocations: list[tuple[TargetAllocation, Unit]],
                 latest: dict[int, ProgressReport]):
        self.target = target
        self.latest = latest
        self.by_unit = {a.unit_id: (a, u) for a, u in allocations}
        self.kids: dict[str, list[str]] = defaultdict(list)
        for a, _ in sorted(allocations, key=lambda au: (au[1].sort_order, au[1].path)):
            self.kids[a.from_unit_id].append(a.unit_id)
        self._reported: dict[str, Reported] = {}

    def below(self, uid: str) -> list[str]:
        """Every unit under `uid` holding the target, depth first in the tree's order."""
        out: list[str] = []
        for child in self.kids.get(uid, []):
            out.append(child)
            out += self.below(child)
        return out

    def reported(self, uid: str) -> Reported:
        """The unit's own latest report; without one, a count's children's values summed."""
        if uid not in self._reported:
            held = self.by_unit.get(uid)
            own = self.latest.get(held[0].id or 0) if held else None
            result: Reported = (None, None, False)
            if own is not None:
                result = (own.value, own.reported_on, False)
            elif self.target.kind == TargetKind.count and self.kids.get(uid):
                known = [r for r in map(self.reported, self.kids[uid]) if r[0] is not None]
                if known:
                    result = (sum(r[0] or 0 for r in known), max(r[1] for r in known if r[1]), True)
            self._reported[uid] = result
        return self._reported[uid]

    def row(self, uid: str, unit: Unit, amount: float, alloc: TargetAllocation | None,
            ctx: _RowContext) -> ProgressRow:
        target = self.target
        value, on, rolled = self.reported(uid)
        split = sum(self.by_unit[k][0].amount for k in self.kids.get(uid, []))
        rate = (value / amount) if value is not None and amount > 0 else None
        expected: float | None = None
        if target.kind == TargetKind.count:
            expected = math.floor(amount * ctx.elapsed + EPS)
            track: bool | None = (value or 0) + EPS >= expected
        else:
            track = None if value is None else value + EPS >= amount
        letter = "—" if alloc is None else _letter_text(ctx.tasks.get(uid), ctx.signings.get(uid), ctx.as_of)
        return ProgressRow(target.code, target.name, target.measure, target.kind, uid, unit.name,
                           unit.depth - ctx.root.depth, amount, split, value, on, rolled, rate, expected,
                           track, alloc.responsible_name if alloc else None,
                           alloc.responsible_post if alloc else None, letter, list(self.kids.get(uid, [])))


# --- feeding the assessment --------------------------------------------------------------


@dataclass(frozen=True)
class FeedReport:
    written: list[tuple[str, str, float]]      # (unit, metric, value)
    unreported: list[tuple[str, str]]          # (target code, unit) allocated but never reported
    not_scored: list[str]                      # units skipped: the cycle's rules do not score them
    skipped_targets: list[str]                 # targets that name no metric


def feed_metrics(*, session: Session, cycle_code: str, actor: str) -> FeedReport:
    """Write each allocated unit's latest reported value into its target's declared metric.

    Goes through scoring_inputs.set_metric_values: the rule set's ranges apply, every value
    is audited, and a refusal writes nothing (this call's own audit event included).
    """
    from dangjian.services.scoring_metrics import scoring_subjects

    cycle = _writable_cycle(session, cycle_code, "将目标进度写入指标")
    targets = list(session.execute(select(Target).where(Target.cycle_id == cycle.id).order_by(Target.id)).scalars())
    if not targets:
        raise ValidationFailed(f"考核周期 {cycle.code} 尚未设定目标", field="cycle")
    fed = [t for t in targets if t.metric]
    allocations = list(session.execute(select(TargetAllocation).where(
        TargetAllocation.target_id.in_([t.id for t in fed])).order_by(TargetAllocation.id)).scalars())
    latest: dict[int, ProgressReport] = {}
    for p in session.execute(select(ProgressReport).where(
            ProgressReport.allocation_id.in_([a.id for a in allocations]))
            .order_by(ProgressReport.reported_on, ProgressReport.id)).scalars():
        latest[p.allocation_id] = p
    by_id = {t.id: t for t in fed}
    entries, unreported = [], []
    for a in allocations:
        t = by_id[a.target_id]
        p = latest.get(a.id or 0)
        if p is None:
            unreported.append((t.code, a.unit_id))
            continue
        entries.append(MetricEntry(a.unit_id, t.metric or "", p.value,
                                   f"目标“{t.name}”（{t.code}）进度，{p.reported_on} {p.reported_by} 报送"))
    loaded = load_stored(get_rule_set(session, cycle.rule_set_id))
    scored = {s.subject_id for s in scoring_subjects(session, _root(session, cycle), loaded)}
    # Units the rules do not score get no metric value (set_metric_values refuses them).
    not_scored = sorted({e.subject_id for e in entries} - scored)
    entries = [e for e in entries if e.subject_id in scored]
    report = FeedReport([(e.subject_id, e.metric, e.value) for e in entries], unreported, not_scored,
                        [t.code for t in targets if not t.metric])
    if not entries:
        session.commit()             # nothing written; ends the transaction holding the state
        return report
    audit.record(session, actor=actor, action="target.feed", entity="cycle", entity_id=cycle.id or 0,
                 after={"cycle": cycle.code, "written": report.written, "unreported": unreported})
    try:
        set_metric_values(session=session, cycle_code=cycle.code, entries=entries, entered_by=actor,
                          source="目标进度")
    except DomainError:
        session.rollback()
        raise
    return report
