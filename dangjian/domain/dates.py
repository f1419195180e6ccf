"""Reading dates users type: calendar dates are Shanghai dates; instants must carry a zone."""
from __future__ import annotations

import re
from datetime import date, datetime

from dangjian.clock import shanghai_date
from dangjian.errors import ValidationFailed

_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|[T ])")


def parse_shanghai_date(text: str, field: str) -> date:
    """'2026-03-15' is a Shanghai date; '2026-03-15T20:00:00+00:00' is converted to one.

    A time without a zone is refused: '2026-03-15T23:30' could be either day.
    """
    raw = text.strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    if _DATE_SHAPE.match(raw) and not _is_day(raw[:10]):   # well formed, no such day: 2026-02-30
        raise ValidationFailed(f"{field}：{raw[:10]} 不是有效日期（没有这一天）", field=field)
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{field}：无法识别的日期 “{text}”，请写成 YYYY-MM-DD", field=field) from None
    if instant.tzinfo is None:
        raise ValidationFailed(
            f"{field}：“{text}” 带有时间但没有时区，无法确定是北京时间哪一天；"
            "请只写日期（YYYY-MM-DD，按北京时间），或写明时区，如 2026-03-15T20:00+08:00",
            field=field,
        )
    return shanghai_date(instant)


def not_future(day: date, today: date, field: str = "--as-of") -> date:
    """A 截至 date must be past or present: one as of the future would mark tasks overdue or
    missed that are not due yet, and send notices early. Every command taking --as-of checks
    with this one function."""
    if day > today:
        raise ValidationFailed(f"{field} {day} 晚于今天（{today}，北京时间）：截至日期不能是未来的日期",
                               field=field.lstrip("-"))
    return day


def parse_as_of(text: str, today: date, field: str = "--as-of") -> date:
    """A typed 截至 date (see parse_shanghai_date), refused when it lies in the future."""
    return not_future(parse_shanghai_date(text, field), today, field)


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def shift_years(day: date, years: int) -> date:
    """The same day `years` later (or earlier, if negative); 29 February becomes 28 February
    in a year without it — the policy the 发展党员 process states too."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
