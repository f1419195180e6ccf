"""Signed session cookies and CSRF tokens (HMAC-SHA256, standard library only).

Cookie value: base64url(JSON payload) "." base64url(HMAC-SHA256(key, "dj-session." + payload)).
The payload carries the user id, the account's session_version (bumped on password change
or deactivation), the issue time and a random CSRF token. Anonymous visitors get a cookie
with only a CSRF token, so the login form is protected too. Tokens are compared in
constant time; a tampered, expired or foreign cookie reads as no session.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

COOKIE = "dj_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SessionData:
    csrf: str
    issued_at: int
    user_id: int | None = None
    version: int = 0


class Signer:
    def __init__(self, secret: str, max_age_seconds: int):
        self._key = hashlib.sha256(("dangjian-web:" + secret).encode("utf-8")).digest()
        self.max_age = max_age_seconds

    def _mac(self, body: str) -> str:
        return _b64e(hmac.new(self._key, b"dj-session." + body.encode("ascii"), hashlib.sha256).digest())

    def dump(self, data: SessionData) -> str:
        payload = {"c": data.csrf, "t": data.issued_at}
        if data.user_id is not None:
            payload.update(u=data.user_id, v=data.version)
        body = _b64e(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._mac(body)}"

    def load(self, value: str | None, now: float) -> SessionData | None:
        if not value or value.count(".") != 1 or len(value) > 4096:
            return None
        body, mac = value.split(".")
        try:
            if not hmac.compare_digest(mac, self._mac(body)):
                return None
            payload = json.loads(_b64d(body))
            data = SessionData(csrf=str(payload["c"]), issued_at=int(payload["t"]),
                               user_id=int(payload["u"]) if "u" in payload else None,
                               version=int(payload.get("v", 0)))
        except (ValueError, KeyError, TypeError, UnicodeEncodeError):
            return None
        age = now - data.issued_at
        if data.user_id is not None and not (-60 <= age <= self.max_age):
            return None
        return data


def new_session(now: float, user_id: int | None = None, version: int = 0) -> SessionData:
    """`now` is the app clock's instant as a timestamp (tests run the app at a fixed time)."""
    return SessionData(csrf=secrets.token_urlsafe(24), issued_at=int(now),
                       user_id=user_id, version=version)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


class BlobSigner:
    """Short signed values that are not sessions (one-time notices after a redirect)."""

    def __init__(self, secret: str, purpose: str):
        self._key = hashlib.sha256(f"dangjian-web:{purpose}:{secret}".encode()).digest()

    def dump(self, value: object) -> str:
        body = _b64e(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        mac = _b64e(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())
        return f"{body}.{mac}"

    def load(self, value: str | None) -> object | None:
        if not value or value.count(".") != 1 or len(value) > 4096:
            return None
        body, mac = value.split(".")
        expected = _b64e(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            return json.loads(_b64d(body))
        except ValueError:
            return None
