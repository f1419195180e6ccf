"""The JSON API under /api: the same operations as the pages, for scripts. Authenticate with
`Authorization: Bearer <token>` (tokens from /account or `dangjian users token`). Errors
come back as {"error": 中文说明, "details": [...], "field": ...} with the service's status."""
from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from dangjian.domain.completion import AttendanceEntry
from dangjian.services import access, closing, overview, review, tasks, users
from dangjian.services.access import Principal
from dangjian.services.scorecards import scorecard_document
from dangjian.services.tasks import TaskRow
from dangjian.web.deps import LoginRequired, get_db, now, today_of
from models import Presence, TaskState

router = APIRouter(tags=["api"])


def api_principal(request: Request, db: Session = Depends(get_db)) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LoginRequired()
    user = users.token_user(session=db, token=token.strip(), now=now(request))
    p = access.principal_for(db, user)
    request.state.principal = p
    return p


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    unit_id: str
    unit_name: str


class CycleOut(BaseModel):
    code: str
    name: str
    start_on: date
    end_on: date
    state: str


class AttendanceIn(BaseModel):
    member_id: str
    presence: Literal["present", "leave", "absent"] = "present"
    reason: str | None = None


class ReportIn(BaseModel):
    held_on: date = Field(description="召开日期（北京时间）")
    topic: str
    minutes: str = ""
    attendance: list[AttendanceIn] = []


class CloseIn(ReportIn):
    task_ids: list[int] = Field(min_length=1, description="同一支部的任务；一次活动可办结多个不同职责的任务")


class CompletionOut(BaseModel):
    id: int
    chain_id: int
    version: int
    unit_id: str
    held_on: date
    topic: str


class ReturnIn(BaseModel):
    reason: str


class IdsIn(BaseModel):
    completion_ids: list[int] = Field(min_length=1)


class ReviewOut(BaseModel):
    id: int
    completion_id: int
    decision: str
    reason: str | None


def _report(body: ReportIn, p: Principal) -> closing.Report:
    return closing.Report(held_on=body.held_on, topic=body.topic, minutes=body.minutes,
                          attendance=[AttendanceEntry(a.member_id, Presence(a.presence), a.reason)
                                      for a in body.attendance], reported_by=p.display_name)


def _completion(c: Any) -> CompletionOut:
    return CompletionOut(id=c.id, chain_id=c.chain_id, version=c.version, unit_id=c.unit_id, held_on=c.held_on,
                         topic=c.topic)


@router.get("/me", response_model=Me)
def me(p: Principal = Depends(api_principal)) -> Me:
    return Me(username=p.username, display_name=p.display_name, role=str(p.role), unit_id=p.unit_id,
              unit_name=p.unit_name)


@router.get("/cycles", response_model=list[CycleOut])
def list_cycles(p: Principal = Depends(api_principal), db: Session = Depends(get_db)) -> list[CycleOut]:
    return [CycleOut(code=c.code, name=c.name, start_on=c.start_on, end_on=c.end_on, state=str(c.state))
            for c in access.cycles_for(db, p)]


@router.get("/tasks", response_model=list[TaskRow])
def list_tasks(cycle: str, unit: str | None = None, state: str | None = None, limit: int = Query(500, le=5000),
               p: Principal = Depends(api_principal), db: Session = Depends(get_db)) -> list[TaskRow]:
    found = access.cycle_in_scope(db, p, cycle)
    scope = access.unit_in_scope(db, p, unit or p.unit_id)
    rows = tasks.list_tasks(session=db, cycle_code=found.code, unit_id=scope.id, state=state, limit=limit)
    return rows  # the service's own rows: one shape for CLI, pages and API


@router.post("/tasks/close", response_model=CompletionOut, status_code=201)
def close_tasks(request: Request, body: CloseIn, p: Principal = Depends(api_principal), db: Session = Depends(get_db)) -> CompletionOut:
    """办结任务（不含佐证材料；需要佐证材料的职责请在网页上报送）。"""
    for task_id in body.task_ids:
        access.task_in_scope(db, p, task_id, write=True)
    completion = closing.close_tasks(session=db, task_ids=body.task_ids, report=_report(body, p),
                                     acting_branch=p.unit_id, actor=p.actor, now=now(request))
    return _completion(completion)


