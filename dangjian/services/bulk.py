"""The fast path for bulk writes: DB-API executemany with SQLAlchemy's own value conversion.

About 4x faster than Core inserts and 40x faster than the ORM on SQLite (DESIGN.md).
Duplicates are skipped by the table's unique key (ON CONFLICT DO NOTHING), which is what
makes planning idempotent.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlmodel import Session


def _processor(column_type: Any, dialect: Any) -> Any:
    # psycopg's JSON handling lives in the statement compiler, which the raw path skips.
    if isinstance(column_type, JSON):
        return lambda value: json.dumps(value, ensure_ascii=False)
    return column_type.bind_processor(dialect)


def insert_ignoring_duplicates(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    conn = session.connection()
    dialect = conn.dialect
    processors = [_processor(table.c[name].type, dialect) for name in columns]
    converted = [
        tuple(p(v) if p is not None and v is not None else v for p, v in zip(processors, row))
        for row in rows
    ]
    if not converted:
        return
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))}) ON CONFLICT DO NOTHING"
    )
    conn.exec_driver_sql(sql, converted)
