"""Secretaries: the inbox, closing with attendance and a photo, errors shown in place with the
input kept and nothing written, another branch's task refused, evidence served safely."""
from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from models import AuditEvent, Completion, Evidence, Task
from tests.web.support import TODAY, World, csrf_of, png_bytes


def _count(session: Session, model) -> int:  # type: ignore[no-untyped-def]
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _attendance(world: World, present: int, leave_reason: str = "外出务工") -> dict[str, str]:
    data = {}
    for i, m in enumerate(world.c.big_members):
        if i < present:
            data[f"p_{m.id}"] = "present"
        else:
            data[f"p_{m.id}"] = "leave"
            data[f"r_{m.id}"] = leave_reason
    return data


def _lecture(session: Session, world: World) -> Task:
    return world.task(session, world.c.big, "party_lecture", TODAY)


def test_inbox_sorts_tasks_into_buckets(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    page = login("sec1").get("/inbox")
    assert page.status_code == 200
    text = page.text
    for heading in ("已逾期", "即将到期", "待上级审核", "已完成"):
        assert heading in text
    lecture = _lecture(session, world)
    assert f"/tasks/{lecture.id}/close" in text
    assert "西湖社区党支部" not in text                  # only the secretary's own branch


def test_close_form_lists_the_roster_and_quorum_script(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    lecture = _lecture(session, world)
    page = login("sec1").get(f"/tasks/{lecture.id}/close")
    assert page.status_code == 200
    for m in world.c.big_members:
        assert f'name="p_{m.id}"' in page.text
    assert 'src="/static/close.js"' in page.text
    assert "须上传至少 1 份佐证材料" in page.text and "报送后须经上级审核" in page.text
    assert 'name="viewport"' in page.text


def test_close_with_attendance_and_photo_submits_for_review(login, session: Session, world: World,
                                                            files_dir) -> None:  # type: ignore[no-untyped-def]
    lecture = _lecture(session, world)
    sec = login("sec1")
    page = sec.get(f"/tasks/{lecture.id}/close")
    data = {"csrf_token": csrf_of(page.text), "held_on": TODAY.isoformat(), "topic": "书记讲党课",
            "minutes": "学习党章第一章。", **_attendance(world, 6)}
    response = sec.post(f"/tasks/{lecture.id}/close", data=data,
                        files=[("evidence", ("会场.png", png_bytes(), "image/png"))], follow_redirects=False)
    assert response.status_code == 303, response.text
    session.refresh(lecture)
    assert lecture.state == "submitted"
    evidence = session.execute(select(Evidence)).scalar_one()
    assert evidence.original_name == "会场.png" and evidence.stored_name == evidence.sha256 + ".png"
    assert (files_dir / evidence.stored_name).read_bytes() == png_bytes()
    shown = sec.get(response.headers["location"])
    assert "会场.png" in shown.text and "待审核" in shown.text
    served = sec.get(f"/evidence/{evidence.id}")
    assert served.status_code == 200 and served.content == png_bytes()
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]


def test_service_errors_are_shown_in_place_with_input_kept_and_nothing_written(
        login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    lecture = _lecture(session, world)
    sec = login("sec1")
    page = sec.get(f"/tasks/{lecture.id}/close")
    before = (_count(session, Completion), _count(session, AuditEvent))
    data = {"csrf_token": csrf_of(page.text), "held_on": "2025-06-01", "topic": "我的主题保留",
            "minutes": "记录保留", **_attendance(world, 2, leave_reason="")}
    response = sec.post(f"/tasks/{lecture.id}/close", data=data)
    assert response.status_code == 422
    text = response.text
    assert "报送未通过校验" in text
    assert "不在任务" in text                         # held date outside the period
    assert "请假须填写原因" in text
    assert "须上传至少 1 份佐证材料" in text
    assert 'value="我的主题保留"' in text and "记录保留" in text and 'value="2025-06-01"' in text
    assert f'name="p_{world.c.big_members[0].id}" value="present" checked' in text
    assert (_count(session, Completion), _count(session, AuditEvent)) == before
    session.refresh(lecture)
    assert lecture.state in ("open", "overdue")


def test_evidence_is_checked_by_its_bytes(login, session: Session, world: World, files_dir) -> None:  # type: ignore[no-untyped-def]
    lecture = _lecture(session, world)
    sec = login("sec1")
    page = sec.get(f"/tasks/{lecture.id}/close")
    data = {"csrf_token": csrf_of(page.text), "held_on": TODAY.isoformat(), "topic": "党课",
            "minutes": "记录", **_attendance(world, 6)}
    response = sec.post(f"/tasks/{lecture.id}/close", data=data,
                        files=[("evidence", ("photo.jpg", b"MZ\x90\x00 not an image", "image/jpeg")),
                               ("evidence", ("empty.png", b"", "image/png"))])
    assert response.status_code == 422
    assert "photo.jpg" in response.text and "不是允许的文件类型" in response.text and "空文件" in response.text
    assert _count(session, Completion) == 0 and _count(session, Evidence) == 0
    assert not files_dir.exists() or not any(files_dir.iterdir())


def test_oversized_evidence_is_refused(login, app, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    app.state.config.max_upload_bytes = 1024
    lecture = _lecture(session, world)
    sec = login("sec1")
    page = sec.get(f"/tasks/{lecture.id}/close")
    big = png_bytes() + b"\x00" * 2048
    response = sec.post(f"/tasks/{lecture.id}/close",
                        data={"csrf_token": csrf_of(page.text), "held_on": TODAY.isoformat(), "topic": "党课",
                              "minutes": "记录", **_attendance(world, 6)},
                        files=[("evidence", ("big.png", big, "image/png"))])
    assert response.status_code == 422 and "超过上限" in response.text
    assert _count(session, Completion) == 0


def test_request_body_limit(session: Session, world: World) -> None:
    from dangjian.web.app import create_app
    from dangjian.web.config import WebConfig

    tiny = create_app(engine=session.get_bind(), config=WebConfig(secret_key="t" * 40, max_request_bytes=1000))
    with TestClient(tiny) as c:
        response = c.post("/login", content=b"x" * 5000, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and "上传内容过大" in response.text


def test_another_branchs_task_is_forbidden_and_nothing_changes(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    theirs = world.task(session, world.c.small, "party_congress", TODAY)
    sec = login("sec1")
    assert sec.get(f"/tasks/{theirs.id}").status_code == 403
    assert sec.get(f"/tasks/{theirs.id}/close").status_code == 403
    page = sec.get("/inbox")
    response = sec.post(f"/tasks/{theirs.id}/close", data={
        "csrf_token": csrf_of(page.text), "held_on": TODAY.isoformat(), "topic": "冒名", "minutes": "x"})
    assert response.status_code == 403
    assert _count(session, Completion) == 0
    session.refresh(theirs)
    assert theirs.state in ("open", "overdue")
    # Smuggling another branch's task in as "also closes" is refused too.
    mine = world.task(session, world.c.big, "theme_party_day", TODAY)
    page = sec.get(f"/tasks/{mine.id}/close")
    response = sec.post(f"/tasks/{mine.id}/close", data={
        "csrf_token": csrf_of(page.text), "held_on": TODAY.isoformat(), "topic": "主题党日", "minutes": "x",
        "also": str(theirs.id), **_attendance(world, 6)})
    assert response.status_code == 403
    assert _count(session, Completion) == 0


def test_leaders_and_reviewers_cannot_report(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    lecture = _lecture(session, world)
    for who in ("leader", "reviewer", "admin"):
        c = login(who)
        assert c.get(f"/tasks/{lecture.id}/close").status_code == 403
        assert c.get(f"/tasks/{lecture.id}").status_code == 200          # but may read it
    assert login("leader2").get(f"/tasks/{lecture.id}").status_code == 403   # other street


def test_one_event_closes_two_tasks_without_review(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    day = date(TODAY.year, TODAY.month, 1)
    theme = world.task(session, world.c.big, "theme_party_day", day)
    monthly = world.task(session, world.c.big, "monthly_member_meeting", day)
    sec = login("sec1")
    page = sec.get(f"/tasks/{theme.id}/close")
    assert f'name="also" value="{monthly.id}"' in page.text
    response = sec.post(f"/tasks/{theme.id}/close", data={
        "csrf_token": csrf_of(page.text), "held_on": day.isoformat(), "topic": "主题党日暨党员大会",
        "minutes": "记录", "also": str(monthly.id), **_attendance(world, 6)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    session.refresh(theme)
    session.refresh(monthly)
    assert theme.state in ("done", "late") and monthly.state in ("done", "late")


def test_correction_keeps_old_version_and_evidence(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    lecture = _lecture(session, world)
    sec = login("sec1")
    page = sec.get(f"/tasks/{lecture.id}/close")
    sec.post(f"/tasks/{lecture.id}/close", data={
        "csrf_token": csrf_of(page.text), "held_on": TODAY.isoformat(), "topic": "党课", "minutes": "第一版",
        **_attendance(world, 6)}, files=[("evidence", ("a.png", png_bytes(), "image/png"))])
    first = session.execute(select(Completion)).scalar_one()
    form = sec.get(f"/completions/{first.id}/correct")
    assert form.status_code == 200 and "第一版" in form.text and 'name="keep"' in form.text
    keep = session.execute(select(Evidence.id)).scalar_one()
    response = sec.post(f"/completions/{first.id}/correct", data={
        "csrf_token": csrf_of(form.text), "held_on": TODAY.isoformat(), "topic": "党课（更正）",
        "minutes": "第二版", "keep": str(keep), **_attendance(world, 7)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    versions = session.execute(select(Completion).order_by(Completion.version)).scalars().all()
    assert [v.version for v in versions] == [1, 2] and versions[1].minutes == "第二版"
    names = session.execute(select(Evidence.completion_id, Evidence.original_name)).all()
    assert (versions[1].id, "a.png") in names and (versions[0].id, "a.png") in names
