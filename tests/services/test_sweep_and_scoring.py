from datetime import date

from sqlalchemy import select

from dangjian.domain.completion import AttendanceEntry
from dangjian.services.closing import Report, close_tasks
from dangjian.services.scorecards import scorecard_document
from dangjian.services.scoring import score_cycle
from dangjian.services.sweep import sweep_overdue
from models import Presence, Scorecard, ScoreLine, Task, TaskState
from tests.support.builders import at, county, planned_cycle, present_for


def close_all(session, cycle, owner, members, *, skip=()):
    """Close every task of `owner` on time except the duties in `skip`."""
    tasks = session.execute(select(Task).where(Task.cycle_id == cycle.id, Task.owner_unit_id == owner)
                            .order_by(Task.id)).scalars().all()
    for t in tasks:
        if t.duty_code in skip:
            continue
        close_tasks(session=session, task_ids=[t.id],
                    report=Report(t.period_end, "主题", "记录", present_for(t, members)),
                    now=at(t.period_end))


def test_sweep_marks_only_open_tasks_due_before_the_date(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    first = sweep_overdue(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 1))
    overdue = session.execute(select(Task).where(Task.state == TaskState.overdue)).scalars().all()
    assert first.marked_overdue == len(overdue) > 0
    assert all(t.due_on < date(2026, 4, 1) for t in overdue)
    assert sweep_overdue(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 1)).marked_overdue == 0


def test_a_branch_that_did_everything_scores_full_marks_and_ranks_first(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    close_all(session, cycle, "B1", c.big_members)
    close_all(session, cycle, "B2", c.small_members, skip={"party_congress", "party_lecture"})
    run = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4))
    cards = {s.unit_id: s for s in session.execute(
        select(Scorecard).where(Scorecard.run_id == run.id)).scalars()}
    assert cards["B1"].total == 100 and cards["B1"].grade == "优秀"
    assert cards["B1"].rank_in_street == 1 and cards["B2"].rank_in_street == 2
    assert cards["B2"].total < 100


def test_every_lost_point_names_the_tasks_behind_it(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    close_all(session, cycle, "B2", c.small_members, skip={"party_congress"})
    run = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4))
    card = session.execute(select(Scorecard).where(Scorecard.run_id == run.id,
                                                   Scorecard.unit_id == "B2")).scalar_one()
    lines = session.execute(select(ScoreLine).where(ScoreLine.scorecard_id == card.id)).scalars().all()
    congress = [ln for ln in lines if "party_congress" in ln.item_code]
    missed = session.execute(select(Task.id).where(Task.owner_unit_id == "B2",
                                                   Task.duty_code == "party_congress")).scalars().all()
    assert congress and set(missed) <= set(congress[0].task_ids)
    assert congress[0].points < congress[0].max_points
    assert "yaml" in congress[0].clause
    assert abs(sum(ln.points for ln in lines if ln.max_points is not None) - card.total) < 1e-6


def test_scoring_again_adds_a_version_and_keeps_the_first(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    first = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 6, 30))
    second = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 4))
    assert (first.version, second.version) == (1, 2)
    doc1 = scorecard_document(session=session, cycle_code="2026", version=1)
    doc2 = scorecard_document(session=session, cycle_code="2026", explain=True)
    assert doc1["run"]["version"] == 1 and doc2["run"]["version"] == 2
    assert doc2["units"][0]["lines"]


def test_tasks_not_yet_due_are_neither_lost_nor_gained_in_a_preview(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    run = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 1, 15))
    card = session.execute(select(Scorecard).where(Scorecard.run_id == run.id,
                                                   Scorecard.unit_id == "B1")).scalar_one()
    assert card.metrics["theme_party_day.pending"] == 12
    assert card.metrics["theme_party_day.missed"] == 0


def test_scoring_as_of_an_earlier_date_ignores_work_held_after_it(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    t = session.execute(select(Task).where(Task.owner_unit_id == "B2", Task.duty_code == "party_congress")
                        .order_by(Task.period_start)).scalars().first()
    close_tasks(session=session, task_ids=[t.id],
                report=Report(date(2026, 3, 20), "主题", "记录",
                              [AttendanceEntry(m.id, Presence.present) for m in c.small_members]),
                now=at(date(2026, 3, 21)))
    early = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 3, 1))
    late = score_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 15))
    metrics = {run.version: session.execute(select(Scorecard.metrics).where(
        Scorecard.run_id == run.id, Scorecard.unit_id == "B2")).scalar_one() for run in (early, late)}
    assert metrics[1]["party_congress.on_time"] == 0 and metrics[1]["party_congress.pending"] == 4
    assert metrics[2]["party_congress.on_time"] == 1
