"""What-if: score the same cycle under a draft rule file and show what would move.

Both sides are computed in memory at the same date; nothing is written, so published
scorecards are untouched. A draft that fails to load is refused with all its errors.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from dangjian.clock import today
from dangjian.services.cycle_state import require_planned
from dangjian.services.cycles import get_cycle
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.services.scoring import compute_scores
from models import ScoreRun
from rules.loader import LoadedRuleSet, load_rule_set_file


@dataclass(frozen=True)
class WhatIfRow:
    subject_id: str
    name: str
    before_total: float
    after_total: float
    before_grade: str
    after_grade: str
    before_rank: int
    after_rank: int
    before_designations: tuple[str, ...]
    after_designations: tuple[str, ...]

    @property
    def delta(self) -> float:
        return round(self.after_total - self.before_total, 4)

    @property
    def changed(self) -> bool:
        return (self.delta != 0 or self.before_grade != self.after_grade
                or self.before_rank != self.after_rank
                or self.before_designations != self.after_designations)


@dataclass(frozen=True)
class WhatIfReport:
    cycle_code: str
    as_of: date
    current: LoadedRuleSet
    draft: LoadedRuleSet
    rows: list[WhatIfRow]


def current_rules(session: Session, cycle_id: int, fallback_id: int) -> LoadedRuleSet:
    """The rules of the latest run (a re-score may have replaced the cycle's first rules)."""
    latest = session.execute(select(ScoreRun.rule_set_id).where(ScoreRun.cycle_id == cycle_id)
                             .order_by(ScoreRun.version.desc()).limit(1)).scalar()
    return load_stored(get_rule_set(session, latest or fallback_id))


def stored_as_of(session: Session, cycle_id: int) -> date | None:
    """The as-of date of the cycle's latest stored run: what the current side shows."""
    return session.execute(select(ScoreRun.as_of).where(ScoreRun.cycle_id == cycle_id)
                           .order_by(ScoreRun.version.desc()).limit(1)).scalar()


def what_if(*, session: Session, cycle_code: str, draft_path: Path,
            as_of: date | None = None) -> WhatIfReport:
    """`as_of` defaults to the latest stored run's date (today when none is stored)."""
    draft = load_rule_set_file(draft_path)
    cycle = get_cycle(session, cycle_code)
    require_planned(session, cycle)
    as_of = as_of or stored_as_of(session, cycle.id or 0) or today()
    current = current_rules(session, cycle.id or 0, cycle.rule_set_id)
    before = {s.subject.subject_id: s for s in compute_scores(session, cycle, current, as_of)}
    after = {s.subject.subject_id: s for s in compute_scores(session, cycle, draft, as_of)}
    session.rollback()  # reading only: make sure nothing lingers in the session
    rows = []
    for sid in sorted(set(before) | set(after), key=lambda k: (after[k].rank_overall if k in after else 10**9, k)):
        b, a = before.get(sid), after.get(sid)
        ref = a or b
        assert ref is not None
        rows.append(WhatIfRow(
            subject_id=sid, name=ref.subject.name,
            before_total=b.total if b else 0.0, after_total=a.total if a else 0.0,
            before_grade=b.grade if b else "—", after_grade=a.grade if a else "—",
            before_rank=b.rank_overall if b else 0, after_rank=a.rank_overall if a else 0,
            before_designations=tuple(b.designations) if b else (),
            after_designations=tuple(a.designations) if a else (),
        ))
    return WhatIfReport(cycle.code, as_of, current, draft, rows)
