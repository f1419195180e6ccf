"""The review loop, bulk close and waivers as users run them: exit codes and Chinese messages."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from dangjian.clock import today
from tests.services.test_review import review_rules
from tests.support.cli import demo_county_with_cycle, listed_task_ids, run

BRANCH = "620621-01-01-ZB"       # 东关社区党支部
STREET = "620621-01"             # 三雷镇社区党总支, above it
SIBLING = "620621-01-02"         # 西关社区, not above it
MEMBERS = "M0001,M0002,M0004,M0005"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("review_cli")
    return demo_county_with_cycle(d, review_rules(d))


def task_ids(workdir: Path, duty: str, limit: int, unit: str = BRANCH, state: str | None = None) -> list[int]:
    extra = ["--state", state] if state else []
    listing = run("tasks", "list", "2026", "--unit", unit, "--duty", duty, "--limit", str(limit), *extra,
                  cwd=workdir)
    assert listing.returncode == 0, listing.stderr
    return listed_task_ids(listing.stdout)


def completion_id(text: str) -> int:
    match = re.search(r"报送记录 #(\d+)", text)
    assert match, text
    return int(match.group(1))


def test_submit_return_resubmit_accept_round_trip(workdir):
    (lecture,) = task_ids(workdir, "party_lecture", 1)
    submitted = run("tasks", "submit", str(lecture), "--held-on", "2026-03-10", "--topic", "党课：学习党章",
                    "--minutes", "记录", "--attendee", MEMBERS, "--branch", BRANCH, cwd=workdir)
    assert submitted.returncode == 0, submitted.stderr
    assert "待上级审核" in submitted.stdout
    first = completion_id(submitted.stdout)

    listed = run("review", "list", "2026", "--unit", STREET, cwd=workdir)
    assert listed.returncode == 0 and f"#{first}" in listed.stdout and "待审核共 1 条" in listed.stdout

    no_reason = run("review", "return", str(first), "--reason", " ", "--by", "组织委员", "--unit", STREET,
                    cwd=workdir)
    assert no_reason.returncode == 2 and "须填写退回原因" in no_reason.stderr
    returned = run("review", "return", str(first), "--reason", "缺少讲课人", "--by", "组织委员",
                   "--unit", STREET, cwd=workdir)
    assert returned.returncode == 0, returned.stderr
    assert "tasks resubmit" in returned.stdout

    again = run("tasks", "resubmit", str(first), "--held-on", "2026-03-10", "--topic", "党课：讲课人王书记",
                "--minutes", "记录", "--attendee", MEMBERS, "--branch", BRANCH, cwd=workdir)
    assert again.returncode == 0, again.stderr
    second = completion_id(again.stdout)
    assert second != first and "第 2 版" in again.stdout

    stale = run("review", "accept", str(first), "--by", "组织委员", "--unit", STREET, cwd=workdir)
    assert stale.returncode == 5 and f"已被 #{second}（第2版）更正" in stale.stderr
    outsider = run("review", "accept", str(second), "--by", "西关书记", "--unit", SIBLING, cwd=workdir)
    assert outsider.returncode == 4
    assert "西关社区（620621-01-02）不是 东关社区党支部（620621-01-01-ZB）的上级组织" in outsider.stderr
    accepted = run("review", "accept", str(second), "--by", "组织委员", "--unit", STREET, cwd=workdir)
    assert accepted.returncode == 0, accepted.stderr
    # Recorded today for a duty due 03-31: late (the service tests pin dates; this one runs on the clock).
    assert lecture in task_ids(workdir, "party_lecture", 10, state="late")

    history = run("review", "history", str(second), cwd=workdir)
    assert "退回" in history.stdout and "审核通过" in history.stdout and "缺少讲课人" in history.stdout


def test_close_many_names_failing_rows_and_writes_nothing_until_all_pass(workdir, tmp_path):
    days = task_ids(workdir, "theme_party_day", 3)
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"\xff\xd8\xffphoto")
    header = "任务编号,召开日期,会议主题,会议记录,出席党员,佐证材料\n"
    bad_format = tmp_path / "bad.csv"
    bad_format.write_text(header + f"{days[0]},2026-01-10,主题党日,记录,M0001;M0002,\n"
                                   f"{days[1]},2026/02/31,主题党日,记录,M0001,\n", encoding="utf-8")
    result = run("tasks", "close-many", str(bad_format), "--branch", BRANCH, cwd=workdir)
    assert result.returncode == 2 and "第3行" in result.stderr and "召开日期" in result.stderr

    bad_task = tmp_path / "bad_task.csv"
    bad_task.write_text(header + f"{days[0]},2026-01-10,主题党日,记录,M0001;M0002,照片.jpg\n"
                                 f"987654,2026-02-10,主题党日,记录,M0001,\n", encoding="utf-8")
    result = run("tasks", "close-many", str(bad_task), "--branch", BRANCH, cwd=workdir)
    assert result.returncode == 3
    assert "第3行（任务 #987654）：任务 #987654 不存在" in result.stderr and "全部未写入" in result.stderr
    assert days[0] in task_ids(workdir, "theme_party_day", 12, state="overdue") + task_ids(
        workdir, "theme_party_day", 12, state="open")

    good = tmp_path / "good.csv"
    good.write_text(header + f"{days[0]},2026-01-10,主题党日,记录,M0001;M0002,照片.jpg\n"
                             f"{days[1]},2026-02-10,主题党日,\"记录，含逗号\",M0001、M0004,\n",
                    encoding="gb18030")
    result = run("tasks", "close-many", str(good), "--as-admin", "--by", "街道录入员", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "写入 2 行" in result.stdout
    assert set(days[:2]) <= set(task_ids(workdir, "theme_party_day", 12, state="late"))


def test_waive_from_above_and_refused_from_the_branch_itself(workdir):
    (task,) = task_ids(workdir, "committee_meeting", 1, state="open") or task_ids(workdir, "theme_party_day", 1,
                                                                                   state="open")
    until = (today() + timedelta(days=30)).isoformat()
    refused = run("tasks", "waive", str(task), "--kind", "excused", "--reason", "书记住院", "--until", until,
                  "--by", "支部书记", "--unit", BRANCH, cwd=workdir)
    assert refused.returncode == 4 and "不是 东关社区党支部（620621-01-01-ZB）的上级组织" in refused.stderr
    granted = run("tasks", "waive", str(task), "--kind", "excused", "--reason", "书记住院", "--until", until,
                  "--by", "组织委员", "--unit", STREET, cwd=workdir)
    assert granted.returncode == 0, granted.stderr
    assert f"任务 #{task} 已豁免" in granted.stdout and until in granted.stdout
    twice = run("tasks", "waive", str(task), "--reason", "再次", "--until", until, "--by", "组织委员",
                "--unit", STREET, cwd=workdir)
    assert twice.returncode == 5 and "已豁免" in twice.stderr
