"""Manual scores (定性评分, 酌情扣分, 评议项): entered by a reviewer within the item's range,
named on the score line; missing or out-of-range entries are errors unless the item says
what a missing one counts as; examples carry entries as `manual: {item: {points, by}}`."""
from __future__ import annotations

from datetime import datetime

import pytest

from rules.examples import run_examples
from rules.metrics import InvalidManualScore, ManualEntry, MissingManualScore
from tests.rules.test_methods_texts import line, load, rules, score

TEXT = rules("""\
        - {code: appraisal, name: 群众评议, method: manual, range: [0, 20]}
        - {code: discretion, name: 酌情扣分, method: manual, range: [-5, 0], if_missing: zero}
""")


def test_a_reviewer_entry_is_the_points_and_the_line_names_who_entered_it() -> None:
    entry = ManualEntry(points=18, entered_by="街道党工委 王芳", entered_at=datetime(2026, 1, 5, 9, 30),
                        note="走访群众满意")
    result = score(TEXT, {}, manual={"appraisal": entry})
    appraisal = line(result, "appraisal")
    assert (appraisal.points, appraisal.max_points) == (18, 20)
    assert appraisal.reason == ("人工评分18分（范围0～20分），由街道党工委 王芳于2026-01-05 09:30录入；"
                                "说明：走访群众满意；得18分（满分20分）")
    assert result.total == 18


def test_a_discretionary_deduction_is_negative_and_may_be_left_empty() -> None:
    result = score(TEXT, {}, manual={"appraisal": ManualEntry(15, "王芳"), "discretion": ManualEntry(-2.5, "李强")})
    assert line(result, "discretion").points == -2.5 and result.total == 12.5
    empty = line(score(TEXT, {}, manual={"appraisal": ManualEntry(15, "王芳")}), "discretion")
    assert (empty.points, empty.reason) == (0, "未录入人工评分，按规定计0分；得0分（范围-5～0分）")


def test_a_missing_entry_is_an_error_naming_the_unit_and_item() -> None:
    with pytest.raises(MissingManualScore) as caught:
        score(TEXT, {}, unit="branch-3")
    assert caught.value.message == "单位 branch-3 的评分条目 appraisal（群众评议）尚未录入人工评分（范围0～20分）"


@pytest.mark.parametrize(("if_missing", "points"), [("max", 20), ("min", 0), ("zero", 0)])
def test_if_missing_says_what_an_empty_entry_counts_as(if_missing: str, points: int) -> None:
    text = TEXT.replace("range: [0, 20]}", f"range: [0, 20], if_missing: {if_missing}}}")
    assert line(score(text, {}), "appraisal").points == points


def test_an_entry_outside_the_range_names_the_reviewer_value_and_range() -> None:
    with pytest.raises(InvalidManualScore) as caught:
        score(TEXT, {}, unit="b1", manual={"appraisal": ManualEntry(22, "王芳")})
    assert caught.value.message == "单位 b1 的评分条目 appraisal（群众评议）：王芳 录入的 22 分超出范围 [0, 20]"


def test_an_entry_without_reviewer_or_for_no_manual_item_is_refused() -> None:
    with pytest.raises(InvalidManualScore, match="没有评分人"):
        score(TEXT, {}, manual={"appraisal": ManualEntry(10, " ")})
    with pytest.raises(InvalidManualScore) as caught:
        score(TEXT, {}, manual={"apraisal": ManualEntry(10, "王芳")})
    assert "人工评分 apraisal 不对应任何人工评分条目" in caught.value.message
    assert "appraisal（群众评议）、discretion（酌情扣分）" in caught.value.message


def test_examples_carry_manual_entries_and_inherit_them_through_based_on() -> None:
    text = TEXT + """\
examples:
  - name: 评议18分
    manual: {appraisal: {points: 18, by: 王芳}}
    expect: {total: 18, items: {appraisal: 18, discretion: 0}}
  - name: 再酌情扣2分
    based_on: 评议18分
    manual: {discretion: {points: -2, by: 李强}}
    expect: {total: 16}
  - name: 没有录入评议分
    expect: {total: 0}
"""
    results = {r.name: r for r in run_examples(load(text))}
    assert results["评议18分"].passed and results["再酌情扣2分"].passed
    assert results["没有录入评议分"].message == \
        "评分出错：单位 示例单位 的评分条目 appraisal（群众评议）尚未录入人工评分（范围0～20分）"
