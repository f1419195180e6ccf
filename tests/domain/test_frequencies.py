"""Frequencies and due rules written as rule-set data: every form, its periods, its due dates."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from dangjian.domain.calendar import CalendarGap, WorkCalendar
from dangjian.domain.periods import due_date, outside_window, periods_in, plan_dates
from dangjian.errors import ValidationFailed
from models import MemberStatus
from rules.duties import (
    Applicability,
    DueDayOfMonth,
    DueNthWeekday,
    Duty,
    Frequency,
    MemberApplicability,
    Recurrence,
    Schedule,
)

Y2026 = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load()


def duty(**fields: Any) -> Duty:
    """A duty as the loader would read it from YAML."""
    return Duty.model_validate({"code": "d", "name": "测试职责", "applies_to": {"kind": "branch"},
                                "frequency": "monthly", **fields})


def labels(frequency: Any, start: date = Y2026[0], end: date = Y2026[1]) -> list[str]:
    return [p.label for p in periods_in(frequency, start, end)]


def due_dates(d: Duty, cal: WorkCalendar, start: date = Y2026[0],
              end: date = Y2026[1]) -> dict[str, date]:
    return {p.label: due for p, due in plan_dates(d.frequency, d.due, start, end, cal)}


# --- the existing string forms keep working ------------------------------------------


@pytest.mark.parametrize("name", ["monthly", "quarterly", "half_yearly", "yearly"])
def test_string_form_reads_as_before(name: str) -> None:
    assert duty(frequency=name).frequency == Frequency(name)


@pytest.mark.parametrize(("name", "every"), [
    ("monthly", "month"), ("quarterly", "quarter"), ("half_yearly", "half_year"), ("yearly", "year"),
])
def test_mapping_form_without_extras_plans_the_same_periods_as_the_string(name: str, every: str) -> None:
    assert periods_in(duty(frequency={"every": every}).frequency, *Y2026) == \
        periods_in(Frequency(name), *Y2026)


# --- every N months -------------------------------------------------------------------


def test_every_two_months_makes_six_contiguous_periods_from_january() -> None:
    periods = periods_in(duty(frequency={"every": "month", "interval": 2}).frequency, *Y2026)
    assert [p.label for p in periods] == [
        "2026年1—2月", "2026年3—4月", "2026年5—6月", "2026年7—8月", "2026年9—10月", "2026年11—12月",
    ]
    assert periods[0].end == date(2026, 2, 28) and periods[-1].end == date(2026, 12, 31)


def test_every_three_months_is_labelled_as_quarters() -> None:
    assert labels(duty(frequency={"every": "month", "interval": 3}).frequency) == \
        labels(Frequency.quarterly)


def test_every_five_months_counts_from_january_of_the_first_year_and_crosses_years() -> None:
    frequency = duty(frequency={"every": "month", "interval": 5}).frequency
    assert labels(frequency, date(2026, 1, 1), date(2027, 12, 31)) == [
        "2026年1—5月", "2026年6—10月", "2026年11月—2027年3月", "2027年4—8月", "2027年9月—2028年1月",
    ]
    # A cycle starting in March owes from the next aligned period, June.
    assert labels(frequency, date(2026, 3, 1), date(2026, 12, 31))[0] == "2026年6—10月"


def test_every_five_years_is_one_period_labelled_with_both_years() -> None:
    frequency = duty(frequency={"every": "year", "interval": 5}).frequency
    (only,) = periods_in(frequency, *Y2026)
    assert (only.label, only.end) == ("2026—2030年", date(2030, 12, 31))


def test_periods_longer_than_five_years_are_refused() -> None:
    with pytest.raises(ValidationError, match="最长5年"):
        duty(frequency={"every": "year", "interval": 6})


# --- a fixed day each month ---------------------------------------------------------------


def test_a_fixed_day_each_month_is_the_due_date(cal: WorkCalendar) -> None:
    d = duty(frequency={"every": "month", "day": 15})
    assert d.due == DueDayOfMonth(rule="day_of_month", day=15)
    due = due_dates(d, cal)
    assert due["2026年3月"] == date(2026, 3, 16)    # 3-15 is a Sunday
    assert due["2026年2月"] == date(2026, 2, 24)    # 2-15 is in the 春节 break (2-15 … 2-23)
    assert due["2026年4月"] == date(2026, 4, 15)    # a Wednesday


def test_the_make_up_saturday_before_the_spring_festival_is_a_working_day(cal: WorkCalendar) -> None:
    assert due_dates(duty(frequency={"every": "month", "day": 14}), cal)["2026年2月"] == date(2026, 2, 14)


def test_a_day_past_the_months_end_means_its_last_day(cal: WorkCalendar) -> None:
    due = due_dates(duty(frequency={"every": "month", "day": 31}), cal)
    assert due["2026年2月"] == date(2026, 2, 28)    # a make-up Saturday: stays
    assert due["2026年4月"] == date(2026, 4, 30)
    assert due["2026年5月"] == date(2026, 6, 1)     # 5-31 is a Sunday


def test_first_friday_of_each_month(cal: WorkCalendar) -> None:
    """每月第一周的周五: the month's first Friday, moved off holidays."""
    d = duty(frequency={"every": "month", "week": 1, "weekday": "周五"})
    assert d.due == DueNthWeekday(rule="nth_weekday", week=1, weekday=5)
    due = due_dates(d, cal)
    assert due["2026年3月"] == date(2026, 3, 6)
    assert due["2026年10月"] == date(2026, 10, 8)   # 10-02 is in the National Day break
    assert due["2026年1月"] == date(2026, 1, 4)     # 1-02 is 元旦; Sunday 1-04 is a make-up workday


