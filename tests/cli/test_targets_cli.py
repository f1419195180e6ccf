"""`dangjian targets …` as users run it: the year's targets from setting to the metric."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "dangjian" / "demo" / "data"
RULES = ROOT / "rules" / "sets" / "community_target_responsibility.yaml"
STREET = "620621-01"
EAST, WEST = "620621-01-01", "620621-01-02"
EAST_BRANCH = "620621-01-01-ZB"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DANGJIAN_DATABASE_URL": f"sqlite:///{cwd / 'cli.db'}",
           "DANGJIAN_FILES_DIR": str(cwd / "files"), "NO_COLOR": "1", "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "dangjian", *args], cwd=cwd, env=env,
                          capture_output=True, check=False, text=True, timeout=120)


def ok(*args: str, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("targets_cli")
    ok("init", cwd=d)
    ok("org", "import", str(DEMO / "units.csv"), str(DEMO / "members.csv"), cwd=d)
    ok("cycle", "create", "2026", "--name", "2026年度目标责任制考核", "--rules", str(RULES),
       "--root", "620621", "--start", "2026-01-01", "--end", "2026-12-31", cwd=d)
    return d


def test_a_target_goes_from_the_district_to_a_branch_metric(workdir):
    d = workdir
    assert "已设定目标 develop：发展党员 30 人（进度写入指标 new_members）" in ok(
        "targets", "set", "2026", "develop", "--name", "发展党员", "--total", "30", "--unit", "人",
        "--metric", "new_members", cwd=d)
    ok("targets", "split", "2026", "develop", "--from", "620621", "--to", f"{STREET}=10:王镇:党委书记", cwd=d)
    shares = d / "shares.csv"
    shares.write_text(f"单位编码,分解数,负责人,职务\n{EAST},6,张东,社区党委书记\n{WEST},3,李西,\n",
                      encoding="utf-8-sig")
    assert "已分解 2 个单位" in ok("targets", "split", "2026", "develop", "--from", STREET, "--file",
                                   str(shares), cwd=d)
    ok("targets", "split", "2026", "develop", "--from", EAST, "--to", f"{EAST_BRANCH}＝6：张东：支部书记", cwd=d)

    over = run("targets", "split", "2026", "develop", "--from", STREET, "--to", f"{WEST}=5:李西", cwd=d)
    assert over.returncode == 2
    assert "下级合计 11 人（东关社区 6 + 西关社区 5），超出 1 人" in over.stderr

    assert "已下达目标责任书 4 份" in ok("targets", "letters", "2026", "--due", "2026-03-31",
                                         "--on", "2026-02-10", cwd=d)
    assert "由 张东 签订" in ok("targets", "sign", "2026", EAST, "--on", "2026-03-01", "--by", "张东", cwd=d)
    ok("targets", "report", "2026", "develop", EAST_BRANCH, "2", "--on", "2026-06-30", "--by", "组织委员", cwd=d)
    down = run("targets", "report", "2026", "develop", EAST_BRANCH, "1", "--on", "2026-07-01", "--by", "组织委员",
               cwd=d)
    assert down.returncode == 2 and "须说明原因" in down.stderr

    shown = ok("targets", "show", "2026", "--as-of", "2026-06-30", cwd=d)
    for heading in ("目标", "分解数", "已完成", "完成率", "负责人", "责任书"):
        assert heading in shown
    east = next(line for line in shown.splitlines() if f"（{EAST}）" in line)
    assert "2（下级合计）" in east and "张东（社区党委书记）" in east and "已签订 2026-03-01" in east
    assert "逾期未签" in next(line for line in shown.splitlines() if f"（{WEST}）" in line)

    fed = ok("targets", "feed", "2026", cwd=d)
    assert f"{EAST_BRANCH} new_members = 2" in fed
    assert EAST in fed and "不是本周期规则集的考核对象" not in fed
