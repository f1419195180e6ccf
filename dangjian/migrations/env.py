"""Alembic environment: SQLModel.metadata, on a connection handed in or the configured URL."""
from __future__ import annotations

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from dangjian.migrations import context_options


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **context_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from sqlalchemy.engine import make_url

    from dangjian.db import normalise_url
    from dangjian.settings import get_settings

    url = normalise_url(get_settings().database_url)
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **context_options(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        # dangjian.schema / the tests pass their own connection (and commit it).
        _run(connection)
        return
    from dangjian.db import make_engine
    from dangjian.settings import get_settings

    engine = make_engine(get_settings().database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
