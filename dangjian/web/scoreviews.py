"""The leader's scorecard pages, built from the scorecard document (services.scorecards)
plus a few set-based reads: the scope's children for drill-down, the previous cycle
for the trend, overdue tasks and warnings. Presentation only: points come from the
stored scorecards, never recomputed here."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from statistics import mean
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from dangjian.domain.warnings import days_without_activity
from dangjian.errors import DomainError
from dangjian.services.chasing import chasing_rules
from dangjian.services.rule_sets import load_stored
from dangjian.services.scorecards import scorecard_document
from models import (
    Completion,
    Cycle,
    RuleSetVersion,
    Scorecard,
    ScoreLine,
    ScoreRun,
    Task,
    TaskState,
    Unit,
    UnitKind,
)
from rules.scoring import Section

CHILD_KIND = {UnitKind.district: "street", UnitKind.street: "community", UnitKind.community: "branch"}


@dataclass(frozen=True)
class SectionHead:
    code: str
    name: str
    max: float


@dataclass
class Child:
    unit: Unit
    scored: int = 0
    avg: float | None = None
    low: float | None = None
    high: float | None = None
    grades: Counter[str] = field(default_factory=Counter)
    delta: float | None = None


@dataclass
class ScoreView:
    doc: dict[str, Any]
    cycle: Cycle
    scope: Unit
    grade_order: list[str]
    sections: list[SectionHead]
    units: list[dict[str, Any]]              # doc units + "sections", "delta", "path"
    grades: Counter[str]
    children: list[Child]
    items: list[dict[str, Any]]              # per item: name, section, avg, max
    trend_label: str | None
    overdue: dict[str, int]                  # branch id -> overdue tasks
    silent: list[tuple[Unit, date | None]]   # branches without a report for `silent_days`
    warnings: list[Any]
    crumbs: list[Unit]
    history: list[dict[str, Any]] = field(default_factory=list)   # branch page: totals per cycle
    names: dict[str, str] = field(default_factory=dict)            # unit id -> name, for the lists
    silent_days: int = 30                    # the rule set's chasing.inactivity_days

    @property
    def average(self) -> float | None:
        totals = [u["total"] for u in self.units if u.get("total") is not None]
        return round(mean(totals), 1) if totals else None


def _section_map(sections: list[Section]) -> tuple[list[SectionHead], dict[str, str]]:
    heads, top_of = [], {}

    def walk(section: Section, top: str) -> None:
        top_of[section.code] = top
        for item in section.items:
            top_of[item.code] = top
        for sub in section.sections:
            walk(sub, top)

    for s in sections:
        heads.append(SectionHead(s.code, s.name, s.max))
        walk(s, s.code)
    return heads, top_of


def _previous_cycle(db: Session, cycle: Cycle) -> Cycle | None:
    return db.execute(
        select(Cycle).where(Cycle.root_unit_id == cycle.root_unit_id, Cycle.start_on < cycle.start_on)
        .order_by(Cycle.start_on.desc()).limit(1)
    ).scalar_one_or_none()


def _run(db: Session, cycle_id: int, version: int | None = None) -> ScoreRun | None:
    query = select(ScoreRun).where(ScoreRun.cycle_id == cycle_id)
    if version is not None:
        query = query.where(ScoreRun.version == version)
    return db.execute(query.order_by(ScoreRun.version.desc()).limit(1)).scalar_one_or_none()


def _totals(db: Session, run_id: int, scope: Unit) -> dict[str, float]:
    return dict(db.execute(
        select(Scorecard.subject_id, Scorecard.total).join(Unit, Unit.id == Scorecard.unit_id)
        .where(Scorecard.run_id == run_id, Unit.path.startswith(scope.path))).all())


def _previous_totals(db: Session, cycle: Cycle, scope: Unit, version: int) -> tuple[str | None, dict[str, float]]:
    """Totals to compare with: the previous cycle's latest run, else this cycle's previous run."""
    before = _previous_cycle(db, cycle)
    if before is not None:
        run = _run(db, before.id or 0)
        if run is not None:
            return f"较{before.name}", _totals(db, run.id or 0, scope)
    if version > 1:
        run = _run(db, cycle.id or 0, version - 1)
        if run is not None:
            return f"较第 {version - 1} 版评分", _totals(db, run.id or 0, scope)
    return None, {}


def _line_sums(db: Session, run_id: int, scope: Unit, top_of: dict[str, str], whole_run: bool
               ) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]]]:
    """Per subject and top-level section, the points; per item, the average and maximum.
    Two GROUP BY queries over the explanation lines instead of loading every line."""
    query = (select(Scorecard.subject_id, ScoreLine.section_code, ScoreLine.item_code, ScoreLine.points,
                    ScoreLine.max_points, ScoreLine.item_name, ScoreLine.seq)
             .join(Scorecard, Scorecard.id == ScoreLine.scorecard_id).where(Scorecard.run_id == run_id))
    if not whole_run:
        query = query.join(Unit, Unit.id == Scorecard.unit_id).where(Unit.path.startswith(scope.path))
    lines = query.subquery()
    key = case((lines.c.section_code == "", lines.c.item_code), else_=lines.c.section_code)
    sums: dict[str, dict[str, float]] = {}
    for subject, code, points in db.execute(
            select(lines.c.subject_id, key, func.sum(lines.c.points)).group_by(lines.c.subject_id, key)).all():
        acc = sums.setdefault(subject, {})
        top = top_of.get(code, "")
        acc[top] = acc.get(top, 0.0) + float(points or 0)
    items = [
        {"code": code, "name": name, "section": top_of.get(section, ""), "max": top, "avg": round(float(avg), 2)}
        for code, name, section, top, avg, _seq in db.execute(
            select(lines.c.item_code, func.min(lines.c.item_name), func.min(lines.c.section_code),
                   func.max(lines.c.max_points), func.avg(lines.c.points), func.min(lines.c.seq))
            .group_by(lines.c.item_code).order_by(func.min(lines.c.seq))).all()
    ]
    return sums, items


def crumbs(db: Session, unit: Unit, top_path: str) -> list[Unit]:
    ids = [x for x in unit.path.strip("/").split("/") if x]
    rows = {u.id: u for u in db.execute(select(Unit).where(Unit.id.in_(ids))).scalars()}
    return [rows[i] for i in ids if i in rows and rows[i].path.startswith(top_path)]


def score_view(db: Session, cycle: Cycle, scope: Unit, *, top_path: str, today: date) -> ScoreView:
    branch_page = scope.kind == UnitKind.branch
    # Lines are read one by one only for a single branch; above it, aggregated in SQL.
    doc = scorecard_document(session=db, cycle_code=cycle.code, unit_id=scope.id, explain=branch_page)
    run = _run(db, cycle.id or 0, doc["run"]["version"])
    assert run is not None
    record = db.get(RuleSetVersion, run.rule_set_id)
    assert record is not None
    rules = load_stored(record).rule_set
    heads, top_of = _section_map(rules.scoring.sections)
    grade_order = [b.name for b in rules.scoring.grades]
    label, before = _previous_totals(db, cycle, scope, run.version)
    sums, items = _line_sums(db, run.id or 0, scope, top_of, whole_run=scope.id == cycle.root_unit_id)

    paths = dict(db.execute(select(Unit.id, Unit.path).where(Unit.path.startswith(scope.path))).all())
    units = []
    for u in doc["units"]:
        prev = before.get(u["unit_id"])
        units.append({**u, "sections": dict(sums.get(u["unit_id"], {})),
                      "path": paths.get(u.get("branch_id") or u["unit_id"], ""),
                      "delta": None if prev is None else round(u["total"] - prev, 1)})

    children = _children(db, scope, units, before)
    silent_days = chasing_rules(db, cycle).inactivity_days
    overdue, silent = _attention(db, cycle, scope, today, silent_days)
    return ScoreView(doc=doc, cycle=cycle, scope=scope, grade_order=grade_order, sections=heads, units=units,
                     grades=Counter(u["grade"] for u in units), children=children, items=items,
                     trend_label=label, overdue=overdue, silent=silent, silent_days=silent_days,
                     warnings=_warnings(db, cycle, scope), crumbs=crumbs(db, scope, top_path),
                     history=_history(db, cycle, scope) if branch_page else [],
                     names=dict(db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(list(overdue)))).all()))


def _children(db: Session, scope: Unit, units: list[dict[str, Any]], before: dict[str, float]) -> list[Child]:
    kids = list(db.execute(select(Unit).where(Unit.parent_id == scope.id, Unit.kind != UnitKind.group)
                           .order_by(Unit.sort_order, Unit.path)).scalars())
    below: dict[str, list[dict[str, Any]]] = defaultdict(list)
    start = len(scope.path)
    for u in units:                       # "/d/s/c/b/" under scope "/d/": the child is "s"
        if u["path"].startswith(scope.path):
            below[u["path"][start:].split("/", 1)[0]].append(u)
    out = []
    for kid in kids:
        mine = below.get(kid.id, [])
        totals = [u["total"] for u in mine]
        prev = [before[u["unit_id"]] for u in mine if u["unit_id"] in before]
        child = Child(kid, len(mine), round(mean(totals), 1) if totals else None,
                      min(totals) if totals else None, max(totals) if totals else None,
                      Counter(u["grade"] for u in mine))
        if prev and len(prev) == len(mine):
            child.delta = round(mean(totals) - mean(prev), 1)
        out.append(child)
    return out


def _attention(db: Session, cycle: Cycle, scope: Unit, today: date,
               silent_days: int) -> tuple[dict[str, int], list[tuple[Unit, date | None]]]:
    """Overdue tasks per branch, and branches with no report for `silent_days` (有组织无活动,
    the threshold the chasing service warns at, read from the rule set)."""
    overdue = dict(db.execute(
        select(Task.owner_unit_id, func.count()).join(Unit, Unit.id == Task.owner_unit_id)
        .where(Task.cycle_id == cycle.id, Unit.path.startswith(scope.path),
               (Task.state == TaskState.overdue) | ((Task.state == TaskState.open) & (Task.due_on < today)))
        .group_by(Task.owner_unit_id)
    ).all())
    if cycle.start_on > today:
        return overdue, []
    last = dict(db.execute(
        select(Completion.unit_id, func.max(Completion.held_on)).join(Unit, Unit.id == Completion.unit_id)
        .where(Unit.path.startswith(scope.path)).group_by(Completion.unit_id)
    ).all())
    silent = []
    for branch in db.execute(select(Unit).where(Unit.path.startswith(scope.path), Unit.kind == UnitKind.branch)
                             .order_by(Unit.path)).scalars():
        seen = last.get(branch.id)
        if days_without_activity(seen, cycle.start_on, today) >= silent_days:
            silent.append((branch, seen))
    return overdue, silent


def _warnings(db: Session, cycle: Cycle, scope: Unit) -> list[Any]:
    """Open warnings raised by the chasing service, if that service is installed."""
    try:
        from dangjian.services.chasing import list_warnings
    except ImportError:
        return []
    try:
        rows = list_warnings(session=db, cycle_id=cycle.id)
    except Exception:  # noqa: BLE001 - the chasing tables may be absent on an old database
        db.rollback()
        return []
    ids = {w.unit_id for w in rows}
    inside = {uid for uid, in db.execute(select(Unit.id).where(Unit.id.in_(ids),
                                                               Unit.path.startswith(scope.path))).all()}
    return [w for w in rows if w.unit_id in inside]


def _history(db: Session, cycle: Cycle, branch: Unit) -> list[dict[str, Any]]:
    """The branch's total in each cycle of the same root, oldest first."""
    out = []
    for c in db.execute(select(Cycle).where(Cycle.root_unit_id == cycle.root_unit_id, Cycle.start_on <= cycle.start_on)
                        .order_by(Cycle.start_on)).scalars():
        try:
            doc = scorecard_document(session=db, cycle_code=c.code, unit_id=branch.id)
        except DomainError:
            continue
        for u in doc["units"]:
            if u["unit_id"] == branch.id:
                out.append({"cycle": c.name, "code": c.code, "total": u["total"], "grade": u["grade"]})
    return out


def chart_data(view: ScoreView) -> dict[str, Any]:
    """What the ECharts script draws; links let a click drill down."""
    kid_kind = CHILD_KIND.get(UnitKind(view.scope.kind))
    return {
        "grades": [{"name": g, "value": view.grades.get(g, 0)} for g in view.grade_order],
        "children": [{"name": c.unit.name, "value": c.avg, "link": f"/scores/unit/{c.unit.id}?cycle={view.cycle.code}"}
                     for c in view.children if c.avg is not None],
        "children_kind": kid_kind,
        "items": [{"name": i["name"], "value": i["avg"], "max": i["max"]} for i in view.items],
        "history": view.history,
    }
