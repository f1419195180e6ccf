"""Generated hostile input for the entry points that take files and reports: metric CSVs, rosters
and completion payloads. Whatever comes in, the service either succeeds or raises a DomainError
(never anything else), and a refusal leaves the database exactly as it was."""
from __future__ import annotations

import csv
import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from dangjian.domain.completion import AttendanceEntry
from dangjian.errors import DomainError
from dangjian.services.closing import Report, close_tasks
from dangjian.services.org_import import import_org
from dangjian.services.roster_format import MEMBER_COLUMNS, UNIT_COLUMNS
from dangjian.services.rule_sets import register_rule_set
from dangjian.services.scoring_inputs import import_metric_csv
from models import Presence, Task
from tests.services.test_org_import import MEMBERS, UNITS
from tests.services.test_scoring_inputs import FULL_DATA, TARGET
from tests.support.builders import at, county, planned_cycle

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
LONG = TEXT | st.text(alphabet="党建ab ", min_size=50, max_size=400)     # past every column limit


def database_state(session: Session) -> str:
    """Row counts and a checksum of every row of every table, as committed."""
    digest = hashlib.sha256()
    for table in SQLModel.metadata.sorted_tables:
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{len(rows)}:".encode())
        for row in rows:
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def refused_or_done(session: Session, call) -> None:  # type: ignore[no-untyped-def]
    before = database_state(session)
    try:
        call()
    except DomainError:
        session.rollback()           # what the CLI and the web do with a refused call
        assert database_state(session) == before


# --- metrics CSV ----------------------------------------------------------------------------

SUBJECTS = st.sampled_from(["B1", "B2", "C1", "S", "D", "B9", "", " B1 ", "M100"]) | TEXT
METRICS = st.sampled_from([*FULL_DATA, "群众满意率", "发展党员数", "满意度", ""]) | TEXT
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e300", "1e309", "3.5", "", "abc", "１２", "0x10", "1_000"]),
    TEXT,
)
ROWS = st.lists(st.tuples(SUBJECTS, METRICS, VALUES, LONG, st.lists(TEXT, max_size=2)), max_size=6)
HEADERS = st.sampled_from([["对象编码", "指标", "值", "说明"], ["对象编码", "指标", "值"], ["对象编码", "值"], []])


@pytest.fixture
def target_cycle(session: Session):  # type: ignore[no-untyped-def]
    c = county(session)
    cycle = planned_cycle(session, c)
    cycle.rule_set_id = register_rule_set(session=session, path=TARGET, actor="测试").id or 0
    session.add(cycle)
    session.commit()
    return cycle


@SETTINGS
@given(header=HEADERS, rows=ROWS)
def test_any_metrics_csv_is_stored_whole_or_refused_without_a_trace(session, target_cycle, tmp_path, header, rows):
    path = tmp_path / "指标.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(header)
        for subject, metric, value, note, extra in rows:
            writer.writerow([subject, metric, value, note, *extra][:max(len(header), 1) + len(extra)])
    refused_or_done(session, lambda: import_metric_csv(session=session, cycle_code="2026", path=path,
                                                       entered_by="组织科"))


# --- roster ---------------------------------------------------------------------------------

MUTATION = st.tuples(st.integers(0, len(MEMBERS) - 1), st.integers(0, len(MEMBER_COLUMNS) + 1),
                     st.sampled_from(["", "党员", "1980-02-30", "620621198003040000", "B9", "男女", "9" * 40])
                     | TEXT)


@SETTINGS
@given(mutations=st.lists(MUTATION, max_size=4), duplicate=st.booleans())
def test_any_roster_is_imported_whole_or_refused_without_a_trace(session, tmp_path, mutations, duplicate):
    members = [list(r) for r in MEMBERS] + ([list(MEMBERS[0])] if duplicate else [])
    for row, column, text in mutations:
        if column < len(MEMBER_COLUMNS):
            members[row][column] = text
        else:
            members[row].append(text)              # a cell beyond the header
    paths = []
    for name, header, rows in (("units.csv", UNIT_COLUMNS, UNITS), ("members.csv", MEMBER_COLUMNS, members)):
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        paths.append(path)
    refused_or_done(session, lambda: import_org(session=session, paths=paths, actor="测试"))


