"""Shared fixtures.

Every database test gets `session`: a Session inside a transaction that is rolled
back afterwards, even when the service under test commits (savepoint mode). Tests
run on a real SQLite file, and again on PostgreSQL when DANGJIAN_TEST_DATABASE_URL
is set.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# The suite's one "now", fixed before any project module reads the clock. Subprocesses (the
# CLI tests) inherit it. Reading the system clock anywhere in our code is an error here, so a
# test cannot pass today and fail on another date. `scripts/run_suite_at.sh` runs the whole
# suite with the machine's clock moved to prove it. Override with DANGJIAN_SUITE_NOW.
SUITE_NOW = os.environ.get("DANGJIAN_SUITE_NOW", "2026-12-04T12:00:00+08:00")
os.environ["DANGJIAN_NOW"] = SUITE_NOW
os.environ["DANGJIAN_FORBID_REAL_CLOCK"] = "1"

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from dangjian.clock import FixedClock, parse_instant, set_clock
from dangjian.db import make_engine
from dangjian.schema import upgrade_to_head
from tests.support.db import (
    drop_postgres_schema,
    new_postgres_schema,
    postgres_test_engine,
    postgres_url,
    sqlite_test_engine,
)

set_clock(FixedClock(parse_instant(SUITE_NOW)))

# Prefect's test server must not try to phone home from an offline machine.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

DB_BACKENDS = ["sqlite"] + (["postgresql"] if postgres_url() else [])


@pytest.fixture(scope="session", params=DB_BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        eng = sqlite_test_engine(str(path))
        yield eng
        eng.dispose()
    else:
        url = postgres_url()
        assert url
        schema = f"dangjian_test_{os.getpid()}"
        eng = postgres_test_engine(url, schema)
        yield eng
        eng.dispose()
        drop_postgres_schema(url, schema)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    conn = engine.connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Evidence storage in a temp dir, through the real settings path."""
    from dangjian.settings import get_settings

    d = tmp_path / "files"
    monkeypatch.setenv("DANGJIAN_FILES_DIR", str(d))
    get_settings.cache_clear()
    yield d
    get_settings.cache_clear()


@pytest.fixture(params=DB_BACKENDS)
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own whose writes really commit (no rolled-back test transaction)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        upgrade_to_head(engine)
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    assert url
    engine, schema = new_postgres_schema(url, "dangjian_committed", pool_size=60, max_overflow=0)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()
    drop_postgres_schema(url, schema)
