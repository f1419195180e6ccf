"""发展党员 as data: calendar-aware intervals, order, requirements, windows (pure, no database)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dangjian.domain.development import (
    PROCESS_FILE,
    CaseFacts,
    Duration,
    Record,
    Severity,
    add,
    check_milestone,
    default_process,
    load_process,
    member_state,
    next_windows,
    parse_id_number,
    probation_end,
)
from dangjian.errors import ValidationFailed
from models import Gender, MemberStatus
from rules.issues import RuleSetError

P = default_process()
D = date.fromisoformat


def case(*steps: tuple[str, str] | tuple[str, str, dict[str, Any]], born: str = "1995-05-05") -> CaseFacts:
    records = tuple(Record(s[0], D(s[1]), s[2] if len(s) > 2 else {}, i)  # type: ignore[misc]
                    for i, s in enumerate(steps, start=1))
    return CaseFacts(D(born), records)


ACTIVIST = (("application", "2024-01-10"), ("talk", "2024-01-25"), ("activist", "2024-03-01"),
            ("activist_filing", "2024-03-05"), ("contact_persons", "2024-03-05", {"persons": ["王芳", "李强"]}),
            ("activist_education", "2024-08-30"), ("activist_education", "2025-02-20"))
CANDIDATE = (*ACTIVIST, ("candidate", "2025-03-01"), ("candidate_filing", "2025-03-05"),
             ("introducers", "2025-03-05", {"persons": ["王芳", "李强"]}), ("political_review", "2025-04-01"),
             ("training", "2025-04-10", {"days": 3}), ("committee_review", "2025-05-06"),
             ("pre_review", "2025-05-20"), ("application_form", "2025-05-25"))
VOTE = {"expected": 9, "present": 8, "in_favour": 8}
ADMITTED = (*CANDIDATE, ("admission_meeting", "2025-06-10", VOTE), ("higher_talk", "2025-06-20"),
            ("admission_approval", "2025-07-15"))
PROBATION = (*ADMITTED, ("admission_filing", "2025-07-20"), ("placement", "2025-07-20"), ("oath", "2025-07-20"),
             ("probation_education", "2026-01-10"), ("full_application", "2026-06-01"))


def refusals(problems: list[Any]) -> list[str]:
    return [p.message for p in problems if p.severity == Severity.refuse]


# ---------------------------------------------------------------- the check that must pass

def test_an_activist_recorded_as_a_development_target_after_eleven_months_is_refused() -> None:
    problems = check_milestone(P, case(*ACTIVIST), "candidate", D("2025-02-01"))
    (message,) = refusals(problems)
    assert "《中国共产党发展党员工作细则》第十三条" in message
    assert "经过一年以上培养教育和考察" in message
    assert "最早可在 2025-03-01 登记" in message
    (problem,) = problems
    assert problem.earliest == D("2025-03-01") and problem.source.endswith("第十三条")


def test_an_activist_recorded_as_a_development_target_after_twelve_months_is_accepted() -> None:
    assert check_milestone(P, case(*ACTIVIST), "candidate", D("2025-03-01")) == []   # 一年以上 includes the day
    assert check_milestone(P, case(*ACTIVIST), "candidate", D("2025-09-01")) == []   # no maximum


# ---------------------------------------------------------------- maximum intervals flag, never refuse

def test_a_talk_forty_days_after_the_application_is_accepted_but_flagged_late() -> None:
    (problem,) = check_milestone(P, case(("application", "2026-01-10")), "talk", D("2026-02-19"))
    assert problem.severity == Severity.late and problem.latest == D("2026-02-10")
    assert "逾期 9 天" in problem.message and "《中国共产党发展党员工作细则》第七条" in problem.message
    assert check_milestone(P, case(("application", "2026-01-10")), "talk", D("2026-02-10")) == []


def test_approval_after_three_months_is_late_unless_a_special_reason_keeps_it_within_six() -> None:
    admitted = case(*CANDIDATE, ("admission_meeting", "2025-06-10", VOTE), ("higher_talk", "2025-06-20"))
    (late,) = check_milestone(P, admitted, "admission_approval", D("2025-10-20"))
    assert late.severity == Severity.late and late.latest == D("2025-09-10")
    assert "特殊情况可延长至 2025-12-10，须写明理由" in late.message
    (special,) = check_milestone(P, admitted, "admission_approval", D("2025-10-20"), {"reason": "党委换届"})
    assert special.severity == Severity.note and "党委换届" in special.message
    (too_late,) = check_milestone(P, admitted, "admission_approval", D("2026-01-05"), {"reason": "党委换届"})
    assert too_late.severity == Severity.late and "已超过特殊情况的最长期限 2025-12-10" in too_late.message


# ---------------------------------------------------------------- requirements

def test_training_of_two_days_is_refused_and_twenty_four_hours_accepted() -> None:
    candidate = case(*CANDIDATE[:8])
    (message,) = refusals(check_milestone(P, candidate, "training", D("2025-04-10"), {"days": 2}))
    assert "培训时间为 2 天，不足 3 天（或 24 个学时）" in message and "第十七条" in message
    assert check_milestone(P, candidate, "training", D("2025-04-10"), {"hours": 24}) == []
    assert check_milestone(P, candidate, "training", D("2025-04-10"), {"days": 3}) == []
    (missing,) = refusals(check_milestone(P, candidate, "training", D("2025-04-10")))
    assert "未填写（--days 或 --hours）" in missing


def test_a_branch_meeting_without_a_majority_of_voting_members_is_refused() -> None:
    ready = case(*CANDIDATE)
    found = refusals(check_milestone(P, ready, "admission_meeting", D("2025-06-10"),
                                     {"expected": 9, "present": 4, "in_favour": 4}))
    assert any("到会人数 4 人，未超过应到会 9 人的半数（至少 5 人）" in m for m in found)
    assert any("决议未通过" in m for m in found)
    assert check_milestone(P, ready, "admission_meeting", D("2025-06-10"),
                           {"expected": 9, "present": 5, "in_favour": 5}) == []


def test_introducers_must_be_two_and_contact_persons_one_or_two() -> None:
    candidate = case(*CANDIDATE[:8])
    (one,) = refusals(check_milestone(P, candidate, "introducers", D("2025-03-05"), {"persons": ["王芳"]}))
    assert "须指定2 名入党介绍人（--person），实际 1 名" in one
    (three,) = refusals(check_milestone(P, case(*ACTIVIST[:4]), "contact_persons", D("2024-03-05"),
                                        {"persons": "甲，乙，丙"}))
    assert "1 至 2 名培养联系人" in three


def test_an_applicant_under_eighteen_is_refused() -> None:
    (message,) = refusals(check_milestone(P, CaseFacts(D("2008-03-01")), "application", D("2026-02-28")))
    assert "2026-03-01 才年满18周岁" in message and "第五条" in message
    assert check_milestone(P, CaseFacts(D("2008-03-01")), "application", D("2026-03-01")) == []


def test_a_target_leaving_within_three_months_is_not_admitted_without_a_reason() -> None:
    reviewed = case(*CANDIDATE[:13])
    (message,) = refusals(check_milestone(P, reviewed, "pre_review", D("2025-05-20"), {"leaving_on": "2025-07-01"}))
    assert "第十九条" in message and "2025-08-20 之前" in message
    assert check_milestone(P, reviewed, "pre_review", D("2025-05-20"), {"leaving_on": "2025-09-01"}) == []


# ---------------------------------------------------------------- order

def test_a_step_before_its_prerequisites_is_refused_naming_them() -> None:
    (message,) = refusals(check_milestone(P, case(*ACTIVIST[:3]), "candidate", D("2025-06-01")))
    assert "第4步“上级党委备案”" in message and "第5步“指定培养联系人”" in message
    (earlier,) = refusals(check_milestone(P, case(("application", "2026-01-10")), "talk", D("2026-01-09")))
    assert "早于前一步骤 第1步“递交入党申请书”的日期 2026-01-10" in earlier


def test_a_step_is_recorded_once_and_a_date_in_the_future_is_refused() -> None:
    (again,) = refusals(check_milestone(P, case(("application", "2026-01-10"), ("talk", "2026-01-20")),
                                        "talk", D("2026-01-21")))
    assert "已于 2026-01-20 登记，不能重复登记" in again
    (future,) = refusals(check_milestone(P, case(("application", "2026-01-10")), "talk", D("2026-01-21"),
                                         today=D("2026-01-20")))
    assert "晚于今天" in future


# ---------------------------------------------------------------- probation

def test_probation_ends_one_year_from_the_branch_meeting() -> None:
    assert probation_end(P, case(*ADMITTED)) == D("2026-06-10")
    state = member_state(P, case(*ADMITTED))
    assert state == type(state)(MemberStatus.probationary, D("2025-06-10"), None)


def test_a_full_membership_meeting_a_day_before_probation_ends_is_refused() -> None:
    (message,) = refusals(check_milestone(P, case(*PROBATION), "full_meeting", D("2026-06-09"), VOTE))
    assert "不得早于 2026-06-10" in message and "绝对不允许提前开会" in message
    assert check_milestone(P, case(*PROBATION), "full_meeting", D("2026-06-10"), VOTE) == []


def test_probation_is_extended_once_by_six_to_twelve_months() -> None:
    ready = case(*PROBATION)
    (five,) = refusals(check_milestone(P, ready, "probation_extension", D("2026-06-10"), {"months": 5}))
    assert "延长 5 个月不符合规定，应为 6 至 12 个月" in five and "第三十二条" in five
    assert refusals(check_milestone(P, ready, "probation_extension", D("2026-06-10"), {"months": 13}))
    assert check_milestone(P, ready, "probation_extension", D("2026-06-10"), {"months": 12}) == []
    (early,) = refusals(check_milestone(P, ready, "probation_extension", D("2026-06-09"), {"months": 6}))
    assert "不得早于 2026-06-10" in early

    extended = ready.plus(Record("probation_extension", D("2026-06-10"), {"months": 6}, 99))
    assert probation_end(P, extended) == D("2026-12-10")
    (second,) = refusals(check_milestone(P, extended, "probation_extension", D("2026-12-10"), {"months": 6}))
    assert "预备期只能延长一次" in second
    (meeting,) = refusals(check_milestone(P, extended, "full_meeting", D("2026-12-09"), VOTE))
    assert "不得早于 2026-12-10" in meeting
    assert check_milestone(P, extended, "full_meeting", D("2026-12-10"), VOTE) == []


def test_full_membership_dates_from_the_end_of_probation() -> None:
    done = case(*PROBATION, ("full_meeting", "2026-06-12", VOTE), ("full_approval", "2026-07-01"))
    assert member_state(P, done) == type(member_state(P, done))(
        MemberStatus.full, D("2025-06-10"), D("2026-06-10"))


# ---------------------------------------------------------------- 29 February

def test_the_29_february_policy_takes_the_last_day_of_the_month() -> None:
    assert add(D("2024-02-29"), Duration(years=1)) == D("2025-02-28")
    assert add(D("2024-02-29"), Duration(years=4)) == D("2028-02-29")
    assert add(D("2024-01-31"), Duration(months=1)) == D("2024-02-29")
    assert add(D("2023-01-31"), Duration(months=1)) == D("2023-02-28")
    # One step from the anchor, not month-end clamping twice:
    assert add(D("2024-02-29"), Duration(years=1), Duration(months=6)) == D("2025-08-29")
    assert add(add(D("2024-02-29"), Duration(years=1)), Duration(months=6)) == D("2025-08-28")


def test_a_leap_day_activist_may_become_a_development_target_on_28_february() -> None:
    leap = case(("application", "2024-01-10"), ("talk", "2024-01-25"), ("activist", "2024-02-29"),
                ("activist_filing", "2024-03-05"), ("contact_persons", "2024-03-05", {"persons": ["王芳"]}),
                ("activist_education", "2024-08-28"))
    (message,) = refusals(check_milestone(P, leap, "candidate", D("2025-02-27")))
    assert "最早可在 2025-02-28 登记" in message
    assert check_milestone(P, leap, "candidate", D("2025-02-28")) == []


def test_probation_from_a_leap_day_meeting_ends_on_28_february() -> None:
    leap = case(*CANDIDATE[:-2], ("pre_review", "2024-02-20"), ("application_form", "2024-02-25"),
                ("admission_meeting", "2024-02-29", VOTE))
    assert probation_end(P, leap) == D("2025-02-28")
    extended = leap.plus(Record("probation_extension", D("2025-02-28"), {"months": 6}, 99))
    assert probation_end(P, extended) == D("2025-08-29")


# ---------------------------------------------------------------- windows

def test_next_windows_after_the_application_is_the_talk_within_a_month() -> None:
    (window,) = next_windows(P, case(("application", "2026-01-31")))
    assert window.step.code == "talk"
    assert (window.earliest, window.latest, window.opens, window.due) == (
        D("2026-01-31"), D("2026-02-28"), D("2026-01-31"), D("2026-02-28"))


def test_next_windows_of_a_new_activist_run_in_parallel_with_the_half_year_assessment() -> None:
    windows = {w.step.code: w for w in next_windows(P, case(*ACTIVIST[:3]))}
    assert set(windows) == {"activist_filing", "contact_persons", "activist_education"}
    assert windows["activist_education"].latest == D("2024-09-01")
    again = {w.step.code: w for w in next_windows(P, case(*ACTIVIST))}
    assert again["activist_education"].occurrence == 3
    assert (again["activist_education"].opens, again["activist_education"].latest) == (D("2025-02-21"), D("2025-08-20"))
    assert (again["candidate"].earliest, again["candidate"].latest) == (D("2025-03-01"), None)


def test_the_full_application_window_is_the_last_month_of_probation_and_the_extension_is_optional() -> None:
    ready = case(*PROBATION[:-1])
    windows = {w.step.code: w for w in next_windows(P, ready)}
    assert (windows["full_application"].opens, windows["full_application"].due) == (D("2026-05-10"), D("2026-06-10"))
    assert "probation_extension" not in windows
    optional = {w.step.code for w in next_windows(P, ready, include_optional=True)}
    assert "probation_extension" in optional


# ---------------------------------------------------------------- the data file

def test_the_process_file_holds_twenty_five_steps_in_five_stages() -> None:
    numbered = [s for s in P.steps if s.number is not None]
    assert [s.number for s in numbered] == list(range(1, 26))
    assert sorted({s.stage for s in numbered}) == [1, 2, 3, 4, 5]
    assert P.find("7").code == P.find("确定发展对象").code == P.find("candidate").code == "candidate"
    with pytest.raises(ValidationFailed, match="有多个"):
        P.find("支部大会讨论")


def test_a_broken_process_file_is_reported_at_file_and_line(tmp_path: Path) -> None:
    text = PROCESS_FILE.read_text(encoding="utf-8")

    def issues(old: str, new: str) -> tuple[int, dict[int, str]]:
        broken = text.replace(old, new, 1)
        path = tmp_path / "process.yaml"
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(RuleSetError) as caught:
            load_process(path)
        assert all(i.file == str(path) for i in caught.value.issues)
        return broken.splitlines().index(new.rstrip("\n")) + 1, {i.line: i.message for i in caught.value.issues}

    line, found = issues("        min_after: {years: 1}", "        min_after: {yaers: 1}")
    assert "未知的键 yaers" in found[line]
    line, found = issues("      - anchor: application\n", "      - anchor: nowhere\n")
    assert "锚点 nowhere 不是已定义的步骤" in found[line]
    line, found = issues("    after: [activist_filing, contact_persons, activist_education]\n",
                         "    after: [activist_filing, contact_persons, training]\n")
    assert "after 引用了后面的步骤 training" in found[line]


def test_an_identity_number_gives_birth_date_and_gender_and_its_check_digit_is_verified() -> None:
    number, born, gender = parse_id_number("11010519491231002x")
    assert (number, born, gender) == ("11010519491231002X", D("1949-12-31"), Gender.female)
    with pytest.raises(ValidationFailed, match="校验位不符"):
        parse_id_number("110105194912310021")
