"""Engine and sessions. SQLite gets WAL and foreign keys; PostgreSQL is used as is."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlmodel import Session

from dangjian.settings import get_settings


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite:/"):
            for option in ("pool_size", "max_overflow", "pool_timeout"):
                kwargs.pop(option, None)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("connect_timeout", get_settings().db_connect_timeout)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


@lru_cache
def _engine_for(url: str, pool_at_least: int = 0) -> Engine:
    return make_engine(url, **get_settings().pool_options(pool_at_least))


def get_engine(pool_at_least: int = 0) -> Engine:
    """The process's engine for DANGJIAN_DATABASE_URL, its pool from the settings."""
    return _engine_for(get_settings().database_url, pool_at_least)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for one unit of work; services commit, this closes."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


# Ids are INTEGER columns (32-bit on PostgreSQL): a larger id cannot exist, and asking for one
# is a database error (out of range on PostgreSQL, beyond 64 bits an OverflowError on SQLite).
ID_LIMIT = 2**31 - 1


def get_by_id(session: Session, model: type[Any], row_id: int) -> Any:
    """`session.get` for an id a user typed: None for one no row can have, without asking."""
    return session.get(model, row_id) if 0 < row_id <= ID_LIMIT else None


def serialise(session: Session, key: str) -> None:
    """Make concurrent transactions that name the same `key` run one after another, from here
    to their commit or rollback. PostgreSQL: a transaction-level advisory lock on the key.
    SQLite: every writer holds the one database write lock, so taking it now (a no-op write)
    is enough; the key only documents intent there."""
    if session.get_bind().dialect.name == "postgresql":
        digest = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": digest})
    else:
        session.execute(text("UPDATE audit_head SET count = count WHERE id = 1"))
