"""`dangjian channels …`, `dangjian warnings list` and `dangjian chase` as users run them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.cli import demo_county_with_cycle, run
from tests.support.sinks import WebhookSink

BRANCH = "620621-01-01-ZB"          # 东关社区党支部 in the demo county
COMMUNITY = "620621-01-01"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return demo_county_with_cycle(tmp_path_factory.mktemp("chase-cli"))


def test_a_channel_is_added_and_listed_with_its_secret_masked(workdir):
    added = run("channels", "add", COMMUNITY, "--kind", "wecom",
                "--target", "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "--label", "东关社区群", cwd=workdir)
    assert added.returncode == 0, added.stderr
    assert "已添加通知渠道" in added.stdout and "企业微信机器人" in added.stdout
    listed = run("channels", "list", "--unit", COMMUNITY, cwd=workdir)
    assert "东关社区群" in listed.stdout and "wecombot://0" in listed.stdout
    assert "ef0123456789" not in listed.stdout


def test_a_channel_with_an_unusable_address_is_refused_in_chinese(workdir):
    result = run("channels", "add", COMMUNITY, "--kind", "dingtalk", "--target", "这不是令牌", cwd=workdir)
    assert result.returncode == 2
    assert "钉钉机器人的地址“这不是令牌”无法识别" in result.stderr
    unknown = run("channels", "add", "NO-SUCH-UNIT", "--kind", "email", "--target", "a@b.cn", cwd=workdir)
    assert unknown.returncode == 3 and "未知的组织" in unknown.stderr


def test_warnings_list_shows_the_raised_warnings_in_chinese(workdir):
    code = ("from datetime import date\n"
            "from dangjian.db import session_scope\n"
            "from dangjian.services.cycles import get_cycle\n"
            "from dangjian.services.chasing import raise_warnings\n"
            "with session_scope() as s: raise_warnings(session=s, cycle_id=get_cycle(s, '2026').id,"
            " as_of=date(2026, 2, 9))\n")
    env = {**os.environ, "DANGJIAN_DATABASE_URL": f"sqlite:///{workdir / 'cli.db'}"}
    subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env, check=True, timeout=120)
    listed = run("warnings", "list", "--cycle", "2026", "--unit", BRANCH, cwd=workdir)
    assert listed.returncode == 0, listed.stderr
    assert "有组织无活动" in listed.stdout and "黄色预警" in listed.stdout
    assert "自 2026年1月1日 起 39 天没有任何活动记录" in listed.stdout


@pytest.mark.flows
def test_the_chase_command_runs_the_flow_and_a_second_run_sends_nothing(workdir):
    with WebhookSink() as robots:
        added = run("channels", "add", BRANCH, "--kind", "webhook", "--target", robots.url("/zb"),
                    cwd=workdir)
        assert added.returncode == 0, added.stderr
        first = run("chase", "2026", "--as-of", "2026-05-09", cwd=workdir, timeout=300)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "周期 2026：" in first.stdout
        (digest,) = robots.received("/zb")
        assert digest["title"].startswith("【党建工作提醒】东关社区党支部：")
        again = run("chase", "2026", "--as-of", "2026-05-09", cwd=workdir, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "提醒 发送 0" in again.stdout
        assert len(robots.received("/zb")) == 1
        log = run("channels", "log", "--day", "2026-05-09", "--unit", BRANCH, cwd=workdir)
        assert "每日提醒" in log.stdout and "已发送" in log.stdout
