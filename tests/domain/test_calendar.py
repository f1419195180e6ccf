"""The working-day calendar: chinesecalendar years, override files, and their errors."""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from dangjian.domain.calendar import BUILTIN_DIR, CalendarGap, WorkCalendar
from dangjian.errors import ValidationFailed

VALID_2027 = """\
year: 2027
source: 测试用：虚构的2027年安排
holidays:
  - 2027-01-01
  - 2027-10-01
  - 2027-10-04
workdays:
  - 2027-09-26
"""


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load()


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, name: str = "2027.yaml") -> str:
    write(tmp_path, name, text)
    with pytest.raises(ValidationFailed) as info:
        WorkCalendar.load([tmp_path])
    assert not isinstance(info.value, CalendarGap)
    return str(info.value)


# --- 2026 from chinesecalendar ------------------------------------------------------


def test_national_day_rolls_to_the_first_working_day_after_the_holiday(cal: WorkCalendar) -> None:
    assert cal.roll_forward(date(2026, 10, 1)) == date(2026, 10, 8)


def test_spring_festival_rolls_to_the_day_after_the_nine_day_break(cal: WorkCalendar) -> None:
    assert cal.roll_forward(date(2026, 2, 15)) == date(2026, 2, 24)


def test_make_up_saturday_is_a_working_day_and_stays(cal: WorkCalendar) -> None:
    assert date(2026, 2, 14).weekday() == 5
    assert cal.is_workday(date(2026, 2, 14))
    assert cal.roll_forward(date(2026, 2, 14)) == date(2026, 2, 14)


def test_working_day_before_national_day_stays(cal: WorkCalendar) -> None:
    assert cal.roll_forward(date(2026, 9, 30)) == date(2026, 9, 30)


def test_ordinary_weekend_rolls_to_monday(cal: WorkCalendar) -> None:
    assert cal.roll_forward(date(2026, 3, 7)) == date(2026, 3, 9)


def test_calendar_agrees_with_chinesecalendar_on_every_day_it_covers(cal: WorkCalendar) -> None:
    import chinese_calendar

    d = date(2004, 1, 1)
    while d.year <= 2026:
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)
    # The day the library learns 2027, the CalendarGap tests below need another year.
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def test_nth_workday_counts_the_start_day_only_when_it_is_a_working_day(cal: WorkCalendar) -> None:
    assert cal.nth_workday_on_or_after(date(2026, 3, 2), 1) == date(2026, 3, 2)  # Monday
    assert cal.nth_workday_on_or_after(date(2026, 3, 2), 5) == date(2026, 3, 6)
    assert cal.nth_workday_on_or_after(date(2026, 3, 1), 1) == date(2026, 3, 2)   # Sunday
    # 2026-02-13 (Fri), 2026-02-14 (make-up Sat), then the break until 2026-02-24.
    assert cal.nth_workday_on_or_after(date(2026, 2, 13), 3) == date(2026, 2, 24)


def test_nth_workday_rejects_n_below_one(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        cal.nth_workday_on_or_after(date(2026, 3, 2), 0)


def test_library_years_are_covered_and_2027_is_not_without_a_file(cal: WorkCalendar) -> None:
    assert cal.covers(2004) and cal.covers(2026)
    assert not cal.covers(2003) and not cal.covers(2027)


# --- missing years -----------------------------------------------------------------


def test_a_2027_date_without_a_file_raises_calendar_gap_naming_the_file_to_add(
    cal: WorkCalendar,
) -> None:
    with pytest.raises(CalendarGap) as info:
        cal.is_workday(date(2027, 3, 1))
    message = str(info.value)
    assert "2027年的节假日安排尚未收录" in message
    assert str(BUILTIN_DIR / "2027.yaml") in message
    assert "rules/calendars/README.md" in message
    assert isinstance(info.value, ValidationFailed)


def test_calendar_gap_names_the_last_override_dir_as_the_place_to_add(tmp_path: Path) -> None:
    cal = WorkCalendar.load([tmp_path])
    with pytest.raises(CalendarGap, match=str(tmp_path / "2027.yaml")):
        cal.roll_forward(date(2027, 1, 1))


def test_require_years_lists_every_missing_year_at_once(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarGap) as info:
        cal.require_years([2026, 2028, 2027, 2027])
    message = str(info.value)
    assert "2027年、2028年" in message
    assert "2027.yaml" in message and "2028.yaml" in message
    cal.require_years([2025, 2026])  # covered: no error


def test_rolling_past_new_year_into_an_uncovered_year_raises_calendar_gap(tmp_path: Path) -> None:
    write(tmp_path, "2026.yaml", "year: 2026\nsource: 测试\nholidays: [2026-12-31]\nworkdays: []\n")
    cal = WorkCalendar.load([tmp_path])
    with pytest.raises(CalendarGap, match="2027"):
        cal.roll_forward(date(2026, 12, 31))


# --- override files ----------------------------------------------------------------


def test_an_override_dir_makes_2027_dates_work(tmp_path: Path) -> None:
    write(tmp_path, "2027.yaml", VALID_2027)
    cal = WorkCalendar.load([tmp_path])
    assert cal.covers(2027)
    assert not cal.is_workday(date(2027, 1, 1))                          # holiday, Friday
    assert cal.roll_forward(date(2027, 1, 1)) == date(2027, 1, 4)        # next Monday
    assert cal.is_workday(date(2027, 9, 26))                             # make-up Sunday
    assert cal.roll_forward(date(2027, 10, 1)) == date(2027, 10, 5)      # 10-04 is a holiday too
    assert cal.is_workday(date(2027, 3, 1))
    assert "测试用" in cal.source_of(2027)


def test_working_days_cross_from_a_library_year_into_an_override_year(tmp_path: Path) -> None:
    write(tmp_path, "2027.yaml", VALID_2027)
    cal = WorkCalendar.load([tmp_path])
    # 2026-12-31 (Thu) is the 1st; 2027-01-01 is a holiday; 2027-01-04 (Mon) is the 2nd.
    assert cal.nth_workday_on_or_after(date(2026, 12, 31), 2) == date(2027, 1, 4)


def test_an_override_file_fully_replaces_a_library_year(tmp_path: Path) -> None:
    write(tmp_path, "2026.yaml", "year: 2026\nsource: 测试\nholidays: [2026-03-02]\nworkdays: []\n")
    cal = WorkCalendar.load([tmp_path])
    assert not cal.is_workday(date(2026, 3, 2))
    assert cal.is_workday(date(2026, 10, 1))       # the library's National Day is gone
    assert not cal.is_workday(date(2026, 2, 14))   # and so is its make-up Saturday


def test_later_override_dirs_win(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "2027.yaml", VALID_2027)
    write(second, "2027.yaml", "year: 2027\nsource: 第二个\nholidays: [2027-03-01]\nworkdays: []\n")
    cal = WorkCalendar.load([first, second])
    assert not cal.is_workday(date(2027, 3, 1))
    assert cal.is_workday(date(2027, 1, 1))
    assert "第二个" in cal.source_of(2027)


def test_files_not_named_after_a_year_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "notes.yaml", "这不是日历")
    write(tmp_path, "README.md", "# 说明")
    assert not WorkCalendar.load([tmp_path]).covers(2027)


