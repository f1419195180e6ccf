"""自行脱党: runs of six months without good reason, counted per reason. Pure."""
from __future__ import annotations

import pytest

from dangjian.domain.dues import Month
from dangjian.domain.lapse import Mark, MonthFacts, Reason, assess, life_mark, runs

M, D, E, N = Mark.missing, Mark.done, Mark.excused, Mark.not_member


def months(dues: str, life: str, start: Month = Month(2026, 1)) -> list[MonthFacts]:
    """One letter per month: m missing, d done, e excused, n not a member."""
    code = {"m": M, "d": D, "e": E, "n": N}
    return [MonthFacts(start.plus(i), code[a], f"党费{a}", code[b], f"生活{b}")
            for i, (a, b) in enumerate(zip(dues, life, strict=True))]


def flag(dues: str, life: str):  # type: ignore[no-untyped-def]
    return assess(member_id="M1", member_name="张三", branch_id="B1", branch_name="东关社区党支部",
                  facts=months(dues, life))


def test_six_months_in_a_row_without_dues_is_flagged_with_the_months_named() -> None:
    f = flag("mmmmmmdddddd", "dddddddddddd")
    assert f is not None and f.reasons == [Reason.dues]
    assert f.describe() == "党员 张三（M1）：2026年1月至2026年6月连续6个月不交纳党费"


def test_five_months_is_not_yet_a_flag() -> None:
    assert flag("mmmmmddddddd", "dddddddddddd") is None


def test_an_excused_month_breaks_the_run() -> None:
    assert flag("mmmemmmddddd", "dddddddddddd") is None


def test_organisation_life_is_counted_on_its_own_and_both_reasons_are_named() -> None:
    f = flag("ddmmmmmmmddd", "mmmmmmmmmmmm")
    assert f is not None and f.reasons == [Reason.dues, Reason.life]
    text = f.describe()
    assert "2026年3月至2026年9月连续7个月不交纳党费" in text
    assert "2026年1月至2026年12月连续12个月不参加党的组织生活，至今未改正" in text


def test_a_run_that_ended_is_not_ongoing() -> None:
    (run,) = runs(months("mmmmmmdddddd", "dddddddddddd"), Reason.dues)
    assert not run.ongoing and run.length == 6


def test_months_before_admission_are_not_counted() -> None:
    assert flag("nnnnnnmmmmmd", "nnnnnnmmmmmd") is None


def test_the_flag_keeps_both_reasons_for_every_month() -> None:
    f = flag("mmmmmmdddddd", "dddddddddddd")
    assert f is not None
    assert f.month_line(Month(2026, 1)) == "2026年1月：党费 党费m；组织生活 生活d"


def test_months_must_be_consecutive() -> None:
    facts = months("mm", "mm")
    with pytest.raises(ValueError, match="不连续"):
        runs([facts[0], MonthFacts(Month(2026, 5), M, "", M, "")], Reason.dues)


def test_attending_on_leave_is_taking_part() -> None:
    assert life_mark(member=True, attended=1, meetings_held=2, leave_reason=None)[0] == Mark.done


def test_approved_leave_and_a_month_without_meetings_are_good_reasons() -> None:
    assert life_mark(member=True, attended=0, meetings_held=2, leave_reason="外出务工")[0] == Mark.excused
    mark, note = life_mark(member=True, attended=0, meetings_held=0, leave_reason=None)
    assert mark == Mark.excused and "未开展组织生活" in note


def test_missing_every_meeting_held_is_missing() -> None:
    mark, note = life_mark(member=True, attended=0, meetings_held=2, leave_reason=None)
    assert mark == Mark.missing and "2 次" in note
