"""Periods of a cycle and due dates rolled onto working days."""
from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest

from dangjian.domain.calendar import CalendarGap, WorkCalendar
from dangjian.domain.periods import Period, due_date, periods_in, plan_dates
from dangjian.errors import ValidationFailed
from rules.duties import DueAtPeriodEnd, DueDaysAfterStart, DueWorkingDaysAfterStart, Frequency

MONTHLY, QUARTERLY = Frequency.monthly, Frequency.quarterly
HALF_YEARLY, YEARLY = Frequency.half_yearly, Frequency.yearly
Y2026 = (date(2026, 1, 1), date(2026, 12, 31))
AT_END = DueAtPeriodEnd()


def days_after(n: int) -> DueDaysAfterStart:
    return DueDaysAfterStart(rule="days_after_start", days=n)


def working_days(n: int) -> DueWorkingDaysAfterStart:
    return DueWorkingDaysAfterStart(rule="working_days_after_start", days=n)


def labels(frequency: Frequency, start: date, end: date) -> list[str]:
    return [p.label for p in periods_in(frequency, start, end)]


def period(frequency: Frequency, label: str) -> Period:
    return next(p for p in periods_in(frequency, *Y2026) if p.label == label)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load()


# --- periods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "count"), [(MONTHLY, 12), (QUARTERLY, 4), (HALF_YEARLY, 2), (YEARLY, 1)]
)
def test_a_calendar_year_has_the_expected_number_of_contiguous_periods(
    frequency: Frequency, count: int
) -> None:
    periods = periods_in(frequency, *Y2026)
    assert len(periods) == count
    assert periods[0].start == date(2026, 1, 1)
    assert periods[-1].end == date(2026, 12, 31)
    for before, after in itertools.pairwise(periods):
        assert (after.start - before.end).days == 1  # no gaps, no overlaps


def test_labels_are_chinese() -> None:
    assert labels(MONTHLY, *Y2026)[:3] == ["2026年1月", "2026年2月", "2026年3月"]
    assert labels(MONTHLY, *Y2026)[-1] == "2026年12月"
    assert labels(QUARTERLY, *Y2026) == [
        "2026年第1季度", "2026年第2季度", "2026年第3季度", "2026年第4季度",
    ]
    assert labels(HALF_YEARLY, *Y2026) == ["2026年上半年", "2026年下半年"]
    assert labels(YEARLY, *Y2026) == ["2026年度"]


def test_period_bounds_follow_month_lengths() -> None:
    months = periods_in(MONTHLY, *Y2026)
    assert months[1] == Period(date(2026, 2, 1), date(2026, 2, 28), "2026年2月")
    assert months[3].end == date(2026, 4, 30)
    q3 = period(QUARTERLY, "2026年第3季度")
    assert (q3.start, q3.end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert period(HALF_YEARLY, "2026年上半年").end == date(2026, 6, 30)


def test_cycle_starting_mid_month_owes_from_the_next_whole_period() -> None:
    start, end = date(2026, 2, 10), date(2026, 12, 31)
    assert labels(MONTHLY, start, end)[0] == "2026年3月"
    assert len(labels(MONTHLY, start, end)) == 10
    assert labels(QUARTERLY, start, end)[0] == "2026年第2季度"
    assert labels(HALF_YEARLY, start, end) == ["2026年下半年"]
    assert labels(YEARLY, start, end) == []


def test_cycle_starting_on_a_period_start_owes_that_period() -> None:
    assert labels(QUARTERLY, date(2026, 4, 1), date(2026, 12, 31))[0] == "2026年第2季度"


def test_cycle_ending_mid_period_still_owes_the_whole_period_it_ends_in() -> None:
    months = periods_in(MONTHLY, date(2026, 1, 1), date(2026, 12, 15))
    assert months[-1] == Period(date(2026, 12, 1), date(2026, 12, 31), "2026年12月")


def test_cycle_spanning_two_years_labels_each_year() -> None:
    assert labels(QUARTERLY, date(2025, 7, 1), date(2026, 6, 30)) == [
        "2025年第3季度", "2025年第4季度", "2026年第1季度", "2026年第2季度",
    ]


def test_cycle_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="晚于结束日期"):
        periods_in(MONTHLY, date(2026, 12, 31), date(2026, 1, 1))


# --- due dates -------------------------------------------------------------------------


def test_period_end_on_a_rest_day_rolls_to_the_next_working_day(cal: WorkCalendar) -> None:
    # 2026-01-31 is a Saturday, 2026-05-31 a Sunday, 2026-06-30 a Tuesday.
    assert due_date(period(MONTHLY, "2026年1月"), AT_END, cal) == date(2026, 2, 2)
    assert due_date(period(MONTHLY, "2026年5月"), AT_END, cal) == date(2026, 6, 1)
    assert due_date(period(HALF_YEARLY, "2026年上半年"), AT_END, cal) == date(2026, 6, 30)


