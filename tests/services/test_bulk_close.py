"""One event, several duties, each counted once; and closing many events in one go."""
from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services.closing import BulkItem, close_many, close_tasks, correct_completion
from models import (
    Attendance,
    AuditEvent,
    Completion,
    CompletionTask,
    Evidence,
    Scorecard,
    Task,
    TaskState,
)
from tests.services.test_review import EVIDENCED, REVIEWED, report, review_cycle, states, task
from tests.support.builders import at, county, planned_cycle


def counts(session):
    return tuple(session.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (Completion, CompletionTask, Attendance, Evidence, AuditEvent))


def task_states(session, cycle):
    return dict(session.execute(select(Task.id, Task.state).where(Task.cycle_id == cycle.id)).all())


@pytest.fixture
def world(session):
    c = county(session)
    return c, planned_cycle(session, c)


@pytest.fixture
def reviewed(session, tmp_path):
    c = county(session)
    return c, review_cycle(session, c, tmp_path)


# --- one event, several duties -------------------------------------------------------------


def test_one_event_may_not_close_two_periods_of_the_same_duty(session, world):
    c, cycle = world
    march = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    april = task(session, cycle, "theme_party_day", "B1", date(2026, 4, 1))
    lecture = task(session, cycle, "party_lecture", "B1", date(2026, 1, 1))
    before = counts(session), task_states(session, cycle)
    with pytest.raises(ValidationFailed) as error:
        close_tasks(session=session, task_ids=[march.id, lecture.id, april.id],
                    report=report(date(2026, 3, 31), c.big_members), now=at(date(2026, 4, 2)))
    message = str(error.value)
    assert "不能同时办结同一职责的多个任务" in message
    assert f"主题党日：#{march.id}（{march.period_label}）、#{april.id}（{april.period_label}）" in message
    assert error.value.field == "task"
    assert (counts(session), task_states(session, cycle)) == before


def test_scoring_counts_an_event_that_closed_several_duties_once_in_each_indicator(session, world):
    from dangjian.services.scoring import score_cycle

    c, cycle = world
    monthly = task(session, cycle, "monthly_member_meeting", "B1", date(2026, 3, 1))
    congress = task(session, cycle, "party_congress", "B1", date(2026, 1, 1))
    first = close_tasks(session=session, task_ids=[monthly.id, congress.id],
                        report=report(date(2026, 3, 20), c.big_members), now=at(date(2026, 3, 21)))
    # A correction is a second version of the same event, never a second event.
    correct_completion(session=session, completion_id=first.id,
                       report=report(date(2026, 3, 19), c.big_members), now=at(date(2026, 3, 22)))
    run = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 1))
    metrics = session.execute(select(Scorecard.metrics).where(Scorecard.run_id == run.id,
                                                              Scorecard.unit_id == "B1")).scalar_one()
    assert metrics["party_congress.on_time"] == 1
    assert metrics["monthly_member_meeting.on_time"] == 1
    for duty in ("party_congress", "monthly_member_meeting", "theme_party_day"):
        parts = sum(metrics[f"{duty}.{b}"] for b in ("on_time", "late", "missed", "pending", "excused"))
        assert parts == metrics[f"{duty}.owed"]
    owed = session.execute(select(func.count()).select_from(Task).where(
        Task.owner_unit_id == "B1", Task.duty_code == "party_congress", Task.cycle_id == cycle.id)).scalar_one()
    assert metrics["party_congress.owed"] == owed


# --- close_many ------------------------------------------------------------------------------


def test_close_many_closes_every_item_in_one_transaction_and_audits_each_task(session, world, files_dir):
    c, cycle = world
    t1 = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    t2 = task(session, cycle, "theme_party_day", "B2", date(2026, 3, 1))
    t3 = task(session, cycle, "monthly_member_meeting", "B1", date(2026, 3, 1))
    t4 = task(session, cycle, "party_congress", "B1", date(2026, 1, 1))
    before = counts(session)
    result = close_many(session=session, items=[
        BulkItem([t1.id], report(date(2026, 3, 10), c.big_members), "第2行"),
        BulkItem([t2.id], report(date(2026, 3, 11), c.small_members), "第3行"),
        BulkItem([t3.id, t4.id], report(date(2026, 3, 20), c.big_members), "第4行"),
    ], now=at(date(2026, 3, 25)), actor="街道批量录入")
    assert len(result.completions) == 3 and result.failures == []
    assert all(c_.chain_id == c_.id and c_.version == 1 for c_ in result.completions)
    assert states(session, t1, t2, t3, t4) == [TaskState.done] * 4
    links = session.execute(select(CompletionTask.completion_id, CompletionTask.task_id)
                            .where(CompletionTask.completion_id.in_([x.id for x in result.completions]))).all()
    assert sorted(tuple(r) for r in links) == sorted([
        (result.completions[0].id, t1.id), (result.completions[1].id, t2.id),
        (result.completions[2].id, t3.id), (result.completions[2].id, t4.id)])
    after = counts(session)
    assert after[0] - before[0] == 3 and after[1] - before[1] == 4
    assert after[2] - before[2] == len(c.big_members) * 2 + len(c.small_members)
    audited = session.execute(select(AuditEvent.entity_id).where(AuditEvent.action == "task.close",
                                                                 AuditEvent.actor == "街道批量录入")).scalars().all()
    assert sorted(audited) == sorted(str(t.id) for t in (t1, t2, t3, t4))


