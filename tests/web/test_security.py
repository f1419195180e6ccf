"""Headers, cookies and escaping: what a hostile name or topic cannot do to a page."""
from __future__ import annotations

from sqlmodel import Session

from dangjian.domain.completion import AttendanceEntry
from dangjian.services.closing import Report, close_tasks
from dangjian.services.scoring import score_cycle
from dangjian.web.security import COOKIE
from models import Unit
from tests.web.conftest import sign_in
from tests.web.support import TODAY, World

EVIL = "</script><script>alert(1)</script>"


def test_headers_and_cookie_flags(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(COOKIE + "=") and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_secure_cookie_by_default(session: Session, world: World) -> None:
    from fastapi.testclient import TestClient

    from dangjian.web.app import create_app
    from dangjian.web.config import WebConfig

    app = create_app(engine=session.get_bind(), config=WebConfig(secret_key="s" * 40))
    with TestClient(app) as c:
        assert "Secure" in c.get("/login").headers["set-cookie"]


def test_names_and_topics_are_escaped_everywhere(client, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    branch = session.get(Unit, "B1")
    branch.name = EVIL
    session.add(branch)
    session.commit()
    task = world.task(session, world.c.big, "theme_party_day", TODAY)
    close_tasks(session=session, task_ids=[task.id], acting_branch="B1", report=Report(
        held_on=TODAY, topic=EVIL, minutes=EVIL, attendance=[AttendanceEntry(m.id) for m in world.c.big_members]))
    score_cycle(session=session, cycle_id=world.cycle.id, as_of=TODAY)
    sign_in(client, "leader")
    for url in ("/scores", "/scores/unit/S?cycle=2026", "/scores/unit/B1?cycle=2026", f"/tasks/{task.id}"):
        text = client.get(url).text
        assert "<script>alert(1)</script>" not in text, url
    chart = client.get("/scores/unit/C1?cycle=2026").text
    assert "\\u003c/script\\u003e" in chart                   # inside the JSON data island
