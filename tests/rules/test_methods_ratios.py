"""Ratio and rank methods, with hand-computed numbers: full marks at a threshold and linear
below it; "比例达30%得3分，每上升或下降10%加减1分"; "全市排名1-5名依次60、57、54、51、48分"."""
from __future__ import annotations

import pytest

from rules.metrics import InvalidMetrics
from tests.rules.test_methods_texts import line, rules, score

COUNTS = """\
  - {code: activists, name: 入党积极分子, unit: 人, min: 0}
  - {code: members, name: 党员人数, unit: 人, min: 0}
  - {code: study_rate, name: 参学率, unit: "%", min: 0, max: 100}
"""


def ratio(extra: str, metric: str = "metric: activists, denominator: members") -> str:
    return rules(f"        - {{code: share, name: 积极分子占比, max: 5, method: ratio, {metric}, {extra}}}\n",
                 metrics=COUNTS)


@pytest.mark.parametrize(("activists", "points"), [(12, 5), (20, 5), (9, 3.75), (10, 4.17), (0, 0)])
def test_ratio_full_marks_at_the_threshold_and_linear_below(activists: int, points: float) -> None:
    result = score(ratio("threshold: 30%"), {"activists": float(activists), "members": 40.0})
    assert line(result, "share").points == points          # 5 × (n/40) ÷ 30%


def test_ratio_reason_shows_the_division_and_the_rounding() -> None:
    result = line(score(ratio("threshold: 30%"), {"activists": 10.0, "members": 40.0}), "share")
    assert result.reason == ("入党积极分子10人÷党员人数40人=25%，达到30%得满分，不足按比例计分："
                             "5×25%÷30%=4.17，保留2位小数；得4.17分（满分5分）")


def test_ratio_with_a_zero_point_and_a_floor() -> None:
    text = ratio("threshold: 95%, zero_at: 60%, floor: 1", metric="metric: study_rate")
    assert [line(score(text, {"study_rate": v}), "share").points for v in (100.0, 95.0, 81.0, 60.0, 30.0)] == \
        [5, 5, 3, 1, 1]                                    # 5 × (81−60) ÷ (95−60) = 3; 0 raised to floor 1
    assert "5×(81%−60%)÷(95%−60%)=3" in line(score(text, {"study_rate": 81.0}), "share").reason


def test_ratio_where_lower_is_better() -> None:
    text = ratio("threshold: 5%, zero_at: 20%, better: lower")
    assert [line(score(text, {"activists": float(n), "members": 100.0}), "share").points for n in (3, 5, 10, 20, 30)] \
        == [5, 5, 3.33, 0, 0]                              # 5 × (20−10) ÷ (20−5) = 3.33


def test_a_zero_denominator_is_an_error_unless_the_item_says_otherwise() -> None:
    with pytest.raises(InvalidMetrics) as caught:
        score(ratio("threshold: 30%"), {"activists": 0.0, "members": 0.0}, unit="branch-9")
    assert caught.value.message.startswith("单位 branch-9 的 members 为0，无法计算评分条目 share 的比例")
    full = line(score(ratio("threshold: 30%, if_no_denominator: full"), {"activists": 0.0, "members": 0.0}), "share")
    assert (full.points, full.reason) == (5, "入党积极分子0人÷党员人数0人，分母为0，按规定计满分；得5分（满分5分）")


BANDS = rules("""\
        - {code: activists, name: 入党积极分子比例, max: 5, method: ratio_bands, metric: activist_ratio,
           reference: 30%, base: 3, step: 10%, step_points: 1}
""", metrics='  - {code: activist_ratio, name: 积极分子比例, unit: "%", min: 0, max: 100}\n')


@pytest.mark.parametrize(("percent", "points"), [(30, 3), (50, 5), (10, 1), (0, 0), (70, 5), (35, 3), (25, 2)])
def test_ratio_bands_30_percent_is_3_points_and_each_10_percent_is_one_more_or_less(percent: int,
                                                                                    points: int) -> None:
    assert line(score(BANDS, {"activist_ratio": float(percent)}), "activists").points == points


def test_ratio_bands_reason_counts_the_steps_and_says_when_clamped() -> None:
    assert line(score(BANDS, {"activist_ratio": 50.0}), "activists").reason == (
        "积极分子比例50%，达到30%得3分，每上升或下降10%加减1分（不足一档不计）：比基准高2档，3+2×1=5；"
        "得5分（满分5分，最低0分）")
    assert "比基准高4档，3+4×1=7，超过满分按5分计" in line(score(BANDS, {"activist_ratio": 70.0}), "activists").reason


def test_ratio_bands_prorated_and_with_a_minimum() -> None:
    text = BANDS.replace("step_points: 1}", "step_points: 1, partial: prorate, min_points: 1}")
    assert line(score(text, {"activist_ratio": 25.0}), "activists").points == 2.5
    assert line(score(text, {"activist_ratio": 0.0}), "activists").points == 1


RANKS = rules("""\
        - {code: city, name: 全市排名, max: 60, method: rank_points, metric: city_rank,
           points: [60, 57, 54, 51, 48], beyond: 40}
        - {code: street, name: 街道排名, max: 10, method: rank_points, metric: street_rank,
           points: [10, 9], step: 2, floor: 4}
""", metrics="""\
  - {code: city_rank, name: 全市排名, unit: 名, min: 1}
  - {code: street_rank, name: 街道排名, unit: 名, min: 1}
""")


@pytest.mark.parametrize(("rank", "points"), [(1, 60), (3, 54), (5, 48), (6, 40), (30, 40)])
def test_rank_points_follow_the_table_then_the_beyond_value(rank: int, points: int) -> None:
    assert line(score(RANKS, {"city_rank": float(rank), "street_rank": 1.0}), "city").points == points


def test_rank_points_beyond_the_table_keep_dropping_to_a_floor() -> None:
    points = [line(score(RANKS, {"city_rank": 1.0, "street_rank": float(r)}), "street").points for r in (1, 2, 3, 4, 9)]
    assert points == [10, 9, 7, 5, 4]
    assert line(score(RANKS, {"city_rank": 1.0, "street_rank": 3.0}), "street").reason == \
        "街道排名第3名，比第2名低1名，每名减2分：9−1×2=7；得7分（满分10分）"
    assert line(score(RANKS, {"city_rank": 3.0, "street_rank": 1.0}), "city").reason == \
        "全市排名第3名，按“第1–5名依次60、57、54、51、48分”，得54分（满分60分）"


def test_a_rank_outside_the_declared_range_is_refused() -> None:
    with pytest.raises(InvalidMetrics) as caught:
        score(RANKS, {"city_rank": 0.0, "street_rank": 1.0}, unit="b7")
    assert caught.value.message == "单位 b7 的指标 city_rank（全市排名）为 0，超出声明的范围 [1, +∞]"
