"""Reviewers: the queue of submitted reports, accept and return with a reason, singly and in
bulk; another street's reviewer and non-reviewers are refused and nothing changes."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.domain.completion import AttendanceEntry
from dangjian.services.closing import Report, close_tasks
from models import Completion, Review, Task
from tests.web.support import TODAY, World, csrf_of, png_bytes


def _submit(session: Session, world: World, branch, members, day: date, tmp_path) -> Completion:  # type: ignore[no-untyped-def]
    task = world.task(session, branch, "party_lecture", day)
    photo = tmp_path / f"photo-{task.id}.png"
    photo.write_bytes(png_bytes())
    return close_tasks(session=session, task_ids=[task.id], acting_branch=branch.id, report=Report(
        held_on=day, topic="党课", minutes="记录", evidence=[photo],
        attendance=[AttendanceEntry(m.id) for m in members]))


def _reviews(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Review)).scalar_one()


def test_queue_accept_and_return(login, session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _submit(session, world, world.c.big, world.c.big_members, TODAY, tmp_path)
    b = _submit(session, world, world.c.small, world.c.small_members, TODAY, tmp_path)
    rev = login("reviewer")
    queue = rev.get("/review")
    assert queue.status_code == 200
    assert f'id="c{a.id}"' in queue.text and f'id="c{b.id}"' in queue.text and "1 份" in queue.text
    token = csrf_of(queue.text)
    ok = rev.post(f"/review/{a.id}/accept", data={"csrf_token": token, "cycle": "2026"}, follow_redirects=False)
    assert ok.status_code == 303
    back = rev.post(f"/review/{b.id}/return", data={"csrf_token": token, "cycle": "2026",
                                                     f"reason_{b.id}": "照片看不清，请补拍"}, follow_redirects=False)
    assert back.status_code == 303
    states = dict(session.execute(select(Task.owner_unit_id, Task.state).where(
        Task.duty_code == "party_lecture", Task.period_start <= TODAY, Task.period_end >= TODAY)).all())
    assert states["B1"] in ("done", "late") and states["B2"] == "returned"
    returned = rev.get("/review?state=returned")
    assert "照片看不清，请补拍" in returned.text
    # The secretary sees the reason and resubmits a new version.
    sec = login("sec2")
    task_page = sec.get(f"/tasks/{world.task(session, world.c.small, 'party_lecture', TODAY).id}")
    assert "照片看不清，请补拍" in task_page.text and f"/completions/{b.id}/correct" in task_page.text
    form = sec.get(f"/completions/{b.id}/correct")
    assert "上级退回原因" in form.text
    data = {"csrf_token": csrf_of(form.text), "held_on": TODAY.isoformat(), "topic": "党课（补拍照片）",
            "minutes": "记录", **{f"p_{m.id}": "present" for m in world.c.small_members}}
    response = sec.post(f"/completions/{b.id}/correct", data=data,
                        files=[("evidence", ("清晰.png", png_bytes(5, 5), "image/png"))], follow_redirects=False)
    assert response.status_code == 303, response.text
    assert "已重新报送" in sec.get(response.headers["location"]).text
    assert "党课（补拍照片）" in rev.get("/review").text


def test_return_without_reason_keeps_input_and_writes_nothing(login, session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _submit(session, world, world.c.big, world.c.big_members, TODAY, tmp_path)
    rev = login("reviewer")
    queue = rev.get("/review")
    response = rev.post(f"/review/{a.id}/return", data={"csrf_token": csrf_of(queue.text), "cycle": "2026",
                                                        "ids": str(a.id), f"reason_{a.id}": ""})
    assert response.status_code == 422 and "须填写退回原因" in response.text
    assert f'name="ids" value="{a.id}" checked' in response.text
    assert _reviews(session) == 0


def test_bulk_accept_and_bulk_return(login, session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _submit(session, world, world.c.big, world.c.big_members, TODAY, tmp_path)
    b = _submit(session, world, world.c.small, world.c.small_members, TODAY, tmp_path)
    rev = login("reviewer")
    token = csrf_of(rev.get("/review").text)
    empty = rev.post("/review/bulk", data={"csrf_token": token, "action": "return", "ids": [str(a.id), str(b.id)],
                                           "bulk_reason": ""})
    assert empty.status_code == 422 and "批量退回须填写退回原因" in empty.text
    assert _reviews(session) == 0
    done = rev.post("/review/bulk", data={"csrf_token": token, "action": "return", "ids": [str(a.id), str(b.id)],
                                          "bulk_reason": "签到表缺失"}, follow_redirects=False)
    assert done.status_code == 303 and _reviews(session) == 2
    # Resubmit both through the service, then accept both in one go.
    for completion, branch, members in ((a, world.c.big, world.c.big_members),
                                        (b, world.c.small, world.c.small_members)):
        from dangjian.services.closing import correct_completion

        photo = tmp_path / f"again-{completion.id}.png"
        photo.write_bytes(png_bytes(6, 6))
        correct_completion(session=session, completion_id=completion.id, acting_branch=branch.id, report=Report(
            held_on=TODAY, topic="党课", minutes="补签到表", evidence=[photo],
            attendance=[AttendanceEntry(m.id) for m in members]))
    latest = session.execute(select(Completion.id).where(Completion.version == 2)).scalars().all()
    token = csrf_of(rev.get("/review").text)
    ok = rev.post("/review/bulk", data={"csrf_token": token, "action": "accept", "ids": [str(i) for i in latest]},
                  follow_redirects=False)
    assert ok.status_code == 303
    assert "已审核通过 2 条报送" in rev.get(ok.headers["location"]).text


def test_other_street_and_non_reviewers_are_refused(login, session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _submit(session, world, world.c.big, world.c.big_members, TODAY, tmp_path)
    other = login("reviewer2")
    queue = other.get("/review")
    assert queue.status_code == 200 and f'id="c{a.id}"' not in queue.text
    token = csrf_of(queue.text)
    assert other.post(f"/review/{a.id}/accept", data={"csrf_token": token}).status_code == 403
    assert other.post("/review/bulk", data={"csrf_token": token, "action": "accept", "ids": str(a.id)}).status_code == 403
    assert other.get(f"/completions/{a.id}").status_code == 403
    for who in ("sec1", "leader"):
        c = login(who)
        assert c.get("/review").status_code == 403
        token = csrf_of(c.get("/account").text)
        assert c.post(f"/review/{a.id}/accept", data={"csrf_token": token}).status_code == 403
    assert _reviews(session) == 0


def test_a_branch_cannot_review_its_own_report(login, session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _submit(session, world, world.c.big, world.c.big_members, TODAY, tmp_path)
    sec = login("sec1")
    token = csrf_of(sec.get("/account").text)
    assert sec.post(f"/review/{a.id}/accept", data={"csrf_token": token}).status_code == 403
    assert _reviews(session) == 0
