"""Declared metrics (`metrics:`): every non-duty metric an item reads is declared with a
range; undeclared ones are load errors at their file:line:column; missing data is an
error naming metric and unit (never a silent zero) unless a default is written; values
outside the range are refused. Member scorecards (`scoring.subject: {kind: member}`) read
member metrics and attendance only."""
from __future__ import annotations

import pytest

from rules.metrics import InvalidMetrics, MissingMetric
from tests.rules.test_methods_texts import at, issues_of, line, load, rules, score

METRICS = """\
  - code: satisfaction
    name: 群众满意度
    unit: "%"
    min: 0
    max: 100
    description: 入户走访测评的满意率
  - {code: cases, name: 违纪案件, unit: 起, min: 0, default: 0}
"""
ITEMS = """\
        - {code: satisfied, name: 群众满意, max: 5, method: ratio, metric: 群众满意度, threshold: 90%}
        - {code: discipline, name: 违纪, method: penalty, metric: cases, each: 5}
"""


def test_items_may_name_a_declared_metric_by_code_or_chinese_name() -> None:
    loaded = load(rules(ITEMS, metrics=METRICS))
    (satisfaction, cases) = loaded.rule_set.metrics
    assert (satisfaction.code, satisfaction.unit, satisfaction.per, satisfaction.has_default) == \
        ("satisfaction", "%", "unit", False)
    assert (cases.default, cases.has_default) == (0, True)
    result = score(loaded, {"satisfaction": 81.0, "cases": 1.0})
    assert (line(result, "satisfied").points, line(result, "discipline").points) == (4.5, -5)


def test_a_missing_metric_names_metric_and_unit_and_is_never_zero() -> None:
    with pytest.raises(MissingMetric) as caught:
        score(rules(ITEMS, metrics=METRICS), {"cases": 0.0}, unit="branch-12")
    assert caught.value.message == \
        "单位 branch-12 缺少指标 satisfaction（群众满意度）（评分条目 satisfied 需要；缺失的指标不按0计）"


def test_a_written_default_fills_a_missing_value() -> None:
    assert line(score(rules(ITEMS, metrics=METRICS), {"satisfaction": 95.0}), "discipline").points == 0


@pytest.mark.parametrize("value", [101.0, -1.0])
def test_a_value_outside_the_declared_range_names_unit_and_metric(value: float) -> None:
    with pytest.raises(InvalidMetrics) as caught:
        score(rules(ITEMS, metrics=METRICS), {"satisfaction": value}, unit="branch-12")
    assert caught.value.message == \
        f"单位 branch-12 的指标 satisfaction（群众满意度）为 {value:g}，超出声明的范围 [0, 100]"


def test_an_undeclared_metric_is_a_load_error_at_its_value_listing_the_known_ones() -> None:
    text = rules(ITEMS.replace("metric: cases", "metric: case_count"), metrics=METRICS)
    assert issues_of(text) == [
        (f"{at(text, 'case_count')}: 未定义的指标 case_count（声明的指标：satisfaction（群众满意度）、cases（违纪案件）；"
         "职责指标写作 职责代码.owed|on_time|late|missed|pending|excused（职责：party_congress、party_lecture、"
         "theme_party_day））")
    ]


def test_a_duty_metric_with_an_unknown_bucket_lists_the_buckets() -> None:
    text = rules("        - {code: x, name: 阶梯, max: 5, method: ladder, metric: party_congress.absent, zero_at: 1}\n")
    assert issues_of(text) == [
        (f"{at(text, 'party_congress.absent')}: 职责 party_congress 没有指标 absent"
         "（可用：owed、on_time、late、missed、pending、excused）")]


def test_declarations_are_checked_code_name_range_and_default() -> None:
    text = rules(ITEMS, metrics=METRICS + """\
  - {code: satisfaction, name: 满意率, min: 0}
  - {code: rate__x, name: 比 率}
  - {code: rate, name: 比率, min: 5, max: 1}
  - {code: ok, name: 群众满意度, default: 5, max: 3}
""")
    found = issues_of(text)
    first_code, first_name = (at(text, word).split(":")[1] for word in ("satisfaction", "群众满意度"))
    assert f"{at(text, 'satisfaction', 2)}: 重复的指标代码 satisfaction（第{first_code}行已定义）" in found
    assert f"{at(text, '群众满意度', 2)}: 重复的指标名称 群众满意度（第{first_name}行已定义）" in found
    assert any(i.startswith(at(text, "rate__x")) and "不能含连续下划线" in i for i in found)
    assert any(i.startswith(at(text, "比 率")) and "不能有空格和标点" in i for i in found)
    assert any("min（5）不能大于 max（1）" in i for i in found)
    assert any("default（5）不在 [min, max] 范围内" in i for i in found)


