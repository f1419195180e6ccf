"""Daily digests and escalation, delivered for real: mail to an SMTP server on 127.0.0.1,
robot posts to an HTTP server on 127.0.0.1. Dates are 2026 around 劳动节 (1–5 May off,
Saturday 9 May a make-up working day)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from dangjian.errors import Conflict, ValidationFailed
from dangjian.services.chasing import send_reminders
from dangjian.services.closing import Report, close_tasks
from dangjian.services.cycles import create_cycle
from dangjian.services.notify import add_channel, list_channels, mail_settings, masked
from dangjian.services.planning import plan_cycle
from dangjian.services.rule_sets import register_rule_set
from models import ChannelKind, Cycle, Notification, NotificationStatus, Task
from rules.loader import RuleSetError, load_rule_set_file
from tests.support.builders import RULES, at, county, planned_cycle, present_for
from tests.support.sinks import SmtpSink, WebhookSink

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def smtp(monkeypatch):
    with SmtpSink() as sink:
        monkeypatch.setenv("DANGJIAN_SMTP_URL", sink.smtp_url())
        mail_settings.cache_clear()
        yield sink
    mail_settings.cache_clear()


@pytest.fixture
def robots():
    with WebhookSink() as sink:
        yield sink


def report_through(session, cycle, owner, members, through: date, *, skip=()):
    """The branch reports every task due on or before `through`, except (duty, period) in skip."""
    tasks = session.execute(select(Task).where(Task.cycle_id == cycle.id, Task.owner_unit_id == owner,
                                               Task.due_on <= through)
                            .order_by(Task.due_on, Task.id)).scalars().all()
    for t in tasks:
        if (t.duty_code, t.period_label) in skip:
            continue
        close_tasks(session=session, task_ids=[t.id],
                    report=Report(t.period_end, "主题", "记录", present_for(t, members)),
                    now=at(t.period_end))


def wire(session, c, robots):
    """B1 by e-mail; B2, 东关社区, the street and the district by robot; 西湖社区 has none."""
    add_channel(session=session, unit_id="B1", kind=ChannelKind.email, target="b1@example.org",
                label="东关支部书记", actor="测试")
    for unit, path in (("B2", "/b2"), ("C1", "/c1"), ("S", "/s"), ("D", "/d")):
        add_channel(session=session, unit_id=unit, kind=ChannelKind.webhook, target=robots.url(path),
                    label=f"{unit} 工作群", actor="测试")


def test_each_unit_gets_one_digest_of_what_is_due_soon_and_what_is_overdue(session, smtp, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    wire(session, c, robots)
    report_through(session, cycle, "B1", c.big_members, date(2026, 3, 31),
                   skip={("theme_party_day", "2026年3月")})
    report_through(session, cycle, "B2", c.small_members, date(2026, 3, 31))

    report = send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 28))

    (mail,) = smtp.mails
    assert mail.to == ("b1@example.org",)
    assert mail.subject == "【党建工作提醒】东关社区党支部：4 项即将到期，1 项已逾期"
    body = mail.body
    assert "截至 2026年4月28日，2026年度考核中本单位有以下工作需要办理" in body
    assert "一、即将到期（4 项）" in body
    assert "支委会（2026年4月）：截止 2026年4月30日，还有 2 天" in body
    assert "党小组会（2026年4月，第一党小组）：截止 2026年4月30日，还有 2 天" in body
    assert "二、已逾期未完成（1 项）" in body
    assert "1. 主题党日（2026年3月）：截止 2026年3月31日，已逾期 28 天" in body
    assert "逾期超过 3 个工作日仍未完成的，将报上级党组织督办" in body
    (post,) = robots.received("/b2")
    assert post["title"] == "【党建工作提醒】西湖社区党支部：2 项即将到期"
    assert "主题党日（2026年4月）：截止 2026年4月30日，还有 2 天" in post["message"]
    assert "已逾期" not in post["message"]
    # March's 主题党日 is long past the grace period: 东关社区 hears of it, nobody else.
    (escalation,) = robots.received("/c1")
    assert "主题党日（2026年3月）：截止 2026年3月31日，已逾期 28 天（19 个工作日）" in escalation["message"]
    assert robots.received("/s") == robots.received("/d") == []
    assert report.counts()["digests_sent"] == 2 and report.counts()["escalations_sent"] == 1
    assert report.unreachable == []


def test_a_rerun_the_same_day_sends_nothing_twice(session, smtp, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    wire(session, c, robots)
    first = send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 28))
    again = send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 28))

    assert len(smtp.mails) == 1 and len(robots.received("/b2")) == 1
    assert again.digests.sent == [] and sorted(again.digests.already) == sorted(first.digests.sent)
    assert sorted(again.escalations.already) == sorted(first.escalations.sent)
    rows = session.execute(select(Notification)).scalars().all()
    assert {r.status for r in rows} == {NotificationStatus.sent}
    assert len({r.key for r in rows}) == len(rows) == len(first.digests.sent) + len(first.escalations.sent)
    # The next day is a new digest.
    send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 29))
    assert len(smtp.mails) == 2


def test_escalation_reaches_the_unit_above_only_after_three_working_days(session, smtp, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    wire(session, c, robots)
    report_through(session, cycle, "B1", c.big_members, date(2026, 3, 31))
    report_through(session, cycle, "B2", c.small_members, date(2026, 3, 31))
    # April's tasks fall due on Thursday 30 April and stay open over 劳动节.

    holiday = send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 5))
    assert not holiday.working_day and smtp.mails == [] and robots.posts == []

    for day in (date(2026, 5, 6), date(2026, 5, 7), date(2026, 5, 8)):   # grace days 1, 2, 3
        report = send_reminders(session=session, cycle_id=cycle.id, as_of=day)
        assert report.escalations.sent == [], day
    assert robots.received("/c1") == robots.received("/s") == []
    assert len(smtp.mails) == 3    # B1's own digest, once per working day

    report = send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 9))  # 调休上班
    assert len(report.escalations.sent) == 2
    (to_community,) = robots.received("/c1")
    assert to_community["title"] == "【党建督办】1 个下级党组织共 4 项任务逾期超过 3 个工作日"
    message = to_community["message"]
    assert message.startswith("东关社区：\n截至 2026年5月9日，下列党组织的任务逾期超过 3 个工作日仍未完成")
    assert "东关社区党支部（4 项）" in message
    assert "主题党日（2026年4月）：截止 2026年4月30日，已逾期 9 天（4 个工作日）" in message
    assert "西湖社区党支部" not in message
    # 西湖社区 has no channel: its branch's escalation goes to the next unit up, the street.
    (to_street,) = robots.received("/s")
    assert "西湖社区党支部（2 项）" in to_street["message"]
    assert "东关社区党支部" not in to_street["message"]
    assert robots.received("/d") == []

    send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 9))
    assert len(robots.received("/c1")) == 1 and len(robots.received("/s")) == 1


def test_a_send_the_channel_refused_is_retried_then_given_up_after_three_attempts(session, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    add_channel(session=session, unit_id="B2", kind=ChannelKind.webhook, target=robots.url("/b2"),
                actor="测试")
    robots.fail_next("/b2", times=5)
    day = date(2026, 4, 28)

    first = send_reminders(session=session, cycle_id=cycle.id, as_of=day)
    (row,) = session.execute(select(Notification)).scalars().all()
    assert first.digests.failed == [row.key] and row.status == NotificationStatus.failed
    assert "500" in row.error
    for _ in range(4):
        send_reminders(session=session, cycle_id=cycle.id, as_of=day)
    session.refresh(row)
    assert row.attempts == 3 and row.status == NotificationStatus.failed
    assert len(robots.arrived("/b2")) == 3

    robots.fail_next("/b2", times=0)
    send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 29))
    assert len(robots.received("/b2")) == 1


def test_a_failed_send_succeeds_on_the_retry_and_is_recorded_sent(session, robots):
    c = county(session)
    cycle = planned_cycle(session, c)
    add_channel(session=session, unit_id="B2", kind=ChannelKind.webhook, target=robots.url("/b2"),
                actor="测试")
    robots.fail_next("/b2", times=1)
    send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 28))
    retry = send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 28))
    (row,) = session.execute(select(Notification)).scalars().all()
    assert retry.digests.sent == [row.key]
    assert (row.status, row.attempts, row.error) == (NotificationStatus.sent, 2, None)
    assert len(robots.received("/b2")) == 1


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A database file of its own: a second process has to see what the test committed."""
    from dangjian.db import _engine_for, get_engine
    from dangjian.schema import upgrade_to_head
    from dangjian.settings import get_settings

    url = f"sqlite:///{tmp_path / 'chase.db'}"
    monkeypatch.setenv("DANGJIAN_DATABASE_URL", url)
    get_settings.cache_clear()
    _engine_for.cache_clear()
    upgrade_to_head(get_engine())
    yield url
    get_engine().dispose()
    get_settings.cache_clear()
    _engine_for.cache_clear()


