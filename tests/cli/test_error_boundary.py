"""No traceback ever reaches a user: before `init`, with a broken DANGJIAN_DATABASE_URL, on an
unexpected error and on Ctrl-C, every command says one short Chinese thing and exits with the
README's code."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import DEMO, RULES, cli_env, demo_county_with_cycle, run
from tests.support.db import postgres_url

# One command of every top-level family, with arguments that parse: the database is the problem.
FAMILIES = [
    ["plan", "2026"], ["close-cycle", "2026"], ["sweep"], ["score", "2026"],
    ["publish", "2026", "--version", "1"], ["scorecard", "2026"], ["web"], ["chase"], ["serve"],
    ["org", "import", str(DEMO / "units.csv")], ["rules", "load", str(RULES)], ["cycle", "list"],
    ["tasks", "list", "2026"], ["channels", "list"], ["warnings", "list"], ["review", "history", "1"],
    ["members", "dues", "M0001"], ["develop", "show", "1"], ["targets", "show", "2026"],
    ["metrics", "set", "2026", "B1", "m", "1"], ["manual", "set", "2026", "B1", "i", "1"],
    ["users", "list"], ["audit", "verify"], ["db", "status"],
]


def run_with(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dangjian", *args], cwd=cwd, env={**cli_env(cwd), **env},
                          capture_output=True, text=True, timeout=120, check=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_command_before_init_says_so_and_creates_no_database(tmp_path):
    wrong = []
    for args in FAMILIES:
        result = run(*args, cwd=tmp_path)
        if result.returncode != 3 or "Traceback" in result.stderr + result.stdout \
                or "数据库尚未初始化" not in result.stderr or "dangjian init" not in result.stderr:
            wrong.append(f"{args}: {result.returncode} {result.stderr[-300:]}")
    assert wrong == []
    assert not (tmp_path / "cli.db").exists()


def test_every_command_with_an_unreachable_database_names_it_with_the_password_masked(tmp_path):
    url = f"postgresql://dangjian:s3cret@127.0.0.1:{closed_port()}/dangjian"
    wrong = []
    # serve is the exception: it starts anyway and rides the outage out (tests/flows/test_schedules.py)
    for args in [["init"], *(f for f in FAMILIES if f[0] != "serve")]:
        result = run_with(args, tmp_path, DANGJIAN_DATABASE_URL=url)
        shown = result.stderr + result.stdout
        if result.returncode != 3 or "Traceback" in shown or "s3cret" in shown \
                or "postgresql://dangjian:***@127.0.0.1" not in result.stderr or "连接被拒绝" not in result.stderr:
            wrong.append(f"{args}: {result.returncode} {result.stderr[-300:]}")
    assert wrong == []


@pytest.mark.parametrize(("url", "code", "said"), [
    ("garbage", 2, "DANGJIAN_DATABASE_URL 无法识别：garbage"),
    ("mysql://u:pw@localhost/db", 2, "不支持的数据库类型 mysql"),
    ("sqlite:////no/such/folder/x.db", 3, "数据库文件所在的目录不存在：/no/such/folder"),
])
@pytest.mark.parametrize("command", [["init"], ["tasks", "list", "2026"], ["plan", "2026"]])
def test_a_broken_database_url_is_one_chinese_line(tmp_path, url, code, said, command):
    result = run_with(command, tmp_path, DANGJIAN_DATABASE_URL=url)
    assert result.returncode == code, result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


@pytest.mark.skipif(not postgres_url(), reason="需要 DANGJIAN_TEST_DATABASE_URL（PostgreSQL）")
def test_a_missing_postgresql_database_is_named(tmp_path):
    base = str(postgres_url()).rsplit("/", 1)[0]
    result = run_with(["tasks", "list", "2026"], tmp_path, DANGJIAN_DATABASE_URL=f"{base}/no_such_db_here")
    assert result.returncode == 3
    assert "no_such_db_here：数据库不存在" in result.stderr and "Traceback" not in result.stderr


def test_an_unexpected_error_shows_an_error_id_and_logs_the_traceback_under_it(tmp_path):
    logs = tmp_path / "logs"
    result = run_with(["cycle", "list"], tmp_path, DANGJIAN_DB_POOL_SIZE="many", DANGJIAN_LOG_DIR=str(logs))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    found = re.search(r"内部错误（编号 ([0-9a-f]{8})", result.stderr)
    assert found, result.stderr
    assert str(logs / "errors.log") in result.stderr
    log = (logs / "errors.log").read_text(encoding="utf-8")
    assert f"--- {found.group(1)} " in log and "Traceback" in log and "dangjian cycle list" in log


# --- Ctrl-C and kill -9 --------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(proc.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[0] != "Z"


def wait_until(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{timeout:.0f} 秒内未见：{what}")


def has_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(fd) == str(path) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dangjian", *args], cwd=cwd, env=cli_env(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return demo_county_with_cycle(tmp_path_factory.mktemp("county"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_plan_with_sigkill_leaves_no_prefect_server_behind(county):
    command = start(["plan", "2026"], county)
    servers: list[int] = []
    try:
        servers = wait_until(lambda: children_of(command.pid), 120, "plan 启动的 Prefect 服务器子进程")
        command.kill()
        command.wait(timeout=30)
        wait_until(lambda: not any(alive(s) for s in servers), 60, f"Prefect 服务器（pid {servers}）随 plan 一起退出")
    finally:
        if command.poll() is None:
            command.kill()
        for pid in servers:          # an orphan left by a failing run must not outlive the test
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_during_plan_exits_130_quietly_and_stops_its_server(county):
    command = start(["plan", "2026"], county)
    server = wait_until(lambda: children_of(command.pid), 120, "plan 启动的 Prefect 服务器子进程")[0]
    command.send_signal(signal.SIGINT)
    out, err = command.communicate(timeout=120)
    assert command.returncode == 130, err
    assert err.strip().splitlines()[-1] == "已中断" and "Traceback" not in out + err
    wait_until(lambda: not alive(server), 60, f"Prefect 服务器（pid {server}）退出")


def big_roster(folder: Path, members: int) -> Path:
    """The demo roster with many more members (unique numbers), so an import runs for a while."""
    lines = (DEMO / "members.csv").read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    out = [header]
    for n in range(members):
        cells = rows[n % len(rows)].split(",")
        cells[0] = f"X{n:07d}"
        out.append(",".join(cells))
    path = folder / "members-big.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_ctrl_c_during_org_import_exits_130_quietly_and_writes_nothing(tmp_path):
    assert run("init", cwd=tmp_path).returncode == 0
    roster = big_roster(tmp_path, 200_000)
    command = start(["org", "import", str(DEMO / "units.csv"), str(roster)], tmp_path)
    # Once it has the database open it is past startup, inside the command.
    wait_until(lambda: has_open(command.pid, tmp_path / "cli.db") or command.poll() is not None, 120,
               "org import 打开数据库")
    command.send_signal(signal.SIGINT)
    out, err = command.communicate(timeout=120)
    assert command.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1] == "已中断" and "Traceback" not in out + err
    code = ("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
            "print(c.execute('select count(*) from member').fetchone()[0], c.execute('select count(*) from unit').fetchone()[0])")
    counts = subprocess.run([sys.executable, "-c", code, str(tmp_path / "cli.db")], capture_output=True, text=True,
                            check=True).stdout.split()
    assert counts == ["0", "0"], f"中断后写入了数据：{counts}"
