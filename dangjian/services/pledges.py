""""六个一"党群连心服务: each member takes on one of each of six things.

帮扶一个困难家庭、督查一块区域卫生、维持一片区域治安、帮教一个失足青年、培养一个发展对象、
联系一个辖区单位 (民勤县社区党建工作报告, seeds/002). A member holds at most one active
pledge of each kind; a pledge is completed or ended, never deleted. Who owes pledges:
every active 预备 or 正式 member of the branch.

Counts for scoring (`pledge_metrics`), per branch and per member:
  pledges.members     members who owe pledges
  pledges.active      active pledges
  pledges.complete    members with all six kinds active
  pledges.missing     (member, kind) pairs without an active pledge
  pledges.<kind>      active pledges of that kind (household, hygiene, …)
  pledges.rate        complete / members (0 when there are no members)
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from dangjian.clock import today as shanghai_today
from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services import audit
from dangjian.services.dues import get_member, who
from models import Member, MemberStatus, Pledge, PledgeKind, PledgeStatus, Unit, utcnow

PLEDGE_LABEL = {
    PledgeKind.household: "帮扶一个困难家庭",
    PledgeKind.hygiene: "督查一块区域卫生",
    PledgeKind.order: "维持一片区域治安",
    PledgeKind.youth: "帮教一个失足青年",
    PledgeKind.prospect: "培养一个发展对象",
    PledgeKind.resident_unit: "联系一个辖区单位",
}
STATUS_LABEL = {PledgeStatus.active: "进行中", PledgeStatus.completed: "已完成", PledgeStatus.ended: "已终止"}
OWING = (MemberStatus.probationary, MemberStatus.full)


def pledge_kind(value: PledgeKind | str) -> PledgeKind:
    """A kind by code (household) or by its Chinese name (帮扶一个困难家庭, or 困难家庭)."""
    if isinstance(value, PledgeKind):
        return value
    text = value.strip()
    try:
        return PledgeKind(text)
    except ValueError:
        pass
    matches = [k for k, label in PLEDGE_LABEL.items() if len(text) >= 2 and text in label]
    if len(matches) == 1:
        return matches[0]
    options = "、".join(f"{k.value}（{v}）" for k, v in PLEDGE_LABEL.items())
    raise ValidationFailed(f"kind：未知的“六个一”类别“{value}”（可选：{options}）", field="kind")


def _branch(session: Session, unit_id: str) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"未知的组织：{unit_id}", field="unit")
    return unit


def record_pledge(*, session: Session, member_id: str, kind: PledgeKind | str, target: str,
                  started_on: date, actor: str, evidence: str | None = None,
                  today: date | None = None) -> Pledge:
    """A member takes on one of the six; refused while an active pledge of that kind exists."""
    member = get_member(session, member_id)
    pk = pledge_kind(kind)
    today = today or shanghai_today()
    problems = []
    if member.status not in OWING or not member.active:
        problems.append(f"{who(member)} 不是在册的预备或正式党员")
    if not target.strip():
        problems.append(f"须写明{PLEDGE_LABEL[pk]}的具体对象（target），如户主姓名、楼院或单位名称")
    if len(target.strip()) > 300:
        problems.append("对象描述（target）不超过300字")
    if started_on > today:
        problems.append(f"开始日期 {started_on} 晚于今天（{today}）")
    if problems:
        raise ValidationFailed(f"{who(member)} 的“{PLEDGE_LABEL[pk]}”未登记：", field="pledge", details=problems)
    existing = session.execute(select(Pledge).where(
        Pledge.member_id == member.id, Pledge.kind == pk, Pledge.status == PledgeStatus.active
    )).scalars().first()
    if existing is not None:
        raise Conflict(f"{who(member)} 已有进行中的“{PLEDGE_LABEL[pk]}”（#{existing.id}：{existing.target}，"
                       f"{existing.started_on} 起）；请先办结或终止", field="kind")
    row = Pledge(member_id=member.id, kind=pk, target=target.strip(), started_on=started_on,
                 evidence=evidence, recorded_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="pledge.record", entity="pledge", entity_id=row.id or 0,
                 after={"member": member.id, "kind": pk, "target": row.target, "started_on": started_on,
                        "evidence": evidence})
    session.commit()
    return row


def close_pledge(*, session: Session, pledge_id: int, status: PledgeStatus | str, ended_on: date,
                 actor: str, evidence: str | None = None) -> Pledge:
    """Mark a pledge completed (已完成) or ended (已终止), with evidence appended."""
    row = session.get(Pledge, pledge_id)
    if row is None:
        raise NotFound(f"“六个一”记录 #{pledge_id} 不存在", field="pledge")
    try:
        new = PledgeStatus(status)
    except ValueError:
        raise ValidationFailed(f"status：未知的状态“{status}”（可选：completed、ended）", field="status") from None
    if new == PledgeStatus.active:
        raise ValidationFailed("status：办结时状态只能是 completed（已完成）或 ended（已终止）", field="status")
    if row.status != PledgeStatus.active:
        raise Conflict(f"“六个一”记录 #{pledge_id} 已{STATUS_LABEL[row.status]}（{row.ended_on}）", field="pledge")
    if ended_on < row.started_on:
        raise ValidationFailed(f"“六个一”记录 #{pledge_id}：结束日期 {ended_on} 早于开始日期 {row.started_on}",
                               field="ended-on")
    before = {"status": row.status, "ended_on": row.ended_on, "evidence": row.evidence}
    row.status, row.ended_on = new, ended_on
    if evidence:
        row.evidence = f"{row.evidence}\n{evidence}" if row.evidence else evidence
    row.recorded_by, row.recorded_at = actor, utcnow()
    session.add(row)
    audit.record(session, actor=actor, action="pledge.close", entity="pledge", entity_id=row.id or 0,
                 before=before, after={"status": new, "ended_on": ended_on, "evidence": row.evidence})
    session.commit()
    return row


@dataclass(frozen=True)
class PledgeRow:
    id: int
    member_id: str
    member_name: str
    branch_id: str
    kind: PledgeKind
    target: str
    started_on: date
    status: PledgeStatus
    ended_on: date | None
    evidence: str | None


def list_pledges(*, session: Session, unit_id: str, include_closed: bool = False) -> list[PledgeRow]:
    unit = _branch(session, unit_id)
    query = (select(Pledge, Member.name, Member.unit_id).join(Member, Member.id == Pledge.member_id)
             .join(Unit, Unit.id == Member.unit_id).where(Unit.path.startswith(unit.path)))
    if not include_closed:
        query = query.where(Pledge.status == PledgeStatus.active)
    kinds = list(PledgeKind)
    rows = [PledgeRow(p.id or 0, p.member_id, name, branch, p.kind, p.target, p.started_on, p.status,
                      p.ended_on, p.evidence) for p, name, branch in session.execute(query).all()]
    return sorted(rows, key=lambda r: (r.branch_id, r.member_id, kinds.index(r.kind), r.started_on))


@dataclass(frozen=True)
class MissingPledges:
    member_id: str
    member_name: str
    branch_id: str
    kinds: list[PledgeKind]

    def describe(self) -> str:
        return "、".join(PLEDGE_LABEL[k] for k in self.kinds)


def _owing_members(session: Session, unit: Unit):  # type: ignore[no-untyped-def]
    return (select(Member.id, Member.name, Member.unit_id).join(Unit, Unit.id == Member.unit_id)
            .where(Unit.path.startswith(unit.path), Member.active.is_(True), Member.status.in_(OWING)))


def _active_kinds(session: Session, unit: Unit) -> dict[str, set[PledgeKind]]:
    held: dict[str, set[PledgeKind]] = defaultdict(set)
    member_ids = _owing_members(session, unit).with_only_columns(Member.id)
    for mid, kind in session.execute(
        select(Pledge.member_id, Pledge.kind).where(Pledge.member_id.in_(member_ids),
                                                    Pledge.status == PledgeStatus.active).distinct()
    ):
        held[mid].add(PledgeKind(kind))
    return held


def missing_pledges(*, session: Session, unit_id: str) -> list[MissingPledges]:
    """Members of the subtree who have not taken on all six, and which kinds they lack."""
    unit = _branch(session, unit_id)
    held = _active_kinds(session, unit)
    out = []
    for mid, name, branch in session.execute(_owing_members(session, unit).order_by(Member.unit_id, Member.id)):
        lacking = [k for k in PledgeKind if k not in held.get(mid, set())]
        if lacking:
            out.append(MissingPledges(mid, name, branch, lacking))
    return out


def pledge_metrics(*, session: Session, unit_id: str) -> dict[str, dict[str, float]]:
    """Counts per branch and per member of the subtree (keys listed in the module docstring)."""
    unit = _branch(session, unit_id)
    held = _active_kinds(session, unit)
    metrics: dict[str, dict[str, float]] = {}

    def blank() -> dict[str, float]:
        return {"pledges.members": 0.0, "pledges.active": 0.0, "pledges.complete": 0.0,
                "pledges.missing": 0.0, **{f"pledges.{k.value}": 0.0 for k in PledgeKind}}

    branches = session.execute(select(Unit.id).where(
        Unit.path.startswith(unit.path), Unit.id.in_(select(Member.unit_id).distinct()))).scalars().all()
    for b in branches:
        metrics[b] = blank()
    for mid, _name, branch in session.execute(_owing_members(session, unit)):
        kinds = held.get(mid, set())
        mine = blank()
        mine["pledges.members"] = 1.0
        for k in kinds:
            mine[f"pledges.{k.value}"] = 1.0
        mine["pledges.active"] = float(len(kinds))
        mine["pledges.complete"] = 1.0 if len(kinds) == len(PledgeKind) else 0.0
        mine["pledges.missing"] = float(len(PledgeKind) - len(kinds))
        metrics[mid] = dict(mine)
        totals = metrics.setdefault(branch, blank())
        for key, value in mine.items():
            totals[key] += value
    for values in metrics.values():
        members = values["pledges.members"]
        values["pledges.rate"] = values["pledges.complete"] / members if members else 0.0
    return metrics