CHASE = """
import sys
from datetime import date
from dangjian.db import session_scope
from dangjian.services.chasing import send_reminders
with session_scope() as s:
    send_reminders(session=s, cycle_id=int(sys.argv[1]), as_of=date(2026, 4, 28))
"""


def test_a_run_killed_while_sending_does_not_send_that_message_again(app_db, robots):
    from dangjian.db import session_scope

    with session_scope() as session:
        c = county(session)
        cycle = planned_cycle(session, c)
        add_channel(session=session, unit_id="B2", kind=ChannelKind.webhook, target=robots.url("/b2"),
                    actor="测试")
        cycle_id = cycle.id
    robots.hold("/b2")      # the robot takes the post and never answers
    env = {**os.environ, "DANGJIAN_DATABASE_URL": app_db}
    proc = subprocess.Popen([sys.executable, "-c", CHASE, str(cycle_id)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not robots.arrived("/b2") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert robots.arrived("/b2"), "the digest never reached the robot"
    finally:
        proc.kill()       # the crash: after the post left, before its outcome was recorded
        proc.wait()
    robots.release()

    with session_scope() as session:
        (row,) = session.execute(select(Notification)).scalars().all()
        assert row.status == NotificationStatus.sending
        again = send_reminders(session=session, cycle_id=cycle_id, as_of=date(2026, 4, 28))
        assert again.digests.already == [row.key] and again.digests.sent == []
    assert len(robots.arrived("/b2")) == 1


def test_channels_are_checked_when_added_and_secrets_are_masked(session, robots):
    county(session)
    robot = add_channel(session=session, unit_id="C1", kind=ChannelKind.wecom,
                        target="0a1b2c3d-4e5f-6789-abcd-ef0123456789", label="东关社区群", actor="测试")
    assert masked(robot).startswith("wecombot://0") and "ef0123456789" not in masked(robot)
    ding = add_channel(session=session, unit_id="C1", kind=ChannelKind.dingtalk,
                       target="https://oapi.dingtalk.com/robot/send?access_token=abcdef123456", actor="测试")
    assert "abcdef123456" not in masked(ding)
    mail = add_channel(session=session, unit_id="B1", kind=ChannelKind.email, target="b1@example.org",
                       actor="测试")
    assert masked(mail) == "b1@example.org"
    with pytest.raises(ValidationFailed, match="无法识别"):
        add_channel(session=session, unit_id="C1", kind=ChannelKind.dingtalk, target="not a token!",
                    actor="测试")
    with pytest.raises(ValidationFailed, match="不是有效的电子邮件地址"):
        add_channel(session=session, unit_id="C1", kind=ChannelKind.email, target="b1.example.org",
                    actor="测试")
    with pytest.raises(Conflict):
        add_channel(session=session, unit_id="C1", kind=ChannelKind.wecom,
                    target="0a1b2c3d-4e5f-6789-abcd-ef0123456789", actor="测试")
    assert [ch.unit_id for ch in list_channels(session=session)] == ["B1", "C1", "C1"]


def test_mail_without_a_configured_server_is_logged_as_failed_in_chinese(session, monkeypatch):
    monkeypatch.delenv("DANGJIAN_SMTP_URL", raising=False)
    mail_settings.cache_clear()
    c = county(session)
    cycle = planned_cycle(session, c)
    add_channel(session=session, unit_id="B1", kind=ChannelKind.email, target="b1@example.org",
                actor="测试")
    report = send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 28))
    (row,) = session.execute(select(Notification)).scalars().all()
    assert report.digests.failed == [row.key]
    assert "未配置发信服务器" in row.error and "DANGJIAN_SMTP_URL" in row.error


