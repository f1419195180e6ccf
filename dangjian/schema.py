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

from sqlalchemy import Engine

from dangjian import migrations


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database behind `engine` to the newest migration (idempotent)."""
    with engine.begin() as conn:
        migrations.upgrade(conn, "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first upgrade."""
    with engine.connect() as conn:
        return migrations.current(conn)


def head_revision() -> str | None:
    """The newest revision shipped with this package."""
    return migrations.head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
