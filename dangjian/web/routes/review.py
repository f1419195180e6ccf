"""Street reviewers (and district administrators): the queue of submitted reports,
accept or return with a reason, one at a time or in bulk."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from dangjian.errors import DomainError, ValidationFailed
from dangjian.services import access, review
from dangjian.services.access import Principal
from dangjian.web.deps import csrf_form, field, get_db, now, pick_cycle, principal, redirect, render
from dangjian.web.views import duties_of
from models import TaskState

router = APIRouter()


def _queue(db: Session, p: Principal, cycle_code: str | None, state: str) -> dict[str, Any]:
    access.require(p, "review")
    cycle = pick_cycle(db, p, cycle_code)
    wanted = TaskState.returned if state == "returned" else TaskState.submitted
    rows = review.pending_reviews(session=db, cycle_code=cycle.code, unit_id=p.unit_id,
                                  state=wanted) if cycle else []
    names = {code: d.name for code, d in duties_of(db, cycle.id).items()} if cycle else {}
    return {"cycle": cycle, "cycles": access.cycles_for(db, p), "rows": rows, "state": str(wanted),
            "duty_names": names}


def _ids(form: FormData) -> list[int]:
    return [int(x) for x in form.getlist("ids") if isinstance(x, str) and x.isdigit()]


def _keep(form: FormData) -> dict[str, Any]:
    return {"ids": set(_ids(form)), "bulk_reason": field(form, "bulk_reason"),
            "reasons": {k[7:]: v for k, v in form.items() if k.startswith("reason_") and isinstance(v, str)}}


@router.get("/review")
def queue(request: Request, cycle: str | None = None, state: str = "submitted",
          p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    ctx = _queue(db, p, cycle, state)
    return render(request, "review/queue.html", {**ctx, "kept": {"ids": set(), "bulk_reason": "", "reasons": {}}}, p=p)


def _failed(request: Request, db: Session, p: Principal, form: FormData, error: DomainError) -> Response:
    db.rollback()
    ctx = _queue(db, p, field(form, "cycle") or None, "submitted")
    return render(request, "review/queue.html", {**ctx, "kept": _keep(form), "error": error},
                  status_code=error.status, p=p)


def _back(form: FormData) -> str:
    code = field(form, "cycle")
    return f"/review?cycle={code}" if code else "/review"


@router.post("/review/{completion_id}/accept")
def accept(completion_id: int, request: Request, form: FormData = Depends(csrf_form),
           p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    access.completion_in_scope(db, p, completion_id, review=True)
    try:
        review.accept(session=db, completion_id=completion_id, reviewer=p.actor, reviewing_unit=p.unit_id,
                      now=now(request))
    except DomainError as error:
        return _failed(request, db, p, form, error)
    return redirect(request, _back(form), f"报送记录 #{completion_id} 已审核通过")


@router.post("/review/{completion_id}/return")
def return_(completion_id: int, request: Request, form: FormData = Depends(csrf_form),
            p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    access.completion_in_scope(db, p, completion_id, review=True)
    reason = field(form, f"reason_{completion_id}") or field(form, "reason")
    try:
        review.return_completion(session=db, completion_id=completion_id, reason=reason,
                                 reviewer=p.actor, reviewing_unit=p.unit_id, now=now(request))
    except DomainError as error:
        return _failed(request, db, p, form, error)
    return redirect(request, _back(form), f"报送记录 #{completion_id} 已退回：{reason}")


@router.post("/review/bulk")
def bulk(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
         db: Session = Depends(get_db)) -> Response:
    ids, action = _ids(form), field(form, "action")
    try:
        if not ids:
            raise ValidationFailed("请先勾选要审核的报送记录", field="ids")
        access.completions_in_scope(db, p, ids, review=True)
        if action == "accept":
            review.accept_many(session=db, completion_ids=ids, reviewer=p.actor, reviewing_unit=p.unit_id,
                               now=now(request))
            text = f"已审核通过 {len(ids)} 条报送"
        elif action == "return":
            reason = field(form, "bulk_reason")
            if not reason:
                raise ValidationFailed("批量退回须填写退回原因", field="bulk_reason")
            done: list[int] = []
            for cid in ids:
                try:
                    review.return_completion(session=db, completion_id=cid, reason=reason,
                                             reviewer=p.actor, reviewing_unit=p.unit_id, now=now(request))
                except DomainError as error:
                    if not done:
                        raise
                    return _failed(request, db, p, form, ValidationFailed(
                        f"已退回 {'、'.join(f'#{i}' for i in done)}；报送记录 #{cid} 未能退回，其后的未处理：",
                        details=[error.message, *error.details]))
                done.append(cid)
            text = f"已退回 {len(ids)} 条报送：{reason}"
        else:
            raise ValidationFailed("未知的批量操作", field="action")
    except DomainError as error:
        if error.status == 403:
            raise
        return _failed(request, db, p, form, error)
    return redirect(request, _back(form), text)
