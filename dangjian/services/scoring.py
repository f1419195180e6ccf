"""Scoring a cycle: set-based metrics per unit, pure rules, one scorecard row per unit.

Metrics per accountable unit and duty (DESIGN: 'explain every number'):
  d.owed      every task planned for the unit
  d.on_time   closed on or before its due date
  d.late      closed after its due date
  d.missed    not closed and already due as of the scoring date
  d.pending   not closed and not yet due
  d.excused   excused or not applicable
Evidence maps each bucket except on_time/pending to the task ids behind it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import case, func, literal, select
from sqlmodel import Session

from dangjian.errors import NotFound
from dangjian.services import audit
from dangjian.services.bulk import insert_ignoring_duplicates
from dangjian.services.rule_sets import get_rule_set, load_stored
from models import Cycle, ScoreLine, ScoreRun, Scorecard, Task, TaskState, Unit, UnitKind
from rules.loader import LoadedRuleSet
from rules.scorer import rank_competition, score_unit

BUCKETS = ("owed", "on_time", "late", "missed", "pending", "excused")
EXPLAINED = ("late", "missed", "excused")


def _bucket(as_of: date):
    return case(
        (Task.state == TaskState.done, literal("on_time")),
        (Task.state == TaskState.late, literal("late")),
        (Task.state.in_([TaskState.excused, TaskState.not_applicable]), literal("excused")),
        (Task.state == TaskState.missed, literal("missed")),
        (Task.due_on < as_of, literal("missed")),
        else_=literal("pending"),
    )


def unit_metrics(session: Session, cycle: Cycle, loaded: LoadedRuleSet, unit_ids: list[str],
                 as_of: date) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[int]]]]:
    duty_codes = [d.code for d in loaded.rule_set.duties]
    metrics: dict[str, dict[str, float]] = {
        u: {f"{d}.{b}": 0.0 for d in duty_codes for b in BUCKETS} for u in unit_ids
    }
    bucket = _bucket(as_of).label("bucket")
    counts = session.execute(
        select(Task.owner_unit_id, Task.duty_code, bucket, func.count())
        .where(Task.cycle_id == cycle.id)
        .group_by(Task.owner_unit_id, Task.duty_code, bucket)
    )
    for owner, duty, name, n in counts:
        if owner in metrics:
            metrics[owner][f"{duty}.{name}"] = float(n)
            metrics[owner][f"{duty}.owed"] += float(n)
    evidence: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    explained = session.execute(
        select(Task.owner_unit_id, Task.duty_code, _bucket(as_of), Task.id)
        .where(Task.cycle_id == cycle.id, _bucket(as_of).in_(EXPLAINED))
        .order_by(Task.id)
    )
    for owner, duty, name, task_id in explained:
        evidence[owner][f"{duty}.{name}"].append(task_id)
    return metrics, evidence


def _scored_units(session: Session, root: Unit, kind: UnitKind) -> list[Unit]:
    return list(session.execute(
        select(Unit).where(Unit.path.startswith(root.path), Unit.kind == kind).order_by(Unit.path)
    ).scalars())


def _street_of(session: Session, root: Unit, units: list[Unit]) -> dict[str, str | None]:
    streets = session.execute(
        select(Unit.id, Unit.path).where(Unit.path.startswith(root.path), Unit.kind == UnitKind.street)
    ).all()
    out: dict[str, str | None] = {}
    for unit in units:
        owners = [sid for sid, spath in streets if unit.path.startswith(spath)]
        out[unit.id] = owners[-1] if owners else None
    return out


def score_cycle(*, session: Session, cycle_id: int, as_of: date, publish: bool = False,
                actor: str = "system") -> ScoreRun:
    """Score every unit of the cycle as of a date; each call adds a new run version."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    root = session.get(Unit, cycle.root_unit_id)
    assert root is not None
    loaded = load_stored(get_rule_set(session, cycle.rule_set_id))
    units = _scored_units(session, root, loaded.rule_set.scoring.subject.kind)
    ids = [u.id for u in units]
    metrics, evidence = unit_metrics(session, cycle, loaded, ids, as_of)
    scores = {u: score_unit(loaded, u, metrics[u], evidence.get(u, {})) for u in ids}

    street = _street_of(session, root, units)
    overall = dict(zip(ids, rank_competition([scores[u].total for u in ids])))
    in_street: dict[str, int] = {}
    by_street: dict[str | None, list[str]] = defaultdict(list)
    for u in ids:
        by_street[street[u]].append(u)
    for members in by_street.values():
        in_street.update(zip(members, rank_competition([scores[u].total for u in members])))

    last = session.execute(
        select(func.max(ScoreRun.version)).where(ScoreRun.cycle_id == cycle.id)
    ).scalar()
    run = ScoreRun(cycle_id=cycle.id or 0, rule_set_id=cycle.rule_set_id, version=(last or 0) + 1,
                   as_of=as_of, published=publish)
    session.add(run)
    session.flush()
    cards = [
        Scorecard(run_id=run.id or 0, unit_id=u, street_id=street[u], total=scores[u].total,
                  grade=scores[u].grade, rank_in_street=in_street[u], rank_overall=overall[u],
                  designations=[], metrics=metrics[u])
        for u in ids
    ]
    session.add_all(cards)
    session.flush()
    line_rows = (
        (card.id, seq, line.section_code, line.item_code, line.item_name, line.points, line.max_points, line.reason,
         line.clause, list(line.task_ids))
        for card in cards
        for seq, line in enumerate(scores[card.unit_id].lines, start=1)
    )
    insert_ignoring_duplicates(
        session, ScoreLine.__table__,
        ("scorecard_id", "seq", "section_code", "item_code", "item_name", "points", "max_points", "reason",
         "clause", "task_ids"),
        line_rows,
    )
    audit.record(session, actor=actor, action="cycle.score", entity="score_run", entity_id=run.id or 0,
                 after={"cycle": cycle.code, "version": run.version, "as_of": as_of,
                        "units": len(ids), "rule_set_id": cycle.rule_set_id})
    session.commit()
    return run
