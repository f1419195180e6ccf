"""The rule sets shipped in rules/sets/: each loads, documents itself in Chinese at the top,
encodes what DOMAIN.md says, and its stored examples pass."""
from __future__ import annotations

import pytest

from models.org import UnitKind
from rules import SETS_DIR
from rules.duties import Quorum
from rules.examples import run_examples
from rules.loader import LoadedRuleSet, load_rule_set_file, load_rule_set_text
from rules.metrics import ManualEntry
from rules.outcomes import Subject, UnitOutcome, apply_outcomes
from rules.scorer import grade_for, score_unit

SHIPPED = ["national_baseline.yaml", "community_target_responsibility.yaml", "five_good_branch.yaml"]


def load(name: str) -> LoadedRuleSet:
    return load_rule_set_file(SETS_DIR / name)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_set_loads_documents_itself_and_its_examples_pass(name: str) -> None:
    loaded = load(name)
    header = loaded.source.split("\nrule_set:")[0]
    for topic in ("用途", "依据", "怎样计分", "区里需要提供的数据"):
        assert topic in header, f"{name} 的文件头缺少“{topic}”"
    results = run_examples(loaded)
    assert len(results) >= 4
    assert [(r.name, r.message) for r in results if not r.passed] == []


# -- national baseline ---------------------------------------------------------------

def test_national_baseline_follows_the_branch_work_regulations_calendar() -> None:
    loaded = load("national_baseline.yaml")
    duties = loaded.duties
    assert set(duties) == {"party_congress", "committee_meeting", "group_meeting", "party_lecture",
                           "theme_party_day", "organization_life_meeting", "member_appraisal",
                           "heart_to_heart_talk"}
    assert duties["party_congress"].quorum == Quorum.voting_majority
    assert duties["committee_meeting"].applies_to.has_committee is True         # type: ignore[union-attr]
    assert duties["group_meeting"].applies_to.kind == UnitKind.group           # type: ignore[union-attr]
    assert "第四季度" in (duties["organization_life_meeting"].basis or "")
    assert "未规定支部党课次数" in (duties["party_lecture"].basis or "")


def test_national_baseline_is_a_plain_hundred_point_deduction_with_four_bands() -> None:
    loaded = load("national_baseline.yaml")
    scoring = loaded.rule_set.scoring
    items = [item for _, item in scoring.walk_items()]
    assert {item.method for item in items} == {"duty_deduction"}                # type: ignore[attr-defined]
    assert sum(item.max for item in items) == scoring.max_total == 100
    assert {code for item in items for code in item.duty_codes()} == set(loaded.duties)
    assert [grade_for(loaded, t) for t in (100, 90, 89.95, 89.9, 80, 60, 59.9, 0)] == [
        "优秀", "优秀", "优秀", "良好", "良好", "合格", "不合格", "不合格"]
    assert (loaded.rule_set.vetoes, loaded.rule_set.designations, loaded.rule_set.quotas) == ([], [], [])


# -- community target responsibility (评星定级) ----------------------------------------

def duties_done(loaded: LoadedRuleSet, **missed: int) -> dict[str, float]:
    """Every duty of the rule set done on time, except the missed counts given."""
    per_year = {"monthly": 12, "quarterly": 4}
    found: dict[str, float] = {}
    for code, duty in loaded.duties.items():
        owed = per_year.get(str(duty.frequency), 1)
        gone = missed.get(code, 0)
        found.update({f"{code}.owed": owed, f"{code}.on_time": owed - gone, f"{code}.late": 0,
                      f"{code}.missed": gone, f"{code}.pending": 0, f"{code}.excused": 0})
    return found


COMMUNITY_DATA = {"members": 40, "activists": 4, "new_members": 1, "dues_rate": 100, "satisfaction_rate": 96,
                  "criticized": 0, "service_projects": 4, "roster_kept": 1, "ledger_kept": 1,
                  "secretary_vacant_months": 0, "election_overdue": 0, "serious_incidents": 0,
                  "commendation_level": 0}


def community_cohort(loaded: LoadedRuleSet, units: list[tuple[str, str, dict[str, float], float]]
                     ) -> dict[str, UnitOutcome]:
    scores, subjects = [], []
    for unit, street, changes, appraisal in units:
        values = {**duties_done(loaded), **COMMUNITY_DATA, **changes}
        manual = {"street_appraisal": ManualEntry(points=appraisal, entered_by="街道党工委")}
        scores.append(score_unit(loaded, unit, values, manual=manual))
        subjects.append(Subject(unit, street, "d1", values))
    return {o.unit_id: o for o in apply_outcomes(loaded, scores, subjects)}


def test_community_total_is_seventy_thirty_of_basic_less_deductions_and_review() -> None:
    loaded = load("community_target_responsibility.yaml")
    assert loaded.rule_set.scoring.total is not None
    assert loaded.rule_set.scoring.total.formula == "(基础项 + 减分项) * 0.7 + 评议项 * 0.3"
    values = {**duties_done(loaded), **COMMUNITY_DATA, "criticized": 1}
    score = score_unit(loaded, "c1", values, manual={"street_appraisal": ManualEntry(points=40, entered_by="街道")})
    assert score.total == 93.7                      # (96 − 5) × 0.7 + (60 + 40) × 0.3 = 63.7 + 30
    assert [grade_for(loaded, t) for t in (90, 89.95, 89.9, 80, 70, 60, 59.9)] == [
        "五星", "五星", "四星", "四星", "三星", "二星", "一星"]


