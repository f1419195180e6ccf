"""Periods of a duty and their due dates.

Plain `datetime.date` arithmetic: periods and due dates are Shanghai calendar dates,
never instants. Planning calls `plan_dates` once per duty and reuses the result for
every unit (see DESIGN.md, "Periods"): the dates depend only on the duty's frequency
and due rule, the cycle span and the calendar, never on the unit.

Frequencies (rules.duties):
- month-based (`monthly` … `yearly`, `{every: …, interval: N}`): periods of N months laid
  end to end from January of the cycle's first year, so months, quarters, halves and
  years are calendar-aligned;
- `{rrule: …}`: each occurrence starts a period that ends the day before the next one.
A fixed day (`{every: month, day: 15}`, `{…, week: 1, weekday: 5}`) is carried by the
duty's due rule (rules.duties.Duty fills it in); a window (一般安排在第四季度) is shown in
the period label and consulted by `outside_window`.
"""
from __future__ import annotations

import calendar as month_lengths
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dangjian.domain.calendar import WorkCalendar
from dangjian.errors import ValidationFailed
from rules.duties import (
    MONTHS_OF,
    WEEKDAY_NAMES,
    DueAtPeriodEnd,
    DueDayOfMonth,
    DueDaysAfterStart,
    DueNthWeekday,
    DueRule,
    DueWorkingDaysAfterStart,
    Frequency,
    Recurrence,
    Schedule,
    Window,
)

FrequencyLike = Frequency | Schedule | Recurrence
MAX_PERIODS = 1000   # an rrule that opens more periods than this in one cycle is a mistake


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date   # inclusive
    label: str  # "2026年3月", "2026年第1季度", "2026年上半年", "2026年度", "2026年1—2月" …


def window_of(frequency: FrequencyLike) -> Window | None:
    return frequency.window if isinstance(frequency, Schedule) else None


def outside_window(frequency: FrequencyLike, held_on: date) -> str | None:
    """None when the duty has no window or `held_on` lies in it; otherwise the window's
    `outside` policy: "counts", "late" or "refused"."""
    window = window_of(frequency)
    if window is None or window.contains(held_on):
        return None
    return window.outside


def window_problem(duty_name: str, frequency: FrequencyLike, held_on: date) -> list[str]:
    """The refusal to show when the rule set says a meeting outside its window does not count."""
    window = window_of(frequency)
    if window is None or outside_window(frequency, held_on) != "refused":
        return []
    months = f"{window.from_month}月至{window.to_month}月"
    return [f"{duty_name}须在{window.text}（{months}）召开，召开日期 {held_on} 不在其内，按规则不予计入"]


