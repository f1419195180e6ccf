"""Messages for everyday mistakes: files in Excel's Chinese encoding, folders for files,
days that do not exist, output into a new folder; and no Python internals in the text."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dangjian.errors import ValidationFailed
from dangjian.services.rule_sets import register_rule_set
from dangjian.services.scoring_inputs import MetricEntry, set_metric_values, shown_range
from tests.support.builders import RULES, county, planned_cycle
from tests.support.cli import DEMO, cli_env, demo_county_with_cycle, listed_task_ids, run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return demo_county_with_cycle(tmp_path_factory.mktemp("messages"))


def first_open_task(workdir: Path, duty: str) -> int:
    listing = run("tasks", "list", "2026", "--duty", duty, "--limit", "1", cwd=workdir)
    assert listing.returncode == 0, listing.stderr
    return listed_task_ids(listing.stdout)[0]


def gbk_copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_text(encoding="utf-8-sig").encode("gb18030"))
    return target


def test_a_gbk_roster_from_excel_imports(workdir, tmp_path):
    result = run("org", "import", str(gbk_copy(DEMO / "units.csv", tmp_path / "units.csv")),
                 str(gbk_copy(DEMO / "members.csv", tmp_path / "members.csv")), cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "导入完成" in result.stdout


def test_a_gbk_metrics_file_is_read_and_its_rows_checked(workdir, tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_bytes("对象编码,指标,值\n620621-01-01-ZB,群众满意率,95\n".encode("gbk"))
    result = run("metrics", "import", "2026", str(csv), cwd=workdir)
    assert "Traceback" not in result.stderr
    assert result.returncode == 3 and "未知的指标 群众满意率" in result.stderr   # decoded, then checked


def test_a_file_in_no_known_encoding_is_named_and_refused(workdir, tmp_path):
    csv = tmp_path / "metrics.csv"
    csv.write_bytes(b"\xff\xfe\x00\xd8\x81\x30")
    result = run("metrics", "import", "2026", str(csv), cwd=workdir)
    assert result.returncode == 2
    assert f"{csv}：无法识别的文件编码" in result.stderr


def test_a_missing_units_file_is_one_error_not_one_per_member(workdir, tmp_path):
    result = run("org", "import", str(tmp_path / "units.csv"), str(DEMO / "members.csv"), cwd=workdir)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [f"错误：文件不存在：{tmp_path / 'units.csv'}"]


def test_a_day_that_does_not_exist_is_called_so(workdir):
    task_id = first_open_task(workdir, "theme_party_day")
    result = run("tasks", "close", str(task_id), "--held-on", "2026-02-30", "--topic", "主题党日",
                 "--as-admin", "--by", "测试", cwd=workdir)
    assert result.returncode == 2
    assert "2026-02-30 不是有效日期" in result.stderr and "请写成" not in result.stderr


def test_a_folder_given_as_evidence_is_called_a_folder(workdir, tmp_path):
    task_id = first_open_task(workdir, "theme_party_day")
    result = run("tasks", "close", str(task_id), "--held-on", "2026-01-10", "--topic", "主题党日",
                 "--minutes", "记录", "--attendee", "M0001", "--evidence", str(tmp_path),
                 "--as-admin", "--by", "测试", cwd=workdir)
    assert result.returncode != 0
    assert f"{tmp_path}”是文件夹" in result.stderr and "文件不存在" not in result.stderr


def test_scorecard_output_into_a_new_folder_creates_it(workdir, tmp_path):
    code = ("from datetime import date\nfrom dangjian.db import session_scope\n"
            "from dangjian.services.cycles import get_cycle\nfrom dangjian.services.scoring import score_cycle\n"
            "with session_scope() as s: score_cycle(session=s, cycle_id=get_cycle(s, '2026').id, "
            "as_of=date(2026, 6, 30))\n")
    subprocess.run([sys.executable, "-c", code], cwd=workdir, env=cli_env(workdir), check=True, timeout=120)
    target = tmp_path / "missing" / "dir" / "x.json"
    result = run("scorecard", "2026", "--format", "json", "--output", str(target), cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["cycle"]["code"] == "2026"
    blocked = run("scorecard", "2026", "--format", "json", "--output", str(target / "y.json"), cwd=workdir)
    assert blocked.returncode == 2 and f"无法创建输出文件夹 {target}" in blocked.stderr


def test_a_range_open_at_the_top_reads_as_words_not_a_python_list(session):
    cycle = planned_cycle(session, county(session))
    cycle.rule_set_id = register_rule_set(session=session, path=RULES.parent / "community_target_responsibility.yaml",
                                          actor="测试").id
    session.add(cycle)
    session.commit()
    with pytest.raises(ValidationFailed) as error:
        set_metric_values(session=session, cycle_code="2026", entered_by="组织科",
                          entries=[MetricEntry("B1", "党员人数", -1)])
    assert "超出范围（0 及以上）" in str(error.value) and "None" not in str(error.value)


def test_ranges_and_numbers_print_as_a_reader_writes_them():
    assert shown_range(0.0, 100.0) == "0–100"
    assert shown_range(None, 5) == "5 及以下"
    assert shown_range(0.0, float("inf")) == "0–无穷大"


def test_a_csv_cell_over_the_size_limit_is_refused_in_chinese_by_line(workdir, tmp_path):
    long_cell = tmp_path / "metrics.csv"
    long_cell.write_text("对象编码,指标,值\n620621-01-01-ZB," + "长" * 200_000 + ",1\n", encoding="utf-8")
    result = run("metrics", "import", "2026", str(long_cell), cwd=workdir)
    assert result.returncode == 2, result.stderr
    assert "metrics.csv 第2行：单元格超过 131072 个字符" in result.stderr and "field" not in result.stderr


def test_a_database_url_naming_a_file_that_is_not_a_database_says_so(workdir, tmp_path):
    not_db = tmp_path / "notes.db"
    not_db.write_text("这不是数据库\n" * 100, encoding="utf-8")
    result = run("tasks", "list", "2026", cwd=workdir, env={"DANGJIAN_DATABASE_URL": f"sqlite:///{not_db}"})
    assert result.returncode == 3, result.stderr
    assert "指向的文件不是数据库" in result.stderr and "内部错误" not in result.stderr
