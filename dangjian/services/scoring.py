"""Scoring a cycle: set-based metrics per subject, pure rules, one scorecard row per subject.

Metrics per accountable unit (or member, for member rule sets) and duty:
  d.owed      every task planned for the subject
  d.on_time   closed on or before its due date
  d.late      closed after its due date (or recorded too late)
  d.missed    not closed and already due as of the scoring date
  d.pending   not closed and not yet due
  d.excused   excused or not applicable
plus the values of the rule set's declared metrics and reviewers' manual scores as
entered for the cycle, and for members attendance.expected/present/leave/absent.
Evidence maps late/missed/excused buckets to the task ids behind them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.db import serialise
from dangjian.errors import NotFound
from dangjian.services import audit
from dangjian.services.bulk import insert_ignoring_duplicates
from dangjian.services.cycle_state import require_planned, require_writable
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.services.scoring_metrics import Subject, gather_inputs, scoring_subjects
from models import Cycle, Scorecard, ScoreLine, ScoreRun, Unit
from rules.loader import LoadedRuleSet
from rules.metrics import MissingInputs
from rules.outcomes import Subject as OutcomeSubject
from rules.outcomes import apply_outcomes
from rules.scorer import missing_inputs, score_unit


@dataclass
class ScoredSubject:
    subject: Subject
    total: float
    grade: str
    rank_in_street: int
    rank_overall: int
    designations: list[str]
    lines: list[Any]
    metrics: dict[str, float] = field(default_factory=dict)


def _refuse_missing_inputs(loaded: LoadedRuleSet, subjects: list[Subject], inputs: Any) -> None:
    """Every subject's missing metrics and manual scores in one refusal, not one per run."""
    lacking = [missing_inputs(loaded, s.subject_id, inputs.metrics[s.subject_id],
                              inputs.manual.get(s.subject_id, {})) for s in subjects]
    problems = [p for per_subject in lacking for p in per_subject]
    if problems:
        raise MissingInputs(f"评分未进行：{sum(1 for x in lacking if x)} 个考核对象缺少评分所需的数据，"
                            f"共 {len(problems)} 项（缺失的数据不按0计）：", details=problems)


def compute_scores(session: Session, cycle: Cycle, loaded: LoadedRuleSet,
                   as_of: date) -> list[ScoredSubject]:
    """Score every subject of the cycle in memory; nothing is written."""
    root = session.get(Unit, cycle.root_unit_id)
    if root is None:
        raise NotFound(f"周期 {cycle.code} 的根组织 {cycle.root_unit_id} 不存在")
    subjects = scoring_subjects(session, root, loaded)
    inputs = gather_inputs(session, cycle, loaded, subjects, as_of)
    _refuse_missing_inputs(loaded, subjects, inputs)
    scores = [
        score_unit(loaded, s.subject_id, inputs.metrics[s.subject_id],
                   inputs.evidence.get(s.subject_id, {}), manual=inputs.manual.get(s.subject_id, {}))
        for s in subjects
    ]
    outcomes = apply_outcomes(loaded, scores, [
        OutcomeSubject(s.subject_id, s.street_id, root.id, inputs.metrics[s.subject_id])
        for s in subjects
    ])
    by_id = {o.unit_id: o for o in outcomes}
    titles = {d.code: d.name for d in getattr(loaded.rule_set, "designations", None) or []}
    result = []
    for subject, score in zip(subjects, scores):
        outcome = by_id[subject.subject_id]
        result.append(ScoredSubject(
            subject=subject, total=outcome.total, grade=outcome.grade,
            rank_in_street=outcome.rank_in_street, rank_overall=outcome.rank_overall,
            designations=[titles.get(code, code) for code in outcome.designations], lines=list(score.lines) + list(outcome.lines),
            metrics=dict(inputs.metrics[subject.subject_id]),
        ))
    return result


