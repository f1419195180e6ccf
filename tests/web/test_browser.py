"""The web app in a real browser: Debian's Chromium, headless, driven by Playwright, against
uvicorn on a free localhost port and a real SQLite file. One journey through the four roles:
a secretary on a phone closes an overdue 党课 with attendees and a photo, the street reviewer
returns it, the secretary resubmits, the reviewer accepts, the administrator re-scores, and
the leader on a large screen sees the branch's score go up. Every page is screenshotted to
test-artifacts/screenshots/. Skipped (with the reason) only when /usr/bin/chromium is missing:
install it with `apt-get install -y chromium fonts-noto-cjk` (.ci/run does)."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from dangjian.db import make_engine
from dangjian.schema import upgrade_to_head
from dangjian.services import users
from dangjian.settings import get_settings
from dangjian.web.app import create_app
from dangjian.web.config import WebConfig
from models import Completion, ScoreRun, Task
from tests.web.support import FROZEN, PASSWORD, World, build_world, png_bytes

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}
DESK = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}
BIG_SCREEN = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="需要 /usr/bin/chromium：apt-get install -y chromium fonts-noto-cjk"),
]


@dataclass
class Live:
    url: str
    engine: Engine
    world: World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    import uvicorn

    root = tmp_path_factory.mktemp("live")
    patch = pytest.MonkeyPatch()
    patch.setenv("DANGJIAN_FILES_DIR", str(root / "files"))
    patch.setattr(users, "SCRYPT_N", 2**12)
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{root / 'web.db'}")
    upgrade_to_head(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session, root)
    app = create_app(engine=engine, config=WebConfig(secret_key="browser-" + "z" * 40, secure_cookies=False),
                     clock=lambda: FROZEN)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", engine, world)
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()
        patch.undo()
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Person:
    """One signed-in browser context; collects console errors (a CSP violation is one)."""

    errors: list[str]

    def __init__(self, browser, live: Live, username: str, device: dict) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(**device)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.live = live
        self.page.goto(live.url + "/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        # A 4xx page we meant to get (a refused form, a 403) is logged as a failed resource;
        # anything else (a script error, a CSP violation) fails the test.
        if message.type == "error" and not message.text.startswith("Failed to load resource: the server responded with a status of 4"):
            self.errors.append(message.text)

    def go(self, path: str) -> None:
        self.page.goto(self.live.url + path)

    def shot(self, name: str, full_page: bool = True) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()


def _task(live: Live, branch_id: str, duty: str, on: date) -> Task:
    with Session(live.engine) as s:
        return s.execute(select(Task).where(Task.owner_unit_id == branch_id, Task.duty_code == duty,
                                            Task.period_start <= on, Task.period_end >= on)).scalar_one()


def _latest_completion(live: Live) -> Completion:
    with Session(live.engine) as s:
        return s.execute(select(Completion).order_by(Completion.id.desc()).limit(1)).scalar_one()


def _score(person: Person) -> None:
    person.go("/admin/cycles")
    row = person.page.locator("#cycles tr", has_text="2026年度考核")
    row.locator("button", has_text="评分（预览）").click()
    person.page.wait_for_selector(".notice")


def test_login_page_renders_chinese(browser, live: Live) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(live.url + "/login")
    assert page.title() == "登录 · 社区党建"
    page.fill("input[name=username]", "sec1")
    page.fill("input[name=password]", "错误的密码")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text("#form-error")
    assert page.input_value("input[name=username]") == "sec1"
    page.screenshot(path=str(SHOTS / "01-login-error-phone.png"), full_page=True)
    context.close()


def test_secretary_reviewer_leader_journey(browser, live: Live) -> None:  # type: ignore[no-untyped-def]
    q3 = _task(live, "B1", "party_lecture", date(2026, 8, 1))
    admin = Person(browser, live, "admin", DESK)
    _score(admin)
    admin.shot("02-admin-cycles")

    # 1. The secretary, on a phone, finds the overdue 党课 and closes it.
    sec = Person(browser, live, "sec1", PHONE)
    assert sec.page.url.endswith("/inbox")
    sec.shot("03-secretary-inbox-phone", full_page=False)
    sec.shot("03b-secretary-inbox-phone-full")
    close_link = sec.page.locator(f"a[href='/tasks/{q3.id}/close']")
    if not close_link.is_visible():
        sec.page.locator("details.more summary").first.click()      # "其余 N 项"
    close_link.click()
    page = sec.page
    page.fill("input[name=held_on]", "2026-09-18")
    page.fill("input[name=topic]", "书记讲党课：学习党章")
    quorum = page.locator("#quorum")
    assert "已登记 0/9" in quorum.inner_text()
    page.click("#all-present")
    assert "已登记 9/9" in quorum.inner_text()
    first = live.world.c.big_members[0].id
    page.locator(f"input[name=p_{first}][value=leave] + span").click()
    page.fill(f"input[name=r_{first}]", "外出务工")
    assert "实到 7 名" in quorum.inner_text()
    page.click("#close-form button[type=submit]")                 # no minutes, no photo: refused
    error = page.inner_text("#form-error")
    assert "须填写会议记录" in error and "须上传至少 1 份佐证材料" in error
    assert page.input_value("input[name=topic]") == "书记讲党课：学习党章"
    assert page.is_checked(f"input[name=p_{first}][value=leave]")
    sec.shot("04-secretary-close-error-phone")
    with Session(live.engine) as s:
        assert s.execute(select(Completion)).first() is None        # nothing written
    page.fill("textarea[name=minutes]", "一、学习党章第一章；二、讨论小区建设。")
    page.set_input_files("input[name=evidence]", files=[
        {"name": "会场照片.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}])
    sec.shot("05-secretary-close-filled-phone")
    page.click("#close-form button[type=submit]")
    page.wait_for_selector(".notice")
    assert "已报送" in page.inner_text(".notice") and "待审核" in page.content()
    assert page.locator(".evidence img").count() == 1
    sec.shot("06-secretary-submitted-phone")
    submitted = _latest_completion(live)

    # 2. The street reviewer returns it with a reason.
    rev = Person(browser, live, "reviewer", DESK)
    assert rev.page.url.endswith("/review")
    row = rev.page.locator(f"#c{submitted.id}")
    row.locator(f"input[name=reason_{submitted.id}]").fill("照片看不清人数，请补拍签到表")
    rev.shot("07-reviewer-queue")
    row.locator("button", has_text="退回").click()
    rev.page.wait_for_selector(".notice")
    assert "已退回" in rev.page.inner_text(".notice")

    # 3. The secretary sees why and resubmits.
    sec.go("/inbox")
    assert "已退回" in sec.page.inner_text("#returned")
    sec.page.locator(f"#returned ~ ul a[href='/tasks/{q3.id}']").first.click()
    assert "照片看不清人数" in sec.page.content()
    sec.page.click("text=修改后重新报送")
    assert "上级退回原因" in sec.page.content()
    sec.page.fill("input[name=topic]", "书记讲党课：学习党章（补签到表）")
    sec.page.set_input_files("input[name=evidence]", files=[
        {"name": "签到表.png", "mimeType": "image/png", "buffer": png_bytes(20, 40)}])
    sec.shot("08-secretary-resubmit-phone")
    sec.page.click("#close-form button[type=submit]")
    sec.page.wait_for_selector(".notice")
    assert "已重新报送" in sec.page.inner_text(".notice")
    resubmitted = _latest_completion(live)
    assert resubmitted.version == 2

    # 4. The reviewer accepts the new version.
    rev.go("/review")
    rev.page.locator(f"#c{resubmitted.id} button", has_text="通过").click()
    rev.page.wait_for_selector(".notice")
    assert "审核通过" in rev.page.inner_text(".notice")
    rev.shot("09-reviewer-accepted")

    # 5. The administrator scores again; 6. the leader sees the branch go up.
    _score(admin)
    with Session(live.engine) as s:
        assert s.execute(select(ScoreRun.version).order_by(ScoreRun.version.desc())).scalars().first() == 2
    leader = Person(browser, live, "leader", BIG_SCREEN)
    assert leader.page.url.endswith("/scores")
    leader.page.wait_for_selector("[data-chart=grades] canvas")
    leader.page.wait_for_timeout(800)                                 # let the charts animate in
    leader.shot("10-leader-scores-bigscreen", full_page=False)
    leader.shot("10b-leader-scores-bigscreen-full")
    leader.page.click("#children a:has-text('测试镇社区党总支')")
    leader.page.wait_for_selector("#ranking")
    leader.shot("11-leader-street")
    leader.page.click("#ranking a:has-text('东关社区党支部')")
    total = leader.page.inner_text("h2:has(#branch-total)")
    assert "较第 1 版评分 +2.0" in total, total
    lecture = leader.page.locator("#lines tr", has_text="党课按期开展")
    assert lecture.locator("td.num").first.inner_text() == "3.0"
    leader.shot("12-leader-branch")
    lecture.locator(f"a[href='/tasks/{q3.id}']").click()
    assert "逾期完成" in leader.page.content()
    assert leader.page.locator(".evidence img").count() >= 1
    leader.shot("13-leader-task-evidence")
    for p in (admin, sec, rev, leader):
        p.close()


def test_overview_and_forbidden_pages(browser, live: Live) -> None:  # type: ignore[no-untyped-def]
    leader = Person(browser, live, "leader", BIG_SCREEN)
    leader.go("/overview")
    members = leader.page.locator("[data-figure=members]").first
    assert members.inner_text() == "16"
    leader.shot("14-leader-overview")
    members.click()
    assert leader.page.inner_text("h1").endswith("党员（截至 2026-11-24）：16名")
    leader.shot("15-leader-overview-list")
    leader.close()
    other = Person(browser, live, "leader2", DESK)
    response = other.page.goto(live.url + "/scores/unit/B1?cycle=2026")
    assert response is not None and response.status == 403
    assert "不在当前账号" in other.page.content()
    other.shot("16-forbidden")
    other.close()


def test_admin_pages(browser, live: Live) -> None:  # type: ignore[no-untyped-def]
    admin = Person(browser, live, "admin", DESK)
    for path, name in (("/admin/org?unit=B1", "17-admin-roster"), ("/admin/rules", "18-admin-rules"),
                       ("/admin/users", "19-admin-users")):
        admin.go(path)
        admin.shot(name)
    admin.go("/admin/rules")
    draft = live.world.rules_path.read_text(encoding="utf-8").replace("frequency: quarterly", "frequency: often", 1)
    admin.page.set_input_files("input[name=file]", files=[
        {"name": "草案.yaml", "mimeType": "text/yaml", "buffer": draft.encode("utf-8")}])
    admin.page.click("#rules-check button[type=submit]")
    assert admin.page.locator("li.bad-line").count() >= 1
    admin.page.locator("li.bad-line").first.scroll_into_view_if_needed()
    admin.shot("20-admin-rules-errors")
    admin.close()
