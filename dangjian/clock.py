"""Time in Asia/Shanghai. Every user-facing date is a Shanghai calendar date."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pendulum

TZ_NAME = "Asia/Shanghai"
SHANGHAI = pendulum.timezone(TZ_NAME)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def shanghai_date(instant: datetime) -> date:
    """The Shanghai calendar date of an aware instant; naive instants are refused."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime has no zone; give an aware instant")
    return pendulum.instance(instant).in_timezone(SHANGHAI).date()


def today() -> date:
    return shanghai_date(now_utc())
