"""The JSON API: bearer tokens, the same services and the same refusals as the pages."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.domain.completion import AttendanceEntry
from dangjian.services import users
from dangjian.services.closing import Report, close_tasks, correct_completion
from dangjian.services.scoring import score_cycle
from models import Completion, User
from tests.web.support import TODAY, World, csrf_of, png_bytes


def _token(session: Session, username: str) -> dict[str, str]:
    uid = session.execute(select(User.id).where(User.username == username)).scalar_one()
    plain, _ = users.create_token(session=session, user_id=uid, name="测试脚本", actor="测试")
    return {"Authorization": f"Bearer {plain}"}


def test_openapi_schema_lists_the_operations(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/tasks", "/api/tasks/close", "/api/reviews/{completion_id}/accept", "/api/scorecard",
                 "/api/overview"):
        assert path in schema["paths"]
    assert not any(p.startswith("/inbox") for p in schema["paths"])


def test_no_token_no_access(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/me").status_code == 401
    bad = client.get("/api/me", headers={"Authorization": "Bearer dj_nope"})
    assert bad.status_code == 401 and "令牌无效" in bad.json()["error"]


def test_secretary_closes_and_reviewer_returns_through_the_api(client, session: Session, world: World,
                                                               tmp_path) -> None:  # type: ignore[no-untyped-def]
    sec, rev = _token(session, "sec1"), _token(session, "reviewer")
    assert client.get("/api/me", headers=sec).json()["unit_id"] == "B1"
    tasks = client.get("/api/tasks", params={"cycle": "2026"}, headers=sec).json()
    assert tasks and {t["owner_unit_id"] for t in tasks} == {"B1"}
    congress = world.task(session, world.c.big, "party_congress", TODAY)
    body = {"task_ids": [congress.id], "held_on": TODAY.isoformat(), "topic": "党员大会", "minutes": "记录",
            "attendance": [{"member_id": m.id} for m in world.c.big_members[:2]]}
    refused = client.post("/api/tasks/close", json=body, headers=sec)
    assert refused.status_code == 422 and "未达到法定人数" in " ".join(refused.json()["details"])
    assert session.execute(select(func.count()).select_from(Completion)).scalar_one() == 0
    body["attendance"] = [{"member_id": m.id} for m in world.c.big_members]
    made = client.post("/api/tasks/close", json=body, headers=sec)
    assert made.status_code == 201, made.text
    lecture = world.task(session, world.c.big, "party_lecture", TODAY)
    no_photo = client.post("/api/tasks/close", headers=sec, json={
        "task_ids": [lecture.id], "held_on": TODAY.isoformat(), "topic": "党课", "minutes": "记录",
        "attendance": [{"member_id": m.id} for m in world.c.big_members]})
    assert no_photo.status_code == 422 and "佐证材料" in " ".join(no_photo.json()["details"])
    assert client.get("/api/reviews", params={"cycle": "2026"}, headers=rev).json() == []
    theirs = world.task(session, world.c.small, "party_congress", TODAY)
    other = client.post("/api/tasks/close", headers=sec, json={**body, "task_ids": [theirs.id]})
    assert other.status_code == 403
    # A report with a photo (made on the page or by the service) is reviewed through the API.
    photo = tmp_path / "p.png"
    photo.write_bytes(png_bytes())
    report = Report(held_on=TODAY, topic="党课", minutes="记录", evidence=[photo],
                    attendance=[AttendanceEntry(m.id) for m in world.c.big_members])
    first = close_tasks(session=session, task_ids=[lecture.id], report=report, acting_branch="B1")
    queue = client.get("/api/reviews", params={"cycle": "2026"}, headers=rev).json()
    assert [r["completion_id"] for r in queue] == [first.id] and queue[0]["evidence_files"] == 1
    assert client.post(f"/api/reviews/{first.id}/return", json={"reason": ""}, headers=rev).status_code == 422
    assert client.post(f"/api/reviews/{first.id}/accept", headers=_token(session, "reviewer2")).status_code == 403
    back = client.post(f"/api/reviews/{first.id}/return", json={"reason": "照片模糊"}, headers=rev)
    assert back.status_code == 200 and back.json()["decision"] == "returned"
    second = correct_completion(session=session, completion_id=first.id, report=report, acting_branch="B1")
    ok = client.post("/api/reviews/accept", json={"completion_ids": [second.id]}, headers=rev)
    assert ok.status_code == 200 and ok.json()[0]["decision"] == "accepted"


def test_scorecard_and_overview_are_scoped(client, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    score_cycle(session=session, cycle_id=world.cycle.id, as_of=TODAY)
    leader, leader2 = _token(session, "leader"), _token(session, "leader2")
    doc = client.get("/api/scorecard", params={"cycle": "2026", "explain": "true"}, headers=leader).json()
    assert doc["schema"] == "dangjian.scorecard/1" and len(doc["units"]) == 3 and doc["units"][0]["lines"]
    assert client.get("/api/scorecard", params={"cycle": "2026", "unit": "S"}, headers=leader2).status_code == 403
    assert len(client.get("/api/scorecard", params={"cycle": "2026"}, headers=leader2).json()["units"]) == 1
    overview = client.get("/api/overview", headers=leader).json()
    assert {f["key"]: f["total"] for f in overview["members"]}["members"] == 16


def test_tokens_are_made_and_revoked_on_the_account_page(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    sec = login("sec1")
    page = sec.get("/account")
    made = sec.post("/account/tokens", data={"csrf_token": csrf_of(page.text), "name": "周报"})
    plain = re.search(r'id="new-token">([^<]+)<', made.text).group(1)
    assert sec.get("/api/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    token_id = re.search(r'/account/tokens/(\d+)/revoke', made.text).group(1)
    sec.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(made.text)})
    assert sec.get("/api/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
