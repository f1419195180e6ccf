"""Web settings (DANGJIAN_WEB_*). The signing key comes from the environment or a key
file created once with mode 600; it is never written to the database or logs."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from dangjian.settings import get_settings


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGJIAN_WEB_", extra="ignore")

    secret_key: str | None = None
    secret_file: Path = Path(".dangjian/web-secret")
    # Send cookies only over HTTPS; turn off only for local http://localhost use.
    secure_cookies: bool = True
    session_hours: int = 12
    max_upload_mb: int | None = None  # per evidence file; None: DANGJIAN_EVIDENCE_MAX_MB, the services' limit
    max_request_mb: int = 60         # whole request body
    # Behind a reverse proxy that sets X-Forwarded-For, count attempts per client address.
    trust_forwarded_for: bool = False
    # Request threads per worker process (sync endpoints); the worker's connection pool is
    # at least this large, so a request never waits for a connection it cannot get.
    threads: int = 40
    queue_timeout: float = 60.0      # seconds a request may wait for a free thread before 503


class WebConfig(BaseModel):
    secret_key: str
    secure_cookies: bool = True
    session_hours: int = 12
    max_upload_bytes: int = 10 * 1024 * 1024
    max_request_bytes: int = 60 * 1024 * 1024
    trust_forwarded_for: bool = False
    threads: int = 40
    queue_timeout: float = 60.0


def load_secret(settings: WebSettings) -> str:
    if settings.secret_key:
        if len(settings.secret_key) < 32:
            raise SystemExit("DANGJIAN_WEB_SECRET_KEY 至少 32 个字符")
        return settings.secret_key
    path = settings.secret_file
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


def config_from_env(*, secure_cookies: bool | None = None) -> WebConfig:
    s = WebSettings()
    return WebConfig(
        secret_key=load_secret(s),
        secure_cookies=s.secure_cookies if secure_cookies is None else secure_cookies,
        session_hours=s.session_hours,
        max_upload_bytes=(s.max_upload_mb or get_settings().evidence_max_mb) * 1024 * 1024,
        max_request_bytes=s.max_request_mb * 1024 * 1024, trust_forwarded_for=s.trust_forwarded_for,
        threads=max(1, min(s.threads, 1000)), queue_timeout=max(1.0, min(s.queue_timeout, 600.0)),
    )
