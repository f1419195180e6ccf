"""Reading scorecards: the stable document behind the table, JSON and xlsx outputs.

The document's shape is documented in docs/scorecard-json.md (schema dangjian.scorecard/1).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from dangjian.errors import NotFound
from dangjian.services.cycles import get_cycle
from models import Member, RuleSetVersion, Scorecard, ScoreLine, ScoreRun, Unit

SCHEMA = "dangjian.scorecard/1"


def _run(session: Session, cycle_id: int, version: int | None) -> ScoreRun:
    query = select(ScoreRun).where(ScoreRun.cycle_id == cycle_id)
    if version is not None:
        query = query.where(ScoreRun.version == version)
    run = session.execute(query.order_by(ScoreRun.version.desc()).limit(1)).scalar_one_or_none()
    if run is None:
        what = f"第 {version} 版评分" if version is not None else "任何评分结果"
        raise NotFound(f"该周期还没有{what}：请先运行 dangjian score", field="version")
    return run


def scorecard_document(*, session: Session, cycle_code: str, unit_id: str | None = None,
                       explain: bool = False, version: int | None = None) -> dict[str, Any]:
    cycle = get_cycle(session, cycle_code)
    run = _run(session, cycle.id or 0, version)
    rule_set = session.get(RuleSetVersion, run.rule_set_id)
    assert rule_set is not None
    scope = session.get(Unit, unit_id or cycle.root_unit_id)
    if scope is None:
        raise NotFound(f"未知的组织：{unit_id}", field="unit")

    rows = session.execute(
        select(Scorecard, Unit)
        .join(Unit, Unit.id == Scorecard.unit_id)
        .where(Scorecard.run_id == run.id, Unit.path.startswith(scope.path))
        .order_by(Scorecard.rank_overall, Scorecard.subject_id)
    ).all()
    names = dict(session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({card.street_id for card, _ in rows if card.street_id}))).all())
    member_ids = {card.subject_id for card, _ in rows if card.subject_id and card.subject_id != card.unit_id}
    members = dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(member_ids))).all())
    lines: dict[int, list[dict[str, Any]]] = {}
    if explain and rows:
        for line in session.execute(
            select(ScoreLine).where(ScoreLine.scorecard_id.in_([card.id for card, _ in rows]))
            .order_by(ScoreLine.scorecard_id, ScoreLine.seq)
        ).scalars():
            lines.setdefault(line.scorecard_id, []).append({
                "item_code": line.item_code, "item_name": line.item_name,
                "section_code": line.section_code, "points": line.points,
                "max_points": line.max_points, "reason": line.reason, "clause": line.clause,
                "task_ids": list(line.task_ids),
            })
    return {
        "schema": SCHEMA,
        "cycle": {"code": cycle.code, "name": cycle.name, "start_on": cycle.start_on.isoformat(),
                  "end_on": cycle.end_on.isoformat(), "state": str(cycle.state)},
        "run": {"version": run.version, "as_of": run.as_of.isoformat(),
                "created_at": run.created_at.isoformat(), "published": run.published,
                "rule_set": {"code": rule_set.code, "version": rule_set.version,
                             "name": rule_set.name, "sha256": rule_set.sha256}},
        "scope": {"unit_id": scope.id, "unit_name": scope.name},
        "units": [
            {"rank_in_street": card.rank_in_street, "rank_overall": card.rank_overall,
             "unit_id": card.subject_id or unit.id,
             "unit_name": members.get(card.subject_id, unit.name) if card.subject_id in members else unit.name,
             "street_id": card.street_id,
             "street_name": names.get(card.street_id or ""), "total": card.total,
             "grade": card.grade, "designations": list(card.designations),
             "lines": lines.get(card.id or 0, []),
             **({"subject_kind": "member", "branch_id": unit.id, "branch_name": unit.name}
                if card.subject_id in members else {})}
            for card, unit in rows
        ],
    }
