"""Request plumbing shared by the routes: the database session, who is signed in, CSRF-checked
forms, rendering, notices. No business rules here: those live in dangjian.services."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from dangjian.clock import shanghai_date
from dangjian.errors import DomainError
from dangjian.services import access, users
from dangjian.services.access import Principal
from dangjian.web.security import CSRF_FIELD, CSRF_HEADER, csrf_ok, new_session
from models import Cycle

FLASH_COOKIE = "dj_flash"


class LoginRequired(Exception):
    pass


class CsrfFailed(DomainError):
    status = 403


def now(request: Request) -> datetime:
    """The app's clock (tests and demos freeze it); every "today" of a request comes from here."""
    return request.app.state.clock()


def today_of(request: Request) -> date:
    return shanghai_date(now(request))


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def optional_principal(request: Request, db: Session = Depends(get_db)) -> Principal | None:
    sess = request.state.sess
    if sess.user_id is None:
        return None
    user = users.session_user(session=db, user_id=sess.user_id, session_version=sess.version)
    if user is None:
        return None
    return access.principal_for(db, user)


def principal(request: Request, p: Principal | None = Depends(optional_principal)) -> Principal:
    if p is None:
        raise LoginRequired()
    request.state.principal = p
    return p


async def csrf_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, after its CSRF token matched the session's (else 403, nothing done)."""
    form = await request.form(max_files=20, max_fields=2000, max_part_size=2 * 1024 * 1024)
    try:
        given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
        if not csrf_ok(request.state.sess.csrf, given if isinstance(given, str) else None):
            raise CsrfFailed("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
        yield form
    finally:
        await form.close()


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200, p: Principal | None = None) -> HTMLResponse:
    templates = request.app.state.templates
    flash = request.app.state.flash_signer.load(request.cookies.get(FLASH_COOKIE))
    ctx = {"request": request, "me": p, "csrf_token": request.state.sess.csrf,
           "flash": flash if isinstance(flash, dict) else None, "can": (lambda a: p is not None and access.can(p, a))}
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, url: str, notice: str | None = None, kind: str = "ok") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if notice:
        cfg = request.app.state.config
        response.set_cookie(FLASH_COOKIE, request.app.state.flash_signer.dump({"kind": kind, "text": notice}),
                            httponly=True, samesite="lax", secure=cfg.secure_cookies, path="/", max_age=120)
    return response


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def error_page(request: Request, error: DomainError, p: Principal | None = None) -> HTMLResponse:
    return render(request, "error.html", {"error": error}, status_code=error.status, p=p)


def field(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def parse_day(text: str, name: str) -> date:
    from dangjian.domain.dates import parse_shanghai_date

    return parse_shanghai_date(text, name)


def start_session(request: Request, user_id: int | None, version: int = 0) -> None:
    """Replace the session (new CSRF token too) on sign-in and sign-out: no fixation."""
    request.state.sess = new_session(request.app.state.clock().timestamp(), user_id, version)
    request.state.new_cookie = True


def pick_cycle(db: Session, p: Principal, code: str | None) -> Cycle | None:
    """The cycle a page shows: the one asked for (if in scope), else the newest open one."""
    if code:
        return access.cycle_in_scope(db, p, code)
    cycles = access.cycles_for(db, p)
    opened = [c for c in cycles if str(c.state) == "open"]
    return (opened or cycles or [None])[0]


def script_json(value: Any) -> str:
    """JSON safe to place inside <script type="application/json">: no "</script>" can close it."""
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
