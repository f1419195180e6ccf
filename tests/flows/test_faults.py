"""kill -9 in the middle of import, plan, score and the cycle's end, then run it again: the
database ends exactly where an uninterrupted run leaves it, and the audit chain verifies.

Each step runs in its own process against its own PostgreSQL schema. A reference schema
runs every step once, uninterrupted, and times it; the faulty schema kills each step with
SIGKILL part-way through (while the process is still running) and then runs it again.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.schema import upgrade_to_head
from dangjian.services import audit
from models import (
    Completion,
    CompletionTask,
    Cycle,
    Member,
    Scorecard,
    ScoreLine,
    ScoreRun,
    Task,
    Unit,
)
from tests.support.db import drop_postgres_schema, new_postgres_schema, postgres_url

pytestmark = [pytest.mark.flows,
              pytest.mark.skipif(not postgres_url(), reason="需要 DANGJIAN_TEST_DATABASE_URL（PostgreSQL）")]
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "dangjian" / "demo" / "data"
RULES = ROOT / "rules" / "sets" / "community_branch_basic.yaml"

PRELUDE = "from datetime import date\nfrom dangjian.db import session_scope\n"
STEPS = {
    "import": (f"from dangjian.services.org_import import import_org\n"
               f"with session_scope() as s: import_org(session=s, paths=[{str(DEMO / 'units.csv')!r}, "
               f"{str(DEMO / 'members.csv')!r}], actor='测试')\n"),
    "plan": ("from dangjian.services.cycles import get_cycle\nfrom dangjian.services.planning import plan_cycle\n"
             "with session_scope() as s: plan_cycle(session=s, cycle_id=get_cycle(s, '2026').id)\n"),
    "score": ("from dangjian.services.cycles import get_cycle\nfrom dangjian.services.scoring import score_cycle\n"
              "with session_scope() as s: score_cycle(session=s, cycle_id=get_cycle(s, '2026').id, "
              "as_of=date(2026, 11, 30))\n"),
    "close": ("from dangjian.services.cycles import get_cycle\nfrom dangjian.services.cycle_end import close_cycle\n"
              "with session_scope() as s: close_cycle(session=s, cycle_id=get_cycle(s, '2026').id, "
              "as_of=date(2027, 1, 4))\n"),
}
CREATE_CYCLE = ("from dangjian.services.cycles import create_cycle\nfrom dangjian.services.rule_sets import "
                "register_rule_set\nwith session_scope() as s:\n"
                f"    r = register_rule_set(session=s, path={str(RULES)!r}, actor='测试')\n"
                "    create_cycle(session=s, code='2026', name='2026年度考核', root_unit_id='620621', "
                "rule_set_id=r.id, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31), actor='测试')\n")


class Database:
    def __init__(self, url: str, tag: str):
        self.url = url
        self.engine, self.schema = new_postgres_schema(url, f"dangjian_fault_{tag}")
        upgrade_to_head(self.engine)

    def env(self, now: str) -> dict[str, str]:
        url = self.url.replace("postgresql+psycopg://", "postgresql://")
        return {**os.environ, "DANGJIAN_DATABASE_URL": f"{url}?options=-csearch_path%3D{self.schema}",
                "DANGJIAN_NOW": now}

    def start(self, code: str, now: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", PRELUDE + code], cwd=ROOT, env=self.env(now),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, code: str, now: str) -> float:
        started = time.monotonic()
        proc = self.start(code, now)
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        return time.monotonic() - started

    def kill_midway(self, code: str, now: str, after: float) -> int:
        proc = self.start(code, now)
        time.sleep(after)
        alive = proc.poll() is None
        if alive:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        return proc.returncode if alive else 0

    def state(self) -> dict[str, object]:
        with Session(self.engine) as s:
            def count(model: type, *where: object) -> int:
                return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())

            runs = s.execute(select(ScoreRun.id).order_by(ScoreRun.version)).scalars().all()
            cards_per_run = [count(Scorecard, Scorecard.run_id == r) for r in runs]
            lines_per_run = [int(s.execute(select(func.count()).select_from(ScoreLine).join(
                Scorecard, Scorecard.id == ScoreLine.scorecard_id).where(Scorecard.run_id == r)).scalar_one())
                for r in runs]
            latest = sorted(s.execute(select(Scorecard.subject_id, Scorecard.total, Scorecard.grade)
                                      .where(Scorecard.run_id == runs[-1])).all()) if runs else []
            by_state = dict(s.execute(select(Task.state, func.count()).group_by(Task.state)).all())
            return {"units": count(Unit), "members": count(Member), "tasks": by_state,
                    "completions": count(Completion), "links": count(CompletionTask),
                    "cycle": s.execute(select(Cycle.state)).scalars().all(),
                    "cards_per_run": sorted(set(cards_per_run)), "lines_per_run": sorted(set(lines_per_run)),
                    "latest": latest, "chain": audit.check_chain(s).intact}

    def drop(self) -> None:
        self.engine.dispose()
        drop_postgres_schema(self.url, self.schema)


@pytest.fixture
def databases() -> Iterator[tuple[Database, Database]]:
    url = postgres_url()
    assert url
    reference, faulty = Database(url, "ref"), Database(url, "kill")
    yield reference, faulty
    reference.drop()
    faulty.drop()


def test_kill_9_midway_through_each_step_then_rerunning_ends_exactly_as_an_uninterrupted_run(databases) -> None:  # type: ignore[no-untyped-def]
    reference, faulty = databases
    now, later = "2026-12-04T12:00:00+08:00", "2027-01-04T09:00:00+08:00"
    killed = {}
    for step in ("import", "plan", "score", "close"):
        when = later if step == "close" else now
        if step == "plan":
            for db in (reference, faulty):
                db.run(CREATE_CYCLE, when)
        took = reference.run(STEPS[step], when)
        # Part-way: the interpreter and imports take most of a short step, so aim late.
        killed[step] = faulty.kill_midway(STEPS[step], when, after=took * 0.75)
        faulty.run(STEPS[step], when)
        assert faulty.state() == reference.state(), step
    assert reference.state()["chain"] is True
    print("killed while running:", killed)
    assert any(code == -signal.SIGKILL for code in killed.values()), killed
