from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.errors import Conflict
from dangjian.services.cycle_end import close_cycle
from models import Cycle, CycleState, ScoreRun, Task, TaskState
from tests.support.builders import county, planned_cycle


def test_closing_an_ended_cycle_marks_what_is_left_missed_and_scores_it(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    report = close_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 5))
    total = session.execute(select(func.count()).select_from(Task).where(Task.cycle_id == cycle.id)).scalar_one()
    assert report.missed == total
    assert session.get(Cycle, cycle.id).state == CycleState.closed
    run = session.execute(select(ScoreRun).where(ScoreRun.cycle_id == cycle.id)).scalar_one()
    assert (run.version, run.published) == (report.score_version, False)
    assert not session.execute(select(Task).where(Task.state == TaskState.overdue)).first()


def test_a_cycle_cannot_be_closed_before_its_end(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    with pytest.raises(Conflict) as error:
        close_cycle(session=session, cycle_id=cycle.id, as_of=date(2026, 12, 31))
    assert "2026-12-31 才结束" in str(error.value)
    assert session.get(Cycle, cycle.id).state == CycleState.open


def test_ending_an_ended_cycle_again_changes_nothing_and_reports_the_end(session):
    c = county(session)
    cycle = planned_cycle(session, c)
    first = close_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 5))
    again = close_cycle(session=session, cycle_id=cycle.id, as_of=date(2027, 1, 6))
    assert (again.missed, again.score_version, again.already_closed) == (first.missed, first.score_version, True)
    assert session.execute(select(func.count()).select_from(ScoreRun)
                           .where(ScoreRun.cycle_id == cycle.id)).scalar_one() == 1
