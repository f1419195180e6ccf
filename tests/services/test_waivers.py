"""Waivers: excused / not applicable, approved from above, until a date; expiry by the sweep."""
from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.errors import Conflict, Forbidden, NotFound, ValidationFailed
from dangjian.services.closing import close_tasks
from dangjian.services.sweep import sweep_overdue
from dangjian.services.waivers import active_waivers, expire_waivers, waive
from models import AuditEvent, Task, TaskState, Waiver, WaiverEnd, WaiverKind
from tests.services.test_review import report, states, task
from tests.support.builders import at, county, planned_cycle


def counts(session):
    return tuple(session.execute(select(func.count()).select_from(t)).scalar_one() for t in (Waiver, AuditEvent))


def task_states(session, cycle):
    return dict(session.execute(select(Task.id, Task.state).where(Task.cycle_id == cycle.id)).all())


@pytest.fixture
def world(session):
    c = county(session)
    return c, planned_cycle(session, c)


def excuse(session, t, until, *, kind=WaiverKind.excused, unit="S", day=date(2026, 3, 1)):
    return waive(session=session, task_id=t.id, kind=kind, reason="书记住院，支部活动暂停", until=until,
                 approver="街道组织委员", approving_unit=unit, now=at(day))


def test_a_unit_above_excuses_an_open_task_until_a_date_and_it_is_audited(session, world):
    _c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    waiver = excuse(session, t, date(2026, 4, 30))
    assert states(session, t) == [TaskState.excused]
    assert (waiver.kind, waiver.approving_unit_id, waiver.expires_on, waiver.ended_at) == (
        WaiverKind.excused, "S", date(2026, 4, 30), None)
    assert active_waivers(session=session, task_ids=[t.id])[t.id].id == waiver.id
    actions = session.execute(select(AuditEvent.action).where(
        AuditEvent.action.in_(["task.waive", "waiver.grant"]))).scalars().all()
    assert actions == ["task.waive", "waiver.grant"]


def test_a_task_can_be_marked_not_applicable(session, world):
    c, cycle = world
    t = task(session, cycle, "committee_meeting", "B1", date(2026, 3, 1))
    excuse(session, t, date(2026, 12, 31), kind="not_applicable", unit="C1")
    assert states(session, t) == [TaskState.not_applicable]
    with pytest.raises(Conflict, match=f"任务 #{t.id} 已标为不适用，无需报送"):
        close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members[:5]),
                    now=at(date(2026, 3, 11)))


@pytest.mark.parametrize("unit", ["B1", "C2"])
def test_only_a_unit_above_the_branch_may_approve_a_waiver(session, world, unit):
    _c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    before = counts(session), task_states(session, cycle)
    with pytest.raises(Forbidden) as error:
        excuse(session, t, date(2026, 4, 30), unit=unit)
    assert "不是 东关社区党支部（B1）的上级组织" in str(error.value) and f"任务 #{t.id}" in str(error.value)
    assert (counts(session), task_states(session, cycle)) == before


def test_a_waiver_needs_a_reason_an_approver_and_an_expiry_not_in_the_past(session, world):
    _c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    before = counts(session), task_states(session, cycle)
    with pytest.raises(ValidationFailed) as error:
        waive(session=session, task_id=t.id, kind="excused", reason=" ", until=date(2026, 2, 1),
              approver="", approving_unit="S", now=at(date(2026, 3, 1)))
    message = str(error.value)
    assert f"任务 #{t.id}" in message and "须填写理由" in message and "须填写批准人" in message
    assert "有效期至 2026-02-01 早于今天（2026-03-01" in message
    with pytest.raises(ValidationFailed, match="未知的豁免类型：holiday"):
        waive(session=session, task_id=t.id, kind="holiday", reason="x", until=date(2026, 4, 1),
              approver="a", approving_unit="S", now=at(date(2026, 3, 1)))
    with pytest.raises(NotFound, match="任务 #555555 不存在"):
        waive(session=session, task_id=555_555, kind="excused", reason="x", until=date(2026, 4, 1),
              approver="a", approving_unit="S")
    with pytest.raises(NotFound, match="批准单位 NOPE 不存在"):
        waive(session=session, task_id=t.id, kind="excused", reason="x", until=date(2026, 4, 1),
              approver="a", approving_unit="NOPE")
    assert (counts(session), task_states(session, cycle)) == before