@router.post("/completions/{completion_id}/correct", response_model=CompletionOut, status_code=201)
def correct(request: Request, completion_id: int, body: ReportIn, p: Principal = Depends(api_principal),
            db: Session = Depends(get_db)) -> CompletionOut:
    """更正或重新报送（生成新版本；旧版本的佐证材料不带入）。"""
    access.completion_in_scope(db, p, completion_id, write=True)
    completion = closing.correct_completion(session=db, completion_id=completion_id, report=_report(body, p),
                                            acting_branch=p.unit_id, actor=p.actor, now=now(request))
    return _completion(completion)


@router.get("/reviews")
def pending(cycle: str, state: Literal["submitted", "returned"] = "submitted", p: Principal = Depends(api_principal),
            db: Session = Depends(get_db)) -> list[dict[str, Any]]:
    access.require(p, "review")
    found = access.cycle_in_scope(db, p, cycle)
    rows = review.pending_reviews(session=db, cycle_code=found.code, unit_id=p.unit_id, state=TaskState(state))
    return [{**r.__dict__, "tasks": [{"id": t, "duty_code": d, "period_label": lbl} for t, d, lbl in r.tasks]}
            for r in rows]


def _review(r: Any) -> ReviewOut:
    return ReviewOut(id=r.id, completion_id=r.completion_id, decision=str(r.decision), reason=r.reason)


@router.post("/reviews/{completion_id}/accept", response_model=ReviewOut)
def accept(request: Request, completion_id: int, p: Principal = Depends(api_principal), db: Session = Depends(get_db)) -> ReviewOut:
    access.completion_in_scope(db, p, completion_id, review=True)
    return _review(review.accept(session=db, completion_id=completion_id, reviewer=p.actor, reviewing_unit=p.unit_id,
                                 now=now(request)))


@router.post("/reviews/{completion_id}/return", response_model=ReviewOut)
def return_(request: Request, completion_id: int, body: ReturnIn, p: Principal = Depends(api_principal),
            db: Session = Depends(get_db)) -> ReviewOut:
    access.completion_in_scope(db, p, completion_id, review=True)
    return _review(review.return_completion(session=db, completion_id=completion_id, reason=body.reason,
                                            reviewer=p.actor, reviewing_unit=p.unit_id, now=now(request)))


@router.post("/reviews/accept", response_model=list[ReviewOut])
def accept_many(request: Request, body: IdsIn, p: Principal = Depends(api_principal), db: Session = Depends(get_db)) -> list[ReviewOut]:
    access.completions_in_scope(db, p, body.completion_ids, review=True)
    result = review.accept_many(session=db, completion_ids=body.completion_ids, reviewer=p.actor,
                                reviewing_unit=p.unit_id, now=now(request))
    return [_review(r) for r in result.reviews]


@router.get("/scorecard")
def scorecard(cycle: str, unit: str | None = None, explain: bool = False, version: int | None = None,
              p: Principal = Depends(api_principal), db: Session = Depends(get_db)) -> dict[str, Any]:
    """评分文档（dangjian.scorecard/1，见 docs/scorecard-json.md），限于本账号管辖范围。"""
    from dangjian.reports.scorecard import canonical

    access.require(p, "read_scores")
    found = access.cycle_in_scope(db, p, cycle)
    scope = access.unit_in_scope(db, p, unit or p.unit_id)
    return canonical(scorecard_document(session=db, cycle_code=found.code, unit_id=scope.id, explain=explain,
                                        version=version))


@router.get("/overview")
def get_overview(request: Request, unit: str | None = None, as_of: date | None = None,
                 p: Principal = Depends(api_principal),
                 db: Session = Depends(get_db)) -> dict[str, Any]:
    """基本情况：组织、党员、类别，按城区/建制镇分列。"""
    access.require(p, "read_overview")
    scope = access.unit_in_scope(db, p, unit or p.unit_id)
    return overview.overview(session=db, unit_id=scope.id, as_of=as_of or today_of(request)).as_dict()
