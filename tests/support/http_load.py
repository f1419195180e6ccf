"""Many secretaries closing different tasks over HTTP at the same moment, against a real
`dangjian web` (uvicorn, several workers) on PostgreSQL. Used by tests/web/test_http_load.py
(a small run) and bench/bench_http_close.py (200 clients, with throughput and latency).
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.db import make_engine
from dangjian.prefect_local import free_port
from dangjian.schema import upgrade_to_head
from dangjian.services import audit, users
from dangjian.services.cycles import create_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.rule_sets import register_rule_set
from models import (
    Completion,
    CompletionTask,
    Gender,
    Member,
    MemberCategory,
    MemberStatus,
    Task,
    Unit,
    UnitKind,
)
from tests.support.db import drop_postgres_schema, new_postgres_schema

RULES = Path(__file__).resolve().parents[2] / "rules" / "sets" / "community_branch_basic.yaml"
DUTIES = ("theme_party_day", "monthly_member_meeting")   # monthly, whole branch: 22 tasks a branch by November
NOW = "2026-12-04T12:00:00+08:00"


@dataclass
class Job:
    token: str
    task_id: int
    held_on: date
    attendance: list[str]


@dataclass
class LoadResult:
    clients: int
    statuses: dict[int, int]
    latencies_ms: list[float]
    wall_s: float
    completions: int
    links: int
    distinct_tasks: int
    chain_intact: bool
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.statuses.get(201, 0)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0

    def summary(self) -> str:
        return (f"{self.clients} 个并发客户端：成功 {self.ok}，状态 {dict(sorted(self.statuses.items()))}；"
                f"{self.ok / self.wall_s:.1f} 次/秒，p50 {self.percentile(0.5):.0f} ms，"
                f"p95 {self.percentile(0.95):.0f} ms，最慢 {max(self.latencies_ms, default=0):.0f} ms；"
                f"报送 {self.completions} 条，关联 {self.links} 条，任务 {self.distinct_tasks} 个；"
                f"审计链{'完整' if self.chain_intact else '损坏'}")


def schema_url(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def build_world(url: str, schema: str, branches: int, per_branch: int) -> list[Job]:
    """In the existing, empty `schema`: a district of `branches` branches (6 members each),
    one secretary token per branch, the 2026 cycle planned, and `per_branch` closable tasks
    of each branch."""
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade_to_head(engine)
    jobs: list[Job] = []
    with Session(engine, expire_on_commit=False) as session:
        district = Unit(id="D", name="负载测试县", kind=UnitKind.district, path="/D/", depth=0)
        street = Unit(id="S", name="负载测试街道", kind=UnitKind.street, parent_id="D", path="/D/S/", depth=1)
        session.add_all([district, street])
        session.flush()
        rosters: dict[str, list[str]] = {}
        for b in range(branches):
            cid, bid = f"C{b:03d}", f"B{b:03d}"
            session.add(Unit(id=cid, name=f"第{b}社区", kind=UnitKind.community, parent_id="S",
                             path=f"/D/S/{cid}/", depth=2, area="urban"))
            session.add(Unit(id=bid, name=f"第{b}社区党支部", kind=UnitKind.branch, parent_id=cid,
                             path=f"/D/S/{cid}/{bid}/", depth=3, area="urban"))
            session.flush()   # units before their members (no ORM relationship orders them)
            rosters[bid] = []
            for m in range(6):
                mid = f"M{b:03d}{m}"
                session.add(Member(id=mid, name=f"党员{mid}", gender=Gender.male, birth_date=date(1970, 1, 1),
                                   id_number=f"62062119700101{b:03d}{m}", unit_id=bid,
                                   category=MemberCategory.resident, status=MemberStatus.full))
                rosters[bid].append(mid)
        session.commit()
        rules = register_rule_set(session=session, path=RULES, actor="负载测试")
        cycle = create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id="D",
                             rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                             actor="负载测试")
        plan_cycle(session=session, cycle_id=cycle.id or 0)
        for b in range(branches):
            bid = f"B{b:03d}"
            user = users.add_user(session=session, username=f"sec{b:03d}", password="负载测试-密码-2026",
                                  role="secretary", unit_id=bid, display_name=f"书记{b}", actor="负载测试")
            token = users.create_token(session=session, user_id=user.id or 0, name="负载", actor="负载测试")
            tasks = session.execute(select(Task).where(
                Task.cycle_id == cycle.id, Task.owner_unit_id == bid, Task.duty_code.in_(DUTIES),
                Task.period_start <= date(2026, 11, 1)).order_by(Task.id).limit(per_branch)).scalars().all()
            if len(tasks) < per_branch:
                raise RuntimeError(f"{bid} 只有 {len(tasks)} 个可办结的任务，少于 {per_branch}")
            secret, _record = token
            jobs += [Job(str(secret), t.id or 0, t.period_start + timedelta(days=4), rosters[bid]) for t in tasks]
    engine.dispose()
    return jobs


def start_web(url: str, schema: str, workers: int, threads: int, logs: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DANGJIAN_DATABASE_URL": schema_url(url, schema), "DANGJIAN_NOW": NOW,
           "DANGJIAN_WEB_SECRET_KEY": "load-test-" + "k" * 40, "DANGJIAN_WEB_THREADS": str(threads),
           "DANGJIAN_FILES_DIR": str(logs / "files")}
    env.pop("DANGJIAN_FORBID_REAL_CLOCK", None)
    log = open(logs / "web.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen([sys.executable, "-m", "dangjian", "web", "--port", str(port),
                                "--workers", str(workers), "--insecure-cookies"],
                               cwd=logs, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=2):
                return process, base
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"dangjian web did not start: {(logs / 'web.log').read_text(errors='replace')[-2000:]}")


def close_all(base: str, jobs: list[Job]) -> tuple[dict[int, int], list[float], float, list[str]]:
    import json

    gate = threading.Barrier(len(jobs))
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(job: Job) -> None:
        body = json.dumps({"task_ids": [job.task_id], "held_on": job.held_on.isoformat(), "topic": "学习党章",
                           "minutes": "会议记录", "attendance": [{"member_id": m, "presence": "present"}
                                                             for m in job.attendance]}).encode()
        request = urllib.request.Request(f"{base}/api/tasks/close", data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {job.token}"})
        gate.wait()
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            with lock:
                errors.append(f"#{job.task_id}: {error.code} {error.read()[:300].decode(errors='replace')}")
        except OSError as error:
            status = 0
            with lock:
                errors.append(f"#{job.task_id}: {error}")
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        list(pool.map(one, jobs))
    return statuses, latencies, time.perf_counter() - started, errors


def run_load(url: str, *, clients: int, branches: int, workers: int, threads: int, logs: Path) -> LoadResult:
    made, schema = new_postgres_schema(url, "dangjian_load")
    made.dispose()
    per_branch = -(-clients // branches)
    try:
        jobs = build_world(url, schema, branches, per_branch)[:clients]
        process, base = start_web(url, schema, workers, threads, logs)
        try:
            statuses, latencies, wall, errors = close_all(base, jobs)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        with Session(engine) as session:
            completions = session.execute(select(func.count()).select_from(Completion)).scalar_one()
            links = session.execute(select(func.count()).select_from(CompletionTask)).scalar_one()
            distinct = session.execute(select(func.count(func.distinct(CompletionTask.task_id)))).scalar_one()
            intact = audit.check_chain(session).intact
        engine.dispose()
        return LoadResult(len(jobs), statuses, latencies, wall, completions, links, distinct, intact, errors)
    finally:
        drop_postgres_schema(url, schema)


if __name__ == "__main__":   # pragma: no cover - see bench/bench_http_close.py
    sys.exit("run bench/bench_http_close.py")
