"""Score a cycle: metrics per unit with set-based SQL, pure rules, one scorecard per unit."""
from __future__ import annotations

from datetime import date

from prefect import flow, task

from dangjian.clock import today
from dangjian.services.cycles import get_cycle, list_cycles
from dangjian.services.scoring import score_cycle as score_service
from flows._retry import transient_retries
from flows._session import session_scope
from models import CycleState


@task(name="score-cycle-units")   # not retried: see flows/_retry.py
def score_units(cycle_code: str, as_of: str, publish: bool,
                rule_set_id: int | None = None) -> dict[str, int]:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        run = score_service(session=session, cycle_id=cycle.id or 0,
                            as_of=date.fromisoformat(as_of), publish=publish,
                            rule_set_id=rule_set_id, actor="flow:score_cycle")
    return {"run_id": run.id or 0, "version": run.version}


@task(name="open-cycles-to-score", **transient_retries())
def open_cycles() -> list[str]:
    with session_scope() as session:
        return [c.code for c in list_cycles(session) if c.state == CycleState.open]


@flow(name="score-cycle", description="按规则集为考核周期评分，生成带逐项说明的评分表")
def score_cycle(cycle_code: str | None = None, as_of: str | None = None,
                publish: bool = False, rule_set_id: int | None = None) -> dict[str, int]:
    """Score one cycle (or, when scheduled without one, every open cycle as a preview).

    `rule_set_id` re-scores under another stored rule set (a published revision).

    `as_of` is a Shanghai calendar date; tasks due before it and not closed count as missed.
    """
    day = as_of or today().isoformat()
    if cycle_code:
        return score_units(cycle_code, day, publish, rule_set_id)
    runs = {code: score_units(code, day, False)["version"] for code in open_cycles()}
    return runs
