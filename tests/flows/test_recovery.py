"""Recovery: flow tasks retry transient database errors, and only those."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from dangjian.db import _engine_for, make_engine
from dangjian.errors import NotFound, ValidationFailed
from dangjian.settings import get_settings
from flows._retry import is_transient
from models import Task, TaskState
from tests.support.builders import county, planned_cycle
from tests.support.db import postgres_url
from tests.support.tcp_proxy import cuttable_proxy

pytestmark = pytest.mark.flows


def refused_error() -> OperationalError:
    engine = make_engine("postgresql://postgres@127.0.0.1:9/test")   # nothing listens on port 9
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError("connected to port 9")


def test_lost_connections_are_transient_and_domain_errors_are_not() -> None:
    assert is_transient(refused_error())
    assert not is_transient(ValidationFailed("参会人数不对"))
    assert not is_transient(NotFound("周期 2099 不存在"))
    assert not is_transient(IntegrityError("INSERT", {}, Exception("unique")))
    wrapped = RuntimeError("flow task failed")
    wrapped.__cause__ = refused_error()
    assert is_transient(wrapped)


@pytest.mark.skipif(not postgres_url(), reason="需要 DANGJIAN_TEST_DATABASE_URL（PostgreSQL）")
def test_the_daily_sweep_rides_out_a_database_outage(committed: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    if committed.dialect.name != "postgresql":
        pytest.skip("the outage is cut on PostgreSQL's network link")
    from prefect.testing.utilities import prefect_test_harness

    with Session(committed, expire_on_commit=False) as session:
        c = county(session)
        planned_cycle(session, c)
    with committed.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    with cuttable_proxy() as proxy:
        monkeypatch.setenv("DANGJIAN_DATABASE_URL",
                           f"postgresql://postgres@127.0.0.1:{proxy.port}/test?options=-csearch_path%3D{schema}")
        get_settings.cache_clear()
        _engine_for.cache_clear()
        from flows.sweep_overdue import sweep_overdue

        with prefect_test_harness(server_startup_timeout=180):
            proxy.cut()
            # Back before the first retry (5 s). A sleeping thread, not threading.Timer: a timed
            # wait on a condition takes an absolute wall-clock deadline, which never comes when
            # scripts/run_suite_at.sh has moved the clock (libfaketime); a relative sleep does.
            threading.Thread(target=lambda: (time.sleep(3.0), proxy.restore()), daemon=True).start()
            started = time.monotonic()
            result = sweep_overdue("2026", "2026-12-01")
            waited = time.monotonic() - started
        _engine_for.cache_clear()
        get_settings.cache_clear()
    assert result["2026"] > 0
    assert waited >= 4.5, "the sweep should have failed once and succeeded on its retry 5 s later"
    with Session(committed) as session:
        overdue = session.execute(select(func.count()).select_from(Task)
                                  .where(Task.state == TaskState.overdue)).scalar_one()
    assert overdue == result["2026"]