def test_the_shipped_sample_is_not_loaded_but_is_valid_once_renamed(tmp_path: Path) -> None:
    sample = BUILTIN_DIR / "example-2027.yaml.sample"
    assert sample.is_file()
    assert not WorkCalendar.load().covers(2027)
    shutil.copy(sample, tmp_path / "2027.yaml")
    assert WorkCalendar.load([tmp_path]).covers(2027)


def test_a_missing_override_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="目录不存在"):
        WorkCalendar.load([tmp_path / "nope"])


def test_a_yml_extension_is_refused_with_the_name_to_use(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID_2027, name="2027.yml")
    assert "2027.yaml" in message


# --- override file errors name the file, the line and the field ---------------------


def test_year_that_differs_from_the_file_name_is_reported_with_its_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID_2027.replace("year: 2027", "year: 2028"))
    assert str(tmp_path / "2027.yaml") in message
    assert "第1行" in message and "year" in message and "2028" in message


def test_date_outside_the_year_is_reported_with_its_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID_2027.replace("  - 2027-10-01", "  - 2026-10-01"))
    assert "2027.yaml 第5行" in message
    assert "holidays 第2项" in message and "不在 2027 年内" in message


def test_date_in_both_lists_is_reported_with_both_lines(tmp_path: Path) -> None:
    text = (
        "year: 2027\nsource: 测试\n"
        "holidays:\n  - 2027-10-01\n  - 2027-10-02\n"
        "workdays:\n  - 2027-10-02\n"
    )
    message = load_error(tmp_path, text)
    assert "第7行" in message
    assert "同时出现在 holidays（第5行）和 workdays" in message


def test_impossible_date_is_reported_with_its_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID_2027.replace("2027-10-04", "2027-02-30"))
    assert "第6行" in message and "holidays 第3项" in message and "2027-02-30" in message


def test_text_that_is_not_a_date_is_reported(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID_2027.replace("2027-10-04", "10月4日"))
    assert "第6行" in message and "不是有效日期" in message


def test_weekday_listed_as_make_up_workday_is_reported(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID_2027.replace("2027-09-26", "2027-09-27"))
    assert "第8行" in message and "星期一" in message and "workdays" in message


def test_missing_field_is_reported(tmp_path: Path) -> None:
    message = load_error(tmp_path, "year: 2027\nsource: 测试\nholidays: [2027-01-01]\n")
    assert "缺少字段 workdays" in message


def test_missing_source_is_reported(tmp_path: Path) -> None:
    text = VALID_2027.replace("source: 测试用：虚构的2027年安排", "source: ''")
    message = load_error(tmp_path, text)
    assert "第2行" in message and "source" in message


def test_unknown_field_is_reported_with_its_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID_2027 + "holiday: [2027-05-01]\n")
    assert "第9行" in message and "未知字段 holiday" in message


def test_yaml_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "year: 2027\nsource: x\nholidays: [2027-01-01\nworkdays: []\n")
    assert "2027.yaml 第" in message and "YAML 语法错误" in message
