"""Vetoes, overrides, designations, quotas and ranks after the individual scores, with
numbers that can be checked by hand.

The rule set HEAD scores 100 points: 主题党日 (60, −5 per missed month, −1 per late one)
and 组织生活会 (40, −40 if missed, −5 if late), so total = 100 − t_late − 5·t_missed −
5·l_late − 40·l_missed. 支委会 is not scored; conditions read its metrics.
Bands: 五星 [90, 100], 四星 [80, 90), 三星 [70, 80), 二星 [60, 70), 一星 below 60.
"""
from __future__ import annotations

import pytest

from dangjian.errors import ValidationFailed
from rules.loader import LoadedRuleSet, load_rule_set_text
from rules.metrics import MissingMetric
from rules.outcomes import Subject, UnitOutcome, apply_outcomes
from rules.scorer import score_unit

HEAD = """\
rule_set: {code: t, version: '1', name: 测试}
duties:
  - {code: theme_day, name: 主题党日, applies_to: {kind: branch}, frequency: monthly}
  - {code: org_life, name: 组织生活会, applies_to: {kind: branch}, frequency: yearly}
  - {code: committee, name: 支委会, applies_to: {kind: branch}, frequency: monthly}
scoring:
  subject: {kind: branch}
  max_total: 100
  rounding: {digits: 1}
  sections:
    - code: basic
      name: 基础工作
      max: 60
      items:
        - {code: theme, name: 主题党日按月开展, max: 60, method: duty_deduction, duty: theme_day, deduct: {missed: 5, late: 1}}
    - code: review
      name: 评议
      max: 40
      items:
        - {code: life, name: 组织生活会按期召开, max: 40, method: duty_deduction, duty: org_life, deduct: {missed: 40, late: 5}}
  grades:
    - {name: 五星, min: 90, max: 100, max_inclusive: true}
    - {name: 四星, min: 80, max: 90}
    - {name: 三星, min: 70, max: 80}
    - {name: 二星, min: 60, max: 70}
    - {name: 一星, max: 60}
"""          # 26 lines: a block appended to HEAD starts at line 27

PROMOTE = """\
  - code: district_award
    name: 获区级先进
    when: {metric: committee.excused, op: ">=", value: 1}
    effect: {set_grade: 五星}
    reason: 获区级及以上先进基层党组织，直接定为五星
"""
NO_LIFE = """\
  - code: no_life
    name: 组织生活会未召开
    when: {metric: org_life.missed, op: ">=", value: 1}
    effect: lowest_grade
    reason: 全年未召开组织生活会，直接定为最低等级
"""
FIVE_GOOD = """\
designations:
  - code: five_good
    name: 五好党支部
    requires_no_veto: true
    criteria:
      - {name: 班子好, when: {metric: committee.missed, op: "==", value: 0}}
      - {name: 制度落实好, when: {metric: org_life.on_time, op: ">=", value: 1}, unmet: 组织生活会未按期召开}
      - {name: 作用发挥好, when: {metric: "section:basic", op: ">=", value: 58}}
"""


def load(blocks: str) -> LoadedRuleSet:
    return load_rule_set_text(HEAD + blocks, "t.yaml")


def metrics(*, t_late: int = 0, t_missed: int = 0, l_late: int = 0, l_missed: int = 0,
            c_missed: int = 0, c_excused: int = 0) -> dict[str, float]:
    found: dict[str, float] = {}
    for duty, owed, late, missed, excused in (
        ("theme_day", 12, t_late, t_missed, 0), ("org_life", 1, l_late, l_missed, 0),
        ("committee", 12, 0, c_missed, c_excused),
    ):
        values = {"owed": owed, "on_time": owed - late - missed - excused, "late": late,
                  "missed": missed, "pending": 0, "excused": excused}
        found.update({f"{duty}.{k}": float(v) for k, v in values.items()})
    return found


def run(loaded: LoadedRuleSet, *units: tuple[str, str | None, dict[str, float]],
        quotas: bool = True) -> dict[str, UnitOutcome]:
    scores = [score_unit(loaded, unit, values) for unit, _, values in units]
    subjects = [Subject(unit, street, "d1", values) for unit, street, values in units]
    return {o.unit_id: o for o in apply_outcomes(loaded, scores, subjects, quotas=quotas)}


def one(loaded: LoadedRuleSet, values: dict[str, float]) -> UnitOutcome:
    return run(loaded, ("u1", "s1", values))["u1"]


