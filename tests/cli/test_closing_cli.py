"""Closing tasks from the command line: who acts (a branch, or an administrator on its behalf,
named in the audit), evidence checked like a web upload, close-many's problems in one pass."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import demo_county_with_cycle, listed_task_ids, run

BRANCH = "620621-01-01-ZB"       # 东关社区党支部
MEMBERS = "M0001,M0002,M0004,M0005"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return demo_county_with_cycle(tmp_path_factory.mktemp("closing_cli"))


def open_tasks(workdir: Path, duty: str, limit: int = 12) -> list[int]:
    listing = run("tasks", "list", "2026", "--unit", BRANCH, "--duty", duty, "--limit", str(limit), cwd=workdir)
    assert listing.returncode == 0, listing.stderr
    return listed_task_ids(listing.stdout)


def db_state(workdir: Path) -> str:
    """A checksum of every row of every table: equal before and after means nothing was written."""
    with sqlite3.connect(workdir / "cli.db") as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table' order by name")]
        digest = hashlib.sha256()
        for t in tables:
            for row in db.execute(f'select * from "{t}" order by 1'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def close_args(task_id: int, *extra: str) -> list[str]:
    return ["tasks", "close", str(task_id), "--held-on", "2026-01-10", "--topic", "主题党日",
            "--minutes", "记录", "--attendee", MEMBERS, *extra]


def test_closing_without_naming_who_acts_is_refused(workdir):
    task = open_tasks(workdir, "theme_party_day")[0]
    before = db_state(workdir)
    result = run(*close_args(task), cwd=workdir)
    assert result.returncode == 2 and "须用 --branch 写明以哪个支部的身份办理" in result.stderr
    assert "--as-admin --by 姓名" in result.stderr
    anonymous = run(*close_args(task, "--as-admin"), cwd=workdir)
    assert anonymous.returncode == 2 and "须用 --by 写明管理员姓名" in anonymous.stderr
    both = run(*close_args(task, "--as-admin", "--by", "李四", "--branch", BRANCH), cwd=workdir)
    assert both.returncode == 2 and "只能二选一" in both.stderr
    assert db_state(workdir) == before


def test_an_administrator_closes_on_a_branchs_behalf_and_the_audit_says_so(workdir):
    task = open_tasks(workdir, "theme_party_day")[0]         # January's, held on 2026-01-10
    result = run(*close_args(task, "--as-admin", "--by", "李四"), cwd=workdir)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(workdir / "cli.db") as db:
        actors = {r[0] for r in db.execute(
            "select actor from audit_event where action = 'task.close' and entity_id = ?", (str(task),))}
        reporter = db.execute("select reported_by from completion order by id desc limit 1").fetchone()[0]
    assert actors == {"管理员 李四（代支部报送）"} and reporter == "李四"


def test_cli_evidence_is_checked_by_size_and_content_like_an_upload(workdir, tmp_path):
    task = open_tasks(workdir, "theme_party_day")[2]
    empty = tmp_path / "空.jpg"
    empty.write_bytes(b"")
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    huge = tmp_path / "大.pdf"
    with huge.open("wb") as fh:
        fh.write(b"%PDF-1.4")
        fh.truncate(120 * 1024 * 1024)
    before = db_state(workdir)
    result = run(*close_args(task, "--branch", BRANCH, "--evidence", str(empty), "--evidence", str(program),
                             "--evidence", str(huge), "--evidence", str(tmp_path)), cwd=workdir)
    assert result.returncode == 2, result.stderr
    for text in ("“空.jpg”是空文件", "“setup.exe”不是允许的文件类型", "“大.pdf”大小 120.0 MB，超过上限 10 MB",
                 f"“{tmp_path}”是文件夹，不是文件"):
        assert text in result.stderr
    assert "Traceback" not in result.stderr and db_state(workdir) == before


def test_close_many_reports_format_and_validation_problems_in_one_pass(workdir, tmp_path):
    days = open_tasks(workdir, "theme_party_day")
    sheet = tmp_path / "报送.csv"
    sheet.write_text("任务编号,召开日期,会议主题,会议记录,出席党员\n"
                     f"{days[3]},2026/04/31,主题党日,记录,M0001\n"            # line 2: bad date
                     "987654,2026-05-10,主题党日,记录,M0001\n"                  # line 3: no such task
                     f"{days[5]},2026-06-10,主题党日,记录,M0001,多余\n",        # line 4: an extra cell
                     encoding="utf-8")
    before = db_state(workdir)
    result = run("tasks", "close-many", str(sheet), "--branch", BRANCH, cwd=workdir)
    assert result.returncode == 2, result.stderr
    assert "共 3 项，其中 3 项未通过，全部未写入" in result.stderr
    assert "第2行" in result.stderr and "召开日期" in result.stderr
    assert "第3行（任务 #987654）：任务 #987654 不存在" in result.stderr
    assert "第4行" in result.stderr and "多出 1 个单元格" in result.stderr
    assert db_state(workdir) == before
