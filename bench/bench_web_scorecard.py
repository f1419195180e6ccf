"""Benchmark: the leader's scorecard page for a district of 3,500 branches, against the
scorecard query alone, in the same run.

    /tmp/v1/bin/python bench/bench_web_scorecard.py [--branches 3500] [--repeats 15]

Builds a fresh SQLite database in a temporary directory: one district, 35 streets,
10 communities per street and 10 branches per community (3,500 branches with --branches
3500), each with 3 members, the shipped rule set, a 2026 cycle planned through the planning
service (~150,000 tasks), task outcomes set in bulk from a fixed seed, and two score runs
through the scoring service (so the page also compares against the previous run). Then,
interleaved, --repeats times each after one warm-up:

  query    services.scorecards.scorecard_document for the district: the ranking the page
           shows, as the scorecard service reads it (the baseline);
  query_explain  the same with every explanation line (explain=True), for reference: the page
           does not load the lines above a branch, it sums them in SQL;
  page     GET /scores as the district's leader through the ASGI app in process, timed by
           the app's own Server-Timing header (session check, the document, the previous
           run's totals for the trend, drill-down aggregates, overdue and silent branches,
           charts data and the HTML of the first 100 ranks);
  page_all GET /scores?all=1: the same with all 3,500 ranked rows in the HTML;
  street   GET /scores/unit/<street>: one street's 100 branches.

Prints median and p95 in milliseconds and the ratio of each page to the query.
Not a pytest test: timings do not belong in the test suite.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RULES = Path(__file__).resolve().parents[1] / "rules" / "sets" / "community_branch_basic.yaml"
AS_OF = date(2026, 11, 24)
SEED = 2026


def build(db_url: str, branches: int) -> dict[str, str]:
    from sqlalchemy import insert, select, update
    from sqlmodel import Session

    from dangjian.db import make_engine
    from dangjian.schema import upgrade_to_head
    from dangjian.services import users
    from dangjian.services.cycles import create_cycle
    from dangjian.services.planning import plan_cycle
    from dangjian.services.rule_sets import register_rule_set
    from dangjian.services.scoring import score_cycle
    from models import Gender, Member, MemberCategory, MemberStatus, Task, TaskState, Unit

    engine = make_engine(db_url)
    upgrade_to_head(engine)
    rng = random.Random(SEED)
    per_community, per_street = 10, 10
    n_streets = max(1, branches // (per_community * per_street))
    units, members = [], []
    units.append({"id": "D", "name": "基准区", "kind": "district", "parent_id": None, "path": "/D/", "depth": 0,
                  "area": None, "has_committee": True, "sort_order": 0, "attributes": {}})
    made = 0
    for s in range(n_streets):
        sid = f"S{s:02d}"
        units.append({"id": sid, "name": f"第{s + 1}街道", "kind": "street", "parent_id": "D", "path": f"/D/{sid}/",
                      "depth": 1, "area": None, "has_committee": True, "sort_order": s, "attributes": {}})
        for c in range(per_street):
            cid = f"{sid}C{c}"
            area = "urban" if c < 7 else "town"
            units.append({"id": cid, "name": f"第{s + 1}街道{c + 1}社区", "kind": "community", "parent_id": sid,
                          "path": f"/D/{sid}/{cid}/", "depth": 2, "area": area, "has_committee": False,
                          "sort_order": c, "attributes": {}})
            for b in range(per_community):
                if made >= branches:
                    break
                bid = f"{cid}B{b}"
                units.append({"id": bid, "name": f"第{s + 1}街道{c + 1}社区第{b + 1}支部", "kind": "branch",
                              "parent_id": cid, "path": f"/D/{sid}/{cid}/{bid}/", "depth": 3, "area": area,
                              "has_committee": b % 2 == 0, "sort_order": b, "attributes": {}})
                for m in range(3):
                    n = len(members)
                    members.append({"id": f"M{n:06d}", "name": f"党员{n}", "gender": Gender.female if n % 2 else Gender.male,
                                    "birth_date": date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                                    "id_number": f"X{n:017d}", "unit_id": bid, "group_id": None,
                                    "category": MemberCategory.resident, "status": MemberStatus.full,
                                    "joined_on": None, "full_on": None, "excused_from_quorum": False, "active": True})
                made += 1
    with Session(engine) as session:
        session.execute(insert(Unit), units)
        session.execute(insert(Member), members)
        session.commit()
        rules = register_rule_set(session=session, path=RULES, actor="bench")
        cycle = create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id="D",
                             rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                             actor="bench")
        plan = plan_cycle(session=session, cycle_id=cycle.id or 0)
        # Outcomes in bulk: most past tasks on time, some late, some missed; the rest pending.
        past = session.execute(select(Task.id).where(Task.due_on < AS_OF)).scalars().all()
        done, late = [], []
        for tid in past:
            roll = rng.random()
            (done if roll < 0.8 else late if roll < 0.9 else []).append(tid)
        for ids, state in ((done, TaskState.done), (late, TaskState.late)):
            for i in range(0, len(ids), 5000):
                session.execute(update(Task).where(Task.id.in_(ids[i:i + 5000])).values(state=state))
        session.commit()
        score_cycle(session=session, cycle_id=cycle.id or 0, as_of=date(2026, 10, 31))
        score_cycle(session=session, cycle_id=cycle.id or 0, as_of=AS_OF)
        users.SCRYPT_N = 2**12
        users.add_user(session=session, username="leader", password="bench-password-1", role="leader",
                       unit_id="D", actor="bench")
    engine.dispose()
    return {"tasks": str(plan.total), "branches": str(made), "streets": str(n_streets)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=3500)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dj-bench-web-"))
    db_url = f"sqlite:///{folder / 'bench.db'}"
    os.environ["DANGJIAN_DATABASE_URL"] = db_url
    os.environ["DANGJIAN_FILES_DIR"] = str(folder / "files")
    started = time.perf_counter()
    facts = build(db_url, args.branches)
    print(f"built in {time.perf_counter() - started:.1f} s: {facts['branches']} branches in {facts['streets']} "
          f"streets, {facts['tasks']} tasks, 2 score runs  ({db_url})")

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from dangjian.clock import SHANGHAI
    from dangjian.db import make_engine
    from dangjian.services.scorecards import scorecard_document
    from dangjian.web.app import create_app
    from dangjian.web.config import WebConfig

    engine = make_engine(db_url)
    frozen = datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI)
    app = create_app(engine=engine, config=WebConfig(secret_key="bench-" + "k" * 40, secure_cookies=False),
                     clock=lambda: frozen)
    client = TestClient(app)
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post("/login", data={"username": "leader", "password": "bench-password-1",
                                         "csrf_token": token}, follow_redirects=False)
    assert signed.status_code == 303, signed.text

    def query(explain: bool) -> float:
        t = time.perf_counter()
        with Session(engine) as session:
            doc = scorecard_document(session=session, cycle_code="2026", unit_id="D", explain=explain)
        assert len(doc["units"]) == int(facts["branches"])
        return (time.perf_counter() - t) * 1000

    def get(path: str, must: str) -> float:
        response = client.get(path)
        assert response.status_code == 200 and must in response.text, (path, response.status_code)
        timing = response.headers["server-timing"]
        return float(timing.split("dur=")[1])

    cases = {
        "query": lambda: query(False),
        "query_explain": lambda: query(True),
        "page": lambda: get("/scores", 'id="ranking"'),
        "page_all": lambda: get("/scores?all=1", 'id="ranking"'),
        "street": lambda: get("/scores/unit/S00?cycle=2026", 'id="ranking"'),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for run in range(args.repeats + 1):
        for name, fn in cases.items():
            value = fn()
            if run:                                   # the first round warms caches up
                samples[name].append(value)

    print(f"\n{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"SQLite, {args.repeats} runs each after a warm-up; server time in ms")
    base = statistics.median(samples["query"])
    print(f"{'':14} {'median':>9} {'p95':>9} {'× query':>8}")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:14} {med:9.1f} {percentile(values, 0.95):9.1f} {med / base:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