def test_community_five_stars_are_capped_at_thirty_percent_after_direct_promotion_and_vetoes() -> None:
    loaded = load("community_target_responsibility.yaml")
    # Appraisal points a → total = 0.7 × 96 + 0.3 × (60 + a) = 85.2 + 0.3a.
    outcomes = community_cohort(loaded, [
        ("c01", "s1", {}, 40),                                   # 97.2
        ("c02", "s1", {}, 38),                                   # 96.6
        ("c03", "s1", {"service_projects": 3}, 40),             # 95.45 → 95.5, 基础项 93.5
        ("c04", "s2", {}, 35),                                   # 95.7
        ("c05", "s2", {}, 30),                                   # 94.2
        ("c06", "s2", {"commendation_level": 2}, 10),           # 88.2, 市级表彰 → 五星
        ("c07", "s2", {"secretary_vacant_months": 8}, 40),      # 97.2, 书记缺配 → 一星
        ("c08", "s3", {}, 10),                                   # 88.2
        ("c09", "s3", {}, 0),                                    # 85.2
        ("c10", "s3", {"satisfaction_rate": 60}, 0),            # 67.2
    ])
    assert {u: (o.total, o.grade) for u, o in outcomes.items()} == {
        "c01": (97.2, "五星"), "c02": (96.6, "五星"), "c03": (95.5, "四星"), "c04": (95.7, "四星"),
        "c05": (94.2, "四星"), "c06": (88.2, "五星"), "c07": (97.2, "一星"), "c08": (88.2, "四星"),
        "c09": (85.2, "四星"), "c10": (67.2, "二星")}
    # 10 × 30% = 3 places; c06 (直接定级) takes one; c01 and c02 take the other two.
    assert outcomes["c04"].lines[-1].reason == (
        "五星名额：“五星”至多占30%，全部10个单位×0.3=3，向下取整为3个，其中1个由否决项或直接定级确定，余2个按排序；"
        "本单位在“五星”中排第3（排序：总分高者在前，同分按“基础项”得分高者在前，再按单位代码从小到大），超出名额，降为“四星”")
    assert outcomes["c07"].vetoes == ["secretary_vacancy"]
    assert [(o.rank_overall, o.rank_in_street) for o in (outcomes["c01"], outcomes["c07"], outcomes["c10"])] == [
        (1, 1), (1, 1), (10, 3)]


# -- "五好" branch ---------------------------------------------------------------------

def test_five_good_has_five_configurable_criteria_and_requires_no_veto() -> None:
    loaded = load("five_good_branch.yaml")
    (designation,) = loaded.rule_set.designations
    assert designation.code == "five_good_branch" and designation.requires_no_veto
    assert [c.name for c in designation.criteria] == ["班子好", "党员队伍好", "制度落实好", "作用发挥好", "群众评价好"]
    assert "各地说法不同" in loaded.source and "怎样修改标准" in loaded.source
    vetoes = {v.code: v.effect.kind for v in loaded.rule_set.vetoes}
    assert vetoes == {"secretary_vacancy": "lowest_grade", "serious_violation": "block_designation"}


def test_five_good_refusal_names_the_failing_criterion() -> None:
    loaded = load("five_good_branch.yaml")
    data = {"secretary_vacant_months": 0, "attendance_rate": 92, "activists_trained": 2, "disciplined_members": 0,
            "six_ones_rate": 85, "satisfaction_rate": 93, "serious_violation": 0}
    values = {**duties_done(loaded, member_appraisal=1), **data}
    (outcome,) = apply_outcomes(loaded, [score_unit(loaded, "b1", values)], [Subject("b1", "s1", "d1", values)])
    assert outcome.designations == []
    assert outcome.lines[0].reason == (
        "五好党支部：5项标准中“制度落实好”未达到（民主评议党员未完成1次，条件为 民主评议党员_未完成 == 0），不授予")


def test_the_star_member_snippet_in_the_five_good_header_works_in_a_member_rule_set() -> None:
    header = load("five_good_branch.yaml").source.split("# 明星党员：")[1].split("\nrule_set:")[0]
    snippet = "\n".join(line[4:] for line in header.splitlines() if line.startswith("#   "))
    member_text = (SETS_DIR / "member_duties.yaml").read_text(encoding="utf-8")
    text = member_text.replace("\nexamples:", "\n" + snippet + "\n\nexamples:", 1)
    loaded = load_rule_set_text(text, "member_duties_with_star.yaml")
    assert loaded.rule_set.scoring.per_member
    scores, subjects = [], []
    for i in range(20):                     # two streets of 10 members; m00 and m10 have an absence
        values = {**duties_done(loaded, dues=1 if i in (5, 15) else 0),
                  "attendance.expected": 20, "attendance.present": 20 - (i % 10 == 0),
                  "attendance.leave": 0, "attendance.absent": float(i % 10 == 0)}
        scores.append(score_unit(loaded, f"m{i:02d}", values))
        subjects.append(Subject(f"m{i:02d}", "s1" if i < 10 else "s2", "d1", values))
    outcomes = {o.unit_id: o for o in apply_outcomes(loaded, scores, subjects)}
    stars = [u for u, o in outcomes.items() if o.designations == ["star_member"]]
    assert stars == ["m01", "m11"]            # 10 × 10% = 1 per street; ties broken by unit_id
    assert outcomes["m00"].lines[0].reason.startswith("明星党员：3项标准中“按时参加组织生活”未达到（参会缺席1人次")
    assert outcomes["m02"].lines[-1].reason.endswith("超出名额，不授予“明星党员”")
