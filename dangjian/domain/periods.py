"""Periods of a duty (month, quarter, half-year, year) and their due dates.

Plain `datetime.date` arithmetic: periods and due dates are Shanghai calendar dates,
never instants. Planning calls `plan_dates` once per duty and reuses the result for
every unit (see DESIGN.md, "Periods"): the dates depend only on the duty's frequency
and due rule, the cycle span and the calendar, never on the unit.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dangjian.domain.calendar import WorkCalendar
from dangjian.errors import ValidationFailed
from rules.duties import (
    DueAtPeriodEnd,
    DueDaysAfterStart,
    DueRule,
    DueWorkingDaysAfterStart,
    Frequency,
)

_MONTHS = {
    Frequency.monthly: 1,
    Frequency.quarterly: 3,
    Frequency.half_yearly: 6,
    Frequency.yearly: 12,
}


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date   # inclusive
    label: str  # "2026年3月", "2026年第1季度", "2026年上半年", "2026年度"


def _label(frequency: Frequency, year: int, month: int) -> str:
    if frequency is Frequency.monthly:
        return f"{year}年{month}月"
    if frequency is Frequency.quarterly:
        return f"{year}年第{(month - 1) // 3 + 1}季度"
    if frequency is Frequency.half_yearly:
        return f"{year}年{'上' if month == 1 else '下'}半年"
    return f"{year}年度"


def _month_start(index: int) -> date:
    """Month index (year * 12 + month - 1) to the first day of that month."""
    return date(index // 12, index % 12 + 1, 1)


def periods_in(frequency: Frequency, start: date, end: date) -> list[Period]:
    """The calendar-aligned periods a cycle spanning [start, end] (inclusive) owes.

    Periods are aligned to the calendar: months, quarters starting January, April, July
    and October, halves starting January and July, years starting January.

    A period is owed when its *start* lies within [start, end]:
    - a cycle that starts mid-period does not owe that period: a cycle starting
      2026-02-10 owes monthly duties from March, quarterly ones from the second quarter,
      half-yearly ones from the second half, and yearly ones not at all in 2026;
    - a cycle that ends mid-period still owes the period it ends in, whole: a cycle
      ending 2026-12-15 owes December, due at its usual date after the cycle ends.
    """
    if start > end:
        raise ValidationFailed(
            f"周期开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}", field="span"
        )
    step = _MONTHS[frequency]
    index = start.year * 12 + start.month - 1
    if start.day != 1:
        index += 1
    index += -index % step  # round up to the first aligned month
    periods: list[Period] = []
    while (first := _month_start(index)) <= end:
        last = _month_start(index + step) - timedelta(days=1)
        periods.append(Period(first, last, _label(frequency, first.year, first.month)))
        index += step
    return periods


def due_date(period: Period, due: DueRule, calendar: WorkCalendar) -> date:
    """When the period's task is due, on a working day.

    - period_end: the period's last day, rolled forward to the next working day when it
      is a rest day (2026年第3季度 ends 2026-09-30, a working day, and stays there).
    - days_after_start N: the period's first day + N calendar days, rolled forward.
    - working_days_after_start N: the Nth working day of the period, counting the first
      day when it is a working day. If the period has fewer than N working days, the
      answer lies past the period's end and is still the answer: the rule says "N
      working days", and clamping would silently shorten the time a unit is given.
    """
    if isinstance(due, DueAtPeriodEnd):
        return calendar.roll_forward(period.end)
    if isinstance(due, DueDaysAfterStart):
        return calendar.roll_forward(period.start + timedelta(days=due.days))
    if isinstance(due, DueWorkingDaysAfterStart):
        return calendar.nth_workday_on_or_after(period.start, due.days)
    raise TypeError(f"unknown due rule: {due!r}")


def plan_dates(
    frequency: Frequency, due: DueRule, start: date, end: date, calendar: WorkCalendar
) -> list[tuple[Period, date]]:
    """Every owed period of [start, end] with its due date; compute once per duty, reuse per unit.

    Every year the periods touch (and, for days_after_start, every year a raw due date
    lands in) is checked first, so a missing calendar year fails with one CalendarGap
    listing all of them before any date is computed. A due date that rolls past
    31 December into an uncovered year raises CalendarGap for that year.
    """
    periods = periods_in(frequency, start, end)
    calendar.require_years(_years_touched(periods, due))
    return [(p, due_date(p, due, calendar)) for p in periods]


def _years_touched(periods: Iterable[Period], due: DueRule) -> set[int]:
    years: set[int] = set()
    for p in periods:
        years.update(range(p.start.year, p.end.year + 1))
        if isinstance(due, DueDaysAfterStart):
            years.add((p.start + timedelta(days=due.days)).year)
    return years
