"""Create or upgrade the application schema: Alembic, migrations in dangjian/migrations.

`upgrade_to_head(engine)` is what `dangjian init`, the demo and the test fixtures
call. It runs on one connection of that engine and commits, so a PostgreSQL engine
whose connect_args carry `options=-csearch_path=<schema>` gets its tables and its
`alembic_version` row in that schema, not in public.

Adding a migration after changing a table in models/:

    .venv/bin/python -m dangjian.migrations.new "add member.phone"

It autogenerates versions/NNNN_<slug>.py against a scratch SQLite database at the
current head. Review it (renames come out as drop + add; enum columns stay
VARCHAR sized by the field's max_length), then `python3 dev.py test`:
tests/test_migrations.py fails while migrations and models disagree.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from dangjian import migrations

# Any constant: the advisory lock that serialises concurrent upgrades of one database.
_UPGRADE_LOCK = 0x64616E676A69616E   # "dangjian"


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database behind `engine` to the newest migration (idempotent).

    Concurrent upgrades (two `dangjian init` at once, several workers starting) run one
    after the other: a transaction-level advisory lock on PostgreSQL, a lock file beside
    the database on SQLite. The second finds the schema current and does nothing.
    """
    with _migrating(engine) as conn:
        migrations.upgrade(conn, "head")


def downgrade_to(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision` ("0008", or "base" for an empty database), under
    the same lock as upgrades."""
    with _migrating(engine) as conn:
        migrations.downgrade(conn, revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One connection in a transaction that no other migration of this database runs beside."""
    with _upgrade_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
        yield conn


@contextmanager
def _upgrade_lock(engine: Engine) -> Iterator[None]:
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    try:
        import fcntl
    except ImportError:   # Windows: SQLite's own locking only
        yield
        return
    with open(f"{path}.init-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first upgrade."""
    with engine.connect() as conn:
        return migrations.current(conn)


def head_revision() -> str | None:
    """The newest revision shipped with this package."""
    return migrations.head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
