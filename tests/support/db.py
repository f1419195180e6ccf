"""Test databases: a real SQLite file always, PostgreSQL when DANGJIAN_TEST_DATABASE_URL is set."""
from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, event, text

from dangjian.db import make_engine, normalise_url
from dangjian.schema import upgrade_to_head


def sqlite_test_engine(path: str) -> Engine:
    engine = make_engine(f"sqlite:///{path}")

    # pysqlite's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy docs).
    @event.listens_for(engine, "connect")
    def _no_pysqlite_autobegin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _explicit_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    upgrade_to_head(engine)
    return engine


def postgres_url() -> str | None:
    url = os.environ.get("DANGJIAN_TEST_DATABASE_URL")
    return normalise_url(url) if url else None


def postgres_test_engine(url: str, schema: str) -> Engine:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade_to_head(engine)
    return engine


def drop_postgres_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def new_postgres_schema(url: str, prefix: str, **engine_options: Any) -> tuple[Engine, str]:
    """A new, empty schema of its own and an engine whose connections work in it (not migrated).
    Drop it with drop_postgres_schema(url, schema) after disposing the engine."""
    import uuid

    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"}, **engine_options), schema


def stop_process(process: Any, timeout: float = 60) -> int:
    """Ctrl-C a child process as a user would; kill it if it does not stop in time."""
    import signal
    import subprocess

    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return int(process.wait(timeout=timeout))
    except subprocess.TimeoutExpired:
        process.kill()
        return int(process.wait())
