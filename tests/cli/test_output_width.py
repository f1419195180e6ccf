"""At 80 columns every line fits, and nothing a user must read whole is cut or split:
due dates, ids, `file:line` locations, a number with its unit, help texts."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from dangjian.reports.wrapping import Paragraph, Table, Wrapped
from tests.support.cli import cli_env, demo_county_with_cycle

DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = demo_county_with_cycle(tmp_path_factory.mktemp("width"))
    code = ("from datetime import date\nfrom dangjian.db import session_scope\n"
            "from dangjian.services.cycles import get_cycle\nfrom dangjian.services.scoring import score_cycle\n"
            "with session_scope() as s: score_cycle(session=s, cycle_id=get_cycle(s, '2026').id, "
            "as_of=date(2026, 6, 30))\n")
    subprocess.run([sys.executable, "-c", code], cwd=workdir, env=cli_env(workdir), check=True, timeout=120)
    return workdir


def run80(*args: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "dangjian", *args], cwd=cwd,
                            env={**cli_env(cwd), "COLUMNS": "80"},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    too_wide = [line for line in result.stdout.splitlines() if cell_len(line) > 80]
    assert not too_wide, too_wide
    return result.stdout


def test_tasks_list_at_80_columns_shows_every_due_date_whole(workdir):
    text = run80("tasks", "list", "2026", "--limit", "30", cwd=workdir)
    rows = [line for line in text.splitlines() if line.strip("│ ").split(" ")[0].isdigit()]
    assert len(rows) == 30
    assert all(DATE.search(row) for row in rows)      # each row's own line carries its due date
    assert "…" not in text


def test_explain_at_80_columns_keeps_every_file_and_line_whole(workdir):
    text = run80("scorecard", "2026", "--explain", "--unit", "620621-01-01-ZB", cwd=workdir)
    locations = re.findall(r"community_branch_basic\.yaml:\d+", text)
    assert "community_branch_basic.yaml:141" in locations
    assert len(locations) == text.count(".yaml")      # no location broken across lines


@pytest.mark.parametrize("command", [("--help",), ("tasks", "--help"), ("tasks", "close-many", "--help"),
                                     ("tasks", "close", "--help"), ("members", "--help")])
def test_help_at_80_columns_wraps_instead_of_cutting(workdir, command):
    text = run80(*command, cwd=workdir)
    assert not [line for line in text.splitlines() if line.rstrip(" │").endswith("…")]
    if "close-many" in command:
        flat = re.sub(r"\s*│\s*", "", text)
        for column in ("任务编号/task_id", "召开日期/held_on", "佐证材料/evidence", "报送人/reported_by"):
            assert column in flat and column in text, column


def test_a_narrow_cell_breaks_between_chinese_characters_not_inside_words_or_numbers():
    table = Table("编号", "说明")
    table.add_row("1", "实到 14 名，须超过半数（至少 15 名）；规则集 community-branch-review 第 2026.1 版")
    console = Console(width=36, record=True)
    console.print(table)
    lines = console.export_text().splitlines()
    assert all(cell_len(line) <= 36 for line in lines)
    assert any("14 名" in line for line in lines) and any("community-branch-review" in line for line in lines)
    assert not any(line.split("│")[2].strip().startswith(("，", "）", "；")) for line in lines[3:-1])


def test_a_piece_wider_than_the_column_is_folded_as_a_last_resort():
    console = Console(width=10, record=True)
    table = Table("x", box=None, padding=0)
    table.add_row(Wrapped("abcdefghijklmnopqrstuvwxyz"))
    console.print(table)
    assert "".join(console.export_text().split()) == "xabcdefghijklmnopqrstuvwxyz"


def test_a_message_on_a_soft_wrapping_console_wraps_under_its_bullet_keeping_paths_whole():
    console = Console(width=40, soft_wrap=True, record=True)
    console.print(Paragraph("第3行：实到 14 名，须超过半数（至少 14 名）；佐证材料文件不存在："
                            "/tmp/x/community_branch_basic.yaml", "  - "))
    lines = console.export_text().splitlines()
    assert lines[0].startswith("  - 第3行") and all(line.startswith("    ") for line in lines[1:])
    assert all(cell_len(line) <= 40 for line in lines)
    assert "    /tmp/x/community_branch_basic.yaml" in lines and any("14 名" in line for line in lines)