def test_quarter_ending_on_a_working_day_stays(cal: WorkCalendar) -> None:
    assert due_date(period(QUARTERLY, "2026年第3季度"), AT_END, cal) == date(2026, 9, 30)
    q4 = period(QUARTERLY, "2026年第4季度")
    assert q4.end == date(2026, 12, 31) and q4.end.weekday() == 3  # a Thursday
    assert due_date(q4, AT_END, cal) == date(2026, 12, 31)


def test_days_after_start_landing_on_national_day_rolls_past_it(cal: WorkCalendar) -> None:
    assert due_date(period(QUARTERLY, "2026年第4季度"), days_after(0), cal) == date(2026, 10, 8)


def test_days_after_start_counts_calendar_days_across_month_ends(cal: WorkCalendar) -> None:
    # 01-01 + 30 = 01-31, a Saturday → Monday 02-02.
    assert due_date(period(MONTHLY, "2026年1月"), days_after(30), cal) == date(2026, 2, 2)
    # 02-01 + 30 = 03-03 (a Tuesday), past the end of the 28-day month.
    assert due_date(period(MONTHLY, "2026年2月"), days_after(30), cal) == date(2026, 3, 3)
    # 12-01 + 30 = 12-31 (a Thursday).
    assert due_date(period(MONTHLY, "2026年12月"), days_after(30), cal) == date(2026, 12, 31)


def test_working_days_after_start_skip_the_spring_festival_break(cal: WorkCalendar) -> None:
    # February 2026 works 2–6, 9–13 and Saturday 14 (调休); rests 15–23 (春节);
    # works 24–27 and Saturday 28 (调休).
    february = period(MONTHLY, "2026年2月")
    assert due_date(february, working_days(1), cal) == date(2026, 2, 2)  # 2-01 is a Sunday
    assert due_date(february, working_days(10), cal) == date(2026, 2, 13)
    assert due_date(february, working_days(11), cal) == date(2026, 2, 14)
    assert due_date(february, working_days(12), cal) == date(2026, 2, 24)
    assert due_date(february, working_days(16), cal) == date(2026, 2, 28)


def test_working_days_after_start_past_the_period_end_is_still_the_answer(
    cal: WorkCalendar,
) -> None:
    assert due_date(period(MONTHLY, "2026年2月"), working_days(17), cal) == date(2026, 3, 2)


def test_working_days_after_start_counts_a_working_first_day(cal: WorkCalendar) -> None:
    q2 = period(QUARTERLY, "2026年第2季度")  # 2026-04-01 is a Wednesday
    assert due_date(q2, working_days(1), cal) == date(2026, 4, 1)
    # 4-01, 4-02, 4-03, then 清明 4-04..06: the 4th working day is 4-07.
    assert due_date(q2, working_days(4), cal) == date(2026, 4, 7)


# --- plan_dates ---------------------------------------------------------------------------


def test_plan_dates_pairs_every_period_with_its_due_date(cal: WorkCalendar) -> None:
    plan = plan_dates(QUARTERLY, AT_END, *Y2026, cal)
    assert [(p.label, d) for p, d in plan] == [
        ("2026年第1季度", date(2026, 3, 31)),
        ("2026年第2季度", date(2026, 6, 30)),
        ("2026年第3季度", date(2026, 9, 30)),
        ("2026年第4季度", date(2026, 12, 31)),
    ]


def test_plan_dates_for_a_2027_cycle_fails_up_front_naming_the_file(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarGap, match="2027.yaml"):
        plan_dates(MONTHLY, AT_END, date(2027, 1, 1), date(2027, 12, 31), cal)


def test_plan_dates_lists_every_missing_year_at_once(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarGap) as info:
        plan_dates(YEARLY, AT_END, date(2027, 1, 1), date(2028, 12, 31), cal)
    assert "2027年、2028年" in str(info.value)


def test_plan_dates_checks_the_year_a_days_after_start_due_date_lands_in(
    cal: WorkCalendar,
) -> None:
    with pytest.raises(CalendarGap, match="2027"):
        plan_dates(MONTHLY, days_after(40), date(2026, 12, 1), date(2026, 12, 31), cal)


def test_plan_dates_for_2027_works_with_an_override_file(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text(
        "year: 2027\nsource: 测试用\nholidays: [2027-01-01, 2027-10-01]\nworkdays: []\n",
        encoding="utf-8",
    )
    cal = WorkCalendar.load([tmp_path])
    plan = plan_dates(QUARTERLY, AT_END, date(2027, 1, 1), date(2027, 12, 31), cal)
    # 2027-03-31 Wed, 06-30 Wed, 09-30 Thu, 12-31 Fri: all working days.
    assert [d for _, d in plan] == [
        date(2027, 3, 31), date(2027, 6, 30), date(2027, 9, 30), date(2027, 12, 31),
    ]
