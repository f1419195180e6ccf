"""`dangjian demo` end to end, as the README runs it (real Prefect flows on a temporary server)."""
from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pytest

from tests.support.cli import cli_env

pytestmark = pytest.mark.flows


def test_the_demo_runs_a_whole_year_and_writes_a_ranked_scorecard(tmp_path):
    demo_dir = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "dangjian", "demo", "--dir", str(demo_dir)],
                            cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "演示完成" in result.stdout and "未达到法定人数" in result.stdout
    doc = json.loads((demo_dir / "scorecard-2026.json").read_text(encoding="utf-8"))
    assert len(doc["units"]) == 12 and doc["run"]["published"]
    ranks = [u["rank_overall"] for u in doc["units"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    silent = min(doc["units"], key=lambda u: u["total"])
    assert silent["grade"] == "不合格"          # the branch that fell silent after May
    book = openpyxl.load_workbook(demo_dir / "scorecard-2026.xlsx")
    assert {"评分排名", "评分明细"} <= set(book.sheetnames)
