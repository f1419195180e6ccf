"""Branch secretaries: the task inbox, closing a task with attendance and evidence,
correcting or resubmitting a report; task, report and evidence pages (read by anyone
whose scope covers the branch)."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from dangjian.domain.completion import AttendanceEntry
from dangjian.errors import DomainError, NotFound, ValidationFailed
from dangjian.services import access, closing, tasks
from dangjian.services.access import Principal
from dangjian.settings import get_settings
from dangjian.web import uploads, views
from dangjian.web.deps import (
    csrf_form,
    field,
    get_db,
    now,
    parse_day,
    pick_cycle,
    principal,
    redirect,
    render,
    today_of,
)
from models import Presence

router = APIRouter()
STORED_NAME = re.compile(r"^[0-9a-f]{64}(\.[a-z0-9]{1,9})?$")


@router.get("/inbox")
def inbox(request: Request, cycle: str | None = None, p: Principal = Depends(principal),
          db: Session = Depends(get_db)) -> Response:
    access.require(p, "report")
    current = pick_cycle(db, p, cycle)
    rows = tasks.list_tasks(session=db, cycle_code=current.code, unit_id=p.unit_id) if current else []
    return render(request, "secretary/inbox.html", {
        "cycle": current, "cycles": access.cycles_for(db, p), "box": views.inbox(rows, today_of(request)),
        "today": today_of(request)}, p=p)


@router.get("/tasks/{task_id}")
def task_page(task_id: int, request: Request, p: Principal = Depends(principal),
              db: Session = Depends(get_db)) -> Response:
    task = access.task_in_scope(db, p, task_id)
    return render(request, "task.html", {"v": views.task_view(db, task)}, p=p)


def _form_values(form: FormData | None, roster: list[views.RosterRow]) -> dict[str, Any]:
    """What the form shows: the user's last input, or blanks."""
    if form is None:
        return {"held_on": "", "topic": "", "minutes": "", "presence": {}, "reason": {}, "also": set()}
    return {
        "held_on": field(form, "held_on"), "topic": field(form, "topic"),
        "minutes": form.get("minutes") if isinstance(form.get("minutes"), str) else "",
        "presence": {m.id: field(form, f"p_{m.id}") for m in roster},
        "reason": {m.id: field(form, f"r_{m.id}") for m in roster},
        "also": {int(x) for x in form.getlist("also") if isinstance(x, str) and x.isdigit()},
        "keep": {int(x) for x in form.getlist("keep") if isinstance(x, str) and x.isdigit()},
    }


def _attendance(values: dict[str, Any], roster: list[views.RosterRow]) -> list[AttendanceEntry]:
    entries = []
    for m in roster:
        presence = values["presence"].get(m.id)
        if presence in Presence.__members__:
            entries.append(AttendanceEntry(m.id, Presence(presence), values["reason"].get(m.id) or None))
    return entries


def _report(values: dict[str, Any], roster: list[views.RosterRow], evidence: list[Any],
            p: Principal) -> closing.Report:
    if not values["held_on"]:
        raise ValidationFailed("请填写召开日期", field="held_on")
    return closing.Report(held_on=parse_day(values["held_on"], "召开日期"), topic=values["topic"],
                          minutes=values["minutes"] or "", attendance=_attendance(values, roster),
                          evidence=evidence, reported_by=p.display_name)


def _close_context(db: Session, p: Principal, task_id: int) -> dict[str, Any]:
    task = access.task_in_scope(db, p, task_id, write=True)
    view = views.task_view(db, task)
    rows = tasks.list_tasks(session=db, cycle_code=view.cycle.code, unit_id=p.unit_id)
    duties = views.duties_of(db, task.cycle_id)
    return {"v": view, "roster": views.roster(db, p.unit_id), "others": views.other_closable(rows, task),
            "duties": duties, "mode": "close", "action": f"/tasks/{task_id}/close"}


@router.get("/tasks/{task_id}/close")
def close_form(task_id: int, request: Request, p: Principal = Depends(principal),
               db: Session = Depends(get_db)) -> Response:
    ctx = _close_context(db, p, task_id)
    return render(request, "secretary/close.html", {**ctx, "values": _form_values(None, ctx["roster"])}, p=p)