# -- vetoes and overrides ----------------------------------------------------------

def test_lowest_grade_veto_forces_the_lowest_band_and_keeps_the_score() -> None:
    outcome = one(load("vetoes:\n" + NO_LIFE), metrics(l_missed=1))      # 100 − 40 = 60, 二星
    assert (outcome.total, outcome.grade, outcome.vetoes) == (60, "一星", ["no_life"])
    (line,) = outcome.lines
    assert line.item_code == "veto:no_life" and line.item_name == "组织生活会未召开"
    assert line.points == 0 and line.max_points is None and line.section_code == ""
    assert line.reason == ("全年未召开组织生活会，直接定为最低等级（组织生活会未完成1次，条件为不小于1）："
                           "等级定为“一星”（按得分应为“二星”），总分60分不变")
    assert line.clause == "t.yaml:28 否决项/组织生活会未召开"


def test_a_veto_whose_condition_does_not_hold_leaves_no_line() -> None:
    outcome = one(load("vetoes:\n" + NO_LIFE), metrics(l_late=1))          # 95, 五星
    assert (outcome.total, outcome.grade, outcome.vetoes, outcome.lines) == (95, "五星", [], [])


def test_zero_score_veto_takes_the_total_to_zero_with_a_balancing_line() -> None:
    loaded = load("vetoes:\n"
                  "  - code: theme_day_abandoned\n"
                  "    name: 主题党日半年以上未开展\n"
                  "    when: {metric: theme_day.missed, op: \">\", value: 6}\n"
                  "    effect: zero_score\n"
                  "    reason: 主题党日缺失超过半年，年度得分为0\n")
    values = metrics(t_missed=7, l_late=1)                                 # 100 − 35 − 5 = 60
    score = score_unit(loaded, "u1", values)
    outcome = one(loaded, values)
    assert (score.total, outcome.total, outcome.grade) == (60, 0, "一星")
    (line,) = outcome.lines
    assert line.points == -60
    assert sum(x.points for x in score.lines) + line.points == outcome.total
    assert line.reason.endswith("：总分由60分记为0分，等级“一星”")


def test_set_grade_promotes_directly_and_says_what_the_score_gave() -> None:
    outcome = one(load("vetoes:\n" + PROMOTE), metrics(t_missed=3, c_excused=1))   # 85, 四星
    assert (outcome.total, outcome.grade, outcome.vetoes) == (85, "五星", ["district_award"])
    assert outcome.lines[0].reason.endswith("：直接定为“五星”（按得分应为“四星”），总分85分不变")
    assert outcome.lines[0].clause == "t.yaml:28 直接定级/获区级先进"


def test_vetoes_apply_in_file_order_so_a_veto_after_a_promotion_wins() -> None:
    values = metrics(t_missed=3, l_missed=1, c_excused=1)                  # 100 − 15 − 40 = 45
    veto_last = one(load("vetoes:\n" + PROMOTE + NO_LIFE), values)
    assert (veto_last.grade, veto_last.vetoes) == ("一星", ["district_award", "no_life"])
    assert [line.item_code for line in veto_last.lines] == ["veto:district_award", "veto:no_life"]
    assert "等级定为“一星”（此前由“获区级先进”定为“五星”）" in veto_last.lines[1].reason
    promotion_last = one(load("vetoes:\n" + NO_LIFE + PROMOTE), values)
    assert (promotion_last.grade, promotion_last.vetoes) == ("五星", ["no_life", "district_award"])


def test_block_designation_refuses_that_designation_with_the_veto_reason() -> None:
    loaded = load("vetoes:\n"
                  "  - code: mass_incident\n"
                  "    name: 发生群体性事件\n"
                  "    when: {metric: committee.late, op: \">=\", value: 1}\n"
                  "    effect: {block_designation: five_good}\n"
                  "    reason: 辖区发生影响较大的群体性事件\n" + FIVE_GOOD)
    values = metrics()
    values.update({"committee.late": 1.0, "committee.on_time": 11.0})
    outcome = one(loaded, values)
    assert (outcome.total, outcome.grade, outcome.designations) == (100, "五星", [])
    assert [line.reason for line in outcome.lines] == [
        "辖区发生影响较大的群体性事件（支委会逾期完成1次，条件为不小于1）：不得评为“五好党支部”",
        "五好党支部：不授予，否决项“发生群体性事件”（辖区发生影响较大的群体性事件）",
    ]


