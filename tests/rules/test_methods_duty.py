"""duty_deduction's `excused:` option: the rule set, not the waiver, decides what an excused
(waived) occurrence is worth: not owed (default), as good as on time, or counted as missed."""
from __future__ import annotations

import pytest

from tests.rules.test_methods_texts import duty, line, rules, score


def congress(excused: str | None) -> str:
    option = f", excused: {excused}" if excused else ""
    return rules("        - {code: congress, name: 党员大会按期召开, max: 15, method: duty_deduction,"
                 f" duty: party_congress, deduct: {{missed: 5, late: 2}}{option}}}\n")


ONE_EXCUSED = duty("party_congress", owed=4, on_time=2, missed=1, excused=1)     # 1 missed, 1 waived


@pytest.mark.parametrize(("excused", "points"), [(None, 10), ("not_owed", 10), ("on_time", 10), ("missed", 5)])
def test_an_excused_occurrence_costs_what_the_rule_set_says(excused: str | None, points: int) -> None:
    assert line(score(congress(excused), ONE_EXCUSED), "congress").points == points


def test_the_reason_says_how_excused_occurrences_were_counted() -> None:
    assert line(score(congress("on_time"), ONE_EXCUSED), "congress").reason == (
        "党员大会应完成4次：按期完成3次，逾期完成0次，未完成1次扣5分，免除1次按按期完成计；得10分（满分15分）")
    assert line(score(congress("missed"), ONE_EXCUSED), "congress").reason == (
        "党员大会应完成4次：按期完成2次，逾期完成0次，未完成2次扣10分（每次5分），免除1次按未完成计；得5分（满分15分）")
    assert line(score(congress(None), ONE_EXCUSED), "congress").reason == (
        "党员大会应完成4次：按期完成2次，逾期完成0次，未完成1次扣5分，免除1次不计；得10分（满分15分）")


def test_when_everything_was_excused_not_owed_means_none_owed_and_on_time_means_done() -> None:
    all_excused = duty("party_congress", owed=2, excused=2)
    assert line(score(congress(None), all_excused), "congress").reason == "本单位无应完成的党员大会（免除2次），按满分计15分"
    done = line(score(congress("on_time"), all_excused), "congress")
    assert done.points == 15 and done.reason.startswith("党员大会应完成2次：按期完成2次")
    assert line(score(congress("missed"), all_excused), "congress").points == 5


def test_excused_tasks_are_still_named_on_the_line() -> None:
    result = score(congress("missed"), ONE_EXCUSED,
                   evidence={"party_congress.missed": [7], "party_congress.excused": [8]})
    assert line(result, "congress").task_ids == [7, 8]
