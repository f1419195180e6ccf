"""The shipped rule set rules/sets/community_branch_basic.yaml loads, encodes the branch
meeting calendar of the 支部工作条例 plus the county's monthly member meeting, and
its stored examples pass; a failing example says what it expected and what it got."""
from __future__ import annotations

from models.org import UnitKind
from rules import SETS_DIR
from rules.duties import Frequency, Quorum
from rules.examples import run_examples
from rules.loader import load_rule_set_file, load_rule_set_text
from rules.scorer import grade_for

PATH = SETS_DIR / "community_branch_basic.yaml"


def test_shipped_rule_set_loads() -> None:
    loaded = load_rule_set_file(PATH)
    assert loaded.rule_set.code == "community-branch-basic"
    assert loaded.rule_set.version == "2026.1"
    assert loaded.file_name == "community_branch_basic.yaml"
    assert loaded.source.startswith("# 社区党支部基本组织生活考核")


def test_duties_follow_the_branch_meeting_calendar() -> None:
    duties = load_rule_set_file(PATH).duties
    expected = {
        "party_congress": Frequency.quarterly, "committee_meeting": Frequency.monthly,
        "group_meeting": Frequency.monthly, "party_lecture": Frequency.quarterly,
        "theme_party_day": Frequency.monthly,
        "member_appraisal": Frequency.yearly, "monthly_member_meeting": Frequency.monthly,
    }
    assert {code: duties[code].frequency for code in expected} == expected
    # 第十七条: 组织生活会每年至少召开1次，一般安排在第四季度 — once a year with a Q4 window.
    life = duties["organization_life_meeting"].frequency
    assert (life.every, life.interval, life.window.from_month, life.window.to_month,  # type: ignore[union-attr]
            life.window.outside) == ("year", 1, 10, 12, "counts")                   # type: ignore[union-attr]
    assert duties["committee_meeting"].applies_to.has_committee is True
    assert duties["group_meeting"].applies_to.kind == UnitKind.group
    assert duties["party_congress"].quorum == Quorum.voting_majority
    assert duties["monthly_member_meeting"].quorum == Quorum.voting_majority
    assert "民勤县" in (duties["monthly_member_meeting"].basis or "")
    assert "第四季度" in (duties["organization_life_meeting"].basis or "")
    assert all(duty.due.rule == "period_end" for duty in duties.values())


def test_every_duty_is_scored_and_items_add_up_to_100() -> None:
    scoring = load_rule_set_file(PATH).rule_set.scoring
    items = [it for _, it in scoring.walk_items()]
    assert {it.duty_codes()[0] for it in items} == set(load_rule_set_file(PATH).duties)
    assert sum(it.max for it in items) == scoring.max_total == 100
    assert all(it.floor == 0 for it in items)  # type: ignore[attr-defined]


def test_grade_bands_are_90_80_60() -> None:
    loaded = load_rule_set_file(PATH)
    assert [grade_for(loaded, t) for t in (100, 90, 89.9, 80, 79.9, 60, 59.9, 0)] == [
        "优秀", "优秀", "良好", "良好", "合格", "合格", "不合格", "不合格"]


def test_shipped_examples_all_pass() -> None:
    results = run_examples(load_rule_set_file(PATH))
    assert len(results) >= 4
    assert [r for r in results if not r.passed] == []
    assert {r.message for r in results} >= {"通过：总分100分，优秀", "通过：总分26分，不合格"}


def test_a_failing_example_shows_expected_and_actual() -> None:
    text = PATH.read_text(encoding="utf-8").replace(
        "      total: 88.5\n      grade: 良好\n", "      total: 90\n      grade: 优秀\n")
    results = {r.name: r for r in run_examples(load_rule_set_text(text, "edited.yaml"))}
    failed = results["部分会议逾期召开降为良好"]
    assert not failed.passed
    assert failed.message == "不符：总分 期望90分，实际88.5分；等级 期望“优秀”，实际“良好”"


def test_an_example_missing_a_metric_reports_the_scoring_error() -> None:
    text = PATH.read_text(encoding="utf-8").replace(
        "      monthly_member_meeting: {owed: 12, on_time: 12, late: 0, missed: 0, pending: 0, excused: 0}\n", "")
    (first, *_) = run_examples(load_rule_set_text(text, "edited.yaml"))
    assert not first.passed
    assert first.message.startswith("评分出错：单位 示例单位 缺少指标 monthly_member_meeting.owed")