# -- designations ------------------------------------------------------------------

def test_five_good_is_granted_when_every_criterion_holds() -> None:
    outcome = one(load(FIVE_GOOD), metrics(t_late=2))                      # 基础工作 58
    assert outcome.designations == ["five_good"]
    (line,) = outcome.lines
    assert line.item_code == "designation:five_good" and line.clause == "t.yaml:28 称号/五好党支部"
    assert line.reason == "五好党支部：3项标准全部达到（班子好、制度落实好、作用发挥好），授予“五好党支部”"


def test_five_good_refused_names_the_failing_criterion_and_its_numbers() -> None:
    outcome = one(load(FIVE_GOOD), metrics(t_late=3))                      # 基础工作 57
    assert outcome.designations == []
    assert outcome.lines[0].reason == (
        "五好党支部：3项标准中“作用发挥好”未达到（“基础工作”得分57分，条件为不小于58），不授予")


def test_five_good_refused_on_several_criteria_uses_the_unmet_text() -> None:
    outcome = one(load(FIVE_GOOD), metrics(l_late=1, c_missed=2))
    assert outcome.lines[0].reason == (
        "五好党支部：3项标准中2项未达到：“班子好”未达到（支委会未完成2次，条件为等于0）；"
        "“制度落实好”未达到（组织生活会未按期召开），不授予")


def test_requires_no_veto_refuses_a_vetoed_unit_without_judging_the_criteria() -> None:
    outcome = one(load("vetoes:\n" + NO_LIFE + FIVE_GOOD), metrics(l_missed=1))
    assert outcome.designations == []
    assert outcome.lines[1].reason == "五好党支部：不授予，须无否决项，本单位有否决项“组织生活会未召开”"


def test_a_promotion_is_not_a_veto_for_requires_no_veto() -> None:
    outcome = one(load("vetoes:\n" + PROMOTE + FIVE_GOOD), metrics(c_excused=1))
    assert (outcome.grade, outcome.designations) == ("五星", ["five_good"])


def test_any_and_all_conditions() -> None:
    loaded = load("designations:\n"
                  "  - code: active\n"
                  "    name: 活跃支部\n"
                  "    criteria:\n"
                  "      - name: 组织生活正常\n"
                  "        when:\n"
                  "          any:\n"
                  "            - {metric: total, op: \">=\", value: 95}\n"
                  "            - all: [{metric: theme_day.missed, op: \"==\", value: 0}, {metric: org_life.late, op: \"==\", value: 0}]\n")
    assert one(loaded, metrics(t_late=4)).designations == ["active"]                 # 96
    assert one(loaded, metrics(t_late=4, l_late=1)).designations == []               # 91, late
    refused = one(loaded, metrics(t_missed=1, l_late=1)).lines[0].reason             # 90
    assert refused == ("活跃支部：1项标准中“组织生活正常”未达到（以下均不满足：总分90分，条件为不小于95；"
                       "主题党日未完成1次，条件为等于0；组织生活会逾期完成1次，条件为等于0），不授予")


def test_a_metric_a_condition_needs_but_the_subject_lacks_is_an_error_not_zero() -> None:
    loaded = load("vetoes:\n" + NO_LIFE)
    values = metrics()
    score = score_unit(loaded, "u1", values)
    del values["org_life.missed"]
    with pytest.raises(MissingMetric) as caught:
        apply_outcomes(loaded, [score], [Subject("u1", None, None, values)])
    assert caught.value.message == ("单位 u1 缺少指标 org_life.missed（组织生活会未完成）"
                                    "（否决项“组织生活会未召开”需要；缺失的指标不按0计）")


# -- quotas ------------------------------------------------------------------------

QUOTA_30 = """\
quotas:
  - code: five_star_cap
    name: 五星名额
    grade: 五星
    max_share: 0.3
    scope: overall
    rounding: floor
    tie_break: [total desc, "section:basic desc", unit_id asc]
"""


