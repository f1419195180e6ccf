"""Alembic migrations of the application schema, shipped inside the package.

Everything Alembic needs is configured in code (no alembic.ini), so `dangjian init`
works from an installed wheel as well as from a checkout:

    from dangjian.migrations import upgrade, current
    with engine.begin() as conn:
        upgrade(conn)                  # to head

Adding a migration after changing models/ (from a checkout):

    python -m dangjian.migrations.new "短说明 / short message"

That builds a scratch SQLite database at the current head, autogenerates the
difference to `SQLModel.metadata` into versions/NNNN_<slug>.py, and prints the
path. Review it before committing: Alembic cannot see renames (it emits a drop and
an add), and on SQLite every ALTER runs in batch mode (table copy). Then run
`python3 dev.py test`: tests/test_migrations.py fails while the migrated schema
and the models disagree, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at this package; `connection` is used by env.py if given."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", str(VERSIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _enum_widths() -> dict[Any, int]:
    """Enum class -> the widest max_length a model field declares for it.

    SQLAlchemy sizes an Enum by its longest value; the column in the database gets
    the field's declared max_length, so a new, longer value needs no migration.
    """
    from sqlmodel import SQLModel

    widths: dict[Any, int] = {}
    for mapper in SQLModel._sa_registry.mappers:
        fields = getattr(mapper.class_, "model_fields", {})
        for column in mapper.local_table.columns:
            if not isinstance(column.type, sa.Enum) or column.name not in fields:
                continue
            info = fields[column.name]
            lengths = [getattr(info, "max_length", None)] + [
                getattr(m, "max_length", None) for m in info.metadata
            ]
            declared = max((n for n in lengths if isinstance(n, int)), default=0)
            key = column.type.enum_class or column.type.name
            widths[key] = max(widths.get(key, 0), declared, column.type.length or 0)
    return widths


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Keep migrations free of sqlmodel and models imports.

    sqlmodel's AutoString and our UtcDateTime are TypeDecorators: render their
    plain SQLAlchemy impl. Enum columns are stored as plain VARCHARs.
    """
    if type_ != "type":
        return False
    if isinstance(obj, sa.Enum):
        return f"sa.String(length={_enum_widths().get(obj.enum_class or obj.name, obj.length)})"
    if isinstance(obj, TypeDecorator):
        impl = obj.impl if isinstance(obj.impl, sa.types.TypeEngine) else obj.impl()
        if type(impl).__module__.startswith("sqlalchemy.sql"):
            return f"sa.{impl!r}"
    return False


def _compare_type(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: sa.types.TypeEngine[Any],
    metadata_type: sa.types.TypeEngine[Any],
) -> bool | None:
    """A model Enum over a VARCHAR column is fine when every value fits.

    The migrations store enum columns as VARCHAR (no native PostgreSQL ENUM types:
    adding a value would need a migration), while SQLModel declares them as Enum.
    SQLAlchemy binds such values as plain strings, so the two agree.
    """
    if (
        isinstance(metadata_type, sa.Enum)
        and isinstance(inspected_type, sa.String)
        and not isinstance(inspected_type, sa.Enum)
    ):
        have = inspected_type.length
        need = metadata_type.length
        return not (have is None or need is None or have >= need)
    return None  # Alembic's default comparison


def context_options(dialect_name: str) -> dict[str, Any]:
    """Options for MigrationContext.configure, shared by env.py and the tests."""
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers every table on SQLModel.metadata)

    return {
        "target_metadata": SQLModel.metadata,
        "render_as_batch": dialect_name == "sqlite",
        "render_item": _render_item,
        "compare_type": _compare_type,
        "compare_server_default": False,
    }


class UnversionedSchema(RuntimeError):
    """Tables exist but Alembic never ran here, and they differ from the models."""


def differences(connection: Connection) -> list[Any]:
    """What autogenerate would change to make the database match models/."""
    from alembic.autogenerate import compare_metadata

    opts = context_options(connection.dialect.name)
    ctx = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(ctx, opts["target_metadata"]))


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database behind `connection`; the caller commits.

    A database made by `SQLModel.metadata.create_all` before migrations existed
    (tables, no alembic_version) is adopted when it matches the models exactly.
    """
    cfg = alembic_config(connection)
    if current(connection) is None and revision == "head":
        from sqlmodel import SQLModel

        existing = set(sa.inspect(connection).get_table_names()) & set(SQLModel.metadata.tables)
        if existing:
            diff = differences(connection)
            if diff:
                raise UnversionedSchema(
                    "数据库中已有表但没有迁移版本记录，且与模型不一致；请删除该数据库后重新 init。"
                    f" (tables without alembic_version, differing from models: {diff[:5]!r})"
                )
            command.stamp(cfg, "head")
            return
    command.upgrade(cfg, revision)


def downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def current(connection: Connection) -> str | None:
    """The revision the database is at, or None for an unversioned database."""
    return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def script_directory() -> Any:
    """The shipped migrations (alembic ScriptDirectory)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())
