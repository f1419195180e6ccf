"""The flows through Prefect's own test harness: real flow and task runs on a temporary server."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.db import _engine_for, session_scope
from dangjian.schema import upgrade_to_head
from dangjian.settings import get_settings
from models import Scorecard, Task, TaskState
from tests.support.builders import county

pytestmark = pytest.mark.flows


@pytest.fixture(scope="module")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """The flows open their own sessions, so they need a real database file, not a test transaction."""
    monkeypatch.setenv("DANGJIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'flows.db'}")
    monkeypatch.setenv("DANGJIAN_FILES_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    _engine_for.cache_clear()
    from dangjian.db import get_engine

    upgrade_to_head(get_engine())
    yield
    get_engine().dispose()
    get_settings.cache_clear()
    _engine_for.cache_clear()


def make_cycle():
    from dangjian.services.cycles import create_cycle
    from dangjian.services.rule_sets import register_rule_set
    from tests.support.builders import RULES

    with session_scope() as session:
        c = county(session)
        rules = register_rule_set(session=session, path=RULES, actor="测试")
        create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id=c.district.id,
                     rule_set_id=rules.id, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                     actor="测试")


def test_plan_sweep_and_score_flows_run_end_to_end(prefect_server, app_db):
    from flows.plan_cycle import plan_cycle
    from flows.score_cycle import score_cycle
    from flows.sweep_overdue import sweep_overdue

    make_cycle()
    first = plan_cycle("2026")
    assert first["added"] == first["total"] > 0
    again = plan_cycle("2026")
    assert (again["added"], again["total"]) == (0, first["total"])

    swept = sweep_overdue("2026", "2026-07-01")
    with session_scope() as session:
        overdue = session.execute(select(func.count()).select_from(Task)
                                  .where(Task.state == TaskState.overdue)).scalar_one()
    assert swept == {"2026": overdue} and overdue > 0

    result = score_cycle("2026", "2027-01-04")
    assert result["version"] == 1
    with session_scope() as session:
        totals = session.execute(select(Scorecard.unit_id, Scorecard.total)).all()
    assert {u for u, _ in totals} == {"B1", "B2"}
    assert all(t < 60 for _, t in totals)  # nothing was reported all year


def test_scheduled_runs_without_parameters_cover_every_open_cycle(prefect_server, app_db):
    from flows.plan_cycle import plan_cycle
    from flows.score_cycle import score_cycle
    from flows.sweep_overdue import sweep_overdue

    make_cycle()
    plan_cycle("2026")
    assert set(sweep_overdue()) == {"2026"}
    assert set(score_cycle()) == {"2026"}