def _persist(session: Session, cycle: Cycle, rule_set_id: int, as_of: date, publish: bool,
             scored: list[ScoredSubject], closing: bool) -> ScoreRun:
    # Runs of one cycle computed at the same time are numbered one after the other.
    serialise(session, f"score:{cycle.id}")
    if not closing:    # the close's own final run is the one a closed cycle gets
        require_writable(session, [cycle.id or 0], "评分")
    last = session.execute(
        select(func.max(ScoreRun.version)).where(ScoreRun.cycle_id == cycle.id)
    ).scalar()
    run = ScoreRun(cycle_id=cycle.id or 0, rule_set_id=rule_set_id, version=(last or 0) + 1,
                   as_of=as_of, published=publish)
    session.add(run)
    session.flush()
    cards = [
        Scorecard(run_id=run.id or 0, unit_id=s.subject.unit_id, subject_id=s.subject.subject_id,
                  street_id=s.subject.street_id, total=s.total, grade=s.grade,
                  rank_in_street=s.rank_in_street, rank_overall=s.rank_overall,
                  designations=s.designations, metrics=s.metrics)
        for s in scored
    ]
    session.add_all(cards)
    session.flush()
    lines = {s.subject.subject_id: s.lines for s in scored}
    insert_ignoring_duplicates(
        session, ScoreLine.__table__,
        ("scorecard_id", "seq", "section_code", "item_code", "item_name", "points", "max_points",
         "reason", "clause", "task_ids"),
        ((card.id, seq, ln.section_code, ln.item_code, ln.item_name, ln.points, ln.max_points,
          ln.reason, ln.clause, list(ln.task_ids))
         for card in cards for seq, ln in enumerate(lines[card.subject_id], start=1)),
    )
    return run


def score_cycle(*, session: Session, cycle_id: int, as_of: date, publish: bool = False,
                rule_set_id: int | None = None, actor: str = "system") -> ScoreRun:
    """Score every subject as of a date; each call adds a new run version (old ones stay).

    `rule_set_id` re-scores under another stored rule set (a revision of the cycle's
    rules); by default the cycle's own frozen rule set is used.
    """
    run = add_score_run(session=session, cycle_id=cycle_id, as_of=as_of, publish=publish,
                        rule_set_id=rule_set_id, actor=actor)
    session.commit()
    return run


def add_score_run(*, session: Session, cycle_id: int, as_of: date, publish: bool = False,
                  rule_set_id: int | None = None, actor: str = "system",
                  closing: bool = False) -> ScoreRun:
    """score_cycle without the commit: for callers whose own change and the run it scores
    must land together (the cycle's end, `closing=True`: its final run of a closed cycle)."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    require_planned(session, cycle)
    rules_id = rule_set_id or cycle.rule_set_id
    loaded = load_stored(get_rule_set(session, rules_id))
    scored = compute_scores(session, cycle, loaded, as_of)
    run = _persist(session, cycle, rules_id, as_of, publish, scored, closing)
    audit.record(session, actor=actor, action="cycle.score", entity="score_run", entity_id=run.id or 0,
                 after={"cycle": cycle.code, "version": run.version, "as_of": as_of,
                        "subjects": len(scored), "rule_set_id": rules_id, "published": publish})
    audit.anchor(session, f"评分 {cycle.code} 第{run.version}版（score_run #{run.id}）")
    return run


def publish_run(*, session: Session, cycle_id: int, version: int, actor: str) -> ScoreRun:
    """Mark a run as published; earlier published runs stay readable as they were."""
    run = session.execute(select(ScoreRun).where(
        ScoreRun.cycle_id == cycle_id, ScoreRun.version == version)).scalar_one_or_none()
    if run is None:
        raise NotFound(f"该周期没有第 {version} 版评分", field="version")
    if not run.published:
        run.published = True
        session.add(run)
        audit.record(session, actor=actor, action="score_run.publish", entity="score_run",
                     entity_id=run.id or 0, after={"version": version})
    session.commit()
    return run
