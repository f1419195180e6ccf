"""Assessment cycles: created bound to one stored rule set and one subtree."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services import audit
from dangjian.services.rule_sets import get_rule_set
from models import Cycle, Unit


def create_cycle(
    *,
    session: Session,
    code: str,
    name: str,
    root_unit_id: str,
    rule_set_id: int,
    start_on: date,
    end_on: date,
    actor: str,
) -> Cycle:
    if session.execute(select(Cycle.id).where(Cycle.code == code)).first():
        raise Conflict(f"考核周期 {code} 已存在", field="code")
    if session.get(Unit, root_unit_id) is None:
        raise NotFound(f"未知的组织：{root_unit_id}", field="root")
    if end_on < start_on:
        raise ValidationFailed(f"结束日期 {end_on} 早于开始日期 {start_on}", field="end")
    get_rule_set(session, rule_set_id)
    cycle = Cycle(code=code, name=name, root_unit_id=root_unit_id, rule_set_id=rule_set_id,
                  start_on=start_on, end_on=end_on)
    session.add(cycle)
    session.flush()
    audit.record(session, actor=actor, action="cycle.create", entity="cycle", entity_id=cycle.id or 0,
                 after=cycle.model_dump(exclude={"created_at"}))
    session.commit()
    return cycle


def get_cycle(session: Session, code: str) -> Cycle:
    cycle = session.execute(select(Cycle).where(Cycle.code == code)).scalar_one_or_none()
    if cycle is None:
        known = session.execute(select(Cycle.code).order_by(Cycle.code)).scalars().all()
        hint = f"（已有：{'、'.join(known)}）" if known else "（尚未创建任何周期）"
        raise NotFound(f"未知的考核周期：{code}{hint}", field="cycle")
    return cycle


def list_cycles(session: Session) -> list[Cycle]:
    return list(session.execute(select(Cycle).order_by(Cycle.start_on, Cycle.code)).scalars())
