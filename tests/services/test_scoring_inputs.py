"""Declared metric values, manual scores, re-scoring under new rules, what-if and publishing."""
from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.errors import NotFound, ValidationFailed
from dangjian.services.rule_sets import register_rule_set
from dangjian.services.scorecards import scorecard_document
from dangjian.services.scoring import publish_run, score_cycle
from dangjian.services.scoring_inputs import MetricEntry, set_manual_score, set_metric_values
from dangjian.services.what_if import what_if
from models import ManualScore, MetricValue, Scorecard, ScoreLine, ScoreRun
from rules.loader import RuleSetError
from rules.metrics import MissingInputs
from tests.support.builders import RULES, county, planned_cycle

SETS = RULES.parent
TARGET = SETS / "community_target_responsibility.yaml"
FULL_DATA = {"members": 9, "activists": 2, "new_members": 1, "dues_rate": 100, "satisfaction_rate": 96,
             "criticized": 0, "service_projects": 3, "roster_kept": 1, "ledger_kept": 1,
             "secretary_vacant_months": 0, "election_overdue": 0, "serious_incidents": 0,
             "commendation_level": 0}


@pytest.fixture
def target_cycle(session):
    """A cycle planned with the basic rules, then bound to the target-responsibility rules."""
    c = county(session)
    cycle = planned_cycle(session, c)
    rules = register_rule_set(session=session, path=TARGET, actor="测试")
    cycle.rule_set_id = rules.id
    session.add(cycle)
    session.commit()
    return c, cycle


def enter_all(session, units, **overrides):
    for unit in units:
        data = {**FULL_DATA, **overrides.get(unit, {})}
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry(unit, k, v) for k, v in data.items()])
        set_manual_score(session=session, cycle_code="2026", subject_id=unit,
                         item_code="street_appraisal", points=36, entered_by="街道党工委 李明")


def test_an_undeclared_metric_is_not_found_with_the_declared_ones_listed(session, target_cycle):
    with pytest.raises(NotFound) as error:
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry("B1", "满意度", 90)])
    assert "未知的指标 满意度" in str(error.value) and "群众满意率" in str(error.value)
    assert session.execute(select(func.count()).select_from(MetricValue)).scalar_one() == 0


def test_a_value_outside_the_declared_range_is_refused(session, target_cycle):
    with pytest.raises(ValidationFailed) as error:
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry("B1", "群众满意率", 130)])
    assert "超出范围" in str(error.value)


def test_a_metric_entered_by_its_chinese_name_is_stored_under_its_code(session, target_cycle):
    set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                      entries=[MetricEntry("B1", "群众满意率", 88)])
    stored = session.execute(select(MetricValue)).scalar_one()
    assert (stored.metric, stored.value, stored.entered_by) == ("satisfaction_rate", 88, "组织科")


def test_a_manual_score_outside_the_items_range_is_refused(session, target_cycle):
    with pytest.raises(ValidationFailed) as error:
        set_manual_score(session=session, cycle_code="2026", subject_id="B1", item_code="street_appraisal",
                         points=45, entered_by="街道党工委")
    assert "超出规则允许的范围（0–40）" in str(error.value)
    assert session.execute(select(func.count()).select_from(ManualScore)).scalar_one() == 0


def test_scoring_without_entered_metrics_names_every_missing_metric_and_manual_score_at_once(
        session, target_cycle):
    _, cycle = target_cycle
    enter_all(session, ["B1"])
    set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                      entries=[MetricEntry("B2", k, v) for k, v in FULL_DATA.items() if k != "dues_rate"])
    with pytest.raises(MissingInputs) as error:
        score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4))
    details = error.value.details
    assert "1 个考核对象缺少评分所需的数据，共 2 项" in error.value.message
    assert any("单位 B2 缺少指标 dues_rate" in d for d in details)
    assert any("单位 B2 的评分条目 street_appraisal" in d and "尚未录入人工评分" in d for d in details)
    assert session.execute(select(func.count()).select_from(ScoreRun)).scalar_one() == 0


