"""Malformed scoring clauses are reported at file:line:column in Chinese, all at once:
unknown method, missing threshold, overlapping or gapped ladder steps, ratios written as
plain numbers or with a full-width %, bonuses without cap, penalties with max, and checks
that need the declarations (checklist metrics 0/1, ranks from 1)."""
from __future__ import annotations

from tests.rules.test_methods_texts import at, issues_of, rules

METRICS = """\
  - {code: activists, name: 入党积极分子, unit: 人, min: 0}
  - {code: members, name: 党员人数, unit: 人, min: 0}
  - {code: roster, name: 党员名册, min: 0, max: 2}
  - {code: city_rank, name: 全市排名, min: 0}
  - {code: adopted, name: 被采纳建议, min: 0}
"""


def one(item: str) -> list[str]:
    return issues_of(rules(f"        - {item}\n", metrics=METRICS))


def where(item: str, fragment: str) -> str:
    """file:line:col of `fragment` inside the item line."""
    text = rules(f"        - {item}\n", metrics=METRICS)
    return position(text, text.index(fragment, text.index(item)))


def position(text: str, index: int) -> str:
    return f"t.yaml:{text.count(chr(10), 0, index) + 1}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def test_a_misspelt_method_lists_every_method() -> None:
    item = "{code: a, name: 甲, max: 5, method: ratios, metric: activists, threshold: 30%}"
    assert one(item) == [(f"{where(item, 'ratios')}: 未知的计分方法 'ratios'（可用的计分方法：duty_deduction、ladder、"
                          "checklist、ratio、ratio_bands、rank_points、bonus、penalty、manual、formula）")]


def test_a_ratio_without_threshold() -> None:
    item = "{code: a, name: 甲, max: 5, method: ratio, metric: activists, denominator: members}"
    assert one(item) == [f"{where(item, '{code: a')}: 缺少必填项 threshold"]


def test_ratios_are_written_as_percent_or_fraction() -> None:
    item = "{code: a, name: 甲, max: 5, method: ratio, metric: activists, denominator: members, threshold: 30}"
    assert one(item) == [f"{where(item, '30}')}: threshold：比例 30 大于1：百分数请写成 30%，小数请写成 0.3"]
    item = "{code: a, name: 甲, max: 5, method: ratio, metric: activists, denominator: members, threshold: 30％}"
    assert one(item) == [f"{where(item, '30％')}: threshold：比例 30％ 用了全角百分号“％”，请改为半角“%”"]


def test_a_ratio_metric_without_denominator_must_be_a_ratio() -> None:
    item = "{code: a, name: 甲, max: 5, method: ratio, metric: activists, threshold: 30%}"
    assert one(item) == [(f"{where(item, 'activists')}: 没有 denominator 时，activists 应是比例：声明 unit: \"%\"（百分数），"
                          "或声明 max（不超过10）表示小数（如 max: 1）；否则请写 denominator（分母）")]


def test_ladder_steps_that_overlap_leave_a_gap_or_stop_short() -> None:
    base = "{code: a, name: 甲, max: 10, method: ladder, metric: activists, steps: [%s]}"
    overlap = base % "{count: 1, to: 2, deduct: 3}, {count: 2, deduct: 5}, {count: 3, points: 0, or_more: true}"
    assert one(overlap) == [f"{where(overlap, '{code: a')}: 第2级（2次）与第1级重叠：各级次数应从小到大、互不重叠"]
    gap = base % "{count: 1, deduct: 3}, {count: 3, points: 0, or_more: true}"
    assert one(gap) == [f"{where(gap, '{code: a')}: 第1级到第2级之间缺少 2 次的分值"]
    short = base % "{count: 1, deduct: 3}, {count: 2, deduct: 5}"
    assert one(short) == [f"{where(short, '{code: a')}: 最后一级要写 or_more: true（2次以上怎么计分），或加 zero_at"]
    both = base % "{count: 1, deduct: 3, points: 2}"
    assert one(both) == [f"{where(both, '{count: 1')}: 每一级要写 deduct（扣几分）或 points（得几分），只写其中一个"]
    too_much = base % "{count: 1, deduct: 30}, {count: 2, points: 0, or_more: true}"
    assert one(too_much) == [f"{where(too_much, '{code: a')}: 第1级 deduct（30）超过满分 max（10）"]


