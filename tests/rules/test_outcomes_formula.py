"""Conditions written as formulas (rules.formula): the names they may use, the numbers a
line shows, and failures on one unit's values."""
from __future__ import annotations

import pytest

from dangjian.errors import ValidationFailed
from rules.metrics import formula_names
from rules.outcomes.conditions import aliases, catalog
from tests.rules.test_outcomes_engine import load, metrics, one


def test_a_formula_veto_with_chinese_names_explains_the_numbers() -> None:
    loaded = load("vetoes:\n"
                  "  - code: no_life\n"
                  "    name: 组织生活会未召开\n"
                  "    when: 组织生活会_未完成 >= 1 or 主题党日_未完成 > 6\n"
                  "    effect: lowest_grade\n"
                  "    reason: 组织生活长期不正常\n")
    outcome = one(loaded, metrics(t_missed=7))                          # 65, 二星
    assert (outcome.grade, outcome.vetoes) == ("一星", ["no_life"])
    assert outcome.lines[0].reason == (
        "组织生活长期不正常（组织生活会未完成0次，主题党日未完成7次，条件为 组织生活会_未完成 >= 1 or 主题党日_未完成 > 6）："
        "等级定为“一星”（按得分应为“二星”），总分65分不变")


def test_formula_criteria_may_read_the_total_and_a_section_by_name_or_code() -> None:
    loaded = load("designations:\n"
                  "  - code: fine\n"
                  "    name: 先进支部\n"
                  "    criteria:\n"
                  "      - {name: 得分高, when: \"总分 >= 90 and 基础工作 >= 58\"}\n"
                  "      - {name: 会议齐, when: \"review == 40 and committee__missed == 0\"}\n")
    assert one(loaded, metrics(t_late=2)).designations == ["fine"]                  # 98, 基础工作 58
    refused = one(loaded, metrics(t_late=1, l_late=1)).lines[0].reason               # 94, 评议 35
    assert refused == ("先进支部：2项标准中“会议齐”未达到（“评议”得分35分，支委会未完成0次，"
                       "条件为 review == 40 and committee__missed == 0），不授予")


def test_a_structured_condition_may_use_any_formula_spelling() -> None:
    loaded = load("vetoes:\n"
                  "  - {code: v, name: 否决, when: {metric: 组织生活会_未完成, op: ge, value: 1},"
                  " effect: zero_score, reason: 未开组织生活会}\n")
    outcome = one(loaded, metrics(l_missed=1))
    assert (outcome.total, outcome.vetoes) == (0, ["v"])


def test_a_formula_that_fails_on_a_units_values_names_the_unit_and_clause() -> None:
    loaded = load("vetoes:\n"
                  "  - {code: v, name: 逾期过多, when: \"theme_day__late / theme_day__excused > 0.5\","
                  " effect: lowest_grade, reason: 逾期过多}\n")
    with pytest.raises(ValidationFailed) as caught:
        one(loaded, metrics())
    assert caught.value.message.startswith("单位 u1 的否决项“逾期过多”的条件无法计算：")
    assert "除数为0" in caught.value.message


def test_every_spelling_the_formula_language_offers_for_metrics_is_usable_in_conditions() -> None:
    loaded = load("")
    rule_set = loaded.rule_set
    spellings = aliases(catalog(rule_set))
    offered = formula_names(loaded.duties, list(getattr(rule_set, "metrics", None) or []))
    assert {name: spellings.get(name) for name in offered} == offered
    assert spellings["总分"] == "total" and spellings["基础工作"] == "section:basic"
    assert spellings["basic"] == "section:basic" and spellings["section:basic"] == "section:basic"