def test_a_veto_forces_the_lowest_grade_and_says_why(session, target_cycle):
    _, cycle = target_cycle
    enter_all(session, ["B1", "B2"], B2={"secretary_vacant_months": 7})
    run = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4))
    card = session.execute(select(Scorecard).where(Scorecard.run_id == run.id,
                                                   Scorecard.subject_id == "B2")).scalar_one()
    assert card.grade == "一星"
    reasons = session.execute(select(ScoreLine.reason).where(ScoreLine.scorecard_id == card.id)).scalars().all()
    assert any("书记" in r for r in reasons)
    manual = [r for r in reasons if "李明" in r]
    assert manual, "the manual line names who entered it"


def test_what_if_shows_the_moves_and_writes_nothing(session, target_cycle, tmp_path):
    _, cycle = target_cycle
    enter_all(session, ["B1", "B2"])
    score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4), publish=True)
    runs_before = session.execute(select(func.count()).select_from(ScoreRun)).scalar_one()
    draft = tmp_path / "draft.yaml"
    source = TARGET.read_text(encoding="utf-8")
    # The draft asks 99% satisfaction for full marks instead of 95%: 96% now earns less.
    draft.write_text(source.replace("threshold: 95%", "threshold: 99%")
                     .replace('version: "', 'version: "9', 1), encoding="utf-8")
    report = what_if(session=session, cycle_code="2026", draft_path=draft, as_of=date(2027, 1, 4))
    assert session.execute(select(func.count()).select_from(ScoreRun)).scalar_one() == runs_before
    assert {r.subject_id for r in report.rows} == {"B1", "B2"}
    assert all(r.delta < 0 for r in report.rows)


def test_a_draft_that_fails_to_load_is_refused_with_its_errors(session, target_cycle, tmp_path):
    draft = tmp_path / "bad.yaml"
    draft.write_text(TARGET.read_text(encoding="utf-8").replace("method: manual", "method: manul"),
                     encoding="utf-8")
    with pytest.raises(RuleSetError) as error:
        what_if(session=session, cycle_code="2026", draft_path=draft, as_of=date(2027, 1, 4))
    assert "bad.yaml:" in str(error.value.issues[0])


def test_publishing_a_rescore_keeps_the_earlier_version_readable(session, target_cycle):
    _c, cycle = target_cycle
    enter_all(session, ["B1", "B2"])
    first = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4), publish=True)
    basic = register_rule_set(session=session, path=RULES, actor="测试")
    second = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4), rule_set_id=basic.id)
    publish_run(session=session, cycle_id=cycle.id, version=second.version, actor="测试")
    old = scorecard_document(session=session, cycle_code="2026", version=first.version)
    new = scorecard_document(session=session, cycle_code="2026", version=second.version)
    assert old["run"]["rule_set"]["code"] != new["run"]["rule_set"]["code"]
    assert old["run"]["published"] and new["run"]["published"]
    assert {u["grade"] for u in old["units"]} <= {"五星", "四星", "三星", "二星", "一星"}


def _stored(session):
    return (session.execute(select(func.count()).select_from(MetricValue)).scalar_one(),
            session.execute(select(func.count()).select_from(ManualScore)).scalar_one())


def test_metric_and_manual_values_for_a_unit_the_rules_never_score_are_refused(session, target_cycle):
    from dangjian.errors import NotFound

    with pytest.raises(ValidationFailed) as error:
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry("C1", "群众满意率", 90)])
    assert "C1 不是规则集" in str(error.value) and "指标 群众满意率" in str(error.value)
    with pytest.raises(ValidationFailed) as error:
        set_manual_score(session=session, cycle_code="2026", subject_id="S", item_code="street_appraisal",
                         points=30, entered_by="街道党工委")
    assert "S 不是规则集" in str(error.value) and "street_appraisal" in str(error.value)
    with pytest.raises(NotFound) as missing:
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry("B9", "群众满意率", 90)])
    assert "B9" in str(missing.value)
    assert _stored(session) == (0, 0)


