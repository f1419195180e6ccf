"""Domain errors. Messages are Chinese and name the field, row or id at fault.

Adapters translate them: the CLI prints the message and exits non-zero, the web
layer maps `status` to an HTTP status.
"""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    exit_code = 1

    def __init__(self, message: str, *, field: str | None = None, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or []

    def __str__(self) -> str:
        text = self.message
        if self.details:
            text += "\n" + "\n".join(f"  - {d}" for d in self.details)
        return text


class ValidationFailed(DomainError):
    status = 422
    exit_code = 2


class NotFound(DomainError):
    status = 404
    exit_code = 3


class Forbidden(DomainError):
    status = 403
    exit_code = 4


class Conflict(DomainError):
    status = 409
    exit_code = 5


class IntegrityBroken(DomainError):
    """Stored data fails its own integrity check (an audit chain that does not verify)."""

    status = 500
    exit_code = 6