def test_one_failing_item_writes_nothing_and_every_failing_item_is_listed(session, reviewed, files_dir, tmp_path):
    c, cycle = reviewed
    good = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    life = task(session, cycle, EVIDENCED, "B1", date(2026, 1, 1))        # needs one evidence file
    closed = task(session, cycle, "theme_party_day", "B1", date(2026, 2, 1))
    close_tasks(session=session, task_ids=[closed.id], report=report(date(2026, 2, 10), c.big_members),
                now=at(date(2026, 2, 11)))
    before = counts(session), task_states(session, cycle)
    with pytest.raises(ValidationFailed) as error:
        close_many(session=session, items=[
            BulkItem([good.id], report(date(2026, 3, 10), c.big_members), "第2行"),
            BulkItem([life.id], report(date(2026, 11, 10), c.big_members), "第3行"),
            BulkItem([closed.id], report(date(2026, 2, 12), c.big_members), "第4行"),
            BulkItem([777_777], report(date(2026, 3, 10), c.big_members), "第5行"),
            BulkItem([good.id], report(date(2026, 3, 12), c.big_members), "第6行"),
        ], now=at(date(2026, 11, 20)))
    message = str(error.value)
    assert "共 5 项，其中 4 项未通过，全部未写入" in message
    assert f"第3行（任务 #{life.id}）：报送未通过校验（东关社区党支部）：组织生活会须上传至少 1 份佐证材料" in message
    assert f"第4行（任务 #{closed.id}）：任务 #{closed.id}（2026-02-10 已办结） 不能重复报送" in message
    assert "第5行（任务 #777777）：任务 #777777 不存在" in message
    assert f"第6行（任务 #{good.id}）：任务 #{good.id}（已在第2行报送）在本批中重复出现" in message
    assert "第2行" not in message.split("第6行")[0]
    assert (counts(session), task_states(session, cycle)) == before


def test_a_single_kind_of_failure_keeps_its_error_class(session, world):
    c, _cycle = world
    with pytest.raises(NotFound) as error:
        close_many(session=session, items=[BulkItem([888_001], report(date(2026, 3, 10), c.big_members)),
                                           BulkItem([888_002], report(date(2026, 3, 10), c.big_members))])
    assert "第1项（任务 #888001）" in str(error.value) and "第2项（任务 #888002）" in str(error.value)


def test_close_many_refuses_an_empty_batch_and_another_branchs_rows(session, world):
    c, cycle = world
    with pytest.raises(ValidationFailed, match="至少一项"):
        close_many(session=session, items=[])
    theirs = task(session, cycle, "theme_party_day", "B2", date(2026, 3, 1))
    before = counts(session)
    with pytest.raises(Exception) as error:
        close_many(session=session, items=[BulkItem([theirs.id], report(date(2026, 3, 10), c.small_members))],
                   acting_branch="B1", now=at(date(2026, 3, 11)))
    assert type(error.value).__name__ == "Forbidden" and "无权办理" in str(error.value)
    assert counts(session) == before


def test_close_many_can_write_the_valid_items_and_return_the_failures(session, world):
    c, cycle = world
    good = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    future = task(session, cycle, "theme_party_day", "B1", date(2026, 12, 1))
    result = close_many(session=session, items=[
        BulkItem([good.id], report(date(2026, 3, 10), c.big_members), "第2行"),
        BulkItem([future.id], report(date(2026, 12, 10), c.big_members), "第3行"),
    ], now=at(date(2026, 3, 11)), all_or_nothing=False)
    assert len(result.completions) == 1
    assert [f.ref for f in result.failures] == [f"第3行（任务 #{future.id}）"]
    assert isinstance(result.failures[0].error, ValidationFailed) and "晚于今天" in result.failures[0].line()
    assert states(session, good, future) == [TaskState.done, TaskState.open]


def test_bulk_rows_of_a_review_duty_are_submitted_and_need_their_evidence(session, reviewed, files_dir, tmp_path):
    c, cycle = reviewed
    photo = tmp_path / "组织生活会.jpg"
    photo.write_bytes(b"\xff\xd8\xfflife")
    lecture = task(session, cycle, REVIEWED, "B1", date(2026, 1, 1))
    life = task(session, cycle, EVIDENCED, "B1", date(2026, 1, 1))
    result = close_many(session=session, items=[
        BulkItem([lecture.id], report(date(2026, 3, 10), c.big_members)),
        BulkItem([life.id], report(date(2026, 11, 10), c.big_members, evidence=[photo])),
    ], now=at(date(2026, 11, 20)))
    assert states(session, lecture, life) == [TaskState.submitted, TaskState.submitted]
    ev = session.execute(select(Evidence).where(Evidence.completion_id == result.completions[1].id)).scalar_one()
    assert (files_dir / ev.stored_name).read_bytes() == photo.read_bytes()


def test_a_conflict_in_a_bulk_batch_is_reported_as_a_conflict(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                now=at(date(2026, 3, 11)))
    with pytest.raises(Conflict):
        close_many(session=session, items=[BulkItem([t.id], report(date(2026, 3, 10), c.big_members))],
                   now=at(date(2026, 3, 12)))
