"""Grade bands: overlaps and gaps are load errors, the bands must cover every possible
total, and totals are rounded half up (decimal) before banding."""
from __future__ import annotations

import pytest

from rules.loader import RuleSetError
from rules.scorer import grade_for, score_unit
from tests.rules.texts import FOUR_GRADES, duty_metrics, item, load, rule_text, section

ONE_ITEM = section("meetings", 100, item("congress", "party_congress", max=100, missed=10, late=0.05))


def issues_of(text: str) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        load(text)
    return [str(issue) for issue in caught.value.issues]


def grades(*lines: str) -> str:
    return "".join(f"    - {line}\n" for line in lines)


def test_four_bands_over_0_to_100_load() -> None:
    assert [g.name for g in load(rule_text(ONE_ITEM, grades=FOUR_GRADES)).rule_set.scoring.grades] == [
        "优秀", "良好", "合格", "不合格"]


def test_two_open_ends_at_the_same_bound_leave_a_gap() -> None:
    text = rule_text(ONE_ITEM, grades=grades(
        "{name: 高, min: 80, min_inclusive: false}", "{name: 低, max: 80, max_inclusive: false}"))
    assert issues_of(text) == [
        "t.yaml:17:22: 等级“低”(-∞, 80) 与“高”(80, +∞) 之间有空档：80 不属于任何等级"]


def test_printed_integer_ranges_leave_a_gap_between_89_and_90() -> None:
    text = rule_text(ONE_ITEM, grades=grades(
        "{name: 优秀, min: 90}", "{name: 良好, min: 80, max: 89, max_inclusive: true}",
        "{name: 其他, max: 80}"))
    assert issues_of(text) == [
        "t.yaml:17:23: 等级“良好”[80, 89] 与“优秀”[90, +∞) 之间有空档：(89, 90) 不属于任何等级"]


def test_a_bound_included_on_both_sides_overlaps() -> None:
    text = rule_text(ONE_ITEM, grades=grades(
        "{name: 高, min: 90}", "{name: 低, max: 90, max_inclusive: true}"))
    assert issues_of(text) == [
        "t.yaml:18:14: 等级“低”(-∞, 90] 与“高”[90, +∞) 重叠：90 同时属于两个等级"]


def test_overlapping_ranges_name_the_shared_interval() -> None:
    text = rule_text(ONE_ITEM, grades=grades(
        "{name: 高, min: 85}", "{name: 中, min: 60, max: 90}", "{name: 低, max: 60}"))
    assert issues_of(text) == ["t.yaml:18:14: 等级“中”[60, 90) 与“高”[85, +∞) 重叠：[85, 90) 同时属于两个等级"]


def test_bands_must_reach_max_total() -> None:
    text = rule_text(ONE_ITEM, grades=grades("{name: 高, min: 50, max: 100}", "{name: 低, max: 50}"))
    assert issues_of(text) == [
        "t.yaml:17:31: 等级没有覆盖最高可能得分 100：最高的等级“高”是 [50, 100)"]


def test_bands_must_reach_the_lowest_possible_total() -> None:
    text = rule_text(ONE_ITEM, grades=grades("{name: 高, min: 50}", "{name: 低, min: 10, max: 50}"))
    assert issues_of(text) == [
        "t.yaml:18:22: 等级没有覆盖最低可能得分 0：最低的等级“低”是 [10, 50)"]


def test_negative_items_need_a_lowest_band_without_min() -> None:
    negative = section("meetings", 100, item("congress", "party_congress", max=100, missed=10, late=1,
                                             extra="floor: null"))
    text = rule_text(negative, grades=grades("{name: 高, min: 50}", "{name: 低, min: 0, max: 50}"))
    (issue,) = issues_of(text)
    assert issue.startswith("t.yaml:18:22: 有条目可倒扣（floor: null）")


def test_uncapped_totals_need_a_highest_band_without_max() -> None:
    text = rule_text(ONE_ITEM, allow_over_max=True, max_total=50,
                     grades=grades("{name: 高, min: 50, max: 100, max_inclusive: true}", "{name: 低, max: 50}"))
    assert load(text)   # sections cap the total at 100, which the bands reach
    big = section("meetings", 200, item("congress", "party_congress", max=200, missed=10, late=1))
    capless = rule_text(big, allow_over_max=True, max_total=50,
                        grades=grades("{name: 高, min: 50, max: 100, max_inclusive: true}", "{name: 低, max: 50}"))
    assert issues_of(capless) == [
        "t.yaml:17:31: 等级没有覆盖最高可能得分 200：最高的等级“高”是 [50, 100]"]


def test_an_empty_band_and_a_repeated_band_name() -> None:
    text = rule_text(ONE_ITEM, grades=grades("{name: 高, min: 50}", "{name: 高, min: 50, max: 40}",
                                             "{name: 低, max: 50}"))
    assert issues_of(text) == [
        "t.yaml:18:7: 等级“高”的区间为空：min 50，max 40",
        "t.yaml:18:14: 重复的等级名称 高（第17行已定义）",
    ]


def test_8995_rounds_half_up_to_90_and_is_graded_excellent() -> None:
    loaded = load(rule_text(ONE_ITEM, grades=FOUR_GRADES))
    score = score_unit(loaded, "b1", duty_metrics("party_congress", owed=4, on_time=2, late=1, missed=1))
    assert score.total == 90.0
    assert score.grade == "优秀"
    rounding = score.lines[-1]
    assert rounding.item_code == "total:rounding"
    assert rounding.reason == "总分89.95分保留1位小数（四舍五入）为90.0分"
    assert grade_for(loaded, 89.95) == "优秀"


def test_with_two_digits_8995_stays_below_90() -> None:
    loaded = load(rule_text(ONE_ITEM, grades=FOUR_GRADES, digits=2))
    score = score_unit(loaded, "b1", duty_metrics("party_congress", owed=4, on_time=2, late=1, missed=1))
    assert (score.total, score.grade) == (89.95, "良好")
    assert all(line.item_code != "total:rounding" for line in score.lines)


@pytest.mark.parametrize(("total", "grade"), [
    (100, "优秀"), (90, "优秀"), (89.95, "优秀"), (89.94, "良好"), (80, "良好"),
    (79.96, "良好"), (79.94, "合格"), (60, "合格"), (59.9, "不合格"), (0, "不合格"),
])
def test_band_boundaries_after_rounding_to_one_digit(total: float, grade: str) -> None:
    loaded = load(rule_text(ONE_ITEM, grades=FOUR_GRADES))
    assert grade_for(loaded, total) == grade
