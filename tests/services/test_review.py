"""Review by the level above: submitted → accepted | returned (reason) → resubmitted."""
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from dangjian.domain.completion import AttendanceEntry
from dangjian.errors import Conflict, Forbidden, NotFound, ValidationFailed
from dangjian.services.closing import Report, close_tasks, correct_completion
from dangjian.services.cycles import create_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.review import (
    accept,
    accept_many,
    history,
    pending_reviews,
    return_completion,
)
from dangjian.services.rule_sets import register_rule_set
from models import AuditEvent, Completion, Presence, Review, ReviewDecision, Task, TaskState, Waiver
from tests.support.builders import RULES, at, county

REVIEWED = "party_lecture"          # requires review in the test rule set
EVIDENCED = "organization_life_meeting"   # requires review and one evidence file


def review_rules(directory: Path) -> Path:
    """The shipped rule set with 党课 and 组织生活会 reviewed by the level above."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    data["rule_set"]["version"] = f"{data['rule_set']['version']}-review"
    for duty in data["duties"]:
        if duty["code"] == REVIEWED:
            duty.setdefault("requires", {})["review"] = True
        if duty["code"] == EVIDENCED:
            duty.setdefault("requires", {}).update(review=True, evidence_files=1)
    path = directory / "review_rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def review_cycle(session, c, directory: Path, code: str = "2026"):
    rules = register_rule_set(session=session, path=review_rules(directory), actor="测试")
    cycle = create_cycle(session=session, code=code, name=f"{code}年度考核", root_unit_id=c.district.id,
                         rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                         actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id or 0)
    return cycle


def task(session, cycle, duty, subject, start):
    return session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.duty_code == duty, Task.subject_id == subject,
        Task.period_start == start)).scalar_one()


def report(held_on, members, **kw):
    return Report(held_on=held_on, topic=kw.pop("topic", "学习党章"), minutes=kw.pop("minutes", "记录"),
                  attendance=[AttendanceEntry(m.id, Presence.present) for m in members], **kw)


def counts(session):
    return tuple(session.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (Completion, Review, Waiver, AuditEvent))


def states(session, *tasks):
    for t in tasks:
        session.refresh(t)
    return [t.state for t in tasks]


@pytest.fixture
def world(session, tmp_path):
    c = county(session)
    return c, review_cycle(session, c, tmp_path)


def submit_lecture(session, c, cycle, *, held=date(2026, 3, 10), reported=date(2026, 3, 11)):
    t = task(session, cycle, REVIEWED, "B1", date(2026, 1, 1))
    completion = close_tasks(session=session, task_ids=[t.id], report=report(held, c.big_members),
                             acting_branch="B1", now=at(reported))
    return t, completion


def test_reporting_a_review_duty_leaves_the_task_submitted_not_done(session, world):
    c, cycle = world
    t, _completion = submit_lecture(session, c, cycle)
    assert states(session, t) == [TaskState.submitted]
    assert t.done_on == date(2026, 3, 10)
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.entity == "task",
                                                              AuditEvent.entity_id == str(t.id))).scalars().all()
    assert actions == ["task.submit"]


def test_a_duty_without_review_is_still_closed_at_once(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                now=at(date(2026, 3, 11)))
    assert states(session, t) == [TaskState.done]


def test_one_event_with_a_reviewed_duty_waits_for_review_as_a_whole(session, world):
    c, cycle = world
    lecture = task(session, cycle, REVIEWED, "B1", date(2026, 1, 1))
    day = task(session, cycle, "theme_party_day", "B1", date(2026, 2, 1))
    completion = close_tasks(session=session, task_ids=[day.id, lecture.id],
                             report=report(date(2026, 2, 20), c.big_members), now=at(date(2026, 2, 21)))
    assert states(session, day, lecture) == [TaskState.submitted, TaskState.submitted]
    accept(session=session, completion_id=completion.id, reviewer="街道组织委员", reviewing_unit="S",
           now=at(date(2026, 3, 2)))
    assert states(session, day, lecture) == [TaskState.done, TaskState.done]


def test_accepting_judges_lateness_on_the_submission_not_the_review_date(session, world):
    c, cycle = world
    t, completion = submit_lecture(session, c, cycle)          # due 03-31, reported 03-11
    review = accept(session=session, completion_id=completion.id, reviewer="社区书记", reviewing_unit="C1",
                    now=at(date(2026, 6, 30)))                  # reviewed three months later
    assert states(session, t) == [TaskState.done]
    assert (review.decision, review.reviewing_unit_id, review.reviewer) == (ReviewDecision.accepted, "C1", "社区书记")

    q2 = task(session, cycle, REVIEWED, "B1", date(2026, 4, 1))  # due 06-30; recorded 08-20 > 10 days grace
    late = close_tasks(session=session, task_ids=[q2.id], report=report(date(2026, 6, 20), c.big_members),
                       now=at(date(2026, 8, 20)))
    accept(session=session, completion_id=late.id, reviewer="社区书记", reviewing_unit="C1",
           now=at(date(2026, 8, 21)))
    assert states(session, q2) == [TaskState.late]


def test_returning_needs_a_reason_and_changes_nothing_without_one(session, world):
    c, cycle = world
    t, completion = submit_lecture(session, c, cycle)
    before = counts(session)
    with pytest.raises(ValidationFailed) as error:
        return_completion(session=session, completion_id=completion.id, reason="  ", reviewer="社区书记",
                          reviewing_unit="C1")
    assert "须填写退回原因" in str(error.value) and f"#{completion.id}" in str(error.value)
    assert error.value.field == "reason"
    assert counts(session) == before
    assert states(session, t) == [TaskState.submitted]


def test_returned_then_resubmitted_as_a_new_version_then_accepted(session, world):
    c, cycle = world
    t, first = submit_lecture(session, c, cycle)
    returned = return_completion(session=session, completion_id=first.id, reason="缺少讲课人和讲稿",
                                 reviewer="社区书记", reviewing_unit="C1", now=at(date(2026, 3, 12)))
    assert (returned.decision, returned.reason) == (ReviewDecision.returned, "缺少讲课人和讲稿")
    assert states(session, t) == [TaskState.returned] and t.done_on is None
    listed = pending_reviews(session=session, cycle_code="2026", unit_id="C1", state=TaskState.returned)
    assert [(r.completion_id, r.last_reason) for r in listed] == [(first.id, "缺少讲课人和讲稿")]

    second = correct_completion(session=session, completion_id=first.id,
                                report=report(date(2026, 3, 10), c.big_members, topic="党课：讲课人王书记"),
                                acting_branch="B1", now=at(date(2026, 3, 13)))
    assert (second.chain_id, second.version) == (first.id, 2)
    assert states(session, t) == [TaskState.submitted]

    with pytest.raises(Conflict) as error:
        accept(session=session, completion_id=first.id, reviewer="社区书记", reviewing_unit="C1")
    assert f"已被 #{second.id}（第2版）更正" in str(error.value)

    accept(session=session, completion_id=second.id, reviewer="社区书记", reviewing_unit="C1",
           now=at(date(2026, 3, 14)))
    assert states(session, t) == [TaskState.done]
    assert [r.decision for r in history(session=session, completion_id=second.id)] == [
        ReviewDecision.returned, ReviewDecision.accepted]
    assert session.get(Completion, first.id).topic == "学习党章"     # the old version stays


@pytest.mark.parametrize("unit, named", [("B1", "东关社区党支部（B1）"), ("C2", "西湖社区（C2）")])
def test_only_a_unit_above_the_branch_may_review(session, world, unit, named):
    c, cycle = world
    t, completion = submit_lecture(session, c, cycle)
    before = counts(session)
    with pytest.raises(Forbidden) as error:
        accept(session=session, completion_id=completion.id, reviewer="某人", reviewing_unit=unit)
    message = str(error.value)
    assert named in message and "不是 东关社区党支部（B1）的上级组织" in message and f"#{completion.id}" in message
    assert counts(session) == before
    assert states(session, t) == [TaskState.submitted]


def test_reviewing_an_unknown_completion_or_from_an_unknown_unit_is_not_found(session, world):
    c, cycle = world
    _, completion = submit_lecture(session, c, cycle)
    with pytest.raises(NotFound, match="#987654 不存在"):
        accept(session=session, completion_id=987654, reviewer="社区书记", reviewing_unit="C1")
    with pytest.raises(NotFound, match="审核单位 NOPE 不存在"):
        accept(session=session, completion_id=completion.id, reviewer="社区书记", reviewing_unit="NOPE")


def test_accepting_twice_or_reviewing_a_duty_without_review_is_a_conflict(session, world):
    c, cycle = world
    _, completion = submit_lecture(session, c, cycle)
    accept(session=session, completion_id=completion.id, reviewer="社区书记", reviewing_unit="C1")
    before = counts(session)
    with pytest.raises(Conflict, match="不在待审核状态"):
        accept(session=session, completion_id=completion.id, reviewer="社区书记", reviewing_unit="C1")
    day = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    plain = close_tasks(session=session, task_ids=[day.id], report=report(date(2026, 3, 10), c.big_members),
                        now=at(date(2026, 3, 11)))
    before = counts(session)
    with pytest.raises(Conflict, match="无需上级审核"):
        return_completion(session=session, completion_id=plain.id, reason="x", reviewer="社区书记",
                          reviewing_unit="C1")
    assert counts(session) == before


def test_a_submitted_or_returned_task_cannot_be_reported_anew(session, world):
    c, cycle = world
    t, completion = submit_lecture(session, c, cycle)
    with pytest.raises(Conflict, match="待审核"):
        close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 12), c.big_members),
                    now=at(date(2026, 3, 13)))
    return_completion(session=session, completion_id=completion.id, reason="照片不清", reviewer="社区书记",
                      reviewing_unit="C1")
    with pytest.raises(Conflict, match="tasks resubmit"):
        close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 12), c.big_members),
                    now=at(date(2026, 3, 13)))


def test_correcting_an_accepted_review_report_needs_review_again(session, world):
    c, cycle = world
    t, completion = submit_lecture(session, c, cycle)
    accept(session=session, completion_id=completion.id, reviewer="社区书记", reviewing_unit="C1")
    corrected = correct_completion(session=session, completion_id=completion.id,
                                   report=report(date(2026, 3, 9), c.big_members), now=at(date(2026, 3, 20)))
    assert states(session, t) == [TaskState.submitted]
    assert [r.completion_id for r in pending_reviews(session=session, cycle_code="2026", unit_id="S")] == [
        corrected.id]


def test_every_review_is_a_row_of_its_own_and_audited(session, world):
    c, cycle = world
    t, first = submit_lecture(session, c, cycle)
    return_completion(session=session, completion_id=first.id, reason="补充签到表", reviewer="社区书记",
                      reviewing_unit="C1")
    second = correct_completion(session=session, completion_id=first.id,
                                report=report(date(2026, 3, 10), c.big_members), now=at(date(2026, 3, 12)))
    accept(session=session, completion_id=second.id, reviewer="街道组织委员", reviewing_unit="S")
    rows = session.execute(select(Review).order_by(Review.id)).scalars().all()
    assert [(r.completion_id, r.decision, r.reviewing_unit_id) for r in rows] == [
        (first.id, ReviewDecision.returned, "C1"), (second.id, ReviewDecision.accepted, "S")]
    audited = session.execute(select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.actor)
                              .where(AuditEvent.action.like("%review%") | AuditEvent.action.like("completion.%ed"))
                              .order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in audited] == [
        ("task.review_returned", str(t.id), "社区书记"), ("completion.returned", str(first.id), "社区书记"),
        ("task.review_accepted", str(t.id), "街道组织委员"), ("completion.accepted", str(second.id), "街道组织委员"),
    ]


def test_pending_list_shows_only_branches_below_the_unit(session, world):
    c, cycle = world
    _, mine = submit_lecture(session, c, cycle)
    other = task(session, cycle, REVIEWED, "B2", date(2026, 1, 1))
    theirs = close_tasks(session=session, task_ids=[other.id], report=report(date(2026, 3, 10), c.small_members),
                         now=at(date(2026, 3, 11)))
    assert [r.completion_id for r in pending_reviews(session=session, cycle_code="2026", unit_id="C1")] == [mine.id]
    assert [r.completion_id for r in pending_reviews(session=session, cycle_code="2026", unit_id="C2")] == [theirs.id]
    row = pending_reviews(session=session, cycle_code="2026", unit_id="S")
    assert {r.completion_id for r in row} == {mine.id, theirs.id}
    assert row[0].tasks[0][1] == REVIEWED
    assert pending_reviews(session=session, cycle_code="2026", unit_id="B1") == []


def bulk_world(session, c, cycle, files_dir, tmp_path):
    """Three submitted reports of B1 (Q1, Q2 党课; 组织生活会 with its evidence file)."""
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"\xff\xd8\xffphoto")
    q1 = task(session, cycle, REVIEWED, "B1", date(2026, 1, 1))
    q2 = task(session, cycle, REVIEWED, "B1", date(2026, 4, 1))
    life = task(session, cycle, EVIDENCED, "B1", date(2026, 1, 1))
    made = [
        close_tasks(session=session, task_ids=[q1.id], report=report(date(2026, 3, 10), c.big_members),
                    now=at(date(2026, 3, 11))),
        close_tasks(session=session, task_ids=[q2.id], report=report(date(2026, 5, 10), c.big_members),
                    now=at(date(2026, 5, 11))),
        close_tasks(session=session, task_ids=[life.id],
                    report=report(date(2026, 11, 10), c.big_members, evidence=[photo]), now=at(date(2026, 11, 11))),
    ]
    return [q1, q2, life], made


def test_accept_many_accepts_every_report_in_one_go_audited_item_by_item(session, world, files_dir, tmp_path):
    c, cycle = world
    tasks, made = bulk_world(session, c, cycle, files_dir, tmp_path)
    result = accept_many(session=session, completion_ids=[m.id for m in made], reviewer="街道组织委员",
                         reviewing_unit="S", now=at(date(2026, 11, 20)))
    assert [r.completion_id for r in result.reviews] == [m.id for m in made] and result.failures == []
    assert states(session, *tasks) == [TaskState.done] * 3
    accepted = session.execute(select(AuditEvent.entity_id).where(AuditEvent.action == "completion.accepted")
                               .order_by(AuditEvent.id)).scalars().all()
    assert accepted == [str(m.id) for m in made]


def test_accept_many_is_all_or_nothing_and_lists_every_failing_completion(session, world, files_dir, tmp_path):
    c, cycle = world
    tasks, made = bulk_world(session, c, cycle, files_dir, tmp_path)
    accept(session=session, completion_id=made[1].id, reviewer="社区书记", reviewing_unit="C1")
    before = counts(session)
    with pytest.raises(ValidationFailed) as error:     # a Conflict and a NotFound: mixed kinds
        accept_many(session=session, completion_ids=[made[0].id, made[1].id, 999_999, made[2].id],
                    reviewer="街道组织委员", reviewing_unit="S")
    message = str(error.value)
    assert "共 4 项，其中 2 项未通过，全部未写入" in message
    assert f"报送记录 #{made[1].id}：报送记录 #{made[1].id} 不在待审核状态" in message
    assert "报送记录 #999999：报送记录 #999999 不存在" in message
    assert f"#{made[0].id}：" not in message
    assert counts(session) == before
    assert states(session, tasks[0], tasks[2]) == [TaskState.submitted, TaskState.submitted]


def test_accept_many_with_one_kind_of_failure_raises_that_kind(session, world, files_dir, tmp_path):
    c, cycle = world
    _, made = bulk_world(session, c, cycle, files_dir, tmp_path)
    with pytest.raises(Forbidden) as error:
        accept_many(session=session, completion_ids=[m.id for m in made], reviewer="西湖社区书记",
                    reviewing_unit="C2")
    assert str(error.value).count("无权审核") == 3


def test_accept_many_can_accept_the_valid_ones_and_report_the_rest(session, world, files_dir, tmp_path):
    c, cycle = world
    tasks, made = bulk_world(session, c, cycle, files_dir, tmp_path)
    result = accept_many(session=session, completion_ids=[made[0].id, 424242, made[2].id],
                         reviewer="街道组织委员", reviewing_unit="S", all_or_nothing=False)
    assert [r.completion_id for r in result.reviews] == [made[0].id, made[2].id]
    assert [f.ref for f in result.failures] == ["报送记录 #424242"]
    assert states(session, *tasks) == [TaskState.done, TaskState.submitted, TaskState.done]


def test_return_many_returns_every_report_with_one_reason_or_none_at_all(session, world, files_dir, tmp_path):
    from dangjian.services.review import return_many

    c, cycle = world
    tasks, made = bulk_world(session, c, cycle, files_dir, tmp_path)
    accept(session=session, completion_id=made[2].id, reviewer="社区书记", reviewing_unit="C1")
    before = counts(session)
    with pytest.raises(Conflict) as error:
        return_many(session=session, completion_ids=[m.id for m in made], reason="签到表不全",
                    reviewer="社区书记", reviewing_unit="C1")
    assert f"报送记录 #{made[2].id}：" in str(error.value) and "共 3 项，其中 1 项未通过" in str(error.value)
    assert counts(session) == before
    result = return_many(session=session, completion_ids=[made[0].id, made[1].id], reason="签到表不全",
                         reviewer="社区书记", reviewing_unit="C1")
    assert [r.reason for r in result.reviews] == ["签到表不全", "签到表不全"]
    assert states(session, *tasks) == [TaskState.returned, TaskState.returned, TaskState.done]
