"""Create or upgrade the application schema (Alembic when migrations exist)."""
from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)


def upgrade_to_head(engine: Engine) -> None:
    # Replaced by Alembic's upgrade once the first migration lands.
    SQLModel.metadata.create_all(engine)
