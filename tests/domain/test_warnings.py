"""The pure rules of chasing: grace in working days, inactivity, three colours, coverage gaps."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from dangjian.domain.warnings import (
    Colour,
    PeriodOutcome,
    colour_of,
    colour_periods,
    consecutive_red_level,
    days_without_activity,
    escalates_on,
    escalation_cutoff,
    inactivity_level,
    is_coverage_gap,
    period_index,
    run_at_end,
    working_days_late,
)
from dangjian.services.planning import work_calendar
from models import WarningLevel
from rules.chasing import Chasing, ColourRule

CAL = work_calendar()
DEFAULTS = Chasing()
R, Y, G = Colour.red, Colour.yellow, Colour.green


def test_the_grace_period_counts_working_days_across_labour_day():
    # Due Thursday 30 April; 1–5 May off; Saturday 9 May is a make-up working day.
    assert escalates_on(CAL, date(2026, 4, 30), 3) == date(2026, 5, 9)
    assert escalates_on(CAL, date(2026, 4, 30), 0) == date(2026, 5, 6)
    # Without a holiday the same grace ends after three ordinary weekdays.
    assert escalates_on(CAL, date(2026, 6, 1), 3) == date(2026, 6, 5)


def test_working_days_late_skip_holidays_and_count_make_up_days():
    assert working_days_late(CAL, date(2026, 4, 30), date(2026, 5, 5)) == 0
    assert working_days_late(CAL, date(2026, 4, 30), date(2026, 5, 9)) == 4
    assert working_days_late(CAL, date(2026, 4, 30), date(2026, 4, 30)) == 0


def test_the_escalation_cutoff_is_the_latest_due_date_past_its_grace():
    dues = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 4, 28)]
    assert escalation_cutoff(CAL, dues, date(2026, 5, 8), 3) == date(2026, 4, 28)
    assert escalation_cutoff(CAL, dues, date(2026, 5, 9), 3) == date(2026, 4, 30)
    assert escalation_cutoff(CAL, dues, date(2026, 4, 1), 3) is None
    assert escalation_cutoff(CAL, [], date(2026, 5, 9), 3) is None


def test_days_without_activity_count_from_the_last_one_or_the_cycle_start():
    assert days_without_activity(date(2026, 3, 10), date(2026, 1, 1), date(2026, 4, 9)) == 30
    assert days_without_activity(None, date(2026, 1, 1), date(2026, 1, 31)) == 30
    assert days_without_activity(date(2025, 12, 20), date(2026, 1, 1), date(2026, 1, 19)) == 30


def test_thirty_days_without_activity_is_yellow_and_ninety_red_unless_red_is_switched_off():
    assert inactivity_level(29, DEFAULTS) is None
    assert inactivity_level(30, DEFAULTS) == WarningLevel.yellow
    assert inactivity_level(90, DEFAULTS) == WarningLevel.red
    assert inactivity_level(400, Chasing(inactivity_red_days=None)) == WarningLevel.yellow


def test_a_period_is_red_yellow_or_green_by_the_rule_sets_definitions():
    assert colour_of(PeriodOutcome(on_time=2, unfinished=2), DEFAULTS) == R
    assert colour_of(PeriodOutcome(on_time=3, unfinished=1), DEFAULTS) == Y
    assert colour_of(PeriodOutcome(on_time=3, late=1), DEFAULTS) == Y
    assert colour_of(PeriodOutcome(on_time=4), DEFAULTS) == G
    assert colour_of(PeriodOutcome(), DEFAULTS) == G
    strict = Chasing(red=ColourRule(on_time_ratio_below=0.5, no_activity=True),
                     yellow=ColourRule(on_time_ratio_below=0.8))
    assert colour_of(PeriodOutcome(on_time=1, unfinished=2, activities=3), strict) == R
    assert colour_of(PeriodOutcome(on_time=3, unfinished=1, activities=3), strict) == Y
    assert colour_of(PeriodOutcome(on_time=0, activities=0), strict) == R


def test_red_twice_in_a_row_warns_the_street_and_three_times_the_county():
    assert run_at_end([R, R, G, R, R]) == 2
    assert run_at_end([R, R, R]) == 3
    assert run_at_end([R, Y]) == 0 and run_at_end([]) == 0
    assert consecutive_red_level(1, DEFAULTS) is None
    assert consecutive_red_level(2, DEFAULTS) == WarningLevel.yellow
    assert consecutive_red_level(3, DEFAULTS) == WarningLevel.red
    assert consecutive_red_level(9, Chasing(consecutive_red_periods_county=None)) == WarningLevel.yellow


def test_colour_periods_are_whole_ended_months_or_quarters():
    months = colour_periods("monthly", date(2026, 1, 1), date(2026, 3, 30))
    assert [p.label for p in months] == ["2026年1月", "2026年2月"]
    quarters = colour_periods("quarterly", date(2026, 2, 10), date(2026, 12, 31))
    assert [p.label for p in quarters] == ["2026年第2季度", "2026年第3季度", "2026年第4季度"]
    assert period_index(quarters, date(2026, 8, 31)) == 1
    assert period_index(quarters, date(2026, 3, 31)) is None
    assert period_index(months, date(2026, 2, 28)) == 1


def test_three_full_members_without_a_branch_of_their_own_is_a_coverage_gap():
    assert is_coverage_gap(3, False, DEFAULTS)
    assert not is_coverage_gap(2, False, DEFAULTS)
    assert not is_coverage_gap(12, True, DEFAULTS)


def test_chasing_thresholds_must_rise_and_colours_need_a_condition():
    with pytest.raises(ValidationError, match="inactivity_red_days"):
        Chasing(inactivity_days=30, inactivity_red_days=30)
    with pytest.raises(ValidationError, match="consecutive_red_periods_county"):
        Chasing(consecutive_red_periods=3, consecutive_red_periods_county=3)
    with pytest.raises(ValidationError, match="评色条件至少写一项"):
        ColourRule()
