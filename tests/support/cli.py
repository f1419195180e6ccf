"""The command line as users run it: a subprocess against a database in a scratch directory."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "dangjian" / "demo" / "data"
RULES = ROOT / "rules" / "sets" / "community_branch_basic.yaml"


def cli_env(cwd: Path) -> dict[str, str]:
    return {**os.environ, "DANGJIAN_DATABASE_URL": f"sqlite:///{cwd / 'cli.db'}",
            "DANGJIAN_FILES_DIR": str(cwd / "files"), "PREFECT_HOME": str(cwd / "prefect"),
            "NO_COLOR": "1", "COLUMNS": "250"}


def run(*args: str, cwd: Path, timeout: int = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dangjian", *args], cwd=cwd, env={**cli_env(cwd), **(env or {})},
                          capture_output=True, text=True, timeout=timeout, check=False)


def demo_county_with_cycle(workdir: Path, rules: Path = RULES) -> Path:
    """The demo county imported and cycle 2026 planned (through the service: no Prefect server)."""
    assert run("init", cwd=workdir).returncode == 0
    imported = run("org", "import", str(DEMO / "units.csv"), str(DEMO / "members.csv"), cwd=workdir)
    assert imported.returncode == 0, imported.stderr
    created = run("cycle", "create", "2026", "--name", "2026年度考核", "--rules", str(rules),
                  "--root", "620621", "--start", "2026-01-01", "--end", "2026-12-31", cwd=workdir)
    assert created.returncode == 0, created.stderr
    code = ("from dangjian.db import session_scope\n"
            "from dangjian.services.cycles import get_cycle\n"
            "from dangjian.services.planning import plan_cycle\n"
            "with session_scope() as s: plan_cycle(session=s, cycle_id=get_cycle(s, '2026').id)\n")
    subprocess.run([sys.executable, "-c", code], cwd=workdir, env=cli_env(workdir), check=True, timeout=120)
    return workdir


def listed_task_ids(stdout: str) -> list[int]:
    """Task ids from the first column of `dangjian tasks list`."""
    return [int(line.strip("│ ").split(" ")[0]) for line in stdout.splitlines()
            if line.strip("│ ").split(" ")[0].isdigit()]