@router.post("/tasks/{task_id}/close")
def close(task_id: int, request: Request, form: FormData = Depends(csrf_form),
          p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    ctx = _close_context(db, p, task_id)
    values = _form_values(form, ctx["roster"])
    ids = [task_id] + sorted(values["also"] - {task_id})
    try:
        for extra in ids[1:]:
            access.task_in_scope(db, p, extra, write=True)
        with uploads.staged(uploads.uploads(form.getlist("evidence")), uploads.EVIDENCE_KINDS,
                            request.app.state.config.max_upload_bytes) as files:
            report = _report(values, ctx["roster"], files, p)
            completion = closing.close_tasks(session=db, task_ids=ids, report=report,
                                             acting_branch=p.unit_id, actor=p.actor, now=now(request))
    except DomainError as error:
        db.rollback()
        return render(request, "secretary/close.html", {**ctx, "values": values, "error": error},
                      status_code=error.status, p=p)
    done = "、".join(f"#{i}" for i in ids)
    return redirect(request, f"/completions/{completion.id}", f"已报送：任务 {done}（报送记录 #{completion.id}）")


@router.get("/completions/{completion_id}")
def completion_page(completion_id: int, request: Request, p: Principal = Depends(principal),
                    db: Session = Depends(get_db)) -> Response:
    completion = access.completion_in_scope(db, p, completion_id)
    return render(request, "completion.html", {"c": views.completion_view(db, completion)}, p=p)


def _correct_context(db: Session, p: Principal, completion_id: int) -> dict[str, Any]:
    completion = access.completion_in_scope(db, p, completion_id, write=True)
    view = views.completion_view(db, completion)
    if not view.is_latest:
        raise NotFound(f"报送记录 #{completion_id} 已有更新的版本 #{view.latest.id}，请在最新版本上更正")
    resubmit = "returned" in view.states
    first = view.tasks[0]
    return {"c": view, "v": views.task_view(db, first), "roster": views.roster(db, p.unit_id), "others": [],
            "duties": views.duties_of(db, first.cycle_id), "mode": "resubmit" if resubmit else "correct",
            "action": f"/completions/{completion_id}/correct"}


@router.get("/completions/{completion_id}/correct")
def correct_form(completion_id: int, request: Request, p: Principal = Depends(principal),
                 db: Session = Depends(get_db)) -> Response:
    ctx = _correct_context(db, p, completion_id)
    c = ctx["c"]
    values = {"held_on": c.completion.held_on.isoformat(), "topic": c.completion.topic,
              "minutes": c.completion.minutes,
              "presence": {mid: presence for mid, _n, presence, _r in c.attendance},
              "reason": {mid: reason or "" for mid, _n, _p, reason in c.attendance},
              "also": set(), "keep": {e.id for e in c.evidence}}
    return render(request, "secretary/close.html", {**ctx, "values": values}, p=p)


@router.post("/completions/{completion_id}/correct")
def correct(completion_id: int, request: Request, form: FormData = Depends(csrf_form),
            p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    ctx = _correct_context(db, p, completion_id)
    values = _form_values(form, ctx["roster"])
    store = get_settings().files_dir
    kept = [(store / e.stored_name, e.original_name) for e in ctx["c"].evidence
            if e.id in values["keep"] and STORED_NAME.match(e.stored_name)]
    try:
        with uploads.staged(uploads.uploads(form.getlist("evidence")), uploads.EVIDENCE_KINDS,
                            request.app.state.config.max_upload_bytes, extra=kept) as files:
            report = _report(values, ctx["roster"], files, p)
            completion = closing.correct_completion(session=db, completion_id=completion_id, report=report,
                                                    acting_branch=p.unit_id, actor=p.actor, now=now(request))
    except DomainError as error:
        db.rollback()
        return render(request, "secretary/close.html", {**ctx, "values": values, "error": error},
                      status_code=error.status, p=p)
    verb = "已重新报送" if ctx["mode"] == "resubmit" else "已更正"
    return redirect(request, f"/completions/{completion.id}", f"{verb}：报送记录 #{completion.id}（第 {completion.version} 版）")


@router.get("/evidence/{evidence_id}")
def evidence_file(evidence_id: int, p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    """Served from the content-addressed store by the id in the database, never by a user's path."""
    evidence = access.evidence_in_scope(db, p, evidence_id)
    store = get_settings().files_dir.resolve()
    path = (store / evidence.stored_name).resolve()
    if not STORED_NAME.match(evidence.stored_name) or path.parent != store or not path.is_file():
        raise NotFound(f"佐证材料 #{evidence_id} 的文件不在存储中")
    suffix = path.suffix.lower()
    mime = uploads.SERVED_TYPES.get(suffix)
    disposition = "inline" if mime else "attachment"
    headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(evidence.original_name)}",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if mime != uploads.PDF.mime:
        headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return FileResponse(path, media_type=mime or "application/octet-stream", headers=headers)
