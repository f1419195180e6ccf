"""Every mistake in `vetoes:`, `designations:` and `quotas:` is a load error at its exact
file:line:column, in Chinese, all at once. HEAD (from test_outcomes_engine) has 26 lines,
so the first line of an appended block is line 27."""
from __future__ import annotations

import pytest

from rules.loader import RuleSetError, load_rule_set_text
from tests.rules.test_outcomes_engine import FIVE_GOOD, HEAD

GRADES = "五星、四星、三星、二星、一星"
USABLE = ("职责指标 <职责代码>.<owed|on_time|late|missed|pending|excused>（职责：committee、org_life、theme_day）；"
          "声明的指标（metrics）：无；total；section:basic、section:review")


def issues_of(block: str) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_text(HEAD + block, "t.yaml")
    return [str(issue) for issue in caught.value.issues]


def veto(when: str = '{metric: org_life.missed, op: ">=", value: 1}', effect: str = "lowest_grade") -> str:
    return ("vetoes:\n"                          # 27
            "  - code: v1\n"                     # 28
            "    name: 否决\n"                   # 29
            f"    when: {when}\n"                # 30
            f"    effect: {effect}\n"            # 31
            "    reason: 理由\n")                # 32


def test_the_base_with_every_clause_loads_and_records_clause_positions() -> None:
    loaded = load_rule_set_text(HEAD + veto() + FIVE_GOOD + (
        "quotas:\n"
        "  - {code: q1, name: 五星名额, grade: 五星, max_share: 0.3, tie_break: [total desc, unit_id asc]}\n"),
        "t.yaml")
    assert [v.code for v in loaded.rule_set.vetoes] == ["v1"]
    assert loaded.clause("veto:v1") == "t.yaml:28 否决项/否决"
    assert loaded.clause("designation:five_good") == "t.yaml:34 称号/五好党支部"
    assert loaded.clause("quota:q1") == "t.yaml:42 名额/五星名额"
    quota = loaded.rule_set.quotas[0]
    assert (quota.scope, quota.rounding) == ("overall", "floor")          # the defaults


def test_unknown_effect_lists_the_effects() -> None:
    assert issues_of(veto(effect="lowest_grde")) == [
        ("t.yaml:31:13: effect：未知的效果 'lowest_grde'（可用的效果：lowest_grade、zero_score、"
         "{block_designation: <称号代码>}、{set_grade: <等级名>}）")]
    assert issues_of(veto(effect="{demote: 一星}"))[0].startswith("t.yaml:31:13: effect：未知的效果 'demote'")
    assert issues_of(veto(effect="set_grade")) == ["t.yaml:31:13: effect：set_grade 须写明等级名，如 {set_grade: …}"]


def test_effect_targets_must_exist() -> None:
    assert issues_of(veto(effect="{block_designation: five_goood}") + FIVE_GOOD) == [
        "t.yaml:31:33: block_designation 引用了未定义的称号 five_goood（称号有：five_good）"]
    assert issues_of(veto(effect="{set_grade: 六星}")) == [
        f"t.yaml:31:25: set_grade 引用了未定义的等级 六星（等级有：{GRADES}）"]


def test_unknown_metric_in_a_condition() -> None:
    assert issues_of(veto(when='{metric: secretary_vacant_months, op: ">", value: 6}')) == [
        f"t.yaml:30:20: 条件引用了未知的指标 secretary_vacant_months（可用：{USABLE}）"]


def test_unknown_metric_deep_inside_all_of_a_criterion() -> None:
    block = FIVE_GOOD + (
        "      - name: 群众评价好\n"                                          # 35
        "        when:\n"                                                     # 36
        "          all:\n"                                                    # 37
        '            - {metric: org_life.on_time, op: ">=", value: 1}\n'      # 38
        '            - {metric: satisfaction, op: ">=", value: 90}\n')        # 39
    assert issues_of(block) == [f"t.yaml:39:24: 条件引用了未知的指标 satisfaction（可用：{USABLE}）"]


def test_unknown_name_in_a_formula_points_at_its_character() -> None:
    (issue,) = issues_of(veto(when='"org_life__missed >= 1 and secretary_months > 6"'))
    assert issue.startswith("t.yaml:30:38: 未知的名称 secretary_months（可用的名称：")


def test_an_error_in_a_folded_multi_line_formula_points_into_its_second_line() -> None:
    block = ("vetoes:\n"                                   # 27
             "  - code: v1\n"                              # 28
             "    name: 否决\n"                            # 29
             "    when: >-\n"                              # 30
             "      组织生活会_未完成 >= 1\n"               # 31
             "      or 书记缺配月数 > 6\n"                  # 32
             "    effect: lowest_grade\n"
             "    reason: 理由\n")
    (issue,) = issues_of(block)
    assert issue.startswith("t.yaml:32:10: 未知的名称 书记缺配月数（可用的名称：")


def test_formula_with_a_dot_gets_the_double_underscore_hint() -> None:
    assert issues_of(veto(when="org_life.missed >= 1")) == [
        "t.yaml:30:19: 公式中不能用“.”取属性；请写成 org_life__missed"]