def test_thirty_percent_five_star_quota_with_ties_broken_as_stated() -> None:
    outcomes = run(
        load(QUOTA_30),
        ("u01", "s1", metrics()),                   # 100
        ("u02", "s1", metrics(t_late=5)),           # 95, 基础工作 55
        ("u03", "s1", metrics(l_late=1)),           # 95, 基础工作 60
        ("u04", "s2", metrics(l_late=1)),           # 95, 基础工作 60: same as u03, unit_id decides
        ("u05", "s2", metrics(t_late=10)),          # 90
        ("u06", "s2", metrics(t_missed=3)),         # 85
        ("u07", "s2", metrics(t_missed=5)),         # 75
        ("u08", "s2", metrics(t_missed=7)),         # 65
        ("u09", "s3", metrics(l_missed=1)),         # 60
        ("u10", "s3", metrics(l_missed=1, t_missed=1)),   # 55
    )
    grades = {u: o.grade for u, o in outcomes.items()}
    assert grades == {"u01": "五星", "u02": "四星", "u03": "五星", "u04": "五星", "u05": "四星",
                      "u06": "四星", "u07": "三星", "u08": "二星", "u09": "二星", "u10": "一星"}
    head = "五星名额：“五星”至多占30%，全部10个单位×0.3=3，向下取整为3个；"
    order = "排序：总分高者在前，同分按“基础工作”得分高者在前，再按单位代码从小到大"
    assert outcomes["u04"].lines[0].reason == f"{head}本单位在“五星”中排第3（{order}），在名额内，保持“五星”"
    assert outcomes["u02"].lines[0].reason == f"{head}本单位在“五星”中排第4（{order}），超出名额，降为“四星”"
    assert outcomes["u02"].lines[0].item_code == "quota:five_star_cap"
    assert outcomes["u02"].lines[0].clause == "t.yaml:28 名额/五星名额"
    assert outcomes["u06"].lines == []                      # not a 五星 holder: untouched
    assert outcomes["u02"].total == 95                      # quotas move grades, not scores


@pytest.mark.parametrize(("rounding", "allowed"), [("floor", 2), ("round", 3), ("ceil", 3)])
def test_rounding_of_the_allowed_count(rounding: str, allowed: int) -> None:
    text = QUOTA_30.replace("0.3", "0.25").replace("rounding: floor", f"rounding: {rounding}")
    units = [(f"u{i:02d}", None, metrics(t_late=i)) for i in range(10)]     # 100 … 91, all 五星
    outcomes = run(load(text), *units)
    assert sum(o.grade == "五星" for o in outcomes.values()) == allowed      # 10 × 0.25 = 2.5
    assert [u for u, o in outcomes.items() if o.grade == "五星"] == [f"u{i:02d}" for i in range(allowed)]


def test_ten_forty_thirty_shares_cascade_from_the_top_grade_down() -> None:
    loaded = load("""\
quotas:
  - code: star_shares
    name: 星级比例
    shares: [{grade: 五星, share: 0.1}, {grade: 四星, share: 0.4}, {grade: 三星, share: 0.3}]
    tie_break: [total desc, unit_id asc]
""")
    outcomes = run(
        loaded,
        ("a", None, metrics()), ("b", None, metrics(t_late=2)), ("c", None, metrics(t_late=4)),
        ("d", None, metrics(t_late=6)), ("e", None, metrics(t_late=8)),              # 100 98 96 94 92
        ("f", None, metrics(t_late=12)), ("g", None, metrics(t_missed=2, t_late=4)),  # 88 86
        ("h", None, metrics(t_missed=4, t_late=2)), ("i", None, metrics(t_missed=4, t_late=4)),  # 78 76
        ("j", None, metrics(l_missed=1, t_missed=2)),                                  # 50
    )
    assert [o.total for o in outcomes.values()] == [100, 98, 96, 94, 92, 88, 86, 78, 76, 50]
    assert [o.grade for o in outcomes.values()] == [
        "五星", "四星", "四星", "四星", "四星", "三星", "三星", "三星", "二星", "一星"]
    # f was 四星 by score, then 5th of 6 四星 holders (b–e moved down from 五星 ahead of it)
    f_moved, f_kept = outcomes["f"].lines
    assert f_moved.reason.startswith("星级比例：“四星”至多占40%，全部10个单位×0.4=4，向下取整为4个；本单位在“四星”中排第5")
    assert f_moved.reason.endswith("超出名额，降为“三星”")
    assert f_kept.reason.startswith("星级比例：“三星”至多占30%，全部10个单位×0.3=3，向下取整为3个；本单位在“三星”中排第1")
    assert [line.reason.split("），")[-1] for line in outcomes["b"].lines] == ["超出名额，降为“四星”", "在名额内，保持“四星”"]


