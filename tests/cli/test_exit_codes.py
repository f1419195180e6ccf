"""One exit-code scheme for every command (README, "出错时命令以非零状态退出"): 2 invalid input and
usage errors, 3 not found (a missing input file too), 7 partially done; typer's own words in
Chinese; negative numbers taken as values."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import DEMO, RULES, demo_county_with_cycle, listed_task_ids, run

MISSING = "/no/such/dir/missing.csv"
TARGET_RULES = RULES.parent / "community_target_responsibility.yaml"
ENGLISH = ("Usage:", "Try '", "Error", "Missing argument", "Missing option", "No such option", "No such command",
           "Invalid value", "Got unexpected extra", "Show this message and exit", "Traceback", "Aborted")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = demo_county_with_cycle(tmp_path_factory.mktemp("exit_codes"))
    created = run("cycle", "create", "2027", "--name", "2027年度目标考核", "--rules", str(TARGET_RULES),
                  "--root", "620621", "--start", "2027-01-01", "--end", "2027-12-31", cwd=d)
    assert created.returncode == 0, created.stderr
    return d


HUGE = "99999999999999999999"
ADMIN = ["--as-admin", "--by", "测试"]      # closing from the CLI names who acts


def codes(cases: list[list[str]], workdir: Path) -> dict[str, tuple[int, str]]:
    found = {}
    for args in cases:
        result = run(*args, cwd=workdir)
        found[" ".join(args)] = (result.returncode, result.stderr[-300:])
    return found


def wrong(found: dict[str, tuple[int, str]], expected: int) -> dict[str, tuple[int, str]]:
    return {k: v for k, v in found.items() if v[0] != expected or "Traceback" in v[1]}


def test_a_missing_input_file_is_not_found_in_every_command(workdir):
    cases = [
        ["org", "import", MISSING], ["org", "import", str(DEMO / "units.csv"), MISSING],
        ["rules", "check", MISSING], ["rules", "test", MISSING], ["rules", "load", MISSING],
        ["cycle", "create", "2030", "--name", "x", "--rules", MISSING, "--root", "620621",
         "--start", "2030-01-01", "--end", "2030-12-31"],
        ["score", "2026", "--rules", MISSING, "--what-if"], ["metrics", "import", "2026", MISSING],
        ["tasks", "close-many", MISSING, *ADMIN],
        ["tasks", "close", "1", "--held-on", "2026-03-01", "--topic", "x", "--minutes", "y", "--evidence", MISSING,
         *ADMIN],
        ["tasks", "close", "1", "--held-on", "2026-03-01", "--topic", "x", "--minutes-file", MISSING, *ADMIN],
        ["targets", "sign", "2026", "620621", "--by", "x", "--evidence", MISSING],
        ["serve", "--prefect-file", MISSING],
    ]
    found = codes(cases, workdir)
    assert wrong(found, 3) == {}
    assert all("missing.csv" in stderr for _code, stderr in found.values())


def test_an_unknown_id_or_code_is_not_found_in_every_command(workdir):
    cases = [
        ["tasks", "list", "2099"], ["scorecard", "2099"], ["targets", "show", "2099"],
        ["tasks", "close", "987654", "--held-on", "2026-03-10", "--topic", "x", *ADMIN],
        ["metrics", "set", "2027", "NOPE", "群众满意率", "80"], ["metrics", "set", "2027", "620621-01-01-ZB", "满意度", "80"],
        ["manual", "set", "2027", "NOPE", "street_appraisal", "30"],
        ["manual", "set", "2027", "620621-01-01-ZB", "nope", "3"],
        ["members", "dues", "NOPE"], ["develop", "show", "99999"], ["channels", "disable", "9999"],
        ["users", "deactivate", "nobody"], ["publish", "2026", "--version", "99"], ["review", "history", "999999"],
        ["db", "downgrade", "9999", "--yes"],
        # ids no row can have (beyond the INTEGER columns, beyond 64 bits): not found, not a crash
        ["tasks", "correct", HUGE, "--held-on", "2026-03-10", "--topic", "x", *ADMIN],
        ["tasks", "waive", HUGE, "--reason", "x", "--until", "2026-12-31", "--unit", "620621-01", "--by", "y"],
        ["develop", "show", HUGE],
        ["review", "return", HUGE, "--unit", "620621-01", "--by", "x", "--reason", "y"],
        ["review", "accept", "4294967296", "--unit", "620621-01", "--by", "x"],
    ]
    assert wrong(codes(cases, workdir), 3) == {}


def test_usage_errors_are_invalid_input_and_in_chinese(workdir):
    cases = [["tasks", "close"], ["plan", "--bogus"], ["metrics", "set", "2026", "a", "b", "x"],
             ["scorecard", "2026", "--format", "bad"], ["taks"], ["tasks", "list", "2026", "--limit"],
             ["tasks", "list", "2026", "extra"], ["tasks"], ["rules", "test", str(RULES), "--bogus"]]
    found = codes(cases, workdir)
    assert wrong(found, 2) == {}
    english = {k: [w for w in ENGLISH if w in stderr] for k, (_c, stderr) in found.items()}
    assert {k: v for k, v in english.items() if v} == {}


def test_typers_messages_and_help_read_in_chinese(workdir):
    missing = run("tasks", "close", cwd=workdir)
    assert "用法：dangjian tasks close" in missing.stderr and "缺少参数 'task_ids'" in missing.stderr
    assert "运行 'dangjian tasks close --help' 查看帮助" in missing.stderr and "错误" in missing.stderr
    bogus = run("plan", "--bogus", cwd=workdir)
    assert "没有选项 --bogus" in bogus.stderr
    helped = run("tasks", "close", "--help", cwd=workdir)
    assert helped.returncode == 0
    assert "显示本帮助并退出" in helped.stdout and "参数" in helped.stdout and "选项" in helped.stdout
    assert [w for w in ENGLISH if w in helped.stdout] == []
    top = run("--help", cwd=workdir)
    assert "命令" in top.stdout and [w for w in ENGLISH if w in top.stdout] == []


def test_negative_numbers_are_values_and_later_options_still_parse(workdir):
    metric = run("metrics", "set", "2027", "620621-01-01-ZB", "群众满意率", "-5", "--note", "测试", cwd=workdir)
    assert metric.returncode == 2, metric.stderr
    assert "No such option" not in metric.stderr and "超出" in metric.stderr and "-5" in metric.stderr
    manual = run("manual", "set", "2027", "620621-01-01-ZB", "street_appraisal", "-0.5", "--note", "测试",
                 cwd=workdir)
    assert manual.returncode == 2, manual.stderr
    assert "-0.5" in manual.stderr and "超出规则允许的范围" in manual.stderr
    stored = run("metrics", "set", "2027", "620621-01-01-ZB", "群众满意率", "85", "--note", "测试", cwd=workdir)
    assert stored.returncode == 0, stored.stderr
    unknown_option = run("metrics", "set", "2027", "620621-01-01-ZB", "群众满意率", "5", "-x", cwd=workdir)
    assert unknown_option.returncode == 2 and "没有选项 -x" in unknown_option.stderr


def test_close_many_partial_that_wrote_rows_exits_7(workdir, tmp_path):
    listing = run("tasks", "list", "2026", "--unit", "620621-01-01-ZB", "--duty", "theme_party_day", "--limit", "1",
                  cwd=workdir)
    (day,) = listed_task_ids(listing.stdout)
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"\xff\xd8\xffphoto")
    rows = tmp_path / "rows.csv"
    rows.write_text("任务编号,召开日期,会议主题,会议记录,出席党员,佐证材料\n"
                    f"{day},2026-01-10,主题党日,记录,M0001;M0002,照片.jpg\n"
                    "987654,2026-02-10,主题党日,记录,M0001,\n", encoding="utf-8")
    result = run("tasks", "close-many", str(rows), "--partial", "--branch", "620621-01-01-ZB", cwd=workdir)
    assert result.returncode == 7, result.stderr
    assert "写入 1 行" in result.stdout and "987654" in result.stderr


def test_failing_rule_examples_are_invalid_input(workdir, tmp_path):
    text = RULES.read_text(encoding="utf-8")
    assert "      total: 100\n" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("      total: 100\n", "      total: 99\n", 1), encoding="utf-8")
    result = run("rules", "test", str(broken), cwd=workdir)
    assert "失败" in result.stdout
    assert result.returncode == 2
