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
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return _engine_for(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for one unit of work; services commit, this closes."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


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