def test_a_done_or_already_waived_task_cannot_be_waived(session, world):
    c, cycle = world
    done = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    close_tasks(session=session, task_ids=[done.id], report=report(date(2026, 3, 10), c.big_members),
                now=at(date(2026, 3, 11)))
    with pytest.raises(Conflict, match=f"任务 #{done.id} 当前为“按期完成”"):
        excuse(session, done, date(2026, 4, 30), day=date(2026, 3, 12))
    other = task(session, cycle, "theme_party_day", "B1", date(2026, 4, 1))
    excuse(session, other, date(2026, 4, 30))
    before = counts(session)
    with pytest.raises(Conflict, match="当前为“已豁免”（至 2026-04-30）"):
        excuse(session, other, date(2026, 5, 31))
    assert counts(session) == before


def test_expiry_returns_tasks_to_overdue_or_open_by_due_date(session, world):
    _c, cycle = world
    past_due = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))      # due 03-31
    not_due = task(session, cycle, "party_lecture", "B1", date(2026, 4, 1))         # due 06-30
    still = task(session, cycle, "theme_party_day", "B2", date(2026, 3, 1))
    excuse(session, past_due, date(2026, 4, 10))
    excuse(session, not_due, date(2026, 4, 10), kind=WaiverKind.not_applicable)
    excuse(session, still, date(2026, 4, 11))
    assert expire_waivers(session=session, as_of=date(2026, 4, 10)).expired == 0     # the last day still holds
    report_ = expire_waivers(session=session, as_of=date(2026, 4, 11), actor="每日督办")
    assert (report_.expired, report_.task_ids) == (2, sorted([past_due.id, not_due.id]))
    assert states(session, past_due, not_due, still) == [TaskState.overdue, TaskState.open, TaskState.excused]
    ended = session.execute(select(Waiver.end_reason).where(Waiver.task_id.in_([past_due.id, not_due.id]))
                            ).scalars().all()
    assert ended == [WaiverEnd.expired, WaiverEnd.expired]
    audited = session.execute(select(AuditEvent.entity_id).where(AuditEvent.action == "task.waiver_expired",
                                                                 AuditEvent.actor == "每日督办")).scalars().all()
    assert sorted(audited) == sorted([str(past_due.id), str(not_due.id)])
    assert expire_waivers(session=session, as_of=date(2026, 4, 11)).expired == 0       # idempotent


def test_the_daily_sweep_expires_waivers(session, world):
    _c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    excuse(session, t, date(2026, 4, 10))
    result = sweep_overdue(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 15))
    assert result.waivers_expired == 1
    assert states(session, t) == [TaskState.overdue]


def test_reporting_a_waived_task_after_all_closes_it_and_ends_the_waiver(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    excuse(session, t, date(2026, 4, 30))
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 20), c.big_members),
                now=at(date(2026, 3, 21)))
    assert states(session, t) == [TaskState.done]
    waiver = session.execute(select(Waiver).where(Waiver.task_id == t.id)).scalar_one()
    assert waiver.end_reason == WaiverEnd.reported and waiver.ended_at is not None
    assert expire_waivers(session=session, as_of=date(2026, 5, 1)).expired == 0
    assert states(session, t) == [TaskState.done]


def test_scoring_counts_a_task_as_excused_only_while_its_waiver_holds(session, world):
    from dangjian.services.scoring import score_cycle
    from models import Scorecard

    _c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))          # due 03-31
    excuse(session, t, date(2026, 4, 30))

    def metrics(as_of):
        run = score_cycle(session=session, cycle_id=cycle.id, as_of=as_of)
        return session.execute(select(Scorecard.metrics).where(Scorecard.run_id == run.id,
                                                               Scorecard.unit_id == "B1")).scalar_one()

    held = metrics(date(2026, 4, 15))
    assert held["theme_party_day.excused"] == 1
    assert held["theme_party_day.missed"] == 2            # Jan, Feb; March is excused, April not yet due
    lapsed = metrics(date(2026, 5, 2))                    # waiver over, sweep not yet run
    assert lapsed["theme_party_day.excused"] == 0
    assert lapsed["theme_party_day.missed"] == 4          # Jan–Apr
