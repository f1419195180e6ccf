"""Builders for a small county: just enough tree and roster for service tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlmodel import Session

from dangjian.clock import SHANGHAI
from dangjian.services.cycles import create_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.rule_sets import register_rule_set
from models import Cycle, Gender, Member, MemberCategory, MemberStatus, Unit, UnitKind

RULES = Path(__file__).resolve().parents[2] / "rules" / "sets" / "community_branch_basic.yaml"


def unit(session: Session, uid: str, name: str, kind: UnitKind, parent: Unit | None = None,
         **extra: object) -> Unit:
    path = (parent.path if parent else "/") + uid + "/"
    u = Unit(id=uid, name=name, kind=kind, parent_id=parent.id if parent else None, path=path,
             depth=path.count("/") - 2, **extra)
    session.add(u)
    session.flush()
    return u


_serial = iter(range(10_000, 99_999))


def member(session: Session, mid: str, branch: Unit, *, status: MemberStatus = MemberStatus.full,
           group: Unit | None = None, excused: bool = False) -> Member:
    n = next(_serial)
    m = Member(id=mid, name=f"党员{mid}", gender=Gender.female if n % 2 else Gender.male,
               birth_date=date(1970, 1, 1), id_number=f"620621197001{n:05d}X",
               unit_id=branch.id, group_id=group.id if group else None,
               category=MemberCategory.resident, status=status, excused_from_quorum=excused)
    session.add(m)
    session.flush()
    return m


@dataclass
class County:
    district: Unit
    street: Unit
    big: Unit          # urban branch with a committee and one party group
    small: Unit        # town branch without a committee
    group: Unit
    big_members: list[Member]
    small_members: list[Member]


def county(session: Session) -> County:
    d = unit(session, "D", "测试县", UnitKind.district)
    s = unit(session, "S", "测试镇社区党总支", UnitKind.street, d)
    c1 = unit(session, "C1", "东关社区", UnitKind.community, s, area="urban")
    c2 = unit(session, "C2", "西湖社区", UnitKind.community, s, area="town")
    big = unit(session, "B1", "东关社区党支部", UnitKind.branch, c1, area="urban", has_committee=True)
    small = unit(session, "B2", "西湖社区党支部", UnitKind.branch, c2, area="town")
    group = unit(session, "G1", "第一党小组", UnitKind.group, big)
    big_members = [member(session, f"M1{i:02d}", big, group=group if i < 4 else None) for i in range(8)]
    big_members.append(member(session, "M190", big, status=MemberStatus.probationary))
    small_members = [member(session, f"M2{i:02d}", small) for i in range(4)]
    session.commit()
    return County(d, s, big, small, group, big_members, small_members)


def planned_cycle(session: Session, c: County, code: str = "2026") -> Cycle:
    rules = register_rule_set(session=session, path=RULES, actor="测试")
    cycle = create_cycle(session=session, code=code, name=f"{code}年度考核", root_unit_id=c.district.id,
                         rule_set_id=rules.id or 0, start_on=date(2026, 1, 1),
                         end_on=date(2026, 12, 31), actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id or 0)
    return cycle


def at(day: date, hour: int = 20) -> datetime:
    """An aware instant on a Shanghai calendar day (reports are made in the evening)."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def present_for(task, members):
    """Everyone eligible for the task's meeting, present: a party group's own members for a
    党小组会, the whole branch otherwise."""
    from dangjian.domain.completion import AttendanceEntry
    from models import Presence

    if task.subject_id != task.owner_unit_id:
        members = [m for m in members if m.group_id == task.subject_id]
    return [AttendanceEntry(m.id, Presence.present) for m in members]
