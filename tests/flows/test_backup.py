"""scripts/backup_restore_check.py on the demo county: back up, restore elsewhere, and the
restored database gives the same scorecard, an intact audit chain and every evidence file."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli_env, demo_county_with_cycle
from tests.support.db import postgres_url

pytestmark = pytest.mark.flows
ROOT = Path(__file__).resolve().parents[2]
SCORE = ("from datetime import date\nfrom dangjian.db import session_scope\n"
         "from dangjian.services.cycles import get_cycle\nfrom dangjian.services.scoring import score_cycle\n"
         "with session_scope() as s: score_cycle(session=s, cycle_id=get_cycle(s, '2026').id, as_of=date(2026, 11, 30))\n")


def check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    subprocess.run([sys.executable, "-c", SCORE], cwd=cwd, env=env, check=True, timeout=120)
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "backup_restore_check.py"), "--cycle", "2026"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_sqlite_backup_restores_to_the_same_scorecard(tmp_path: Path) -> None:
    demo_county_with_cycle(tmp_path)
    done = check(cli_env(tmp_path), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "恢复核对通过" in done.stdout


@pytest.mark.skipif(not postgres_url(), reason="需要 DANGJIAN_TEST_DATABASE_URL（PostgreSQL）")
def test_a_postgresql_dump_restores_to_the_same_scorecard(tmp_path: Path, committed) -> None:  # type: ignore[no-untyped-def]
    if committed.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from sqlalchemy import text

    with committed.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    env = {**cli_env(tmp_path),
           "DANGJIAN_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"}
    for args in (["org", "import", str(ROOT / "dangjian/demo/data/units.csv"), str(ROOT / "dangjian/demo/data/members.csv")],
                 ["cycle", "create", "2026", "--name", "2026年度考核", "--rules",
                  str(ROOT / "rules/sets/community_branch_basic.yaml"), "--root", "620621",
                  "--start", "2026-01-01", "--end", "2026-12-31"]):
        ran = subprocess.run([sys.executable, "-m", "dangjian", *args], cwd=tmp_path, env=env,
                             capture_output=True, text=True, check=False)
        assert ran.returncode == 0, ran.stderr
    plan = ("from dangjian.db import session_scope\nfrom dangjian.services.cycles import get_cycle\n"
            "from dangjian.services.planning import plan_cycle\n"
            "with session_scope() as s: plan_cycle(session=s, cycle_id=get_cycle(s, '2026').id)\n")
    subprocess.run([sys.executable, "-c", plan], cwd=tmp_path, env=env, check=True, timeout=120)
    done = check(env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "恢复核对通过" in done.stdout
