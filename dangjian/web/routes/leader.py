"""Leaders (and everyone, within their scope): the scorecard of a subtree with drill-down
from district to branch to task, the 基本情况 figures with the lists behind them, and
xlsx export of both. Read-only: nothing here writes."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from dangjian.errors import DomainError, NotFound
from dangjian.services import access, overview, tasks
from dangjian.services.access import Principal
from dangjian.web import exports
from dangjian.web.deps import (
    get_db,
    parse_day,
    pick_cycle,
    principal,
    render,
    script_json,
    today_of,
)
from dangjian.web.scoreviews import chart_data, crumbs, score_view
from models import UnitKind

router = APIRouter()


def _scores(request: Request, db: Session, p: Principal, unit_id: str, cycle_code: str | None) -> Response:
    access.require(p, "read_scores")
    scope = access.unit_in_scope(db, p, unit_id)
    cycle = pick_cycle(db, p, cycle_code)
    ctx = {"cycle": cycle, "cycles": access.cycles_for(db, p), "scope": scope,
           "crumbs": crumbs(db, scope, p.unit_path)}
    if cycle is None:
        return render(request, "leader/scores.html", {**ctx, "view": None}, p=p)
    try:
        view = score_view(db, cycle, scope, top_path=p.unit_path, today=today_of(request))
    except NotFound as missing:
        return render(request, "leader/scores.html", {**ctx, "view": None, "missing": missing}, p=p)
    branch_tasks = []
    if scope.kind == UnitKind.branch:
        branch_tasks = tasks.list_tasks(session=db, cycle_code=cycle.code, unit_id=scope.id)
    return render(request, "leader/scores.html", {
        **ctx, "view": view, "charts": script_json(chart_data(view)),
        "branch_tasks": branch_tasks}, p=p)


@router.get("/scores")
def scores(request: Request, cycle: str | None = None, p: Principal = Depends(principal),
           db: Session = Depends(get_db)) -> Response:
    return _scores(request, db, p, p.unit_id, cycle)


@router.get("/scores/unit/{unit_id}")
def unit_scores(unit_id: str, request: Request, cycle: str | None = None, p: Principal = Depends(principal),
                db: Session = Depends(get_db)) -> Response:
    return _scores(request, db, p, unit_id, cycle)


@router.get("/scores/export.xlsx")
def export_scores(cycle: str, unit: str | None = None, p: Principal = Depends(principal),
                  db: Session = Depends(get_db)) -> Response:
    from dangjian.services.scorecards import scorecard_document

    access.require(p, "read_scores")
    scope = access.unit_in_scope(db, p, unit or p.unit_id)
    found = access.cycle_in_scope(db, p, cycle)
    doc = scorecard_document(session=db, cycle_code=found.code, unit_id=scope.id, explain=True)
    return exports.scorecard_xlsx(doc, f"评分-{found.code}-{scope.name}.xlsx")


def _as_of(request: Request, text: str | None) -> date:
    return parse_day(text, "截至日期") if text else today_of(request)


@router.get("/overview")
def overview_page(request: Request, unit: str | None = None, as_of: str | None = None,
                  p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    access.require(p, "read_overview")
    scope = access.unit_in_scope(db, p, unit or p.unit_id)
    try:
        day = _as_of(request, as_of)
    except DomainError as error:
        return render(request, "leader/overview.html", {"o": None, "error": error, "scope": scope,
                                                        "as_of": as_of}, status_code=error.status, p=p)
    o = overview.overview(session=db, unit_id=scope.id, as_of=day)
    return render(request, "leader/overview.html", {
        "o": o, "scope": scope, "as_of": day.isoformat(), "area_label": overview.AREA_LABEL,
        "crumbs": crumbs(db, scope, p.unit_path)}, p=p)


@router.get("/overview/list")
def overview_list(request: Request, figure: str, unit: str | None = None, as_of: str | None = None,
                  area: str | None = None, export: bool = False, p: Principal = Depends(principal),
                  db: Session = Depends(get_db)) -> Response:
    access.require(p, "read_overview")
    scope = access.unit_in_scope(db, p, unit or p.unit_id)
    day = _as_of(request, as_of)
    labels = overview.figure_keys(day)
    if figure not in labels:
        raise NotFound(f"未知的统计项：{figure}", field="figure")
    area_name = overview.AREA_LABEL.get(area or "", "") if area is not None else ""
    title = f"{scope.name}{area_name}{labels[figure]}（截至 {day}）"
    unit_figure = figure in {k for k, _kind, _l in overview.UNIT_FIGURES}
    if unit_figure:
        rows = overview.units_behind(session=db, unit_id=scope.id, figure=figure, area=area)
    else:
        rows = overview.members_behind(session=db, unit_id=scope.id, figure=figure, as_of=day, area=area)
    if export:
        if unit_figure:
            return exports.table_xlsx(title, ["编码", "名称", "上级", "城乡", "党员数"],
                                      [[u.id, u.name, u.parent_name, overview.AREA_LABEL[u.area], u.members] for u in rows],
                                      f"{title}.xlsx")
        return exports.table_xlsx(title, ["编号", "姓名", "性别", "出生日期", "类别", "身份", "入党日期", "支部"],
                                  [[m.id, m.name, GENDER.get(m.gender, m.gender), m.birth_date.isoformat(),
                                    overview.CATEGORY_LABEL.get(m.category, m.category), STATUS.get(m.status, m.status),
                                    m.joined_on.isoformat() if m.joined_on else "", m.branch_name] for m in rows],
                                  f"{title}.xlsx")
    return render(request, "leader/overview_list.html", {
        "title": title, "rows": rows, "unit_figure": unit_figure, "scope": scope, "figure": figure,
        "as_of": day.isoformat(), "area": area, "gender": GENDER, "status": STATUS,
        "category": overview.CATEGORY_LABEL, "area_label": overview.AREA_LABEL}, p=p)


@router.get("/overview/export.xlsx")
def overview_export(request: Request, unit: str | None = None, as_of: str | None = None,
                    p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    access.require(p, "read_overview")
    scope = access.unit_in_scope(db, p, unit or p.unit_id)
    day = _as_of(request, as_of)
    o = overview.overview(session=db, unit_id=scope.id, as_of=day)
    return exports.overview_xlsx(o, f"基本情况-{scope.name}-{day}.xlsx")


GENDER = {"male": "男", "female": "女"}
STATUS = {"full": "正式党员", "probationary": "预备党员", "activist": "入党积极分子", "candidate": "发展对象"}
