"""District administrators: the organisation tree and rosters (import with row errors),
rule sets (check with line numbers, run the examples, what-if against a cycle, register),
cycles (create, plan, score, publish, close) and accounts."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from dangjian.domain.dates import not_future
from dangjian.errors import DomainError, ValidationFailed
from dangjian.services import (
    access,
    cycle_end,
    cycles,
    org_import,
    planning,
    rule_sets,
    scoring,
    users,
)
from dangjian.services.access import Principal
from dangjian.web import uploads, views
from dangjian.web.deps import (
    csrf_form,
    field,
    get_db,
    parse_day,
    principal,
    redirect,
    render,
    today_of,
)
from models import Cycle, RuleSetVersion, ScoreRun, Task, Unit, UnitKind

router = APIRouter(prefix="/admin")


def _admin(p: Principal) -> Principal:
    access.require(p, "configure")
    return p


@router.get("")
def dashboard(request: Request, p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    _admin(p)
    mine = [c for c in access.cycles_for(db, p)]
    return render(request, "admin/dashboard.html", {"cycles": mine}, p=p)


# -- organisation ------------------------------------------------------------------------

def _org_context(db: Session, p: Principal, unit_id: str | None) -> dict[str, Any]:
    unit = access.unit_in_scope(db, p, unit_id or p.unit_id)
    from dangjian.web.scoreviews import crumbs

    return {"unit": unit, "children": views.org_children(db, unit), "crumbs": crumbs(db, unit, p.unit_path),
            "members": views.members_of(db, unit.id) if unit.kind in (UnitKind.branch, UnitKind.group) else []}


@router.get("/org")
def org(request: Request, unit: str | None = None, p: Principal = Depends(principal),
        db: Session = Depends(get_db)) -> Response:
    _admin(p)
    return render(request, "admin/org.html", _org_context(db, p, unit), p=p)


@router.post("/org/import")
def org_import_post(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                    db: Session = Depends(get_db)) -> Response:
    _admin(p)
    files = uploads.uploads(form.getlist("files"))
    try:
        if not files or not any(f.filename for f in files):
            raise ValidationFailed("请选择要导入的组织机构或党员名册文件（xlsx 或 CSV）", field="files")
        with uploads.staged(files, uploads.ROSTER_KINDS, request.app.state.config.max_request_bytes,
                            what="名册文件") as paths:
            access.check_import_scope(db, p, paths)
            report = org_import.import_org(session=db, paths=paths, actor=p.actor)
    except DomainError as error:
        db.rollback()
        return render(request, "admin/org.html", {**_org_context(db, p, None), "error": error},
                      status_code=error.status, p=p)
    return redirect(request, "/admin/org",
                    f"导入完成：组织 新增 {report.units_added}、更新 {report.units_updated}；"
                    f"党员 新增 {report.members_added}、更新 {report.members_updated}")


# -- rule sets ---------------------------------------------------------------------------

def _rules_context(db: Session, p: Principal) -> dict[str, Any]:
    used = dict(db.execute(select(Cycle.rule_set_id, func.count()).group_by(Cycle.rule_set_id)).all())
    records = list(db.execute(select(RuleSetVersion).order_by(RuleSetVersion.code, RuleSetVersion.id)).scalars())
    mine = access.cycles_for(db, p)
    return {"records": records, "used": used, "cycles": mine,
            "current": next((c for c in mine if str(c.state) == "open"), mine[0] if mine else None)}


@router.get("/rules")
def rules_page(request: Request, p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    _admin(p)
    return render(request, "admin/rules.html", _rules_context(db, p), p=p)


def _source(form: FormData) -> tuple[str, str]:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        head = upload.file.read(64)
        upload.file.seek(0)
        if uploads.sniff(head, (uploads.YAML,)) is None:
            raise ValidationFailed(f"“{upload.filename}”不是文本格式的 YAML 规则文件", field="file")
        from rules import limits

        raw = upload.file.read(limits.MAX_FILE_BYTES + 1)
        too_large = limits.too_large(max(len(raw), upload.size or 0))
        if too_large:
            raise ValidationFailed(f"“{upload.filename}”：{too_large}", field="file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("规则文件不是 UTF-8 编码，请另存为 UTF-8", field="file") from None
        name = upload.filename
    else:
        text, name = str(form.get("source") or ""), field(form, "file_name") or "rules.yaml"
    if not text.strip():
        raise ValidationFailed("请上传规则文件或粘贴规则内容", field="file")
    suffix = ".yml" if name.lower().endswith(".yml") else ".yaml"
    return text.replace("\r\n", "\n"), uploads.clean_name(name, suffix, fallback="rules")


def _draft(text: str, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="dj-rules-"))
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@router.post("/rules/check")
def rules_check(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                db: Session = Depends(get_db)) -> Response:
    """Check a draft: load errors with line numbers, the file's own examples, and what-if
    against a cycle. Nothing is written."""
    from rules.examples import run_examples
    from rules.loader import RuleSetError, load_rule_set_text

    _admin(p)
    ctx = _rules_context(db, p)
    try:
        text, name = _source(form)
    except DomainError as error:
        return render(request, "admin/rules.html", {**ctx, "error": error}, status_code=error.status, p=p)
    result: dict[str, Any] = {"source": text, "file_name": name, "lines": text.split("\n")}
    try:
        loaded = load_rule_set_text(text, name)
    except RuleSetError as error:
        result.update(issues=error.issues, bad_lines={i.line for i in error.issues})
        return render(request, "admin/rules.html", {**ctx, "check": result, "error": error},
                      status_code=422, p=p)
    result["loaded"] = loaded
    result["examples"] = run_examples(loaded)
    code = field(form, "cycle") or (ctx["current"].code if ctx["current"] else "")
    if code:
        from dangjian.services.what_if import what_if

        cycle = access.cycle_to_configure(db, p, code)
        draft = _draft(text, name)
        try:
            # no date given: the service uses the stored version's 截至 date
            as_of = (not_future(parse_day(field(form, "as_of"), "截至日期"), today_of(request), "截至日期")
                     if field(form, "as_of") else None)
            result["what_if"] = what_if(session=db, cycle_code=cycle.code, draft_path=draft, as_of=as_of)
        except DomainError as error:
            result["what_if_error"] = error
        finally:
            draft.unlink(missing_ok=True)
            draft.parent.rmdir()
    return render(request, "admin/rules.html", {**ctx, "check": result}, p=p)


@router.post("/rules/register")
def rules_register(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                   db: Session = Depends(get_db)) -> Response:
    _admin(p)
    try:
        text, name = _source(form)
        draft = _draft(text, name)
        try:
            record = rule_sets.register_rule_set(session=db, path=draft, actor=p.actor)
        finally:
            draft.unlink(missing_ok=True)
            draft.parent.rmdir()
    except DomainError as error:
        db.rollback()
        return render(request, "admin/rules.html", {**_rules_context(db, p), "error": error},
                      status_code=error.status, p=p)
    return redirect(request, "/admin/rules", f"规则集已登记：#{record.id} {record.name}（{record.code} {record.version}）")


# -- cycles ------------------------------------------------------------------------------

def _cycles_context(db: Session, p: Principal) -> dict[str, Any]:
    mine = access.cycles_for(db, p)
    ids = [c.id for c in mine]
    counts = dict(db.execute(select(Task.cycle_id, func.count()).where(Task.cycle_id.in_(ids))
                             .group_by(Task.cycle_id)).all())
    runs: dict[int, list[ScoreRun]] = {}
    for run in db.execute(select(ScoreRun).where(ScoreRun.cycle_id.in_(ids)).order_by(ScoreRun.version)).scalars():
        runs.setdefault(run.cycle_id, []).append(run)
    roots = list(db.execute(select(Unit).where(Unit.path.startswith(p.unit_path),
                                               Unit.kind.in_([UnitKind.district, UnitKind.street]))
                            .order_by(Unit.path)).scalars())
    records = list(db.execute(select(RuleSetVersion).order_by(RuleSetVersion.id.desc())).scalars())
    return {"cycles": mine, "tasks": counts, "runs": runs, "roots": roots, "records": records,
            "values": {}}


@router.get("/cycles")
def cycles_page(request: Request, p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    _admin(p)
    return render(request, "admin/cycles.html", _cycles_context(db, p), p=p)


@router.post("/cycles")
def cycle_create(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                 db: Session = Depends(get_db)) -> Response:
    _admin(p)
    values = {k: field(form, k) for k in ("code", "name", "root", "rule_set", "start", "end")}
    try:
        missing = [label for key, label in (("code", "周期编码"), ("name", "周期名称"), ("root", "考核范围"),
                                            ("rule_set", "规则集"), ("start", "开始日期"), ("end", "结束日期"))
                   if not values[key]]
        if missing:
            raise ValidationFailed("请填写：" + "、".join(missing))
        access.unit_in_scope(db, p, values["root"])
        if not values["rule_set"].isdigit():
            raise ValidationFailed("请选择规则集", field="rule_set")
        cycle = cycles.create_cycle(session=db, code=values["code"], name=values["name"], root_unit_id=values["root"],
                                    rule_set_id=int(values["rule_set"]), start_on=parse_day(values["start"], "开始日期"),
                                    end_on=parse_day(values["end"], "结束日期"), actor=p.actor)
    except DomainError as error:
        db.rollback()
        return render(request, "admin/cycles.html", {**_cycles_context(db, p), "values": values, "error": error},
                      status_code=error.status, p=p)
    return redirect(request, "/admin/cycles", f"考核周期已创建：{cycle.code} {cycle.name}（草稿，生成任务后开始）")


def _cycle_action(request: Request, db: Session, p: Principal, act: Callable[[], str]) -> Response:
    """Run one cycle action; on a domain error show the cycles page with it, nothing written."""
    try:
        message = act()
    except DomainError as error:
        db.rollback()
        return render(request, "admin/cycles.html", {**_cycles_context(db, p), "error": error},
                      status_code=error.status, p=p)
    return redirect(request, "/admin/cycles", message)


@router.post("/cycles/{code}/plan")
def cycle_plan(code: str, request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
               db: Session = Depends(get_db)) -> Response:
    cycle = access.cycle_to_configure(db, p, code)

    def act() -> str:
        report = planning.plan_cycle(session=db, cycle_id=cycle.id or 0, actor=p.actor)
        return f"{cycle.name}：新增任务 {report.added} 条，共 {report.total} 条"
    return _cycle_action(request, db, p, act)


@router.post("/cycles/{code}/score")
def cycle_score(code: str, request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                db: Session = Depends(get_db)) -> Response:
    cycle = access.cycle_to_configure(db, p, code)

    def act() -> str:
        as_of = (not_future(parse_day(field(form, "as_of"), "截至日期"), today_of(request), "截至日期")
                     if field(form, "as_of") else min(today_of(request), cycle.end_on))
        run = scoring.score_cycle(session=db, cycle_id=cycle.id or 0, as_of=as_of, publish=False, actor=p.actor)
        return f"{cycle.name}：已生成第 {run.version} 版评分（截至 {as_of}，未发布）"
    return _cycle_action(request, db, p, act)


@router.post("/cycles/{code}/publish")
def cycle_publish(code: str, request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                  db: Session = Depends(get_db)) -> Response:
    cycle = access.cycle_to_configure(db, p, code)

    def act() -> str:
        version = field(form, "version")
        if not version.isdigit():
            raise ValidationFailed("请选择要发布的评分版本", field="version")
        run = scoring.publish_run(session=db, cycle_id=cycle.id or 0, version=int(version), actor=p.actor)
        return f"{cycle.name}：第 {run.version} 版评分已发布"
    return _cycle_action(request, db, p, act)


@router.post("/cycles/{code}/close")
def cycle_close(code: str, request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                db: Session = Depends(get_db)) -> Response:
    cycle = access.cycle_to_configure(db, p, code)

    def act() -> str:
        report = cycle_end.close_cycle(session=db, cycle_id=cycle.id or 0, as_of=today_of(request), actor=p.actor)
        return (f"{cycle.name}：已结束，未完成任务 {report.missed} 条；"
                f"最终评分为第 {report.score_version} 版（未发布）")
    return _cycle_action(request, db, p, act)


# -- accounts ----------------------------------------------------------------------------

def _users_context(db: Session, p: Principal) -> dict[str, Any]:
    units = list(db.execute(select(Unit).where(Unit.path.startswith(p.unit_path), Unit.kind != UnitKind.group)
                            .order_by(Unit.path)).scalars())
    return {"accounts": users.list_users(session=db, under_path=p.unit_path), "units": units, "values": {}}


@router.get("/users")
def users_page(request: Request, p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    _admin(p)
    return render(request, "admin/users.html", _users_context(db, p), p=p)


@router.post("/users")
def user_add(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
             db: Session = Depends(get_db)) -> Response:
    _admin(p)
    values = {k: field(form, k) for k in ("username", "display_name", "role", "unit")}
    try:
        if values["unit"]:
            access.unit_in_scope(db, p, values["unit"])
        password = form.get("password")
        users.add_user(session=db, username=values["username"], password=password if isinstance(password, str) else "",
                       role=values["role"], unit_id=values["unit"], display_name=values["display_name"] or None,
                       actor=p.actor)
    except DomainError as error:
        db.rollback()
        return render(request, "admin/users.html", {**_users_context(db, p), "values": values, "error": error},
                      status_code=error.status, p=p)
    return redirect(request, "/admin/users", f"账号已创建：{values['username']}")


@router.post("/users/{user_id}/deactivate")
def user_deactivate(user_id: int, request: Request, form: FormData = Depends(csrf_form),
                    p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    user = access.user_to_manage(db, p, user_id)
    if user.id == p.user_id:
        return redirect(request, "/admin/users", "不能停用自己的账号", kind="warn")
    users.deactivate(session=db, user_id=user_id, actor=p.actor)
    return redirect(request, "/admin/users", f"账号 {user.username} 已停用")


@router.post("/users/{user_id}/password")
def user_password(user_id: int, request: Request, form: FormData = Depends(csrf_form),
                  p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    user = access.user_to_manage(db, p, user_id)
    password = form.get("password")
    try:
        users.set_password(session=db, user_id=user_id, password=password if isinstance(password, str) else "",
                           actor=p.actor)
    except DomainError as error:
        db.rollback()
        return render(request, "admin/users.html", {**_users_context(db, p), "error": error},
                      status_code=error.status, p=p)
    return redirect(request, "/admin/users", f"已重设 {user.username} 的密码")
