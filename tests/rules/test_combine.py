"""Combining sections into the total: a weighted formula over sections (总分 = 基础项扣除减分项
后×70% + 评议项×30%; 平时×50% + 年度×50% + 加分 − 扣分), caps and floors at section and
total level, rounding before banding, and grade coverage over the formula's range."""
from __future__ import annotations

from decimal import Decimal

from rules.metrics import ManualEntry
from tests.rules.test_methods_texts import at, duty, issues_of, line, load, rules, score

FOUR = """\
    - {name: 优秀, min: 90, max: 100, max_inclusive: true}
    - {name: 良好, min: 80, max: 90}
    - {name: 合格, min: 60, max: 80}
    - {name: 不合格, max: 60}
"""
METRICS = "  - {code: cases, name: 违纪案件, unit: 起, min: 0}\n"
SECTIONS = """\
    - code: basic
      name: 基础项
      max: 100
      items:
        - {code: congress, name: 党员大会, max: 60, method: duty_deduction, duty: party_congress, deduct: {missed: 4, late: 2}}
        - {code: lecture, name: 党课, max: 40, method: duty_deduction, duty: party_lecture, deduct: {missed: 4, late: 2}}
    - code: minus
      name: 减分项
      max: 0
      floor: -20
      items:
        - {code: cases, name: 违纪违规, method: penalty, metric: cases, each: 3}
    - code: review
      name: 评议项
      max: 100
      items:
        - {code: appraisal, name: 评议, method: manual, range: [0, 100]}
"""


def weighted(formula: str = "(基础项 + 减分项) * 0.7 + 评议项 * 0.3", grades: str = FOUR, digits: int = 1,
             extra: str = "") -> str:
    return rules("", sections=SECTIONS, metrics=METRICS, grades=grades, digits=digits,
                 scoring_extra=f"  total:\n    formula: {formula}\n{extra}")


def inputs(*, congress_missed: int = 0, lecture_late: int = 0, cases: int = 0) -> dict[str, float]:
    return {**duty("party_congress", owed=4, on_time=4 - congress_missed, missed=congress_missed),
            **duty("party_lecture", owed=4, on_time=4 - lecture_late, late=lecture_late),
            "cases": float(cases)}


def test_seventy_thirty_after_deducting_the_penalties() -> None:
    # 基础项 100 − 2×4 = 92; 减分项 −3; 评议项 80 → (92 − 3) × 0.7 + 80 × 0.3 = 62.3 + 24 = 86.3
    result = score(weighted(), inputs(congress_missed=2, cases=1), manual={"appraisal": ManualEntry(80, "王芳")})
    assert (result.total, result.grade) == (86.3, "良好")
    formula = line(result, "total:formula")
    assert formula.reason == ("总分按公式 (基础项 + 减分项) * 0.7 + 评议项 * 0.3 计算：(92 + (-3)) * 0.7 + 80 * 0.3"
                              " = 86.3分（各节合计169分，按公式调整-82.7分）")
    assert formula.clause.startswith("t.yaml:") and formula.clause.endswith(" 总分公式")
    assert sum(Decimal(repr(x.points)) for x in result.lines) == Decimal("86.3")


def test_subtracting_a_penalty_section_is_refused_at_its_name() -> None:
    text = weighted("(基础项 - 减分项) * 0.7 + 评议项 * 0.3")
    assert issues_of(text) == [
        (f"{at(text, '减分项)')}: 节“减分项”的得分只会是0或负数（扣分记为负分），减去它反而变成加分；"
         "“扣除减分项”请写成“+ 减分项”")]


def test_every_top_level_section_must_appear_in_the_total_formula() -> None:
    text = weighted("基础项 * 0.7 + 评议项 * 0.3")
    assert issues_of(text) == [
        f"{at(text, '基础项 * 0.7')}: 节 minus（减分项）没有出现在总分公式中：每个一级节都要写进公式（不计入总分的节请删除）"]


def test_an_unknown_name_in_the_total_formula_points_at_it_and_lists_sections() -> None:
    text = weighted("(基础项 + 减分项) * 0.7 + 评价项 * 0.3")
    (issue,) = issues_of(text)
    assert issue.startswith(f"{at(text, '评价项')}: 未知的名称 评价项（是不是要写 评议项？可用的名称：")
    assert "basic、cases、minus、review" in issue


def test_rounding_happens_before_banding() -> None:
    # 基础项 100 − 2 = 98 → 98 × 0.5 + 评议项 81.9 × 0.5 = 89.95 → 90.0 → 优秀
    text = weighted("(基础项 + 减分项) * 0.5 + 评议项 * 0.5")
    result = score(text, inputs(lecture_late=1), manual={"appraisal": ManualEntry(81.9, "王芳")})
    assert (result.total, result.grade) == (90.0, "优秀")
    assert line(result, "total:rounding").reason == "总分89.95分保留1位小数（四舍五入）为90.0分"


