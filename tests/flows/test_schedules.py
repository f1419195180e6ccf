"""Schedules fire by themselves: a real Prefect server schedules, a worker (or `dangjian
serve`) runs, and nobody triggers anything by hand. The server's log must stay clean."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from dangjian.db import make_engine
from dangjian.prefect_local import SCHEDULER_FAILURE_MARKERS, LocalServer, local_server
from models import Task, TaskState
from tests.support.cli import cli_env
from tests.support.db import postgres_url, stop_process

pytestmark = pytest.mark.flows
ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
SERVER_DBS = ["sqlite"] + (["postgresql"] if postgres_url() else [])


def short_schedule_yaml(path: Path, seconds: int = 5) -> Path:
    """One deployment: the daily sweep, every few seconds instead of once a day."""
    path.write_text(
        "name: dangjian-schedule-test\n"
        "pull:\n  - prefect.deployments.steps.set_working_directory:\n"
        f"      directory: \"{ROOT}\"\n"
        "deployments:\n"
        "  - name: sweep-often\n"
        "    entrypoint: flows.sweep_overdue:sweep_overdue\n"
        "    parameters: {}\n"
        f"    schedules:\n      - interval: {seconds}\n        timezone: Asia/Shanghai\n"
        "    work_pool:\n      name: schedule-test-pool\n", encoding="utf-8")
    return path


def planned_county(workdir: Path) -> dict[str, str]:
    """A CLI environment whose database holds the demo county with cycle 2026 planned."""
    from tests.support.cli import demo_county_with_cycle

    demo_county_with_cycle(workdir)
    return cli_env(workdir)


def overdue_count(env: dict[str, str]) -> int:
    engine = make_engine(env["DANGJIAN_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Task)
                                    .where(Task.state == TaskState.overdue)).scalar_one())
    finally:
        engine.dispose()


def completed_scheduled_runs(api_url: str) -> list[dict[str, object]]:
    body = json.dumps({"limit": 50, "sort": "EXPECTED_START_TIME_ASC"}).encode()
    request = urllib.request.Request(f"{api_url}/flow_runs/filter", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        runs = json.load(response)
    return [r for r in runs if r.get("auto_scheduled") and r.get("state_type") == "COMPLETED"]


def wait_for(predicate, timeout: float, what: str, server: LocalServer | None = None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(1)
    log = server.log_text()[-3000:] if server else ""
    pytest.fail(f"{what} did not happen within {timeout:.0f} s\n{log}")


@pytest.fixture(params=SERVER_DBS)
def prefect_server_db(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The Prefect server's own database: SQLite in its home, or its own PostgreSQL database."""
    if request.param == "sqlite":
        yield {}
        return
    url = postgres_url()
    assert url
    name = f"prefect_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = url.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield {"PREFECT_SERVER_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{base}/{name}"}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_server_schedules_a_short_interval_and_a_worker_completes_it(tmp_path, prefect_server_db):
    env = planned_county(tmp_path)
    assert overdue_count(env) == 0
    yaml = short_schedule_yaml(tmp_path / "prefect.yaml")
    with local_server(tmp_path / "prefect-server", scheduler_loop_seconds=2,
                      extra_env=prefect_server_db) as server:
        penv = {**env, "PREFECT_API_URL": server.api_url, "PREFECT_HOME": str(tmp_path / "client"),
                "PREFECT_WORKER_QUERY_SECONDS": "2", "COLUMNS": "250"}

        def prefect(*args: str) -> None:
            done = subprocess.run([PREFECT, "--no-prompt", *args], cwd=ROOT, env=penv,
                                  capture_output=True, text=True, timeout=180, check=False)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

        prefect("work-pool", "create", "schedule-test-pool", "--type", "process")
        prefect("deploy", "--all", "--prefect-file", str(yaml))
        with open(tmp_path / "worker.log", "wb") as log:
            worker = subprocess.Popen([PREFECT, "--no-prompt", "worker", "start", "--pool", "schedule-test-pool"],
                                      cwd=ROOT, env=penv, stdout=log, stderr=subprocess.STDOUT)
        try:
            runs = wait_for(lambda: completed_scheduled_runs(server.api_url), 150,
                            "a scheduled run completed by the worker", server)
        finally:
            stop_process(worker, timeout=30)
        assert runs and all(r["auto_scheduled"] for r in runs)
        assert server.scheduler_failures() == []
    assert overdue_count(env) > 0


