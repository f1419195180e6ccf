"""Invariants that live in the database, proven with concurrent writers on committed data:
exactly one report per task, one correction per version, an audit chain that never forks."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from dangjian.db import make_engine
from dangjian.errors import Conflict
from dangjian.schema import upgrade_to_head
from dangjian.services import audit
from dangjian.services.closing import Report, close_tasks, correct_completion
from models import AuditEvent, Completion, CompletionTask, Task, TaskState
from tests.support.builders import at, county, planned_cycle, present_for
from tests.support.db import drop_postgres_schema, new_postgres_schema, postgres_url

BACKENDS = ["sqlite"] + (["postgresql"] if postgres_url() else [])


@pytest.fixture
def world(committed: Engine):  # type: ignore[no-untyped-def]
    with Session(committed, expire_on_commit=False) as session:
        c = county(session)
        cycle = planned_cycle(session, c)
        members = {"B1": c.big_members, "B2": c.small_members}
        open_tasks = list(session.execute(
            select(Task).where(Task.cycle_id == cycle.id, Task.state == TaskState.open,
                               Task.subject_kind == "unit", Task.subject_id == Task.owner_unit_id,
                               Task.period_start <= date(2026, 11, 1), Task.period_end >= date(2026, 1, 1))
            .order_by(Task.id)).scalars())
    return committed, members, open_tasks


def report_for(task: Task, members) -> Report:  # type: ignore[no-untyped-def]
    held = max(task.period_start, date(2026, 1, 5))
    return Report(held_on=held, topic="学习党章", minutes="记录", attendance=present_for(task, members[task.owner_unit_id]))


def race(n: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in n threads released at the same moment; each result or exception."""
    gate = threading.Barrier(n)

    def one(i: int) -> object:
        gate.wait()
        try:
            return work(i)
        except Exception as error:  # noqa: BLE001 - the outcome is what is compared
            return error

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def chain_of(engine: Engine) -> audit.ChainReport:
    with Session(engine) as session:
        return audit.check_chain(session)


def test_ten_simultaneous_reports_of_one_task_store_exactly_one(world) -> None:  # type: ignore[no-untyped-def]
    engine, members, tasks = world
    target = tasks[0]

    def close(_: int) -> object:
        with Session(engine, expire_on_commit=False) as session:
            return close_tasks(session=session, task_ids=[target.id or 0], report=report_for(target, members),
                               acting_branch=target.owner_unit_id, now=at(date(2026, 11, 20)))

    outcomes = race(10, close)
    won = [o for o in outcomes if isinstance(o, Completion)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == 1 and len(lost) == 9, outcomes
    assert all("不能重复报送" in o.message or "刚刚已被" in o.message or "冲突" in o.message for o in lost)
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(CompletionTask)
                               .where(CompletionTask.task_id == target.id)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "task.close", AuditEvent.entity_id == str(target.id))
                               ).scalar_one() == 1
    assert chain_of(engine).intact


def test_eight_simultaneous_corrections_of_one_report_store_exactly_one_version(world) -> None:  # type: ignore[no-untyped-def]
    engine, members, tasks = world
    target = tasks[1]
    with Session(engine, expire_on_commit=False) as session:
        first = close_tasks(session=session, task_ids=[target.id or 0], report=report_for(target, members),
                            acting_branch=target.owner_unit_id, now=at(date(2026, 11, 20)))

    def correct(i: int) -> object:
        with Session(engine, expire_on_commit=False) as session:
            fixed = report_for(target, members)
            fixed.topic = f"更正主题 {i}"
            return correct_completion(session=session, completion_id=first.id or 0, report=fixed,
                                      acting_branch=target.owner_unit_id, now=at(date(2026, 11, 21)))

    outcomes = race(8, correct)
    won = [o for o in outcomes if isinstance(o, Completion)]
    assert len(won) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o is not won[0]), outcomes
    with Session(engine) as session:
        versions = session.execute(select(Completion.version).where(Completion.chain_id == first.chain_id)
                                   .order_by(Completion.version)).scalars().all()
    assert versions == [1, 2]
    assert chain_of(engine).intact