def _month_start(index: int) -> date:
    """Month index (year * 12 + month - 1) to the first day of that month."""
    return date(index // 12, index % 12 + 1, 1)


def _label(step: int, first: date, last: date) -> str:
    y, m = first.year, first.month
    if step == 1:
        return f"{y}年{m}月"
    if step == 3 and m % 3 == 1:
        return f"{y}年第{(m - 1) // 3 + 1}季度"
    if step == 6 and m in (1, 7):
        return f"{y}年{'上' if m == 1 else '下'}半年"
    if step == 12 and m == 1:
        return f"{y}年度"
    if step % 12 == 0 and m == 1:
        return f"{y}—{last.year}年"
    if last.year == y:
        return f"{y}年{m}—{last.month}月"
    return f"{y}年{m}月—{last.year}年{last.month}月"


def _day_label(first: date, last: date) -> str:
    head = f"{first.year}年{first.month}月{first.day}日"
    if first == last:
        return head
    tail = f"{last.month}月{last.day}日"
    if last.year != first.year:
        tail = f"{last.year}年{tail}"
    return f"{head}—{tail}"


def periods_in(frequency: FrequencyLike, start: date, end: date) -> list[Period]:
    """The periods a cycle spanning [start, end] (inclusive) owes.

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
    if isinstance(frequency, Recurrence):
        return _occurrence_periods(frequency, start, end)
    step = frequency.months if isinstance(frequency, Schedule) else MONTHS_OF[frequency]
    window = window_of(frequency)
    suffix = f"（一般安排在{window.text}）" if window else ""
    anchor = start.year * 12                     # January of the cycle's first year
    index = start.year * 12 + start.month - 1
    if start.day != 1:
        index += 1
    index += -(index - anchor) % step            # round up to the first aligned month
    periods: list[Period] = []
    while (first := _month_start(index)) <= end:
        last = _month_start(index + step) - timedelta(days=1)
        periods.append(Period(first, last, _label(step, first, last) + suffix))
        index += step
    return periods


def _occurrence_periods(recurrence: Recurrence, start: date, end: date) -> list[Period]:
    from dateutil.rrule import rrulestr

    midnight = time()
    dtstart = datetime.combine(recurrence.start or date(start.year, 1, 1), midnight)
    rule = rrulestr(recurrence.body, dtstart=dtstart)
    starts: list[date] = []
    for occurrence in rule.xafter(datetime.combine(start, midnight), inc=True):
        if occurrence.date() > end:
            break
        starts.append(occurrence.date())
        if len(starts) > MAX_PERIODS:
            raise ValidationFailed(
                f"rrule {recurrence.body} 在 {start} 至 {end} 内超过 {MAX_PERIODS} 期，请检查规则",
                field="frequency",
            )
    if not starts:
        return []
    following = rule.after(datetime.combine(starts[-1], midnight))
    bounds = [*starts[1:], following.date() if following else max(starts[-1], end) + timedelta(days=1)]
    periods = []
    for first, next_start in zip(starts, bounds):
        last = next_start - timedelta(days=1)
        periods.append(Period(first, last, _day_label(first, last)))
    return periods


def _nth_weekday(period: Period, week: int, weekday: int) -> date:
    wanted = weekday - 1                          # date.weekday(): Monday is 0
    if week > 0:
        day = period.start + timedelta(days=(wanted - period.start.weekday()) % 7 + 7 * (week - 1))
        ok = day <= period.end
    else:
        day = period.end - timedelta(days=(period.end.weekday() - wanted) % 7)
        ok = day >= period.start
    if not ok:
        nth = "最后一个" if week < 0 else f"第{week}个"
        raise ValidationFailed(
            f"{period.label}（{period.start} 至 {period.end}）中没有{nth}星期{WEEKDAY_NAMES[wanted]}",
            field="due",
        )
    return day


def _day_of_month(period: Period, day: int) -> date:
    year, month = period.start.year, period.start.month
    while True:
        found = date(year, month, min(day, month_lengths.monthrange(year, month)[1]))
        if found >= period.start:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def raw_due(period: Period, due: DueRule) -> date | None:
    """The due date before rolling off rest days; None for working_days_after_start,
    which counts working days and so needs the calendar."""
    if isinstance(due, DueAtPeriodEnd):
        return period.end
    if isinstance(due, DueDaysAfterStart):
        return period.start + timedelta(days=due.days)
    if isinstance(due, DueNthWeekday):
        return _nth_weekday(period, due.week, due.weekday)
    if isinstance(due, DueDayOfMonth):
        return _day_of_month(period, due.day)
    if isinstance(due, DueWorkingDaysAfterStart):
        return None
    raise TypeError(f"unknown due rule: {due!r}")


def due_date(period: Period, due: DueRule, calendar: WorkCalendar) -> date:
    """When the period's task is due, on a working day.

    - period_end: the period's last day, rolled forward to the next working day when it
      is a rest day (2026年第3季度 ends 2026-09-30, a working day, and stays there).
    - days_after_start N: the period's first day + N calendar days, rolled forward.
    - nth_weekday: the period's Nth given weekday (or the last), rolled forward: the
      first Friday of October 2026 is 10-02, inside the National Day break → 10-08.
    - day_of_month D: day D of the period's first month (its last day when shorter),
      rolled forward: 2026-02-15 (春节) → 02-24; the make-up Saturday 02-14 stays.
    - working_days_after_start N: the Nth working day of the period, counting the first
      day when it is a working day. If the period has fewer than N working days, the
      answer lies past the period's end and is still the answer: the rule says "N
      working days", and clamping would silently shorten the time a unit is given.
    """
    if isinstance(due, DueWorkingDaysAfterStart):
        return calendar.nth_workday_on_or_after(period.start, due.days)
    raw = raw_due(period, due)
    assert raw is not None
    return calendar.roll_forward(raw)


def plan_dates(
    frequency: FrequencyLike, due: DueRule, start: date, end: date, calendar: WorkCalendar
) -> list[tuple[Period, date]]:
    """Every owed period of [start, end] with its due date; compute once per duty, reuse per unit.

    Every year a period starts in or a raw due date lands in is checked first, so a
    missing calendar year fails with one CalendarGap listing all of them before any
    date is computed. A due date that rolls past 31 December into an
    uncovered year raises CalendarGap for that year.
    """
    periods = periods_in(frequency, start, end)
    calendar.require_years(years_touched(periods, due))
    return [(p, due_date(p, due, calendar)) for p in periods]


def years_touched(periods: Iterable[Period], due: DueRule) -> set[int]:
    """The calendar years needed to date these periods (planning checks all duties at once):
    the year each period starts in (working days are counted from there) and the year
    each raw due date falls in. A period that runs on into a year nobody has dated a
    due in needs no holidays for it."""
    years: set[int] = set()
    for p in periods:
        years.add(p.start.year)
        raw = raw_due(p, due)
        if raw is not None:
            years.add(raw.year)
    return years
