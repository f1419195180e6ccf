"""The Alembic migrations build exactly the schema that models/ declares.

Runs on a fresh SQLite file, and on a fresh PostgreSQL schema (reached through
search_path, as the app's fixtures do) when DANGJIAN_TEST_DATABASE_URL is set.
If a test here fails after you changed models/, add a migration:
`.venv/bin/python -m dangjian.migrations.new "what changed"` (see dangjian/schema.py).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import models  # noqa: F401
from dangjian import migrations
from dangjian.db import make_engine
from dangjian.schema import current_revision, head_revision, upgrade_to_head
from tests.support.db import drop_postgres_schema, postgres_url

BACKENDS = ["sqlite"] + (["postgresql"] if postgres_url() else [])


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (migrations drop tables: never the shared one)."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield eng
        eng.dispose()
        return
    url = postgres_url()
    assert url
    schema = f"dangjian_mig_{os.getpid()}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    eng = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    eng.info_schema = schema  # type: ignore[attr-defined]
    yield eng
    eng.dispose()
    drop_postgres_schema(url, schema)


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts=migrations.context_options(conn.dialect.name)
        )
        diff = list(compare_metadata(ctx, SQLModel.metadata))
        assert [repr(d) for d in diff] == [repr(d) for d in migrations.differences(conn)]
        return diff


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    assert script.get_base() == "0001"


def test_migration_files_import_no_sqlmodel_or_models() -> None:
    for path in sorted(migrations.VERSIONS_DIR.glob("[0-9]*.py")):
        source = path.read_text(encoding="utf-8")
        for banned in ("import sqlmodel", "from sqlmodel", "import models", "from models"):
            assert banned not in source, f"{path.name}: {banned!r} (render plain sa types)"


def test_migrations_ship_as_package_data() -> None:
    from setuptools import find_packages

    root = Path(__file__).resolve().parents[1]
    found = find_packages(str(root), include=["dangjian*"])
    assert "dangjian.migrations" in found and "dangjian.migrations.versions" in found
    assert (migrations.MIGRATIONS_DIR / "script.py.mako").exists()


def test_upgrade_builds_the_models_schema(fresh_engine: Engine) -> None:
    assert current_revision(fresh_engine) is None
    upgrade_to_head(fresh_engine)
    assert current_revision(fresh_engine) == head_revision()
    assert set(SQLModel.metadata.tables) <= _tables(fresh_engine)
    diff = _differences(fresh_engine)
    assert not diff, (
        "migrations and models/ disagree; add a migration with "
        '`python -m dangjian.migrations.new "…"`:\n' + "\n".join(map(repr, diff))
    )
    upgrade_to_head(fresh_engine)  # idempotent
    assert current_revision(fresh_engine) == head_revision()


def test_downgrade_to_base_then_upgrade(fresh_engine: Engine) -> None:
    upgrade_to_head(fresh_engine)
    with fresh_engine.begin() as conn:
        migrations.downgrade(conn, "base")
    assert current_revision(fresh_engine) is None
    assert _tables(fresh_engine) <= {"alembic_version"}
    upgrade_to_head(fresh_engine)
    assert current_revision(fresh_engine) == head_revision()
    assert not _differences(fresh_engine)


def test_a_create_all_database_is_adopted_not_recreated(fresh_engine: Engine) -> None:
    SQLModel.metadata.create_all(fresh_engine)
    upgrade_to_head(fresh_engine)
    assert current_revision(fresh_engine) == head_revision()
    assert not _differences(fresh_engine)


def test_an_unversioned_database_that_differs_is_refused(fresh_engine: Engine) -> None:
    with fresh_engine.begin() as conn:
        conn.execute(text("CREATE TABLE unit (id VARCHAR(40) PRIMARY KEY)"))
    with pytest.raises(migrations.UnversionedSchema):
        upgrade_to_head(fresh_engine)
    assert current_revision(fresh_engine) is None


@pytest.mark.skipif(not postgres_url(), reason="DANGJIAN_TEST_DATABASE_URL not set")
def test_postgres_version_table_lands_in_search_path_schema() -> None:
    url = postgres_url()
    assert url
    schema = f"dangjian_mig_vt_{os.getpid()}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade_to_head(eng)
        with admin.connect() as conn:
            where = conn.execute(
                text(
                    "SELECT table_schema FROM information_schema.tables "
                    "WHERE table_name IN ('alembic_version', 'task') ORDER BY table_name"
                )
            ).scalars().all()
        assert schema in where and where.count(schema) == 2, where
        with admin.connect() as conn:
            row = conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version'))
            assert row.scalar_one() == head_revision()
    finally:
        eng.dispose()
        admin.dispose()
        drop_postgres_schema(url, schema)


def test_upgrading_a_0008_trail_numbers_its_events_in_order_and_the_chain_verifies(fresh_engine: Engine) -> None:
    from sqlmodel import Session

    from dangjian.services.audit import GENESIS, check_chain, event_hash

    with fresh_engine.begin() as conn:
        migrations.upgrade(conn, "0008")
        prev, rows = GENESIS, []
        for i in range(500):
            at = f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+00:00"
            digest = event_hash(prev, {"at": at, "actor": "旧版", "action": "x", "entity": "t", "entity_id": str(i),
                                       "before": None, "after": {"i": i}})
            rows.append({"at": at, "entity_id": str(i), "after": f'{{"i": {i}}}', "prev_hash": prev, "hash": digest})
            prev = digest
        conn.execute(text("INSERT INTO audit_event (at, actor, action, entity, entity_id, after, prev_hash, hash) "
                          "VALUES (:at, '旧版', 'x', 't', :entity_id, :after, :prev_hash, :hash)"), rows)
    upgrade_to_head(fresh_engine)
    with Session(fresh_engine) as session:
        report = check_chain(session)
    assert report.intact and report.events == 500 and report.head_count == 500 and report.last_hash == prev
