"""Retries for flow tasks: transient database and network errors only.

Flow tasks retried here are idempotent by design (planning inserts ON CONFLICT, sweeps and
the cycle's end move states conditionally or are no-ops once done, notices are keyed per
recipient and day), so a task that failed half-way can simply run again. A score run is
not retried: a connection lost during its commit leaves it unknown whether the version was
stored, and a retry could store a second one; the next scheduled preview scores again. A validation error or a missing cycle is not
transient and fails at once. Delays: DANGJIAN_FLOW_RETRY_DELAYS (seconds, comma-separated;
default 5,30,120, i.e. three retries over about two and a half minutes).
"""
from __future__ import annotations

import os
import sqlite3
from typing import Any

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_TRANSIENT_MESSAGES = ("database is locked", "connection refused", "server closed the connection",
                       "could not connect to server", "connection timeout expired", "terminating connection",
                       "connection reset", "no route to host", "the database system is starting up",
                       "the database system is shutting down")
_TRANSIENT_SQLSTATES = ("08", "40001", "40P01", "53", "57P01", "57P02", "57P03")  # connection, serialization, deadlock, resources, shutdown


def retry_delays() -> list[float]:
    raw = os.environ.get("DANGJIAN_FLOW_RETRY_DELAYS", "5,30,120")
    try:
        delays = [float(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        delays = [5.0, 30.0, 120.0]
    return [min(max(d, 0.0), 3600.0) for d in delays][:10]


def is_transient(error: BaseException | None) -> bool:
    """True for errors that another attempt may not meet: a lost or refused connection,
    a pool timeout, a deadlock or serialization failure, a locked SQLite file."""
    if error is None:
        return False
    if isinstance(error, (DisconnectionError, PoolTimeout, ConnectionError, TimeoutError)):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if code and str(code).startswith(_TRANSIENT_SQLSTATES):
            return True
        if isinstance(error, OperationalError):
            # Only what a second attempt may not meet; a refused password or pg_hba entry is not.
            text = str(error.orig).lower()
            return any(s in text for s in _TRANSIENT_MESSAGES)
        return False
    if isinstance(error, sqlite3.OperationalError):
        return "locked" in str(error).lower()
    return isinstance(error.__cause__, BaseException) and is_transient(error.__cause__)


def retry_on_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only when the task failed with a transient error."""
    try:
        error = state.result(raise_on_failure=False)
    except Exception as exc:  # noqa: BLE001 - a result that cannot be read is itself the error
        error = exc
    return isinstance(error, BaseException) and is_transient(error)


def transient_retries() -> dict[str, Any]:
    """Keyword arguments for @task: retries with delays, only on transient errors."""
    delays = retry_delays()
    return {"retries": len(delays), "retry_delay_seconds": delays, "retry_condition_fn": retry_on_transient}
