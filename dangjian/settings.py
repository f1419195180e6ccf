"""Settings from the environment (DANGJIAN_*), cached for the process."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGJIAN_", extra="ignore")

    # The embedded default: one SQLite file in the working directory.
    database_url: str = "sqlite:///./dangjian.db"
    # Evidence files, stored by content hash.
    files_dir: Path = Path("./dangjian-files")
    # Per-year holiday overrides for years chinesecalendar does not cover yet.
    calendar_dir: Path | None = None

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
