"""Generated CSV files through `metrics import` and `tasks close-many` as users run them: a
documented exit code, never a traceback, and a refusal leaves the database file's rows as they were."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_closing_cli import db_state
from tests.support.cli import RULES, demo_county_with_cycle, listed_task_ids, run

TARGET = RULES.parent / "community_target_responsibility.yaml"
EXIT_CODES = {0, 2, 3, 4, 5, 7}
SETTINGS = settings(max_examples=8, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)
BRANCH = "620621-01-01-ZB"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return demo_county_with_cycle(tmp_path_factory.mktemp("props_cli"), TARGET)


@pytest.fixture(scope="module")
def task_ids(workdir):
    listing = run("tasks", "list", "2026", "--unit", BRANCH, "--limit", "20", cwd=workdir)
    return listed_task_ids(listing.stdout)


def as_bytes(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


def assert_contained(workdir, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    before = db_state(workdir)
    result = run(*args, cwd=workdir)
    assert result.returncode in EXIT_CODES, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    if result.returncode != 0 and "--partial" not in args:     # --partial writes the good rows
        assert db_state(workdir) == before, result.stderr


CELL = st.sampled_from([BRANCH, "620621", "M0001", "群众满意率", "发展党员数", "satisfaction_rate", "nan",
                        "inf", "1e300", "3.5", "96", "", "2026-03-10", "2026-02-30"]) | TEXT


@SETTINGS
@given(rows=st.lists(st.lists(CELL, min_size=2, max_size=5), max_size=4),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
def test_metrics_import_of_any_csv_exits_with_a_code_and_no_traceback(workdir, tmp_path, rows, encoding):
    path = tmp_path / "指标.csv"
    path.write_bytes(as_bytes(["对象编码", "指标", "值", "说明"], rows, encoding))
    assert_contained(workdir, ["metrics", "import", "2026", str(path)])


@SETTINGS
@given(data=st.data())
def test_close_many_of_any_csv_exits_with_a_code_and_no_traceback(workdir, task_ids, tmp_path, data):
    ids = st.sampled_from([str(i) for i in task_ids] + ["987654", "x", ""])
    row = st.tuples(ids, st.sampled_from(["2026-01-10", "2026-02-10", "2026/13/01", ""]) | TEXT,
                    st.just("主题党日") | TEXT, TEXT, st.just("M0001;M0002") | TEXT, st.just("") | TEXT,
                    st.lists(TEXT, max_size=1))
    rows = [[*r[:6], *r[6]] for r in data.draw(st.lists(row, min_size=1, max_size=3))]
    path = tmp_path / "报送.csv"
    path.write_bytes(as_bytes(["任务编号", "召开日期", "会议主题", "会议记录", "出席党员", "佐证材料"], rows,
                              data.draw(st.sampled_from(["utf-8", "gb18030"]))))
    who = data.draw(st.sampled_from([["--branch", BRANCH], ["--as-admin", "--by", "李四"], ["--partial", "--branch", BRANCH]]))
    assert_contained(workdir, ["tasks", "close-many", str(path), *who])
