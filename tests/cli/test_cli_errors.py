"""The command line as users run it: exit codes and Chinese messages on bad input."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import RULES, demo_county_with_cycle, listed_task_ids, run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return demo_county_with_cycle(tmp_path_factory.mktemp("cli"))


def first_task(workdir: Path, branch: str | None, duty: str) -> int:
    unit = ["--unit", branch] if branch else []
    listing = run("tasks", "list", "2026", *unit, "--duty", duty, "--limit", "1", cwd=workdir)
    assert listing.returncode == 0, listing.stderr
    return listed_task_ids(listing.stdout)[0]


def test_rules_check_reports_file_line_and_column_and_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rule_set:\n  code: x\n  code: y\n", encoding="utf-8")
    result = run("rules", "check", str(bad), cwd=tmp_path)
    assert result.returncode != 0
    assert f"{bad}:3:" in result.stderr or "bad.yaml:3:" in result.stderr


def test_shipped_rule_set_checks_and_its_examples_pass(tmp_path):
    assert run("rules", "check", str(RULES), cwd=tmp_path).returncode == 0
    assert run("rules", "test", str(RULES), cwd=tmp_path).returncode == 0


def test_closing_an_unknown_task_exits_non_zero_with_its_id(workdir):
    result = run("tasks", "close", "987654", "--held-on", "2026-03-10", "--topic", "x",
                 "--branch", "620621-01-01-ZB", cwd=workdir)
    assert result.returncode == 3
    assert "#987654 不存在" in result.stderr


def test_closing_another_branchs_task_is_forbidden(workdir):
    task_id = first_task(workdir, None, "theme_party_day")
    result = run("tasks", "close", str(task_id), "--held-on", "2026-01-10", "--topic", "主题党日",
                 "--minutes", "记录", "--attendee", "M0001", "--branch", "620621-01-12-ZB", cwd=workdir)
    assert result.returncode == 4
    assert "无权办理" in result.stderr


def test_a_time_without_a_zone_is_refused(workdir):
    result = run("tasks", "list", "2026", "--period", "2026-03-15T23:30", cwd=workdir)
    assert result.returncode == 2
    assert "没有时区" in result.stderr


def test_unknown_cycle_names_the_cycles_that_exist(workdir):
    result = run("tasks", "list", "2027", cwd=workdir)
    assert result.returncode == 3
    assert "未知的考核周期：2027" in result.stderr and "2026" in result.stderr


def test_sweeping_as_of_a_future_date_is_refused(workdir):
    result = run("sweep", "2026", "--as-of", "2099-01-01", cwd=workdir)
    assert result.returncode == 2
    assert "晚于今天" in result.stderr


def test_an_unknown_acting_branch_is_named(workdir):
    task_id = first_task(workdir, None, "theme_party_day")
    result = run("tasks", "close", str(task_id), "--held-on", "2026-01-10", "--topic", "主题党日",
                 "--minutes", "记录", "--attendee", "M0001", "--branch", "NOPE", cwd=workdir)
    assert result.returncode == 3
    assert "未知的组织：NOPE" in result.stderr


def test_what_if_with_a_broken_draft_shows_its_errors_and_writes_nothing(workdir, tmp_path):
    draft = tmp_path / "draft.yaml"
    draft.write_text(RULES.read_text(encoding="utf-8").replace("method: duty_deduction", "method: duty_deductoin", 1),
                     encoding="utf-8")
    result = run("score", "2026", "--rules", str(draft), "--what-if", "--as-of", "2026-06-30", cwd=workdir)
    assert result.returncode == 2
    assert "draft.yaml:" in result.stderr and "duty_deductoin" in result.stderr


def test_what_if_with_a_valid_draft_lists_every_branch(workdir, tmp_path):
    draft = tmp_path / "draft.yaml"
    draft.write_text(RULES.read_text(encoding="utf-8").replace("missed: 5", "missed: 6", 1), encoding="utf-8")
    result = run("score", "2026", "--rules", str(draft), "--what-if", "--as-of", "2026-06-30", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "共 12 个单位" in result.stdout and "未写入任何评分结果" in result.stdout