CHASING_BLOCK = """
chasing:
  remind_days_before: 1
  escalate_after_working_days: 1
  working_days_only: false
"""


def rule_file(tmp_path: Path, block: str, version: str = "2026.1-chasing") -> Path:
    text = RULES.read_text(encoding="utf-8").replace('version: "2026.1"', f'version: "{version}"')
    path = tmp_path / "rules.yaml"
    path.write_text(text + block, encoding="utf-8")
    return path


def test_the_rule_sets_chasing_block_sets_the_thresholds(session, tmp_path, robots):
    c = county(session)
    rules = register_rule_set(session=session, path=rule_file(tmp_path, CHASING_BLOCK), actor="测试")
    cycle = create_cycle(session=session, code="2026c", name="2026年度考核（督办）", root_unit_id="D",
                         rule_set_id=rules.id, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                         actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id)
    add_channel(session=session, unit_id="B2", kind=ChannelKind.webhook, target=robots.url("/b2"), actor="测试")
    add_channel(session=session, unit_id="C2", kind=ChannelKind.webhook, target=robots.url("/c2"), actor="测试")
    report_through(session, cycle, "B2", c.small_members, date(2026, 3, 31))

    send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 4, 28))
    assert robots.received("/b2") == []          # due in 2 days: outside a 1-day reminder window
    send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 2))   # a holiday
    (digest,) = robots.received("/b2")
    assert "已逾期 2 天" in digest["message"]
    assert robots.received("/c2") == []
    send_reminders(session=session, cycle_id=cycle.id, as_of=date(2026, 5, 7))   # 1 working day passed
    (escalation,) = robots.received("/c2")
    assert "逾期超过 1 个工作日" in escalation["title"]


def test_a_wrong_chasing_block_is_reported_with_its_line(tmp_path):
    bad = "\nchasing:\n  inactivity_days: 30\n  inactivity_red_days: 20\n  colour_period: weekly\n"
    path = rule_file(tmp_path, bad)
    with pytest.raises(RuleSetError) as caught:
        load_rule_set_file(path)
    text = "\n".join(str(i) for i in caught.value.issues)
    lines = path.read_text(encoding="utf-8").splitlines()
    where = next(i for i, line in enumerate(lines, start=1) if "colour_period" in line)
    assert f":{where}:" in text and "colour_period" in text


def test_a_shipped_rule_set_without_a_chasing_block_uses_the_documented_defaults(session, tmp_path):
    from dangjian.services.chasing import chasing_rules

    c = county(session)
    cycle = planned_cycle(session, c)
    rules = chasing_rules(session, session.get(Cycle, cycle.id))
    assert (rules.remind_days_before, rules.escalate_after_working_days, rules.inactivity_days,
            rules.consecutive_red_periods, rules.consecutive_red_periods_county) == (7, 3, 30, 2, 3)
    assert load_rule_set_file(RULES).rule_set.chasing is None
