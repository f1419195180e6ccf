"""Examples stored beside the rules check outcomes: the grade and total after vetoes,
which vetoes applied, and which designations were granted. Quotas need a cohort and are
not applied to a single example."""
from __future__ import annotations

from rules.examples import run_examples
from rules.loader import load_rule_set_text
from tests.rules.test_outcomes_engine import FIVE_GOOD, HEAD, NO_LIFE

ALL_DONE = ("    metrics:\n"
            "      theme_day: {owed: 12, on_time: 12, late: 0, missed: 0, pending: 0, excused: 0}\n"
            "      org_life: {owed: 1, on_time: 1, late: 0, missed: 0, pending: 0, excused: 0}\n"
            "      committee: {owed: 12, on_time: 12, late: 0, missed: 0, pending: 0, excused: 0}\n")
QUOTA = ("quotas:\n"
         "  - {code: cap, name: 五星名额, grade: 五星, max_share: 0.1, tie_break: [total desc, unit_id asc]}\n")


def results(examples: str) -> dict[str, tuple[bool, str]]:
    loaded = load_rule_set_text(HEAD + "vetoes:\n" + NO_LIFE + FIVE_GOOD + QUOTA + "examples:\n" + examples, "t.yaml")
    return {r.name: (r.passed, r.message) for r in run_examples(loaded)}


def test_examples_check_grade_after_veto_the_vetoes_and_the_designations() -> None:
    found = results(
        "  - name: 全部完成评为五好（单个示例不受名额限制）\n" + ALL_DONE +
        "    expect: {total: 100, grade: 五星, designations: [five_good], veto: []}\n"
        "  - name: 未开组织生活会直接定为一星\n"
        "    based_on: 全部完成评为五好（单个示例不受名额限制）\n"
        "    metrics: {org_life: {on_time: 0, missed: 1}}\n"
        "    expect: {total: 60, grade: 一星, designations: [], veto: [no_life]}\n")
    assert found == {
        "全部完成评为五好（单个示例不受名额限制）": (True, "通过：总分100分，五星，“五好党支部”"),
        "未开组织生活会直接定为一星": (True, "通过：总分60分，一星"),
    }


def test_a_wrong_designation_expectation_says_why_it_was_refused() -> None:
    found = results(
        "  - name: 逾期开会\n"
        "    metrics:\n"
        "      theme_day: {owed: 12, on_time: 9, late: 3, missed: 0, pending: 0, excused: 0}\n"
        "      org_life: {owed: 1, on_time: 1, late: 0, missed: 0, pending: 0, excused: 0}\n"
        "      committee: {owed: 12, on_time: 12, late: 0, missed: 0, pending: 0, excused: 0}\n"
        "    expect: {designations: [five_good]}\n")
    assert found["逾期开会"] == (False, ("不符：称号 期望“五好党支部”，实际无：五好党支部：3项标准中“作用发挥好”未达到"
                                          "（“基础工作”得分57分，条件为不小于58），不授予"))


def test_a_wrong_veto_or_grade_expectation_is_reported() -> None:
    found = results(
        "  - name: 以为只降一档\n" + ALL_DONE.replace("org_life: {owed: 1, on_time: 1, late: 0, missed: 0",
                                                   "org_life: {owed: 1, on_time: 0, late: 0, missed: 1") +
        "    expect: {grade: 二星, veto: []}\n")
    assert found["以为只降一档"] == (
        False, "不符：等级 期望“二星”，实际“一星”（组织生活会未召开）；否决项/直接定级 期望无，实际no_life")
