"""A flow for the crash test only: waits, then plans its cycle, so a test can kill it while
it runs (tests/flows/test_schedules.py)."""
from __future__ import annotations

import time

from prefect import flow

from flows.plan_cycle import plan_cycle


@flow(name="slow-plan-cycle")
def slow_plan(cycle_code: str = "2026", wait_seconds: float = 8.0) -> dict[str, int]:
    time.sleep(wait_seconds)        # the window in which the test kills the run's process
    result = plan_cycle(cycle_code)
    assert isinstance(result, dict)
    return {"added": int(result.get("added", 0))}
