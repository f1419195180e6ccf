"""Count-based methods, with the numbers a staff member computes by hand: ladders
("缺席一次扣3分，两次扣5分，三次(含)以上不得分"), zero-at-count, checklists ("缺一项扣1分"),
bonuses (capped, uncapped, doubled, once on a condition) and penalties (floored or not)."""
from __future__ import annotations

import pytest

from rules.metrics import InvalidMetrics
from tests.rules.test_methods_texts import duty, line, rules, score

ABSENCES = "  - {code: absences, name: 缺席次数, unit: 次, min: 0}\n"
LADDER = rules("""\
        - code: attendance
          name: 参加组织生活
          max: 10
          method: ladder
          metric: absences
          steps:
            - {count: 1, deduct: 3}
            - {count: 2, deduct: 5}
            - {count: 3, points: 0, or_more: true}
""", metrics=ABSENCES)


@pytest.mark.parametrize(("absences", "points"), [(0, 10), (1, 7), (2, 5), (3, 0), (7, 0)])
def test_ladder_one_absence_costs_3_two_cost_5_three_or_more_cost_everything(absences: int, points: int) -> None:
    assert line(score(LADDER, {"absences": float(absences)}), "attendance").points == points


def test_ladder_reason_states_the_count_the_ladder_and_the_step_taken() -> None:
    reason = line(score(LADDER, {"absences": 2.0}), "attendance").reason
    assert reason == "缺席次数2次，按“1次扣3分，2次扣5分，3次及以上不得分”，扣5分；得5分（满分10分）"


def test_ladder_over_a_duty_reads_its_missed_count_and_names_the_tasks() -> None:
    text = rules("""\
        - {code: lectures, name: 党课, max: 10, method: ladder, metric: party_lecture.missed,
           steps: [{count: 1, to: 2, deduct: 4}, {count: 3, points: 0, or_more: true}]}
""")
    metrics = duty("party_lecture", owed=4, on_time=2, missed=2)
    result = score(text, metrics, evidence={"party_lecture.missed": [31, 32]})
    assert (line(result, "lectures").points, line(result, "lectures").task_ids) == (6, [31, 32])
    assert line(result, "lectures").reason.startswith("党课未完成2次，按“1–2次扣4分，3次及以上不得分”")


def test_zero_at_count_with_a_deduction_per_occurrence_below_it() -> None:
    text = rules("""\
        - {code: lectures, name: 党课, max: 10, method: ladder, metric: party_lecture.missed, zero_at: 3, each: 2}
""")
    points = [line(score(text, duty("party_lecture", owed=4, on_time=4 - n, missed=n)), "lectures").points
              for n in range(5)]
    assert points == [10, 8, 6, 0, 0]


def test_zero_at_alone_keeps_full_marks_until_the_count() -> None:
    text = rules("""\
        - {code: lectures, name: 党课, max: 10, method: ladder, metric: [party_lecture.missed, party_lecture.late], zero_at: 2}
""")
    one = score(text, duty("party_lecture", owed=4, on_time=3, late=1))
    two = score(text, duty("party_lecture", owed=4, on_time=2, late=1, missed=1))
    assert (line(one, "lectures").points, line(two, "lectures").points) == (10, 0)
    assert line(two, "lectures").reason.startswith("党课未完成与党课逾期完成合计2次，按“2次及以上不得分”，达到2次，不得分")


def test_a_fractional_count_is_refused_for_a_ladder() -> None:
    with pytest.raises(InvalidMetrics) as caught:
        score(LADDER, {"absences": 1.5})
    assert "缺席次数为 1.5，不是整数" in caught.value.message


CHECKLIST = rules("""\
        - code: ledger
          name: 党建台账齐全
          max: 5
          method: checklist
          deduct_each: 1
          checks:
            - {name: 党员名册, metric: roster}
            - {name: 会议记录本, metric: minutes_book}
            - {name: 党费收缴台账, metric: dues_ledger}
            - {name: 组织生活会记录, duty: party_congress}
""", metrics="""\
  - {code: roster, name: 党员名册, min: 0, max: 1}
  - {code: minutes_book, name: 会议记录本, min: 0, max: 1}
  - {code: dues_ledger, name: 党费收缴台账, min: 0, max: 1}
""")


def test_checklist_deducts_one_point_per_missing_check_and_names_them() -> None:
    metrics = {"roster": 1.0, "minutes_book": 0.0, "dues_ledger": 1.0,
               **duty("party_congress", owed=4, on_time=3, missed=1)}
    result = line(score(CHECKLIST, metrics, evidence={"party_congress.missed": [9]}), "ledger")
    assert (result.points, result.task_ids) == (3, [9])
    assert result.reason == "共4项，缺2项（会议记录本、组织生活会记录），每项扣1分，共扣2分；得3分（满分5分）"