def test_a_directly_promoted_unit_takes_a_place_and_is_never_moved() -> None:
    loaded = load("vetoes:\n" + PROMOTE + QUOTA_30)
    units = [("p", "s1", metrics(t_missed=3, c_excused=1))]                  # 85, promoted to 五星
    units += [(f"u{i}", "s1", metrics(t_late=i)) for i in range(9)]          # 100 … 92, 五星
    outcomes = run(loaded, *units)
    assert outcomes["p"].grade == "五星"
    assert [u for u, o in outcomes.items() if o.grade == "五星"] == ["p", "u0", "u1"]
    assert outcomes["p"].lines[-1].reason.endswith("本单位由“获区级先进”定为“五星”，不参与名额排序，占名额1个")
    assert "其中1个由否决项或直接定级确定，余2个按排序" in outcomes["u1"].lines[0].reason


def test_street_scope_counts_each_street_separately() -> None:
    text = QUOTA_30.replace("scope: overall", "scope: street").replace("0.3", "0.5")
    outcomes = run(load(text),
                   ("a1", "A", metrics()), ("a2", "A", metrics(t_late=1)), ("a3", "A", metrics(t_missed=5)),
                   ("a4", "A", metrics(t_missed=5)), ("b1", "B", metrics(t_late=2)), ("b2", "B", metrics(t_late=3)))
    assert {u: o.grade for u, o in outcomes.items()} == {
        "a1": "五星", "a2": "五星", "a3": "三星", "a4": "三星", "b1": "五星", "b2": "四星"}
    assert outcomes["b2"].lines[0].reason.startswith("五星名额：“五星”至多占50%，本街道2个单位×0.5=1，向下取整为1个；")


STAR_MEMBER = """\
designations:
  - code: star_member
    name: 明星党员
    criteria:
      - {name: 按时参加组织生活, when: {metric: theme_day.missed, op: "==", value: 0}}
quotas:
  - code: star_member_quota
    name: 明星党员名额
    designation: star_member
    max_share: 0.1
    tie_break: [total desc, unit_id asc]
"""


def test_a_designation_quota_keeps_the_top_ten_percent_of_qualified_members() -> None:
    members = [(f"m{i:02d}", None, metrics(t_late=i % 7, t_missed=1 if i >= 15 else 0)) for i in range(20)]
    outcomes = run(load(STAR_MEMBER), *members)
    assert sum(bool(o.designations) for o in outcomes.values()) == 2          # 20 × 0.1 = 2
    assert [u for u, o in outcomes.items() if o.designations] == ["m00", "m07"]   # both 100, unit_id asc
    assert outcomes["m14"].lines[-1].reason.endswith("超出名额，不授予“明星党员”")
    assert "，同分按单位代码从小到大" in outcomes["m14"].lines[-1].reason
    assert [line.item_code for line in outcomes["m15"].lines] == ["designation:star_member"]  # never qualified


def test_examples_skip_quotas_when_asked() -> None:
    outcomes = run(load(QUOTA_30), ("u1", None, metrics()), quotas=False)
    assert (outcomes["u1"].grade, outcomes["u1"].lines) == ("五星", [])


# -- ranks -------------------------------------------------------------------------

def test_ranks_are_competition_ranks_within_the_street_and_overall_on_the_final_total() -> None:
    loaded = load("vetoes:\n"
                  "  - {code: zero, name: 严重违纪, when: {metric: committee.late, op: \">=\", value: 1},"
                  " effect: zero_score, reason: 发生严重违纪问题}\n")
    late = metrics()
    late.update({"committee.late": 1.0, "committee.on_time": 11.0})
    outcomes = run(loaded,
                   ("a1", "A", metrics()), ("a2", "A", metrics(t_missed=2)), ("a3", "A", metrics(t_missed=2)),
                   ("b1", "B", metrics(t_late=5)), ("b2", "B", metrics(t_missed=4)), ("b3", "B", late))
    assert {u: (o.total, o.rank_in_street, o.rank_overall) for u, o in outcomes.items()} == {
        "a1": (100, 1, 1), "a2": (90, 2, 3), "a3": (90, 2, 3),
        "b1": (95, 1, 2), "b2": (80, 2, 5), "b3": (0, 3, 6)}


def test_scores_and_subjects_must_match() -> None:
    loaded = load("")
    score = score_unit(loaded, "u1", metrics())
    with pytest.raises(ValidationFailed, match="没有得分的对象：u2"):
        apply_outcomes(loaded, [score], [Subject("u1", None, None, metrics()), Subject("u2", None, None, metrics())])
