"""Counts a long command reports when it is done (units planned, units scored)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.services.cycles import get_cycle
from models import Scorecard, ScoreRun, Task


def units_with_tasks(session: Session, cycle_codes: Iterable[str]) -> int:
    """Units that own at least one task in these cycles."""
    ids = [get_cycle(session, code).id for code in cycle_codes]
    return int(session.execute(select(func.count(func.distinct(Task.owner_unit_id)))
                               .where(Task.cycle_id.in_(ids))).scalar_one())


def units_scored(session: Session, cycle_code: str, version: int) -> int:
    """Scorecards (units and members scored) in one version of a cycle's scores."""
    return int(session.execute(
        select(func.count()).select_from(Scorecard).join(ScoreRun, ScoreRun.id == Scorecard.run_id)
        .where(ScoreRun.cycle_id == get_cycle(session, cycle_code).id, ScoreRun.version == version)
    ).scalar_one())
