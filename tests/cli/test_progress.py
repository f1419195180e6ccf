"""Commands that run a Prefect flow: bad input is refused before Prefect starts, and while a
flow works the command says so on stderr (stdout stays the result)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli_env, demo_county_with_cycle, run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return demo_county_with_cycle(tmp_path_factory.mktemp("progress"))


def run_in_fresh_prefect_home(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(cwd), "PREFECT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "dangjian", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def prefect_server_started(home: Path) -> bool:
    """The ephemeral server's first act is to create its database under PREFECT_HOME."""
    return home.exists() and any(p.name.startswith("prefect.db") or p.name == "server.log"
                                 for p in home.iterdir())


@pytest.mark.parametrize("command", [
    ("plan", "2027"), ("score", "2027"), ("chase", "2027"), ("close-cycle", "2027"), ("sweep", "2027"),
    ("score", "2027", "--rules", "draft.yaml", "--what-if"),
])
def test_an_unknown_cycle_is_refused_before_prefect_starts(workdir, tmp_path, command):
    home = tmp_path / "prefect"
    if "--rules" in command:
        (workdir / "draft.yaml").write_text("rule_set: {}\n", encoding="utf-8")
    result = run_in_fresh_prefect_home(*command, cwd=workdir, home=home)
    assert result.returncode == 3, result.stderr
    assert "未知的考核周期：2027" in result.stderr
    assert not prefect_server_started(home)


@pytest.mark.parametrize("command", [("score", "2026", "--rules", "missing.yaml"),
                                     ("score", "2026", "--rules", "missing.yaml", "--what-if")])
def test_a_missing_rule_file_is_refused_before_prefect_starts(workdir, tmp_path, command):
    home = tmp_path / "prefect"
    result = run_in_fresh_prefect_home(*command, cwd=workdir, home=home)
    assert result.returncode == 3, result.stderr
    assert "文件不存在：missing.yaml" in result.stderr
    assert not prefect_server_started(home)


@pytest.mark.parametrize("command", ["plan", "score", "chase", "close-cycle", "sweep"])
def test_a_date_that_does_not_exist_is_refused_before_prefect_starts(workdir, tmp_path, command):
    home = tmp_path / "prefect"
    result = run_in_fresh_prefect_home(command, "2026", "--as-of", "2026-02-30", cwd=workdir, home=home)
    assert result.returncode == 2, result.stderr
    assert "2026-02-30 不是有效日期" in result.stderr
    assert not prefect_server_started(home)


def test_plan_says_what_it_does_on_stderr_and_counts_what_it_wrote(workdir):
    result = run("plan", "2026", cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "正在计划 2026 周期…" and "正在启动流程引擎…" in lines
    assert "计划完成：1 个周期，12 个单位，写入任务 0 条" in lines     # planned by the fixture already
    assert "正在" not in result.stdout and "周期 2026：新增任务 0 条" in result.stdout
    assert "\x1b" not in result.stderr       # not a terminal: plain lines, no spinner


def test_score_counts_the_units_it_scored(workdir):
    result = run("score", "2026", "--as-of", "2026-06-30", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "正在为 2026 周期评分…"
    assert "已评分 12 个单位" in result.stderr