MEMBER_DUTIES = """\
duties:
  - {code: dues, name: 交纳党费, applies_to: {subject: member}, frequency: monthly}
  - {code: party_congress, name: 党员大会, applies_to: {kind: branch}, frequency: quarterly}
"""
MEMBER_METRICS = """\
  - {code: volunteer_hours, name: 志愿服务时长, unit: 小时, min: 0, per: member}
  - {code: branch_size, name: 支部人数, unit: 人, min: 0}
"""
MEMBER_ITEMS = """\
        - code: attendance
          name: 参加组织生活
          max: 10
          method: ladder
          metric: attendance.absent
          steps:
            - {count: 1, deduct: 3}
            - {count: 2, deduct: 5}
            - {count: 3, points: 0, or_more: true}
        - {code: dues_paid, name: 按月交纳党费, max: 10, method: duty_deduction, duty: dues, deduct: {missed: 2, late: 1}}
        - {code: volunteer, name: 志愿服务, method: bonus, metric: 志愿服务时长, each: 0.5, cap: 5}
"""


def member_rules(items: str = MEMBER_ITEMS) -> str:
    return rules(items, metrics=MEMBER_METRICS, subject="{kind: member}", duties=MEMBER_DUTIES)


def test_member_scorecards_read_attendance_member_duties_and_member_metrics() -> None:
    loaded = load(member_rules())
    assert loaded.rule_set.scoring.per_member
    metrics = {"attendance.expected": 12.0, "attendance.present": 10.0, "attendance.leave": 0.0,
               "attendance.absent": 2.0, "volunteer_hours": 6.0,
               "dues.owed": 12.0, "dues.on_time": 11.0, "dues.late": 1.0, "dues.missed": 0.0,
               "dues.pending": 0.0, "dues.excused": 0.0}
    result = score(loaded, metrics, unit="m-1001")
    assert [(x.item_code, x.points) for x in result.lines] == [("attendance", 5), ("dues_paid", 9), ("volunteer", 3)]
    assert line(result, "attendance").reason.startswith("参会缺席2次，按“1次扣3分，2次扣5分，3次及以上不得分”")
    del metrics["volunteer_hours"]
    with pytest.raises(MissingMetric) as caught:
        score(loaded, metrics, unit="m-1001")
    assert caught.value.message.startswith("党员 m-1001 缺少指标 volunteer_hours（志愿服务时长）")


def test_a_member_rule_set_may_not_read_unit_metrics_or_unit_duties() -> None:
    text = member_rules(MEMBER_ITEMS + """\
        - {code: size, name: 支部规模, method: bonus, metric: branch_size, each: 1, cap: 1}
        - {code: congress, name: 党员大会, max: 5, method: duty_deduction, duty: party_congress, deduct: {missed: 1, late: 1}}
""")
    found = issues_of(text)
    assert found == [
        (f"{at(text, 'branch_size', 2)}: 指标 branch_size 按单位统计（per: unit），本规则集按党员计分"
         "（scoring.subject: {kind: member}），只能读 per: member 的指标"),
        (f"{at(text, 'party_congress,', 2)}: 职责 party_congress 由组织承担，按党员计分的规则集只能读党员职责"
         "（applies_to: {subject: member}）的指标"),
    ]


def test_a_unit_rule_set_may_not_read_attendance_or_member_metrics() -> None:
    text = rules("""\
        - {code: a, name: 缺席, max: 5, method: ladder, metric: attendance.absent, zero_at: 2}
        - {code: v, name: 志愿, method: bonus, metric: volunteer_hours, each: 1, cap: 2}
""", metrics=MEMBER_METRICS)
    assert issues_of(text) == [
        (f"{at(text, 'attendance.absent')}: 参会指标 attendance.absent 只能用于按党员计分的规则集"
         "（scoring.subject: {kind: member}）"),
        f"{at(text, 'volunteer_hours', 2)}: 指标 volunteer_hours 按党员统计（per: member），本规则集按单位计分，不能读它",
    ]


def test_member_examples_run_like_unit_examples() -> None:
    text = member_rules() + """\
examples:
  - name: 缺席两次
    unit: 示例党员
    metrics:
      attendance: {expected: 12, present: 10, leave: 0, absent: 2}
      dues: {owed: 12, on_time: 12, late: 0, missed: 0, pending: 0, excused: 0}
      volunteer_hours: 20
    expect: {total: 20, items: {attendance: 5, dues_paid: 10, volunteer: 5}}
"""
    from rules.examples import run_examples
    (result,) = run_examples(load(text))
    assert (result.passed, result.message) == (True, "通过：总分20分，低")
