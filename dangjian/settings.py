"""Settings from the environment (DANGJIAN_*), cached for the process."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGJIAN_", extra="ignore")

    # The embedded default: one SQLite file in the working directory.
    database_url: str = "sqlite:///./dangjian.db"
    # Evidence files, stored by content hash.
    files_dir: Path = Path("./dangjian-files")
    # Largest evidence file accepted, from the CLI and the web alike (MB).
    evidence_max_mb: int = Field(default=10, ge=1, le=1024)
    # Per-year holiday overrides for years chinesecalendar does not cover yet.
    calendar_dir: Path | None = None
    # Connection pool of each process (web workers, CLI, flow runs). A web worker needs one
    # connection per request thread (DANGJIAN_WEB_THREADS) and sizes its pool to that; the
    # database must allow pool_size + max_overflow connections per process.
    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_max_overflow: int = Field(default=10, ge=0, le=500)
    db_pool_timeout: float = Field(default=30.0, gt=0, le=600)      # seconds waiting for a connection
    db_connect_timeout: int = Field(default=10, ge=1, le=300)       # seconds to reach PostgreSQL

    def pool_options(self, at_least: int = 0) -> dict[str, Any]:
        """Engine keyword arguments for the pool; `at_least` raises the pool size."""
        return {"pool_size": max(self.db_pool_size, at_least), "max_overflow": self.db_max_overflow,
                "pool_timeout": self.db_pool_timeout}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        return Path(raw) if raw and raw != ":memory:" else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