@pytest.mark.parametrize("metric, value, why", [
    ("群众满意率", float("inf"), "不是有限的数字"),
    ("群众满意率", float("nan"), "不是有限的数字"),
    ("为民服务项目数", 1e300, "超出可录入的数值范围"),
    ("发展党员数", 3.5, "3.5 不是整数（单位为“人”）"),
])
def test_metric_values_must_be_finite_whole_for_counts_and_in_range(session, target_cycle, metric, value, why):
    with pytest.raises(ValidationFailed) as error:
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry("B1", metric, value)])
    assert why in str(error.value) and metric in str(error.value)
    assert _stored(session) == (0, 0)


@pytest.mark.parametrize("points", [float("nan"), float("inf"), float("-inf")])
def test_a_manual_score_that_is_not_a_finite_number_is_refused(session, target_cycle, points):
    with pytest.raises(ValidationFailed) as error:
        set_manual_score(session=session, cycle_code="2026", subject_id="B1", item_code="street_appraisal",
                         points=points, entered_by="街道党工委")
    assert "不是有限的数字" in str(error.value)
    assert _stored(session) == (0, 0)


def test_every_bad_metric_row_is_reported_at_once(session, target_cycle):
    with pytest.raises(ValidationFailed) as error:
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科", source="a.csv", entries=[
            MetricEntry("B1", "群众满意率", 130), MetricEntry("C1", "群众满意率", 90),
            MetricEntry("B2", "发展党员数", 1.5), MetricEntry("B2", "满意度", 1)])
    assert [d.split(" ")[1] for d in error.value.details] == ["第1条", "第2条", "第3条", "第4条"]


def test_a_metric_csv_saved_by_excel_as_gbk_is_read(tmp_path):
    from dangjian.services.scoring_inputs import read_metric_csv

    path = tmp_path / "指标.csv"
    path.write_bytes("对象编码,指标,值,说明\nB1,群众满意率,88,测评结果\n".encode("gbk"))
    (entry,) = read_metric_csv(path)
    assert (entry.subject_id, entry.metric, entry.value, entry.note) == ("B1", "群众满意率", 88.0, "测评结果")


def test_a_metric_csv_in_no_known_encoding_is_refused_in_chinese(tmp_path):
    from dangjian.services.scoring_inputs import read_metric_csv

    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xff\xfe\x00\xd8\x00\xdc\x81")
    with pytest.raises(ValidationFailed, match="无法识别的文件编码"):
        read_metric_csv(path)


def test_manual_scores_from_a_csv_are_all_stored_or_all_refused_with_every_problem(session, target_cycle, tmp_path):
    from dangjian.services.scoring_inputs import import_manual_csv

    bad = tmp_path / "评议.csv"
    bad.write_text("对象编码,条目,分数,理由\nB1,street_appraisal,45,太高\nB2,street_appraisal,abc,\n"
                   "B9,street_appraisal,30,\nB1,street_appraisal,30,多,出\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as error:
        import_manual_csv(session=session, cycle_code="2026", path=bad, entered_by="街道党工委")
    lines = "\n".join(error.value.details)
    assert "第2行" in lines and "超出规则允许的范围（0–40）" in lines
    assert "第3行 分数：“abc”不是数字" in lines and "第4行 未知的组织或党员：B9" in lines
    assert "第5行 多出 1 个单元格" in lines
    assert _stored(session) == (0, 0)

    good = tmp_path / "评议2.csv"
    good.write_text("对象编码,条目,分数,理由\nB1,street_appraisal,36,走访\nB2,street_appraisal,-0,\n", encoding="gbk")
    assert import_manual_csv(session=session, cycle_code="2026", path=good, entered_by="街道党工委") == 2
    assert _stored(session) == (0, 2)