def test_a_hundred_concurrent_writers_leave_an_unbroken_audit_chain(world) -> None:  # type: ignore[no-untyped-def]
    engine, members, tasks = world
    closers = tasks[:40]

    def write(i: int) -> object:
        with Session(engine, expire_on_commit=False) as session:
            if i < len(closers):
                t = closers[i]
                return close_tasks(session=session, task_ids=[t.id or 0], report=report_for(t, members),
                                   acting_branch=t.owner_unit_id, now=at(date(2026, 11, 20)))
            audit.record(session, actor=f"写入者{i}", action="test.write", entity="test", entity_id=i,
                         after={"i": i})
            session.commit()
            return i

    outcomes = race(100, write)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    report = chain_of(engine)
    assert report.intact, (report.broken[:10], report.gaps[:10], report.head_problem)
    with Session(engine) as session:
        written = session.execute(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "test.write")).scalar_one()
    assert written == 100 - len(closers)
    assert report.events == report.head_count


def test_two_simultaneous_score_runs_get_consecutive_versions(world) -> None:  # type: ignore[no-untyped-def]
    from dangjian.services.scoring import score_cycle
    from models import Cycle, ScoreRun

    engine, _members, _tasks = world
    with Session(engine) as session:
        cycle_id = session.execute(select(Cycle.id)).scalar_one()

    def score(_: int) -> object:
        with Session(engine, expire_on_commit=False) as session:
            return score_cycle(session=session, cycle_id=cycle_id, as_of=date(2026, 11, 30)).version

    assert sorted(race(3, score)) == [1, 2, 3]
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ScoreRun)).scalar_one() == 3
    report = chain_of(engine)
    assert report.intact and report.last_anchor is not None


def test_two_simultaneous_first_plans_add_the_tasks_once_and_audit_what_each_added(committed: Engine) -> None:
    from dangjian.services.cycles import create_cycle
    from dangjian.services.planning import plan_cycle
    from dangjian.services.rule_sets import register_rule_set
    from tests.support.builders import RULES

    with Session(committed, expire_on_commit=False) as session:
        c = county(session)
        rules = register_rule_set(session=session, path=RULES, actor="测试")
        cycle = create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id=c.district.id,
                             rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                             actor="测试")

    def plan(_: int) -> object:
        with Session(committed, expire_on_commit=False) as session:
            return plan_cycle(session=session, cycle_id=cycle.id or 0, as_of=date(2026, 1, 1))

    reports = race(2, plan)
    assert not [r for r in reports if isinstance(r, Exception)], reports
    added = sorted(r.added for r in reports)  # type: ignore[union-attr]
    with Session(committed) as session:
        total = session.execute(select(func.count()).select_from(Task)).scalar_one()
        audited = sorted(e.after["tasks_added"] for e in session.execute(
            select(AuditEvent).where(AuditEvent.action == "cycle.plan")).scalars())
    assert added == [0, total] and audited == [0, total]
    assert chain_of(committed).intact


def test_simultaneous_upgrades_of_a_new_database_run_one_after_the_other(request: pytest.FixtureRequest,
                                                                         tmp_path: Path) -> None:
    from dangjian.schema import current_revision, head_revision

    for backend in BACKENDS:
        if backend == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path / 'init.db'}")
            cleanup: Callable[[], None] = engine.dispose
        else:
            url = postgres_url()
            assert url
            engine, schema = new_postgres_schema(url, "dangjian_init")

            def cleanup(engine: Engine = engine, url: str = url, schema: str = schema) -> None:
                engine.dispose()
                drop_postgres_schema(url, schema)
        try:
            outcomes = race(4, lambda _, engine=engine: upgrade_to_head(engine))
            assert outcomes == [None] * 4, (backend, outcomes)
            assert current_revision(engine) == head_revision()
        finally:
            cleanup()