def test_a_formula_that_is_not_a_condition() -> None:
    assert issues_of(veto(when="total - 60")) == [
        "t.yaml:30:11: 这里应是条件（比较，如 x >= 60），结果不能是数值"]


def test_condition_shape_errors() -> None:
    assert issues_of(veto(when='{metric: org_life.missed, op: "=>", value: 1}')) == [
        ("t.yaml:30:41: op：未知的比较符 '=>'（可用：> >= < <= == !=，或 gt ge lt le eq ne；"
         "YAML 中 > 和 >= 须加引号，如 op: \">=\"）")]
    assert issues_of(veto(when='{metric: org_life.missed, op: ">="}')) == [
        "t.yaml:30:11: when：比较条件缺少 value（应写成 {metric: 指标, op: 比较符, value: 数值}）"]
    (both,) = issues_of(veto(when='{metric: total, op: "<", value: 60, any: ["total < 50"]}'))
    assert both.startswith("t.yaml:30:11: when：条件须写成以下之一") and both.endswith("这里同时写了 metric/op/value、any")


def test_unknown_designation_in_a_quota() -> None:
    block = FIVE_GOOD + (
        "quotas:\n"                                   # 35
        "  - code: q1\n"                              # 36
        "    name: 五好名额\n"                        # 37
        "    designation: five_goood\n"               # 38
        "    max_share: 0.3\n"
        "    tie_break: [total desc, unit_id asc]\n")
    assert issues_of(block) == ["t.yaml:38:18: 名额引用了未定义的称号 five_goood（称号有：five_good）"]


def test_quota_shares_summing_over_one() -> None:
    block = ("quotas:\n"
             "  - code: q1\n"
             "    name: 星级比例\n"
             "    shares: [{grade: 五星, share: 0.3}, {grade: 四星, share: 0.5}, {grade: 三星, share: 0.3}]\n"
             "    tie_break: [total desc, unit_id asc]\n")
    assert issues_of(block) == ["t.yaml:30:13: shares：各等级比例之和为 0.3 + 0.5 + 0.3 = 1.1，超过 1"]


def test_quota_grades_tie_breaks_and_codes_are_checked_together() -> None:
    block = ("quotas:\n"                                                                 # 27
             "  - code: q1\n"                                                            # 28
             "    name: 星级比例\n"                                                      # 29
             "    shares: [{grade: 一星, share: 0.3}, {grade: 六星, share: 0.5}]\n"       # 30
             '    tie_break: [total desc, "section:basics desc", unit_id asc]\n'         # 31
             "  - {code: q2, name: 名额, grade: 五星, max_share: 0.3, tie_break: [total desc]}\n"      # 32
             "  - {code: q2, name: 名额, grade: 五星, max_share: 0.3, tie_break: [total down, unit_id asc]}\n"  # 33
             "  - {code: q3, name: 名额, grade: 五星, tie_break: [unit_id asc]}\n")      # 34
    assert issues_of(block) == [
        "t.yaml:30:22: “一星”是最低等级，超出名额的单位无处可降，不能为它设名额",
        f"t.yaml:30:47: 名额引用了未定义的等级 六星（等级有：{GRADES}）",
        f"t.yaml:31:29: tie_break 引用了未知的键 section:basics（可用：unit_id；{USABLE}）",
        "t.yaml:32:64: tie_break：最后一项须为 unit_id asc 或 unit_id desc，保证名额边界上不会并列",
        "t.yaml:33:12: 重复的名额代码 q2（第32行已定义）",
        "t.yaml:33:64: tie_break：每一项应写成“键 asc”或“键 desc”（如 total desc），实际为 'total down'",
        "t.yaml:34:5: 缺少必填项 max_share（名额比例，如 0.3 表示至多30%）",
    ]


def test_a_quota_names_exactly_one_target() -> None:
    block = "quotas:\n  - {code: q1, name: 名额, grade: 五星, designation: five_good, max_share: 0.3, tie_break: [unit_id asc]}\n"
    assert issues_of(block + FIVE_GOOD) == ["t.yaml:28:5: 名额须且只能写 grade、designation、shares 之一；这里写了 grade、designation"]


def test_duplicate_veto_and_designation_codes() -> None:
    block = veto() + "  - {code: v1, name: 又一个, when: \"total < 1\", effect: zero_score, reason: 理由}\n"
    block += FIVE_GOOD + "  - {code: five_good, name: 同名, criteria: [{name: 一, when: \"total > 1\"}]}\n"
    assert issues_of(block) == [
        "t.yaml:33:12: 重复的否决项代码 v1（第28行已定义）",
        "t.yaml:42:12: 重复的称号代码 five_good（第35行已定义）",
    ]


def test_examples_must_name_defined_designations_and_vetoes() -> None:
    block = FIVE_GOOD + ("examples:\n"                                            # 35
                         "  - name: 一\n"                                         # 36
                         "    metrics: {total: 1}\n"                              # 37
                         "    expect: {designations: [five_goood], veto: [nothing]}\n")   # 38
    assert issues_of(block) == [
        "t.yaml:38:29: 未定义的称号 five_goood（称号有：five_good）",
        "t.yaml:38:49: 未定义的否决项 nothing（否决项有：无）",
    ]
