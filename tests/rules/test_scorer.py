"""The pure scorer: per-item arithmetic stated in the reason, floors and negative
points, section and total caps, and loud failures on missing or impossible metrics."""
from __future__ import annotations

from decimal import Decimal

import pytest

from dangjian.errors import ValidationFailed
from rules.scorer import InvalidMetrics, MissingMetric, rank_competition, score_unit
from tests.rules.texts import duty_metrics, item, load, rule_text, section

CONGRESS = section("meetings", 100, item("congress", "party_congress", max=15, missed=5, late=2))


def both(congress: dict[str, float] | None = None, committee: dict[str, float] | None = None) -> dict[str, float]:
    return {**(congress or duty_metrics("party_congress", owed=4, on_time=4)),
            **(committee or duty_metrics("committee_meeting", owed=12, on_time=12))}


def test_all_on_time_earns_full_marks_and_says_so() -> None:
    score = score_unit(load(rule_text(CONGRESS)), "b1", duty_metrics("party_congress", owed=4, on_time=4))
    (line,) = score.lines
    assert (line.item_code, line.section_code, line.points, line.max_points) == ("congress", "meetings", 15, 15)
    assert line.reason == "党员大会应完成4次：按期完成4次，逾期完成0次，未完成0次；得15分（满分15分）"
    assert line.clause == "t.yaml:15 meetings节/congress条目"
    assert (score.total, score.unit_id) == (15.0, "b1")


def test_late_and_missed_occurrences_are_deducted_per_occurrence() -> None:
    metrics = duty_metrics("party_congress", owed=4, on_time=1, late=1, missed=2)
    (line,) = score_unit(load(rule_text(CONGRESS)), "b1", metrics).lines
    assert line.points == 3
    assert line.reason == ("党员大会应完成4次：按期完成1次，逾期完成1次扣2分，未完成2次扣10分（每次5分）；"
                           "得3分（满分15分）")


def test_floor_zero_stops_deductions_at_zero() -> None:
    metrics = duty_metrics("party_congress", owed=4, missed=4)
    (line,) = score_unit(load(rule_text(CONGRESS)), "b1", metrics).lines
    assert line.points == 0
    assert "共扣20分，扣完为止（最低0分）；得0分（满分15分）" in line.reason


def test_floor_null_goes_negative_and_a_custom_floor_holds() -> None:
    negative = section("meetings", 100, item("congress", "party_congress", max=15, missed=5, late=2,
                                             extra="floor: null"))
    metrics = duty_metrics("party_congress", owed=4, missed=4)
    score = score_unit(load(rule_text(negative)), "b1", metrics)
    assert (score.lines[0].points, score.total) == (-5, -5)
    assert score.lines[0].reason.endswith("；可倒扣；得-5分（满分15分）")
    floored = section("meetings", 100, item("congress", "party_congress", max=15, missed=5, late=2,
                                            extra="floor: -2"))
    assert score_unit(load(rule_text(floored)), "b1", metrics).total == -2


def test_no_owed_occurrence_earns_full_or_zero_as_the_item_says() -> None:
    committee = section("meetings", 100, item("committee", "committee_meeting", max=12, missed=2, late=1))
    none_owed = duty_metrics("committee_meeting", owed=0)
    (line,) = score_unit(load(rule_text(committee)), "b1", none_owed).lines
    assert (line.points, line.reason) == (12, "本单位无应完成的支委会，按满分计12分")
    zero = section("meetings", 100, item("committee", "committee_meeting", max=12, missed=2, late=1,
                                         extra="if_none_owed: zero"))
    (line,) = score_unit(load(rule_text(zero)), "b1", none_owed).lines
    assert (line.points, line.reason) == (0, "本单位无应完成的支委会，按规定不得分（满分12分）")


def test_pending_and_excused_occurrences_cost_nothing_and_are_named() -> None:
    metrics = duty_metrics("party_congress", owed=4, on_time=1, pending=2, excused=1)
    (line,) = score_unit(load(rule_text(CONGRESS)), "b1", metrics).lines
    assert line.points == 15
    assert line.reason == ("党员大会应完成4次：按期完成1次，逾期完成0次，未完成0次，未到期2次不计，免除1次不计；"
                           "得15分（满分15分）")


def test_fractional_deductions_are_decimal_exact() -> None:
    tenths = section("meetings", 100, item("congress", "party_congress", max=1, missed=0.2, late=0.1))
    metrics = duty_metrics("party_congress", owed=3, late=3)
    score = score_unit(load(rule_text(tenths, digits=2)), "b1", metrics)
    assert score.total == 0.7
    assert "逾期完成3次扣0.3分（每次0.1分）" in score.lines[0].reason
    assert "0000000" not in score.lines[0].reason and "得0.7分" in score.lines[0].reason