def test_two_simultaneous_ends_of_a_cycle_close_it_once_with_one_final_run(world) -> None:  # type: ignore[no-untyped-def]
    from dangjian.services.cycle_end import close_cycle
    from models import Cycle, CycleState, ScoreRun

    engine, _members, _tasks = world
    with Session(engine) as session:
        cycle_id = session.execute(select(Cycle.id)).scalar_one()

    def end(_: int) -> object:
        with Session(engine, expire_on_commit=False) as session:
            return close_cycle(session=session, cycle_id=cycle_id, as_of=date(2027, 1, 5))

    reports = race(2, end)
    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sorted(r.already_closed for r in reports) == [False, True]  # type: ignore[union-attr]
    assert len({(r.missed, r.score_version) for r in reports}) == 1  # type: ignore[union-attr]
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ScoreRun)).scalar_one() == 1
        assert session.execute(select(Cycle.state)).scalar_one() == CycleState.closed
        closes = session.execute(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "cycle.close")).scalar_one()
    assert closes == 1
    assert chain_of(engine).intact


def test_verifying_while_others_write_raises_no_false_alarm(world) -> None:  # type: ignore[no-untyped-def]
    engine, _members, _tasks = world

    def work(i: int) -> object:
        with Session(engine, expire_on_commit=False) as session:
            if i % 6 == 0:
                return audit.verify(session=session, actor=f"核验{i}").intact
            for n in range(5):
                audit.record(session, actor=f"写入者{i}", action="test.write", entity="test", entity_id=n)
            session.commit()
            return True

    outcomes = race(36, work)
    assert outcomes == [True] * 36, outcomes
    assert chain_of(engine).intact


def test_reports_racing_the_cycles_end_land_before_it_or_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    """The closed state is read in each report's own write transaction: no report is
    written into a cycle after its close, and every report the close let in is scored."""
    from dangjian.services.cycle_end import close_cycle
    from models import Cycle

    engine, members, tasks = world
    with Session(engine) as session:
        cycle_id = session.execute(select(Cycle.id)).scalar_one()
    targets = tasks[:6]

    def work(i: int) -> object:
        with Session(engine, expire_on_commit=False) as session:
            if i == len(targets):
                return close_cycle(session=session, cycle_id=cycle_id, as_of=date(2027, 1, 5))
            t = targets[i]
            return close_tasks(session=session, task_ids=[t.id or 0], report=report_for(t, members),
                               acting_branch=t.owner_unit_id, now=at(date(2026, 11, 20)))

    outcomes = race(len(targets) + 1, work)
    refused = [o for o in outcomes[:-1] if isinstance(o, Conflict)]
    assert all(isinstance(o, Completion) or "已结束" in str(o) for o in outcomes[:-1]), outcomes
    with Session(engine) as session:
        close_seq = session.execute(select(AuditEvent.seq).where(AuditEvent.action == "cycle.close")).scalar_one()
        report_seqs = session.execute(select(AuditEvent.seq)
                                      .where(AuditEvent.action == "completion.report")).scalars().all()
        states = session.execute(select(Task.state).where(Task.id.in_([t.id for t in targets]))).scalars().all()
    assert all(seq < close_seq for seq in report_seqs)
    assert len(report_seqs) == len(targets) - len(refused)
    assert sorted(states).count(TaskState.missed) == len(refused)
    assert chain_of(engine).intact


def test_a_report_checked_before_the_close_and_written_after_it_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    """The same interleaving without threads: validation saw an open cycle, the close
    committed, then the write finds the cycle closed and writes nothing."""
    from dangjian.services.closing import ValidationContext, _load_tasks, _plan_close, _write
    from dangjian.services.cycle_end import close_cycle
    from models import Cycle

    engine, members, tasks = world
    t = tasks[0]
    with Session(engine) as session:
        cycle_id = session.execute(select(Cycle.id)).scalar_one()
    with Session(engine, expire_on_commit=False) as reporter:
        ctx = ValidationContext(reporter)
        now = at(date(2026, 11, 20))
        plan = _plan_close(ctx, _load_tasks(reporter, [t.id or 0]), report_for(t, members), t.owner_unit_id, now)
        with Session(engine, expire_on_commit=False) as closer:
            close_cycle(session=closer, cycle_id=cycle_id, as_of=date(2027, 1, 5))
        with pytest.raises(Conflict, match="已结束"):
            _write(reporter, ctx, [plan], now, None)
        reporter.rollback()
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Completion)).scalar_one() == 0
