"""党建目标责任制: targets split level by level, letters signed, progress reported and fed
into the assessment's metrics. Every refusal leaves the database as it was."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services.cycles import get_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.rule_sets import register_rule_set
from dangjian.services.scoring import score_cycle
from dangjian.services.scoring_inputs import MetricEntry, set_manual_score, set_metric_values
from dangjian.services.targets import (
    Share,
    TargetSpec,
    feed_metrics,
    issue_letters,
    progress_view,
    report_progress,
    set_targets,
    sign_letter,
    split_target,
)
from models import (
    LETTER_DUTY,
    AuditEvent,
    LetterSigning,
    MetricValue,
    ProgressReport,
    Scorecard,
    ScoreLine,
    Target,
    TargetAllocation,
    Task,
    TaskState,
)
from tests.support.builders import RULES, County, county, planned_cycle

TARGET_RULES = RULES.parent / "community_target_responsibility.yaml"
TODAY = date(2026, 6, 30)
ISSUED = date(2026, 2, 10)
DUE = date(2026, 3, 31)
BY = "区委组织部"


@pytest.fixture
def c(session: Session) -> County:
    """The county, its cycle planned with the basic rules, then bound to the target rules
    (which declare new_members, activists …), with 发展党员 30 and 五好 share 60% set."""
    county_ = county(session)
    cycle = planned_cycle(session, county_)
    rules = register_rule_set(session=session, path=TARGET_RULES, actor="测试")
    cycle.rule_set_id = rules.id or 0
    session.add(cycle)
    session.commit()
    set_targets(session=session, cycle_code="2026", actor=BY, targets=[
        TargetSpec("develop", "发展党员", 30, "人", metric="new_members"),
        TargetSpec("five_good", "五好社区党支部占比", 60, "%", kind="share"),
    ])
    return county_


def split_down(session: Session) -> None:
    """发展党员: 县 30 → 镇 10 → 东关 6、西湖 3 → 各支部."""
    split_target(session=session, cycle_code="2026", target_code="develop", from_unit="D", actor=BY,
                 shares=[Share("S", 10, "王镇", "党委书记")])
    split_target(session=session, cycle_code="2026", target_code="develop", from_unit="S", actor="镇党委",
                 shares=[Share("C1", 6, "张东", "社区党委书记"), Share("C2", 3, "李西", "社区党支部书记")])
    split_target(session=session, cycle_code="2026", target_code="develop", from_unit="C1", actor="东关社区",
                 shares=[Share("B1", 6, "张东", "支部书记")])
    split_target(session=session, cycle_code="2026", target_code="develop", from_unit="C2", actor="西湖社区",
                 shares=[Share("B2", 3, "李西", "支部书记")])


def snapshot(session: Session) -> tuple[object, ...]:
    """Everything a targets call may write: counts, amounts, task states, metric values."""
    counts = tuple(session.execute(select(func.count()).select_from(m)).scalar_one()
                   for m in (Target, TargetAllocation, LetterSigning, ProgressReport, Task, MetricValue,
                             AuditEvent))
    amounts = tuple(session.execute(select(TargetAllocation.unit_id, TargetAllocation.amount,
                                           TargetAllocation.responsible_name)
                                    .order_by(TargetAllocation.id)).all())
    totals = tuple(session.execute(select(Target.code, Target.total, Target.kind).order_by(Target.id)).all())
    letters = tuple(session.execute(select(Task.id, Task.state, Task.done_on)
                                    .where(Task.duty_code == LETTER_DUTY).order_by(Task.id)).all())
    metrics = tuple(session.execute(select(MetricValue.subject_id, MetricValue.metric, MetricValue.value)
                                    .order_by(MetricValue.id)).all())
    return counts, amounts, totals, letters, metrics


# --- splitting -------------------------------------------------------------------------


def test_a_split_over_the_parents_amount_is_refused_with_the_numbers(session, c):
    split_down(session)
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        split_target(session=session, cycle_code="2026", target_code="develop", from_unit="S", actor="镇党委",
                     shares=[Share("C2", 5, "李西", "社区党支部书记")])
    text = str(error.value)
    assert "测试镇社区党总支（S）" in text and "为 10 人" in text
    assert "下级合计 11 人（东关社区 6 + 西湖社区 5），超出 1 人" in text
    assert snapshot(session) == before


def test_the_district_split_may_not_exceed_the_district_total(session, c):
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        split_target(session=session, cycle_code="2026", target_code="develop", from_unit="D", actor=BY,
                     shares=[Share("S", 31, "王镇", "党委书记")])
    assert "为 30 人，下级合计 31 人" in str(error.value)
    assert snapshot(session) == before


def test_a_child_may_not_be_cut_below_what_it_has_already_split_further(session, c):
    split_down(session)
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        split_target(session=session, cycle_code="2026", target_code="develop", from_unit="D", actor=BY,
                     shares=[Share("S", 8, "王镇", "党委书记")])
    assert "分解数 8 人 少于其已分解给下级的合计 9 人" in str(error.value)
    assert snapshot(session) == before


def test_lowering_the_district_total_below_what_is_split_is_refused(session, c):
    split_down(session)
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        set_targets(session=session, cycle_code="2026", actor=BY,
                    targets=[TargetSpec("develop", "发展党员", 9, "人", metric="new_members")])
    assert "总数 9 人 少于已分解给下级的合计 10 人" in str(error.value)
    assert snapshot(session) == before


def test_an_unknown_unit_is_named_and_nothing_is_written(session, c):
    before = snapshot(session)
    with pytest.raises(NotFound) as error:
        split_target(session=session, cycle_code="2026", target_code="develop", from_unit="D", actor=BY,
                     shares=[Share("S", 5, "王镇"), Share("S9", 1, "某人")])
    assert "未知的组织：S9" in str(error.value)
    assert snapshot(session) == before


def test_splitting_skips_no_level(session, c):
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        split_target(session=session, cycle_code="2026", target_code="develop", from_unit="D", actor=BY,
                     shares=[Share("C1", 5, "张东")])
    assert "东关社区（C1） 不是 测试县（D） 的直接下级（其上级为 S）" in str(error.value)
    assert snapshot(session) == before


def test_a_unit_splits_only_what_it_was_given(session, c):
    with pytest.raises(ValidationFailed) as error:
        split_target(session=session, cycle_code="2026", target_code="develop", from_unit="S", actor="镇党委",
                     shares=[Share("C1", 1, "张东")])
    assert "测试镇社区党总支（S） 没有分到目标“发展党员”" in str(error.value)


def test_every_unit_needs_a_responsible_person_and_counts_are_whole(session, c):
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        split_target(session=session, cycle_code="2026", target_code="develop", from_unit="D", actor=BY,
                     shares=[Share("S", 2.5, " ")])
    assert "须写明主要负责人" in str(error.value) and "须为整数" in str(error.value)
    assert snapshot(session) == before


def test_a_share_target_is_carried_at_every_level_not_added_up(session, c):
    split_target(session=session, cycle_code="2026", target_code="five_good", from_unit="D", actor=BY,
                 shares=[Share("S", 60, "王镇")])
    split_target(session=session, cycle_code="2026", target_code="five_good", from_unit="S", actor=BY,
                 shares=[Share("C1", 60, "张东"), Share("C2", 60, "李西")])
    with pytest.raises(ValidationFailed) as error:
        split_target(session=session, cycle_code="2026", target_code="five_good", from_unit="S", actor=BY,
                     shares=[Share("C1", 120, "张东")])
    assert "超出 0–100%" in str(error.value)


def test_a_target_naming_an_undeclared_metric_is_refused(session, c):
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        set_targets(session=session, cycle_code="2026", actor=BY,
                    targets=[TargetSpec("activists", "培养入党积极分子", 70, "人", metric="积极分子")])
    assert "规则集没有声明指标 积极分子" in str(error.value) and "activists（入党积极分子数）" in str(error.value)
    assert snapshot(session) == before


def test_a_metric_fed_by_two_targets_is_refused(session, c):
    with pytest.raises(ValidationFailed) as error:
        set_targets(session=session, cycle_code="2026", actor=BY,
                    targets=[TargetSpec("develop2", "发展党员（城区）", 20, "人", metric="发展党员数")])
    assert "已由目标 develop 写入" in str(error.value)


# --- letters ---------------------------------------------------------------------------


def letters(session: Session) -> list[Task]:
    return list(session.execute(select(Task).where(Task.duty_code == LETTER_DUTY)
                                .order_by(Task.subject_id)).scalars())


def test_letters_create_one_task_per_allocated_unit_and_issuing_again_adds_none(session, c):
    split_down(session)
    report = issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED,
                           today=TODAY)
    tasks = letters(session)
    assert len(report.created) == 5 and report.already == 0
    assert [(t.subject_id, t.owner_unit_id, t.due_on, t.state) for t in tasks] == [
        (u, u, DUE, TaskState.open) for u in ("B1", "B2", "C1", "C2", "S")]
    again = issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED, today=TODAY)
    assert again.created == [] and again.already == 5 and len(letters(session)) == 5


def test_letters_cannot_be_due_before_they_are_issued(session, c):
    split_down(session)
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        issue_letters(session=session, cycle_code="2026", due_on=date(2026, 2, 1), actor=BY,
                      issued_on=ISSUED, today=TODAY)
    assert "签订截止日期 2026-02-01 早于下达日期 2026-02-10" in str(error.value)
    assert snapshot(session) == before


def test_signing_closes_the_letter_and_signing_twice_is_refused(session, c):
    split_down(session)
    issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED, today=TODAY)
    sign_letter(session=session, cycle_code="2026", unit_id="S", signed_on=date(2026, 3, 1), signed_by="王镇",
                today=TODAY)
    sign_letter(session=session, cycle_code="2026", unit_id="C1", signed_on=date(2026, 4, 2), signed_by="张东",
                today=TODAY)
    states = {t.subject_id: (t.state, t.done_on) for t in letters(session)}
    assert states["S"] == (TaskState.done, date(2026, 3, 1))
    assert states["C1"] == (TaskState.late, date(2026, 4, 2))
    assert states["C2"] == (TaskState.open, None)
    before = snapshot(session)
    with pytest.raises(Conflict) as error:
        sign_letter(session=session, cycle_code="2026", unit_id="S", signed_on=date(2026, 3, 2),
                    signed_by="王镇", today=TODAY)
    assert "已于 2026-03-01 由 王镇 签订" in str(error.value)
    with pytest.raises(ValidationFailed):
        sign_letter(session=session, cycle_code="2026", unit_id="C2", signed_on=date(2026, 7, 1),
                    signed_by="李西", today=TODAY)
    with pytest.raises(NotFound):
        sign_letter(session=session, cycle_code="2026", unit_id="D", signed_on=TODAY, signed_by="县委",
                    today=TODAY)
    assert snapshot(session) == before


def test_a_signed_letter_keeps_its_scan_in_the_evidence_store(session, c, files_dir, tmp_path):
    split_down(session)
    issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED, today=TODAY)
    scan = tmp_path / "东关社区责任书.PDF"
    scan.write_bytes(b"%PDF-1.4 letter")
    row = sign_letter(session=session, cycle_code="2026", unit_id="C1", signed_on=date(2026, 3, 5),
                      signed_by="张东", evidence=scan, today=TODAY)
    assert row.evidence_name == "东关社区责任书.PDF" and row.evidence_size == len(b"%PDF-1.4 letter")
    assert (files_dir / f"{row.evidence_sha256}.pdf").read_bytes() == b"%PDF-1.4 letter"


def test_re_planning_leaves_letters_alone(session, c):
    split_down(session)
    issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED, today=TODAY)
    cycle_id = letters(session)[0].cycle_id
    plan_cycle(session=session, cycle_id=cycle_id, as_of=TODAY)
    assert {t.state for t in letters(session)} == {TaskState.open}


# --- progress --------------------------------------------------------------------------


def report(session: Session, unit: str, value: float, on: date, note: str | None = None,
           target: str = "develop") -> ProgressReport:
    return report_progress(session=session, cycle_code="2026", target_code=target, unit_id=unit, value=value,
                           reported_on=on, reported_by="组织委员", note=note, today=TODAY)


def test_progress_may_go_down_only_with_a_reason_and_only_forward_in_time(session, c):
    split_down(session)
    report(session, "B1", 3, date(2026, 5, 31))
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        report(session, "B1", 2, date(2026, 6, 15))
    assert "完成数 2 比上次报送（2026-05-31：3）减少，须说明原因" in str(error.value)
    with pytest.raises(ValidationFailed) as error:
        report(session, "B1", 4, date(2026, 5, 1))
    assert "最近一次报送为 2026-05-31" in str(error.value)
    with pytest.raises(NotFound) as error:
        report(session, "D", 4, date(2026, 6, 1))
    assert "根组织的完成数由下级汇总" in str(error.value)
    assert snapshot(session) == before
    report(session, "B1", 2, date(2026, 6, 15), note="一名发展对象政审未通过，撤回")
    assert [p.value for p in session.execute(select(ProgressReport).order_by(ProgressReport.id)).scalars()] == [3, 2]


def test_progress_that_is_not_a_finite_storable_number_is_refused_as_metric_values_are(session, c):
    split_down(session)
    before = snapshot(session)
    refused = {float("nan"): "“nan”不是有限的数字", float("inf"): "“inf”不是有限的数字",
               1e300: "1e300 超出可录入的数值范围", -1: "-1 不能为负数", 2.5: "2.5 须为整数"}
    for value, reason in refused.items():
        with pytest.raises(ValidationFailed) as error:
            report(session, "B1", value, date(2026, 6, 1))
        assert f"完成数 {reason}" in str(error.value)
    with pytest.raises(ValidationFailed, match="总数 “-inf”不是有限的数字"):
        set_targets(session=session, cycle_code="2026", actor=BY,
                    targets=[TargetSpec("develop", "发展党员", float("-inf"), "人")])
    assert snapshot(session) == before

def test_the_progress_view_rolls_up_and_says_who_is_on_track(session, c):
    split_down(session)
    issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED, today=TODAY)
    sign_letter(session=session, cycle_code="2026", unit_id="B1", signed_on=date(2026, 3, 1), signed_by="张东",
                today=TODAY)
    report(session, "B1", 3, date(2026, 6, 20))
    report(session, "B2", 1, date(2026, 6, 25))
    rows = {(r.target_code, r.unit_id): r for r in progress_view(session=session, cycle_code="2026", as_of=TODAY)}
    b1, b2, c1, district = rows["develop", "B1"], rows["develop", "B2"], rows["develop", "C1"], rows["develop", "D"]
    # Half the year gone by 30 June: 6 × 181/365 → 2 expected.
    assert (b1.amount, b1.reported, b1.rate, b1.expected, b1.on_track) == (6, 3, 0.5, 2, True)
    assert (b2.amount, b2.reported, b2.expected, b2.on_track) == (3, 1, 1, True)
    assert (c1.reported, c1.rolled_up) == (3, True)
    assert (district.amount, district.reported, district.split_below, district.letter) == (30, 4, 10, "—")
    assert district.on_track is False                       # 30 × 181/365 → 14 expected
    assert b1.letter == "已签订 2026-03-01" and b2.letter == "逾期未签（截止 2026-03-31）"
    assert (b1.responsible, b1.post) == ("张东", "支部书记")
    only_c2 = progress_view(session=session, cycle_code="2026", unit_id="C2", as_of=TODAY)
    assert {r.unit_id for r in only_c2} == {"C2", "B2"}


FULL = {"members": 9, "activists": 2, "new_members": 0, "dues_rate": 100, "satisfaction_rate": 96,
        "criticized": 0, "service_projects": 3, "roster_kept": 1, "ledger_kept": 1,
        "secretary_vacant_months": 0, "election_overdue": 0, "serious_incidents": 0, "commendation_level": 0}


def developed_points(session: Session, run_id: int, unit: str) -> float:
    return session.execute(
        select(ScoreLine.points).join(Scorecard, Scorecard.id == ScoreLine.scorecard_id)
        .where(Scorecard.run_id == run_id, Scorecard.subject_id == unit,
               ScoreLine.item_code == "members_developed")).scalar_one()


def test_progress_feeds_the_assessment_metric_and_scoring_reads_it(session, c):
    for unit in ("B1", "B2"):
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry(unit, k, v) for k, v in FULL.items()])
        set_manual_score(session=session, cycle_code="2026", subject_id=unit, item_code="street_appraisal",
                         points=36, entered_by="街道党工委")
    split_down(session)
    report(session, "B1", 2, date(2026, 6, 20))
    cycle_id = get_cycle(session, "2026").id
    before = score_cycle(session=session, cycle_id=cycle_id, as_of=date(2027, 1, 4))
    assert developed_points(session, before.id, "B1") == 0

    fed = feed_metrics(session=session, cycle_code="2026", actor="区委组织部")
    assert fed.written == [("B1", "new_members", 2)]
    assert ("develop", "B2") in fed.unreported and set(fed.not_scored) == set()
    stored = session.execute(select(MetricValue).where(MetricValue.subject_id == "B1",
                                                       MetricValue.metric == "new_members")).scalar_one()
    assert stored.value == 2 and "发展党员" in (stored.note or "")
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "target.feed")).scalar_one()

    after = score_cycle(session=session, cycle_id=cycle_id, as_of=date(2027, 1, 4))
    assert developed_points(session, after.id, "B1") == 10
    assert developed_points(session, after.id, "B2") == 0


def test_feeding_a_value_outside_the_metrics_range_writes_nothing(session, c):
    set_targets(session=session, cycle_code="2026", actor=BY,
                targets=[TargetSpec("roster", "党员名册整理", 2, "本", metric="roster_kept")])
    split_target(session=session, cycle_code="2026", target_code="roster", from_unit="D", actor=BY,
                 shares=[Share("S", 2, "王镇")])
    split_target(session=session, cycle_code="2026", target_code="roster", from_unit="S", actor=BY,
                 shares=[Share("C1", 2, "张东")])
    split_target(session=session, cycle_code="2026", target_code="roster", from_unit="C1", actor=BY,
                 shares=[Share("B1", 2, "张东")])
    report(session, "B1", 2, date(2026, 6, 1), target="roster")
    before = snapshot(session)
    with pytest.raises(ValidationFailed) as error:
        feed_metrics(session=session, cycle_code="2026", actor=BY)
    assert "B1 的指标 党员名册齐全 的值 2 超出范围（0–1）" in str(error.value)
    assert snapshot(session) == before


def test_letters_do_not_make_streets_and_communities_subject_to_no_activity_warnings(session, c):
    from dangjian.services.chasing import list_warnings, raise_warnings
    from models import WarningKind

    split_down(session)
    issue_letters(session=session, cycle_code="2026", due_on=DUE, actor=BY, issued_on=ISSUED, today=TODAY)
    for uid, who in (("S", "王镇"), ("C1", "张东"), ("C2", "李西")):
        sign_letter(session=session, cycle_code="2026", unit_id=uid, signed_on=DUE, signed_by=who, today=TODAY)
    cycle_id = letters(session)[0].cycle_id
    raise_warnings(session=session, cycle_id=cycle_id, as_of=TODAY)
    watched = {w.unit_id for w in list_warnings(session=session) if w.kind == WarningKind.inactivity}
    assert watched == {"B1", "B2"}      # the branches, whose meetings are the rule set's duties