def test_section_floor_and_total_floor_stop_deductions() -> None:
    text = weighted(extra="  min_total: 0\n")
    result = score(text, inputs(congress_missed=4, lecture_late=4, cases=9), manual={"appraisal": ManualEntry(0, "王芳")})
    assert line(result, "minus:floor").reason == "“减分项”各条目合计-27分，低于本节下限-20分，按-20分计"
    # (100 − 16 − 8 − 20) × 0.7 + 0 = 39.2
    assert result.total == 39.2
    worse = rules("", sections=SECTIONS.replace("floor: -20", "floor: -100"), metrics=METRICS,
                  scoring_extra="  min_total: 0\n  total:\n    formula: 减分项 + 基础项 * 0 + 评议项 * 0\n",
                  grades="    - {name: 低, max: 50}\n    - {name: 高, min: 50}\n")
    floored = score(worse, inputs(cases=9), manual={"appraisal": ManualEntry(0, "王芳")})
    assert floored.total == 0 and line(floored, "total:floor").reason.startswith("按公式计算的总分-27分，低于总分下限0分")


def test_half_usual_half_yearly_plus_bonus_minus_deductions_may_exceed_100_when_allowed() -> None:
    sections = """\
    - {code: usual, name: 平时, max: 100, items: [{code: u, name: 平时评议, method: manual, range: [0, 100]}]}
    - {code: yearly, name: 年度, max: 100, items: [{code: y, name: 年度评议, method: manual, range: [0, 100]}]}
    - {code: plus, name: 加分, max: null, items: [{code: s, name: 建议被采纳, method: bonus, metric: adopted, each: 2, cap: null}]}
    - {code: minus, name: 扣分, max: 0, items: [{code: c, name: 违纪, method: penalty, metric: cases, each: 3}]}
"""
    text = rules("", sections=sections, allow_over_max=True, digits=1,
                 metrics=METRICS + "  - {code: adopted, name: 被采纳建议, unit: 条, min: 0}\n",
                 scoring_extra="  total: {formula: 平时 * 0.5 + 年度 * 0.5 + 加分 + 扣分}\n",
                 grades="    - {name: 优秀, min: 95}\n    - {name: 较好, min: 90, max: 95}\n    - {name: 一般, max: 90}\n")
    manual = {"u": ManualEntry(96, "甲"), "y": ManualEntry(98, "乙")}
    result = score(text, {"adopted": 3.0, "cases": 0.0}, manual=manual)
    assert (result.total, result.grade) == (103.0, "优秀")           # 48 + 49 + 6 − 0
    assert all(x.item_code != "total:cap" for x in result.lines)


def test_the_total_is_capped_after_the_formula_unless_allowed() -> None:
    text = weighted("(基础项 + 减分项) * 0.7 + 评议项 * 0.3 + 10")
    result = score(text, inputs(), manual={"appraisal": ManualEntry(100, "王芳")})
    assert result.total == 100
    assert line(result, "total:cap").reason == "按公式计算的总分110分，超过总分上限100分，按100分计（核减10分）"


def test_band_coverage_is_checked_over_the_formula_range() -> None:
    # lowest possible: (0 − 20) × 0.7 + 0 × 0.3 = −14, capped totals reach 100
    grades = "    - {name: 优秀, min: 90, max: 100, max_inclusive: true}\n    - {name: 其他, min: 0, max: 90}\n"
    text = weighted(grades=grades)
    assert issues_of(text) == [
        f"{at(text, '0, max: 90}')}: 等级没有覆盖最低可能得分 -14：最低的等级“其他”是 [0, 90)"]
    assert load(weighted(grades=grades, extra="  min_total: 0\n"))      # floored at 0: covered


def test_band_coverage_is_skipped_when_the_formula_range_is_not_exact() -> None:
    grades = "    - {name: 优秀, min: 90, max: 100, max_inclusive: true}\n    - {name: 其他, min: 0, max: 90}\n"
    assert load(weighted("(基础项 + 减分项) * 0.7 + 评议项 * 0.3 + 基础项 * 0", grades=grades))


def test_sections_are_capped_before_the_formula_sees_them() -> None:
    text = weighted().replace("      name: 基础项\n      max: 100", "      name: 基础项\n      max: 80")
    result = score(text, inputs(), manual={"appraisal": ManualEntry(50, "王芳")})
    assert line(result, "basic:cap").points == -20
    assert result.total == 71.0                                         # 80 × 0.7 + 50 × 0.3
