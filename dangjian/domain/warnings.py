"""Pure rules of chasing and warnings: grace periods in working days, days since the last
activity, the colour of a period and runs of red periods, coverage gaps.

Nothing here reads the database; the service gathers counts with set-based SQL and asks
these functions what they mean (DOMAIN.md §2.7, §5.10).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dangjian.domain.calendar import WorkCalendar
from models.chasing import WarningLevel
from rules.chasing import Chasing, ColourRule

# --- escalation ----------------------------------------------------------------------


def escalates_on(calendar: WorkCalendar, due_on: date, grace_working_days: int) -> date:
    """The day an unfinished task goes to the unit above: the first working day after
    `grace_working_days` working days have passed since the due date.

    grace 3, due Thursday 2026-04-30 (劳动节 1–5 May, Saturday 9 May a make-up workday):
    the grace days are 6, 7 and 8 May, so it escalates on Saturday 9 May.
    """
    return calendar.nth_workday_on_or_after(due_on + timedelta(days=1), grace_working_days + 1)


def escalation_cutoff(calendar: WorkCalendar, due_dates: Sequence[date], as_of: date,
                      grace_working_days: int) -> date | None:
    """The latest of `due_dates` whose tasks escalate by `as_of` (None: none do).

    `escalates_on` never decreases as the due date grows, so every task due on or before
    the cutoff escalates and none after it does: one `due_on <= cutoff` in SQL.
    """
    cutoff = None
    for due in sorted(set(due_dates)):
        if due >= as_of or escalates_on(calendar, due, grace_working_days) > as_of:
            break
        cutoff = due
    return cutoff


def working_days_late(calendar: WorkCalendar, due_on: date, as_of: date) -> int:
    """Working days strictly after the due date, up to and including `as_of`."""
    days = (as_of - due_on).days
    return sum(1 for i in range(1, days + 1) if calendar.is_workday(due_on + timedelta(days=i)))


# --- inactivity ----------------------------------------------------------------------


def days_without_activity(last_activity: date | None, counting_from: date, as_of: date) -> int:
    """Days since the last activity (of any cycle), or since `counting_from` (the cycle's
    start) when the unit has none at all. Activities after `as_of` are the caller's to exclude."""
    since = last_activity or counting_from
    return max((as_of - since).days, 0)


def inactivity_level(days: int, rules: Chasing) -> WarningLevel | None:
    if rules.inactivity_red_days is not None and days >= rules.inactivity_red_days:
        return WarningLevel.red
    if days >= rules.inactivity_days:
        return WarningLevel.yellow
    return None


# --- three colours -------------------------------------------------------------------


class Colour(StrEnum):
    green = "green"     # 绿：正常
    yellow = "yellow"   # 黄：不畅
    red = "red"         # 红：长期不开展组织生活、软弱涣散


COLOUR_LABEL = {Colour.green: "绿色", Colour.yellow: "黄色", Colour.red: "红色"}


@dataclass(frozen=True, slots=True)
class PeriodOutcome:
    """A unit's tasks due within one colour period, as they stand on the day of evaluation
    (a task done late after the period ended counts as late, not as unfinished)."""

    on_time: int = 0      # 按期完成
    late: int = 0         # 逾期完成
    unfinished: int = 0   # 到期未完成（逾期未办、被退回、期末未完成）
    activities: int = 0   # 本期内的活动记录数

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.unfinished


def _matches(rule: ColourRule, o: PeriodOutcome) -> bool:
    if rule.unfinished_at_least is not None and o.unfinished >= rule.unfinished_at_least:
        return True
    if rule.late_at_least is not None and o.late >= rule.late_at_least:
        return True
    if rule.on_time_ratio_below is not None and o.counted and o.on_time / o.counted < rule.on_time_ratio_below:
        return True
    return rule.no_activity and o.activities == 0


def colour_of(outcome: PeriodOutcome, rules: Chasing) -> Colour:
    if _matches(rules.red, outcome):
        return Colour.red
    if _matches(rules.yellow, outcome):
        return Colour.yellow
    return Colour.green


@dataclass(frozen=True, slots=True)
class ColourPeriod:
    start: date
    end: date      # inclusive
    label: str     # "2026年3月", "2026年第1季度"


def colour_periods(kind: str, start: date, end: date) -> list[ColourPeriod]:
    """Calendar months or quarters that start within [start, end] and have ended by `end`."""
    step = 3 if kind == "quarterly" else 1
    index = start.year * 12 + start.month - 1
    if start.day != 1:
        index += 1
    index += -index % step
    periods: list[ColourPeriod] = []
    while True:
        first = date(index // 12, index % 12 + 1, 1)
        nxt = index + step
        last = date(nxt // 12, nxt % 12 + 1, 1) - timedelta(days=1)
        if last > end:
            return periods
        label = (f"{first.year}年第{first.month // 3 + 1}季度" if step == 3
                 else f"{first.year}年{first.month}月")
        periods.append(ColourPeriod(first, last, label))
        index = nxt


def period_index(periods: Sequence[ColourPeriod], day: date) -> int | None:
    """Which of the consecutive, equally long `periods` holds `day` (None: outside them)."""
    if not periods or not periods[0].start <= day <= periods[-1].end:
        return None
    first = periods[0]
    step = (first.end.year - first.start.year) * 12 + first.end.month - first.start.month + 1
    return ((day.year - first.start.year) * 12 + day.month - first.start.month) // step


def run_at_end(colours: Sequence[Colour], colour: Colour = Colour.red) -> int:
    """How many periods in a row, counting back from the latest, have `colour`."""
    n = 0
    for c in reversed(colours):
        if c != colour:
            break
        n += 1
    return n


def consecutive_red_level(run: int, rules: Chasing) -> WarningLevel | None:
    county = rules.consecutive_red_periods_county
    if county is not None and run >= county:
        return WarningLevel.red
    if run >= rules.consecutive_red_periods:
        return WarningLevel.yellow
    return None


# --- coverage gaps (空白点) ----------------------------------------------------------

# Unit.attributes["org_type"] of organisations that should have a branch of their own.
ORG_TYPES = {
    "new_economic": "新经济组织",
    "new_social": "新社会组织",
    "resident_unit": "驻区单位",
}


def is_coverage_gap(full_members: int, has_own_branch: bool, rules: Chasing) -> bool:
    """应建未建: enough full members for a branch of its own, and none set up."""
    return not has_own_branch and full_members >= rules.coverage_min_full_members