def test_last_friday_of_each_month(cal: WorkCalendar) -> None:
    due = due_dates(duty(frequency={"every": "month", "week": -1, "weekday": 5}), cal)
    assert due["2026年12月"] == date(2026, 12, 25)
    assert due["2026年7月"] == date(2026, 7, 31)


def test_weekday_accepts_chinese_names_and_numbers() -> None:
    assert Schedule(every="month", week=2, weekday="星期一").weekday == 1   # type: ignore[arg-type]
    assert Schedule(every="month", week=2, weekday="周日").weekday == 7     # type: ignore[arg-type]
    assert Schedule(every="month", week=2, weekday=3).weekday == 3


def test_a_fixed_day_and_an_explicit_due_rule_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="就是到期日，不能再写 due"):
        duty(frequency={"every": "month", "day": 15}, due={"rule": "period_end"})


@pytest.mark.parametrize(("frequency", "message"), [
    ({"every": "month", "week": 1}, "week 和 weekday 要一起写"),
    ({"every": "month", "day": 3, "week": 1, "weekday": 5}, "只能写一种"),
    ({"every": "month", "week": 0, "weekday": 5}, "1–4"),
    ({"every": "month", "week": 1, "weekday": "周八"}, "周一…周日"),
])
def test_inconsistent_fixed_days_are_refused(frequency: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        duty(frequency=frequency)


# --- the Nth weekday of any period as a due rule -----------------------------------------


def test_nth_weekday_of_a_quarter(cal: WorkCalendar) -> None:
    d = duty(frequency="quarterly", due={"rule": "nth_weekday", "week": 2, "weekday": 1})
    due = due_dates(d, cal)
    assert due["2026年第1季度"] == date(2026, 1, 12)
    assert due["2026年第4季度"] == date(2026, 10, 12)  # first Monday 10-05 is a holiday, second 10-12


def test_day_of_month_of_a_quarter_is_in_its_first_month(cal: WorkCalendar) -> None:
    d = duty(frequency="quarterly", due={"rule": "day_of_month", "day": 15})
    assert due_dates(d, cal)["2026年第3季度"] == date(2026, 7, 15)


# --- once a year, normally in Q4 ------------------------------------------------------


def organization_life_meeting(outside: str = "counts") -> Duty:
    return duty(frequency={"every": "year",
                           "window": {"from_month": 10, "to_month": 12, "outside": outside}},
                due={"rule": "period_end"})


def test_a_yearly_duty_with_a_q4_window_owes_one_period_labelled_with_its_window(
    cal: WorkCalendar,
) -> None:
    d = organization_life_meeting()
    ((period, due),) = plan_dates(d.frequency, d.due, *Y2026, cal)
    assert (period.start, period.end, due) == (date(2026, 1, 1), date(2026, 12, 31), date(2026, 12, 31))
    assert period.label == "2026年度（一般安排在第四季度）"


def test_a_window_can_be_named_in_the_rule_set() -> None:
    d = duty(frequency={"every": "year", "window": {"from_month": 11, "to_month": 12, "name": "年底前两个月"}})
    assert labels(d.frequency) == ["2026年度（一般安排在年底前两个月）"]
    d = duty(frequency={"every": "year", "window": {"from_month": 9, "to_month": 11}})
    assert labels(d.frequency) == ["2026年度（一般安排在9月至11月）"]


def test_held_outside_the_window_still_counts_unless_the_rule_set_says_otherwise() -> None:
    assert outside_window(organization_life_meeting().frequency, date(2026, 11, 20)) is None
    assert outside_window(organization_life_meeting().frequency, date(2026, 6, 20)) == "counts"
    assert outside_window(organization_life_meeting("late").frequency, date(2026, 6, 20)) == "late"
    assert outside_window(organization_life_meeting("refused").frequency, date(2026, 6, 20)) == "refused"
    assert outside_window(Frequency.yearly, date(2026, 6, 20)) is None


def test_a_window_only_fits_a_yearly_duty() -> None:
    with pytest.raises(ValidationError, match="只能用于每年一次"):
        duty(frequency={"every": "quarter", "window": {"from_month": 1, "to_month": 2}})
    with pytest.raises(ValidationError, match="不能晚于"):
        duty(frequency={"every": "year", "window": {"from_month": 12, "to_month": 10}})


# --- RRULE for anything else ----------------------------------------------------------------


def test_a_weekly_rrule_starts_a_period_at_each_occurrence(cal: WorkCalendar) -> None:
    d = duty(frequency={"rrule": "FREQ=WEEKLY;BYDAY=MO"})
    assert isinstance(d.frequency, Recurrence)
    plan = plan_dates(d.frequency, d.due, date(2026, 1, 1), date(2026, 1, 31), cal)
    assert [p.label for p, _ in plan] == [
        "2026年1月5日—1月11日", "2026年1月12日—1月18日", "2026年1月19日—1月25日",
        "2026年1月26日—2月1日",
    ]
    # Due at the period's end, a Sunday, rolled to Monday.
    assert plan[0][1] == date(2026, 1, 12)


def test_an_rrule_can_say_what_the_mapping_forms_cannot(cal: WorkCalendar) -> None:
    """党课 in March, June, September and December only, each due on the occurrence day."""
    d = duty(frequency={"rrule": "RRULE:FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=20"},
             due={"rule": "days_after_start", "days": 0})
    plan = plan_dates(d.frequency, d.due, *Y2026, cal)
    assert [(p.start, due) for p, due in plan] == [
        (date(2026, 3, 20), date(2026, 3, 20)), (date(2026, 6, 20), date(2026, 6, 22)),
        (date(2026, 9, 20), date(2026, 9, 20)),   # a make-up Sunday
        (date(2026, 12, 20), date(2026, 12, 21)),
    ]
    assert plan[0][0].end == date(2026, 6, 19)
    assert plan[-1][0].end == date(2027, 3, 19)  # runs to the day before the next occurrence


def test_an_rrule_counts_from_its_start_and_stops_at_its_count() -> None:
    frequency = duty(frequency={"rrule": "FREQ=MONTHLY;INTERVAL=2;COUNT=3",
                                "start": "2026-02-10"}).frequency
    periods = periods_in(frequency, *Y2026)
    assert [(p.start, p.end) for p in periods] == [
        (date(2026, 2, 10), date(2026, 4, 9)), (date(2026, 4, 10), date(2026, 6, 9)),
        (date(2026, 6, 10), date(2026, 12, 31)),   # no next occurrence: runs to the cycle end
    ]


@pytest.mark.parametrize(("rrule", "message"), [
    ("FREQ=WEEKLY;BYDAY=XX", "无法解析"),
    ("FREQ=HOURLY", "不能含 HOURLY"),
    ("DTSTART:20260101\nRRULE:FREQ=DAILY", "起始日写在 start 中"),
])
def test_bad_rrules_are_refused_when_the_rule_set_loads(rrule: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        duty(frequency={"rrule": rrule})


def test_an_nth_weekday_missing_from_a_short_period_is_reported(cal: WorkCalendar) -> None:
    d = duty(frequency={"rrule": "FREQ=WEEKLY;BYDAY=MO"},
             due={"rule": "nth_weekday", "week": 2, "weekday": 5})
    with pytest.raises(ValidationFailed, match="没有第2个星期五"):
        plan_dates(d.frequency, d.due, *Y2026, cal)


# --- calendar and applicability ------------------------------------------------------------


def test_new_forms_check_the_holiday_calendar_before_computing_anything(cal: WorkCalendar) -> None:
    d = duty(frequency={"every": "month", "day": 15})
    with pytest.raises(CalendarGap, match="2027.yaml"):
        plan_dates(d.frequency, d.due, date(2027, 1, 1), date(2027, 12, 31), cal)


def test_due_date_of_a_period_is_the_same_whatever_the_form(cal: WorkCalendar) -> None:
    february = periods_in(Frequency.monthly, *Y2026)[1]
    assert due_date(february, DueDayOfMonth(rule="day_of_month", day=15), cal) == date(2026, 2, 24)
    assert due_date(february, DueNthWeekday(rule="nth_weekday", week=2, weekday=6), cal) == \
        date(2026, 2, 14)   # the second Saturday, a make-up workday


def test_unit_applicability_keeps_its_short_form() -> None:
    rule = duty(applies_to={"kind": "branch", "has_committee": True}).applies_to
    assert isinstance(rule, Applicability) and rule.subject == "unit" and rule.has_committee


def test_member_applicability_defaults_to_probationary_and_full_members() -> None:
    d = duty(applies_to={"subject": "member"})
    assert isinstance(d.applies_to, MemberApplicability) and d.for_members
    assert d.applies_to.status == (MemberStatus.probationary, MemberStatus.full)
    assert d.applies_to.category is None


def test_member_applicability_refuses_unit_fields_and_unknown_subjects() -> None:
    with pytest.raises(ValidationError, match="kind"):
        duty(applies_to={"subject": "member", "kind": "branch"})
    with pytest.raises(ValidationError, match="subject 只能是 unit"):
        duty(applies_to={"subject": "members"})


# --- mistakes in a rule file: Chinese messages at file:line:column --------------------------


def issues_in(old: str, new: str) -> list[str]:
    from rules.loader import RuleSetError, load_rule_set_text
    from tests.rules.texts import edit

    with pytest.raises(RuleSetError) as caught:
        load_rule_set_text(edit(old, new), "t.yaml")
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize(("new", "expected"), [
    ("frequency: weekly",
     "t.yaml:9:16: frequency：取值 'weekly' 无效，可选：monthly、quarterly、half_yearly、yearly"),
    ("frequency: {every: mnth}",
     "t.yaml:9:24: every：取值 'mnth' 无效，可选：month、quarter、half_year、year"),
    ("frequency: {every: month, day: 32}", "t.yaml:9:36: day：应不大于 31，实际为 32"),
    ("frequency: {every: month, week: 0, weekday: 5}",
     "t.yaml:9:37: week：应取 1–4（第几个），或 -1（最后一个）"),
    ("frequency: {every: month, week: 1, weekday: 周八}",
     "t.yaml:9:49: weekday：星期应写 1–7（1 为星期一）或 周一…周日，实际为 '周八'"),
    ("frequency: {every: month, dya: 3}",
     "t.yaml:9:31: 未知的键 dya（可用的键：every、interval、day、week、weekday、window）"),
    ("frequency: {every: year, window: {from_month: 13, to_month: 12}}",
     "t.yaml:9:51: from_month：应不大于 12，实际为 13"),
    ("frequency: {every: year, window: {from_month: 10, to_month: 12, outside: never}}",
     "t.yaml:9:78: outside：取值 'never' 无效，可选：counts、late、refused"),
    ("frequency: {rrule: 'FREQ=HOURLY'}",
     "t.yaml:9:16: frequency：rrule 不能含 HOURLY：只按日期排期；起始日写在 start 中"),
    ("frequency: 5",
     ("t.yaml:9:16: frequency：应为 monthly、quarterly、half_yearly、yearly，或映射"
      "（如 {every: month, day: 15}、{rrule: \"FREQ=WEEKLY;BYDAY=MO\"}）")),
])
def test_frequency_mistakes_name_the_field_at_its_line_and_column(new: str, expected: str) -> None:
    assert issues_in("frequency: quarterly", new) == [expected]


@pytest.mark.parametrize(("new", "expected"), [
    ("applies_to: {subject: members}",
     ("t.yaml:8:17: applies_to：应为映射，subject 只能是 unit（组织，可省略）或 member（党员），"
      "如 {kind: branch} 或 {subject: member, status: [full]}")),
    ("applies_to: {subject: member, kind: branch}",
     "t.yaml:8:35: 未知的键 kind（可用的键：subject、category、status）"),
    ("applies_to: {subject: member, status: [full, pending]}",
     "t.yaml:8:50: 取值 'pending' 无效，可选：activist、candidate、probationary、full"),
    ("applies_to: {kind: brnch}",
     "t.yaml:8:24: kind：取值 'brnch' 无效，可选：district、street、community、branch、group"),
])
def test_applicability_mistakes_name_the_field_at_its_line_and_column(new: str, expected: str) -> None:
    assert issues_in("applies_to: {kind: branch}", new) == [expected]


def test_a_fixed_day_with_a_due_rule_is_reported_at_the_duty() -> None:
    (issue,) = issues_in("frequency: quarterly",
                         "frequency: {every: month, day: 15}\n    due: {rule: period_end}")
    assert issue.startswith("t.yaml:6:5: frequency 中的固定日期（day 或 week/weekday）就是到期日")