def test_checklist_complete_earns_full_marks_and_a_late_meeting_still_counts_as_held() -> None:
    metrics = {"roster": 1.0, "minutes_book": 1.0, "dues_ledger": 1.0,
               **duty("party_congress", owed=4, on_time=3, late=1)}
    result = line(score(CHECKLIST, metrics), "ledger")
    assert (result.points, result.reason) == (5, "共4项，全部齐全；得5分（满分5分）")


def test_checklist_stops_at_its_floor_and_can_count_points_per_check() -> None:
    text = CHECKLIST.replace("deduct_each: 1", "deduct_each: 2\n          floor: 0")
    metrics = {"roster": 0.0, "minutes_book": 0.0, "dues_ledger": 0.0, **duty("party_congress", owed=4, on_time=4)}
    result = line(score(text, metrics), "ledger")
    assert result.points == 0 and "共扣6分，扣完为止（最低0分）" in result.reason
    gain = CHECKLIST.replace("deduct_each: 1", "points_each: 1.5")
    result = line(score(gain, {**metrics, "roster": 1.0}), "ledger")
    assert (result.points, result.reason) == (3, "共4项，完成2项（党员名册、组织生活会记录），每项1.5分，计3分；得3分（满分5分）")


BONUS = rules("""\
        - {code: suggestions, name: 建议被采纳, method: bonus, metric: adopted, each: 2, cap: 10}
        - {code: awards, name: 获表彰, method: bonus, metric: awards, each: 3, cap: null}
""", metrics="""\
  - {code: adopted, name: 被采纳建议, unit: 条, min: 0}
  - {code: awards, name: 表彰, unit: 次, min: 0}
""")


def test_bonus_per_event_up_to_its_cap() -> None:
    result = score(BONUS, {"adopted": 3.0, "awards": 0.0})
    assert line(result, "suggestions").points == 6
    capped = line(score(BONUS, {"adopted": 7.0, "awards": 0.0}), "suggestions")
    assert (capped.points, capped.max_points) == (10, 10)
    assert capped.reason == "被采纳建议7条，每条加2分，计14分，超过上限按10分计；得10分（上限10分）"


def test_uncapped_bonus_keeps_adding() -> None:
    result = line(score(BONUS, {"adopted": 0.0, "awards": 5.0}), "awards")
    assert (result.points, result.max_points) == (15, None)
    assert result.reason.endswith("；得15分（加分不设上限）")


def test_bonus_doubled_when_its_condition_holds() -> None:
    text = BONUS.replace("each: 2, cap: 10}", "each: 2, cap: 10, multiplier: {factor: 2, when: \"表彰 > 0\"}}")
    assert line(score(text, {"adopted": 2.0, "awards": 0.0}), "suggestions").points == 4
    doubled = line(score(text, {"adopted": 2.0, "awards": 1.0}), "suggestions")
    assert doubled.points == 8
    assert "“表彰 > 0”成立（1 > 0），得分×2为8分" in doubled.reason
    assert line(score(text, {"adopted": 4.0, "awards": 1.0}), "suggestions").points == 10   # 16 capped


def test_bonus_once_when_a_condition_holds() -> None:
    text = rules("""\
        - {code: full, name: 全年按期召开, method: bonus, when: "党员大会_未完成 == 0 and 党员大会_逾期完成 == 0", points: 3, cap: 3}
""")
    held = line(score(text, duty("party_congress", owed=4, on_time=4)), "full")
    assert (held.points, held.reason) == (
        3, "条件“党员大会_未完成 == 0 and 党员大会_逾期完成 == 0”成立（0 == 0 and 0 == 0），加3分；得3分（上限3分）")
    assert line(score(text, duty("party_congress", owed=4, on_time=3, late=1)), "full").points == 0


PENALTY = rules("""\
        - {code: cases, name: 违纪违规, method: penalty, metric: cases, each: 5, floor: -20}
        - {code: complaints, name: 群众投诉, method: penalty, metric: complaints, each: 1}
""", metrics="""\
  - {code: cases, name: 违纪案件, unit: 起, min: 0}
  - {code: complaints, name: 投诉, unit: 件, min: 0}
""")


def test_penalty_deducts_per_event_down_to_its_floor() -> None:
    two = line(score(PENALTY, {"cases": 2.0, "complaints": 0.0}), "cases")
    assert (two.points, two.max_points) == (-10, 0)
    assert two.reason == "违纪案件2起，每起扣5分，共扣10分；得-10分（最多扣20分）"
    five = line(score(PENALTY, {"cases": 5.0, "complaints": 0.0}), "cases")
    assert five.points == -20 and "共扣25分，最多扣20分" in five.reason


def test_penalty_without_floor_goes_as_low_as_the_events_take_it() -> None:
    result = score(PENALTY, {"cases": 0.0, "complaints": 30.0})
    assert line(result, "complaints").points == -30 and result.total == -30
    assert line(result, "cases").reason == "违纪案件0起，不扣分；得0分（最多扣20分）"