def test_bonus_needs_an_explicit_cap_and_penalty_takes_no_max() -> None:
    no_cap = "{code: a, name: 甲, method: bonus, metric: adopted, each: 2}"
    assert one(no_cap) == [f"{where(no_cap, '{code: a')}: 缺少必填项 cap"]
    with_max = "{code: a, name: 甲, method: bonus, metric: adopted, each: 2, cap: 10, max: 10}"
    assert one(with_max) == [f"{where(with_max, '{code: a')}: 加分项不写 max，上限写在 cap（cap: null 表示加分不设上限）"]
    penalty = "{code: a, name: 甲, method: penalty, metric: adopted, each: 2, max: 5}"
    assert one(penalty) == [f"{where(penalty, '{code: a')}: 减分项不写 max（得分为0或负数）；最多扣几分写在 floor，如 floor: -20"]
    mixed = "{code: a, name: 甲, method: bonus, metric: adopted, points: 2, cap: 2}"
    assert one(mixed) == [f"{where(mixed, '{code: a')}: 加分项要写 metric + each（每次加几分），或 when + points（条件成立时加几分），只写其中一种"]


def test_manual_range_and_rank_table_are_checked() -> None:
    manual = "{code: a, name: 甲, method: manual, range: [10, 0]}"
    assert one(manual) == [f"{where(manual, '{code: a')}: range 的下限（10）不能大于上限（0）"]
    rising = "{code: a, name: 甲, max: 60, method: rank_points, metric: city_rank, points: [60, 57, 58], beyond: 40}"
    found = one(rising)
    assert found == [f"{where(rising, '{code: a')}: 第3名（58分）高于第2名（57分）：名次越靠后分值不应越高"]
    no_beyond = "{code: a, name: 甲, max: 60, method: rank_points, metric: city_rank, points: [60, 57]}"
    assert one(no_beyond) == [f"{where(no_beyond, '{code: a')}: 要写 beyond（第2名以后得几分）或 step（以后每低一名减几分），只写其中一个"]


def test_checks_that_need_the_declared_metrics() -> None:
    checklist = "{code: a, name: 甲, max: 5, method: checklist, deduct_each: 1, checks: [{name: 名册, metric: roster}]}"
    assert one(checklist) == [f"{where(checklist, 'roster')}: 检查项的指标 roster 应为0或1：请在 metrics 中声明 min: 0, max: 1（现为 [0, 2]）"]
    rank = "{code: a, name: 甲, max: 60, method: rank_points, metric: city_rank, points: [60, 57], beyond: 40}"
    assert one(rank) == [f"{where(rank, 'city_rank')}: 名次指标 city_rank 应从第1名起：请在 metrics 中声明 min: 1"]


def test_a_metric_written_with_punctuation_is_explained() -> None:
    item = "{code: a, name: 甲, method: penalty, metric: 违纪-案件, each: 2}"
    assert one(item) == [(f"{where(item, '违纪-案件')}: metric：指标 '违纪-案件' 应写成声明的指标代码或名称（如 activist_ratio、"
                          "入党积极分子比例），或“职责代码.桶”（如 party_congress.missed），不能有空格和标点")]


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = rules("""\
        - {code: a, name: 甲, max: 5, method: ratio, metric: activists, denominator: members}
        - {code: b, name: 乙, max: 5, method: formula, expr: "入党积极分子 ** 2"}
        - {code: c, name: 丙, method: bonus, metric: nobody, each: 2, cap: 1}
        - {code: d, name: 丁, max: 5, method: ladder, metric: activists, steps: [{count: 1, deduct: 1}]}
""", metrics=METRICS)
    items = text.index("- {code: a,")
    assert [issue.split(": ")[0] for issue in issues_of(text)] == [
        position(text, text.index("{code: a", items)), at(text, "**"), at(text, "nobody"), at(text, "{code: d")]
