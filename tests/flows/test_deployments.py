"""deployments/prefect.yaml as an operator uses it: deploy, trigger, and a worker runs it."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dangjian.db import _engine_for, get_engine, session_scope
from dangjian.schema import upgrade_to_head
from dangjian.settings import get_settings
from models import Task, TaskState

pytestmark = pytest.mark.flows
ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def prefect(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([PREFECT, "--no-prompt", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def test_deployed_daily_sweep_runs_on_a_process_worker(tmp_path, monkeypatch):
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    db = tmp_path / "deployed.db"
    monkeypatch.setenv("DANGJIAN_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()
    _engine_for.cache_clear()
    upgrade_to_head(get_engine())
    from dangjian.services.cycles import get_cycle
    from dangjian.services.planning import plan_cycle
    from tests.flows.test_flows import make_cycle

    make_cycle()
    with session_scope() as session:
        plan_cycle(session=session, cycle_id=get_cycle(session, "2026").id)

    with prefect_test_harness(server_startup_timeout=180):
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "DANGJIAN_HOME": str(ROOT),
               "DANGJIAN_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "250"}
        prefect("work-pool", "create", "dangjian-local", "--type", "process", env=env)
        prefect("deploy", "--all", "--prefect-file", "deployments/prefect.yaml", env=env)
        listed = prefect("deployment", "ls", env=env).stdout
        for name in ("daily-sweep", "weekly-score-preview", "plan-cycle"):
            assert name in listed
        prefect("deployment", "run", "sweep-overdue/daily-sweep", "--param", "as_of=2026-07-01", env=env)
        prefect("worker", "start", "--pool", "dangjian-local", "--run-once", env=env)

    with session_scope() as session:
        overdue = session.execute(select(func.count()).select_from(Task)
                                  .where(Task.state == TaskState.overdue)).scalar_one()
        assert overdue > 0
        assert session.execute(select(func.count()).select_from(Task).where(
            Task.state == TaskState.overdue, Task.due_on >= date(2026, 7, 1))).scalar_one() == 0
    get_engine().dispose()
    get_settings.cache_clear()
    _engine_for.cache_clear()