def test_a_section_total_is_capped_at_its_max_with_a_line_saying_so() -> None:
    capped = section("meetings", 20,
                     item("congress", "party_congress", max=15, missed=5, late=2),
                     item("committee", "committee_meeting", max=12, missed=2, late=1))
    score = score_unit(load(rule_text(capped)), "b1", both())
    cap = score.lines[-1]
    assert (cap.item_code, cap.section_code, cap.points, cap.max_points) == ("meetings:cap", "meetings", -7, None)
    assert cap.reason == "“meetings节”各条目合计27分，超过本节满分20分，按20分计（核减7分）"
    assert cap.clause == "t.yaml:11 meetings节"
    assert score.total == 20 == sum(line.points for line in score.lines)


def test_the_total_is_capped_at_max_total_unless_allowed() -> None:
    sections = (section("first", 15, item("congress", "party_congress", max=15, missed=5, late=2))
                + section("second", 12, item("committee", "committee_meeting", max=12, missed=2, late=1)))
    score = score_unit(load(rule_text(sections, max_total=20)), "b1", both())
    cap = score.lines[-1]
    assert (cap.item_code, cap.section_code, cap.points) == ("total:cap", "", -7)
    assert cap.reason == "各节合计27分，超过总分上限20分，按20分计（核减7分）"
    assert cap.clause == "t.yaml:7 总分上限"
    assert score.total == 20
    over = score_unit(load(rule_text(sections, max_total=20, allow_over_max=True)), "b1", both())
    assert over.total == 27 and all(line.item_code != "total:cap" for line in over.lines)


def test_nested_sections_cap_bottom_up() -> None:
    nested = ("    - code: outer\n      name: 外层\n      max: 100\n      sections:\n"
              "        - code: inner\n          name: 内层\n          max: 10\n          items:\n"
              + item("congress", "party_congress", max=15, missed=5, late=2).replace("        -", "            -"))
    loaded = load(rule_text(nested))
    score = score_unit(loaded, "b1", duty_metrics("party_congress", owed=4, on_time=4))
    assert [(line.item_code, line.points) for line in score.lines] == [("congress", 15), ("inner:cap", -5)]
    assert score.total == 10
    assert loaded.clause("congress") == "t.yaml:19 外层/内层/congress条目"


def test_a_missing_metric_is_an_error_naming_the_metric_and_unit() -> None:
    metrics = duty_metrics("party_congress", owed=4, on_time=4)
    del metrics["party_congress.pending"]
    with pytest.raises(MissingMetric) as caught:
        score_unit(load(rule_text(CONGRESS)), "branch-7", metrics)
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.message == "单位 branch-7 缺少指标 party_congress.pending（评分条目 congress 需要；缺失的指标不按0计）"


def test_metrics_that_do_not_add_up_are_rejected() -> None:
    metrics = {**duty_metrics("party_congress", owed=4, on_time=2), "party_congress.owed": 4.0}
    with pytest.raises(InvalidMetrics) as caught:
        score_unit(load(rule_text(CONGRESS)), "b1", metrics)
    assert "owed=4，但 on_time+late+missed+pending+excused=2" in caught.value.message


def test_negative_metrics_are_rejected() -> None:
    metrics = {**duty_metrics("party_congress", owed=4, on_time=4), "party_congress.late": -1.0}
    with pytest.raises(InvalidMetrics):
        score_unit(load(rule_text(CONGRESS)), "b1", metrics)


def test_task_ids_behind_the_line_come_deductions_first() -> None:
    metrics = duty_metrics("party_congress", owed=4, on_time=1, late=1, missed=1, excused=1)
    evidence = {"party_congress.on_time": [1], "party_congress.late": [2], "party_congress.missed": [3],
                "party_congress.excused": [4], "committee_meeting.late": [99]}
    (line,) = score_unit(load(rule_text(CONGRESS)), "b1", metrics, evidence).lines
    assert line.task_ids == [2, 3, 4, 1]


def test_line_points_always_add_up_to_the_total() -> None:
    capped = section("meetings", 20,
                     item("congress", "party_congress", max=15, missed=5, late=0.35),
                     item("committee", "committee_meeting", max=12, missed=2, late=1))
    metrics = both(duty_metrics("party_congress", owed=4, on_time=3, late=1))
    score = score_unit(load(rule_text(capped, digits=0)), "b1", metrics)
    assert score.total == 20
    assert sum(Decimal(repr(line.points)) for line in score.lines) == Decimal(20)


def test_competition_ranking_shares_places_and_skips_after_ties() -> None:
    assert rank_competition([90, 80, 80, 70]) == [1, 2, 2, 4]
    assert rank_competition([70, 90, 80, 90]) == [4, 1, 3, 1]
    assert rank_competition([]) == []
    with pytest.raises(ValueError):
        rank_competition([float("nan")])
