"""The one clock, and time in Asia/Shanghai.

Every "now" and "today" in the application comes from `now_utc()` / `today()` here, so a
test, the demo or a replay can set the time for the whole process in one place:

- `DANGJIAN_NOW=2026-12-04T12:00:00+08:00` (an instant with its zone) fixes the clock at
  start-up; subprocesses inherit it, so the CLI can be run at a chosen date;
- `use_clock(FixedClock(...))` swaps it in process (a context manager);
- `DANGJIAN_FORBID_REAL_CLOCK=1` makes reading the system clock an error: the test suite
  sets it, so code that bypasses the fixed clock fails loudly instead of passing today and
  failing on another date.

Every user-facing date is a Shanghai calendar date.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import pendulum

TZ_NAME = "Asia/Shanghai"
SHANGHAI = pendulum.timezone(TZ_NAME)
NOW_ENV = "DANGJIAN_NOW"
FORBID_ENV = "DANGJIAN_FORBID_REAL_CLOCK"


class RealClockRead(RuntimeError):
    """The system clock was read while the process runs on a fixed one (tests)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware instant in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        if os.environ.get(FORBID_ENV) == "1":
            raise RealClockRead(
                f"read the system clock while {FORBID_ENV}=1: take 'now' from dangjian.clock "
                f"(set {NOW_ENV} or use_clock) instead of the wall clock")
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """Stands at `instant`; `advance` moves it (session timeouts, lock windows in tests)."""

    instant: datetime
    _offset: timedelta = field(default=timedelta(0))

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware instant")

    def now(self) -> datetime:
        return (self.instant + self._offset).astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


def parse_instant(text: str) -> datetime:
    """An ISO instant with its zone ('2026-12-04T12:00:00+08:00'); a naive one is refused."""
    instant = datetime.fromisoformat(text.strip())
    if instant.tzinfo is None:
        raise ValueError(f"{NOW_ENV}={text!r} has no zone: write it like 2026-12-04T12:00:00+08:00")
    return instant


def _initial_clock() -> Clock:
    text = os.environ.get(NOW_ENV)
    return FixedClock(parse_instant(text)) if text else SystemClock()


_current: Clock = _initial_clock()


def current_clock() -> Clock:
    return _current


def set_clock(clock: Clock) -> Clock:
    """Install `clock` for the process; returns the one it replaced."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def now_utc() -> datetime:
    return _current.now()


def shanghai_date(instant: datetime) -> date:
    """The Shanghai calendar date of an aware instant; naive instants are refused."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime has no zone; give an aware instant")
    return pendulum.instance(instant).in_timezone(SHANGHAI).date()


def today() -> date:
    return shanghai_date(now_utc())
