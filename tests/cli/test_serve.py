"""`dangjian serve` builds its deployments from deployments/prefect.yaml, the same schedules
`prefect deploy` uses; building them starts nothing and needs no Prefect server."""
from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dangjian.cli.serve_cmd import PREFECT_YAML, build_deployments, read_specs
from dangjian.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]


def test_serve_reads_the_deployments_yaml_of_the_repository():
    assert PREFECT_YAML == ROOT / "deployments" / "prefect.yaml"


def test_serve_builds_every_deployment_with_the_yamls_cron_and_shanghai_timezone():
    raw = YAML(typ="safe").load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]
    built = {d.name: d for d in build_deployments()}
    assert set(built) == {d["name"] for d in raw}
    assert {"daily-sweep", "daily-chase", "weekly-score-preview", "plan-cycle"} <= set(built)
    for entry in raw:
        deployment = built[entry["name"]]
        module, function = entry["entrypoint"].split(":")
        assert deployment.entrypoint == f"{module}.{function}"        # a module path, not a file
        crons = [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules]
        assert crons == [(s["cron"], s["timezone"]) for s in entry.get("schedules") or []]
        assert all(tz == "Asia/Shanghai" for _, tz in crons)
        assert deployment.work_pool_name is None                      # served, not pooled
    assert [(s.schedule.cron, s.schedule.timezone) for s in built["daily-chase"].schedules] == [
        ("0 8 * * *", "Asia/Shanghai")]
    assert built["plan-cycle"].schedules == []
    assert built["daily-chase"].description == "每日督办提醒与预警，所有进行中的考核周期"


def test_a_file_path_entrypoint_is_refused(tmp_path):
    bad = tmp_path / "prefect.yaml"
    bad.write_text("deployments:\n  - name: x\n    entrypoint: flows/chase.py:chase\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="模块路径"):
        read_specs(bad)


def test_a_schedule_needs_exactly_one_of_cron_interval_rrule(tmp_path):
    bad = tmp_path / "prefect.yaml"
    bad.write_text("deployments:\n  - name: x\n    entrypoint: flows.chase:chase\n"
                   "    schedules:\n      - timezone: Asia/Shanghai\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="cron、interval、rrule 之一"):
        read_specs(bad)


def test_an_entrypoint_that_does_not_load_is_named_before_anything_starts(tmp_path):
    from tests.support.cli import run

    bad = tmp_path / "prefect.yaml"
    bad.write_text("deployments:\n  - name: x\n    entrypoint: flows.no_such_flow:chase\n", encoding="utf-8")
    done = run("serve", "--prefect-file", str(bad), cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "找不到入口模块 flows.no_such_flow" in done.stderr and "Traceback" not in done.stderr


def test_a_command_killed_mid_flow_is_marked_crashed_by_the_next_command(tmp_path):
    """kill -9 of a command while its flow runs leaves the run RUNNING in Prefect's records;
    the next flow command marks it Crashed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.support.cli import cli_env, demo_county_with_cycle, run

    demo_county_with_cycle(tmp_path)
    env = {**cli_env(tmp_path), "PYTHONPATH": str(ROOT)}
    slow = ("from dangjian.cli.app import prepare_prefect, run_flow\nprepare_prefect()\n"
            "from tests.support.slow_flows import slow_plan\nrun_flow(slow_plan, '2026', 120)\n")
    proc = subprocess.Popen([sys.executable, "-c", slow], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    states = ("from prefect.client.orchestration import get_client\nfrom dangjian.cli.app import prepare_prefect\n"
              "prepare_prefect()\nwith get_client(sync_client=True) as c:\n"
              "    print(' '.join(sorted(str(r.state_type.value) for r in c.read_flow_runs() "
              "if r.flow_id and 'dangjian-cli' in r.tags)))\n")

    def seen() -> str:
        return subprocess.run([sys.executable, "-c", states], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=False, timeout=120).stdout.strip()

    try:
        # Each look starts a throw-away Prefect API on the shared home (15-30 s on a loaded
        # 2-core machine): give the slow flow a few looks' time to be seen running.
        deadline = time.monotonic() + 360
        while "RUNNING" not in seen():
            assert time.monotonic() < deadline, "the slow flow never started running"
            time.sleep(1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert seen() == "RUNNING"
    swept = run("sweep", "2026", "--as-of", "2026-06-30", cwd=tmp_path, timeout=180)
    assert swept.returncode == 0, swept.stderr
    assert seen().split() == ["COMPLETED", "CRASHED"]