def test_dangjian_serve_runs_a_schedule_by_itself_and_stops_its_server(tmp_path):
    env = planned_county(tmp_path)
    assert overdue_count(env) == 0
    yaml = short_schedule_yaml(tmp_path / "prefect.yaml")
    env = {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    env.pop("PREFECT_API_URL", None)
    with open(tmp_path / "serve.log", "wb") as log:
        serve = subprocess.Popen([sys.executable, "-m", "dangjian", "serve", "--prefect-file", str(yaml)],
                                 cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: overdue_count(env) > 0 or serve.poll() is not None, 180,
                 "a served, scheduled sweep")
        assert serve.poll() is None, (tmp_path / "serve.log").read_text(encoding="utf-8")
    finally:
        code = stop_process(serve)
    output = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert overdue_count(env) > 0
    assert "Traceback" not in output, output[-3000:]
    assert code in (0, 130), output[-3000:]
    assert "已停止" in output
    home = Path(env["PREFECT_HOME"])
    server_log = home / "server.log"
    assert server_log.exists()
    failures = [line for line in server_log.read_text(encoding="utf-8", errors="replace").splitlines()
                if any(marker in line for marker in SCHEDULER_FAILURE_MARKERS)]
    assert failures == [], "\n".join(failures)
    assert processes_with_env("PREFECT_HOME", str(home)) == []


def process_environments() -> dict[int, dict[str, str]]:
    """pid → environment of every live process but this one (Linux /proc)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            raw = (proc / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        found[int(proc.name)] = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
    return found


def processes_with_env(name: str, value: str) -> list[int]:
    """Pids of live processes started with name=value in their environment."""
    return [pid for pid, env in process_environments().items() if env.get(name) == value]


@pytest.mark.skipif(not postgres_url(), reason="需要 DANGJIAN_TEST_DATABASE_URL（PostgreSQL）")
def test_serve_rides_out_a_database_outage_and_the_next_run_catches_up(tmp_path, committed):
    """The business database goes away while `dangjian serve` runs its schedule: the runs in
    the outage fail, serve keeps going, and the first run after it does the missed work."""
    if committed.dialect.name != "postgresql":
        pytest.skip("the outage is cut on PostgreSQL's network link")
    from sqlmodel import Session

    from tests.support.builders import county, planned_cycle
    from tests.support.tcp_proxy import cuttable_proxy

    with Session(committed, expire_on_commit=False) as session:
        planned_cycle(session, county(session))
    with committed.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()

    def overdue() -> int:
        with committed.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Task)
                                    .where(Task.state == TaskState.overdue)).scalar_one())

    yaml = short_schedule_yaml(tmp_path / "prefect.yaml")
    with cuttable_proxy() as proxy:
        proxy.cut()
        env = {**cli_env(tmp_path), "PREFECT_RUNNER_POLL_FREQUENCY": "2", "DANGJIAN_FLOW_RETRY_DELAYS": "1,1",
               "DANGJIAN_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{proxy.port}/test"
                                        f"?options=-csearch_path%3D{schema}"}
        env.pop("PREFECT_API_URL", None)
        with open(tmp_path / "serve.log", "wb") as log:
            serve = subprocess.Popen([sys.executable, "-m", "dangjian", "serve", "--prefect-file", str(yaml)],
                                     cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            # Runs are due every 5 s; give the outage time to swallow a few of them.
            wait_for(lambda: "Prefect 服务器已就绪" in (tmp_path / "serve.log").read_text(errors="replace"),
                     120, "serve's Prefect server")
            time.sleep(20)
            assert overdue() == 0 and serve.poll() is None
            proxy.restore()
            wait_for(lambda: overdue() > 0, 120, "a sweep after the database came back")
            assert serve.poll() is None
        finally:
            stop_process(serve)
    output = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in output, output[-3000:]


def flow_run_processes(database_url: str) -> dict[int, str]:
    """pid → flow run id of live flow-run processes working on this database."""
    return {pid: env["PREFECT__FLOW_RUN_ID"] for pid, env in process_environments().items()
            if env.get("DANGJIAN_DATABASE_URL") == database_url and env.get("PREFECT__FLOW_RUN_ID")}


def flow_run_state(api_url: str, run_id: str) -> str:
    with urllib.request.urlopen(f"{api_url}/flow_runs/{run_id}", timeout=10) as response:
        return str(json.load(response)["state_type"])


def test_a_run_killed_mid_flight_is_marked_crashed_and_the_next_run_does_the_work(tmp_path):
    from tests.support.cli import run

    assert run("init", cwd=tmp_path).returncode == 0
    demo = ROOT / "dangjian" / "demo" / "data"
    assert run("org", "import", str(demo / "units.csv"), str(demo / "members.csv"), cwd=tmp_path).returncode == 0
    created = run("cycle", "create", "2026", "--name", "2026年度考核", "--rules",
                  str(ROOT / "rules/sets/community_branch_basic.yaml"), "--root", "620621",
                  "--start", "2026-01-01", "--end", "2026-12-31", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    # `python -m dangjian` keeps the working directory off sys.path; the test's flow lives in tests/.
    env = {**cli_env(tmp_path), "PREFECT_RUNNER_POLL_FREQUENCY": "2", "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    yaml = tmp_path / "prefect.yaml"
    yaml.write_text("deployments:\n  - name: slow-plan\n    entrypoint: tests.support.slow_flows:slow_plan\n"
                    "    parameters: {cycle_code: \"2026\", wait_seconds: 8}\n"
                    "    schedules:\n      - interval: 20\n", encoding="utf-8")

    def tasks() -> int:
        engine = make_engine(env["DANGJIAN_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(Task)).scalar_one())
        finally:
            engine.dispose()

    with open(tmp_path / "serve.log", "wb") as log:
        serve = subprocess.Popen([sys.executable, "-m", "dangjian", "serve", "--prefect-file", str(yaml)],
                                 cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        running = wait_for(lambda: flow_run_processes(env["DANGJIAN_DATABASE_URL"]), 150, "a scheduled slow run")
        (pid, run_id), = running.items()
        os.kill(pid, signal.SIGKILL)
        text_log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
        api_url = text_log.split("Prefect 服务器已就绪：", 1)[1].split()[0]
        wait_for(lambda: flow_run_state(api_url, run_id) == "CRASHED", 60, "the killed run marked crashed")
        assert tasks() == 0
        wait_for(lambda: tasks() > 0, 150, "the next scheduled run planning the cycle")
    finally:
        stop_process(serve)
