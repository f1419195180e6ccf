"""Sign-in and sign-out, the home redirect by role, and the account page (password, API tokens)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from dangjian.errors import DomainError
from dangjian.services import users
from dangjian.services.access import Principal
from dangjian.web.deps import (
    csrf_form,
    field,
    get_db,
    now,
    optional_principal,
    principal,
    redirect,
    render,
    start_session,
)

router = APIRouter()

HOME = {"secretary": "/inbox", "reviewer": "/review", "leader": "/scores", "admin": "/admin"}


def client_ip(request: Request) -> str:
    if request.app.state.config.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else "unknown"


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/")
def home(p: Principal | None = Depends(optional_principal)) -> Response:
    from fastapi.responses import RedirectResponse

    return RedirectResponse(HOME.get(str(p.role), "/login") if p else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "username": ""})


@router.post("/login")
def login(request: Request, form: FormData = Depends(csrf_form), db: Session = Depends(get_db)) -> Response:
    username, target = field(form, "username"), _safe_next(field(form, "next") or "/")
    password = form.get("password")
    try:
        user = users.authenticate(session=db, username=username,
                                  password=password if isinstance(password, str) else "",
                                  ip=client_ip(request), now=now(request))
    except DomainError as error:
        return render(request, "login.html", {"next": target, "username": username, "error": error},
                      status_code=error.status)
    start_session(request, user.id, user.session_version)
    if target == "/":
        target = HOME.get(str(user.role), "/")
    return redirect(request, target)


@router.post("/logout")
def logout(request: Request, form: FormData = Depends(csrf_form)) -> Response:
    start_session(request, None)
    return redirect(request, "/login", "已退出登录")


@router.get("/account")
def account(request: Request, p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    tokens = users.list_tokens(session=db, user_id=p.user_id)
    return render(request, "account.html", {"tokens": tokens}, p=p)


@router.post("/account/password")
def change_password(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                    db: Session = Depends(get_db)) -> Response:
    current = form.get("current")
    new, again = form.get("new"), form.get("again")
    try:
        user = users.get_user(db, p.user_id)
        if not isinstance(current, str) or not users.verify_password(current, user.password_hash):
            raise users.AuthFailed("当前密码不正确", field="current")
        if new != again:
            raise DomainError("两次输入的新密码不一致", field="again")
        user = users.set_password(session=db, user_id=p.user_id, password=str(new or ""), actor=p.actor)
    except DomainError as error:
        tokens = users.list_tokens(session=db, user_id=p.user_id)
        return render(request, "account.html", {"tokens": tokens, "pw_error": error}, status_code=error.status, p=p)
    start_session(request, user.id, user.session_version)
    return redirect(request, "/account", "密码已修改，其他设备上的登录已失效")


@router.post("/account/tokens")
def create_token(request: Request, form: FormData = Depends(csrf_form), p: Principal = Depends(principal),
                 db: Session = Depends(get_db)) -> Response:
    try:
        plain, record = users.create_token(session=db, user_id=p.user_id, name=field(form, "name"), actor=p.actor)
    except DomainError as error:
        tokens = users.list_tokens(session=db, user_id=p.user_id)
        return render(request, "account.html", {"tokens": tokens, "token_error": error, "token_name": field(form, "name")},
                      status_code=error.status, p=p)
    tokens = users.list_tokens(session=db, user_id=p.user_id)
    return render(request, "account.html", {"tokens": tokens, "new_token": plain, "new_token_name": record.name}, p=p)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, request: Request, form: FormData = Depends(csrf_form),
                 p: Principal = Depends(principal), db: Session = Depends(get_db)) -> Response:
    users.revoke_token(session=db, token_id=token_id, user_id=p.user_id, actor=p.actor, now=now(request))
    return redirect(request, "/account", f"令牌 #{token_id} 已吊销")