# --- completion payloads --------------------------------------------------------------------


@pytest.fixture
def world(session: Session, tmp_path: Path, files_dir: Path):  # type: ignore[no-untyped-def]
    c = county(session)
    cycle = planned_cycle(session, c)
    tasks = list(session.execute(select(Task.id).where(Task.cycle_id == cycle.id).order_by(Task.id)
                                 .limit(40)).scalars())
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff photo")
    empty = tmp_path / "空.pdf"
    empty.write_bytes(b"")
    program = tmp_path / "a.exe"
    program.write_bytes(b"MZ\x90\x00")
    files = [photo, empty, program, tmp_path / "不存在.jpg", tmp_path]
    members = [m.id for m in c.big_members + c.small_members]
    return tasks, files, members


def payloads(tasks: list[int], files: list[Path], members: list[str]):  # type: ignore[no-untyped-def]
    attendance = st.lists(st.builds(
        AttendanceEntry, st.sampled_from([*members, "M999", ""]) | TEXT, st.sampled_from(list(Presence)),
        st.none() | LONG), max_size=10)
    report = st.builds(
        Report, held_on=st.dates(date(2025, 10, 1), date(2027, 3, 31)), topic=LONG, minutes=TEXT,
        attendance=attendance, evidence=st.lists(st.sampled_from(files), max_size=2), reported_by=LONG)
    ids = st.lists(st.sampled_from([*tasks, 999_999]), min_size=0, max_size=3)
    return st.tuples(ids, report, st.sampled_from([None, "B1", "B2", "NOPE"]), st.integers(0, 400))


@SETTINGS
@given(data=st.data())
def test_any_completion_payload_is_written_or_refused_without_a_trace(session, world, data):
    task_ids, report, branch, days = data.draw(payloads(*world))
    now = at(date(2026, 1, 1) + timedelta(days=days))
    refused_or_done(session, lambda: close_tasks(session=session, task_ids=task_ids, report=report,
                                                 acting_branch=branch, now=now))


@SETTINGS
@given(data=st.data())
def test_a_valid_report_with_generated_changes_is_written_or_refused_without_a_trace(session, world, data):
    """Close to valid, so that writes happen too: January's 主题党日 of B1, everyone present,
    then some fields replaced by generated ones (long texts, odd dates, extra people, files)."""
    _, files, members = world
    (task_id,) = session.execute(select(Task.id).where(
        Task.duty_code == "theme_party_day", Task.owner_unit_id == "B1", Task.state == "open",
        Task.period_start == date(2026, 1, 1))).scalars().all() or [None]
    if task_id is None:          # an earlier example closed it: take any open task of B1
        task_id = session.execute(select(Task.id).where(Task.owner_unit_id == "B1", Task.state == "open")
                                  .order_by(Task.id).limit(1)).scalar_one()
    big = [m for m in members if m.startswith("M1")]
    attendance = [AttendanceEntry(m, Presence.present) for m in big]
    extra = data.draw(st.lists(st.builds(AttendanceEntry, st.sampled_from([*members, "M999"]),
                                         st.sampled_from(list(Presence)), st.none() | LONG), max_size=2))
    report = Report(
        held_on=data.draw(st.just(date(2026, 1, 10)) | st.dates(date(2025, 12, 1), date(2026, 12, 31))),
        topic=data.draw(st.just("学习党章") | LONG), minutes=data.draw(st.just("记录") | TEXT),
        attendance=attendance[len(extra):] + extra, evidence=data.draw(st.lists(st.sampled_from(files), max_size=1)),
        reported_by=data.draw(st.just("支部书记") | LONG))
    refused_or_done(session, lambda: close_tasks(session=session, task_ids=[task_id], report=report,
                                                 acting_branch="B1", now=at(date(2026, 12, 3))))
