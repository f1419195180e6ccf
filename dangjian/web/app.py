"""The web app: `create_app()` builds FastAPI with server-rendered pages (Jinja2) and a JSON
API under /api, on the same services the CLI uses.

    from dangjian.web import create_app
    app = create_app()                       # engine and settings from the environment
    app = create_app(engine=e, config=c)     # tests
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from dangjian.clock import now_utc
from dangjian.error_log import log_unexpected
from dangjian.errors import DomainError
from dangjian.web import filters
from dangjian.web.config import WebConfig, config_from_env
from dangjian.web.deps import LoginRequired, error_page, login_redirect
from dangjian.web.security import COOKIE, BlobSigner, Signer, new_session

HERE = Path(__file__).resolve().parent
log = logging.getLogger("dangjian.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Scripts only from our own static files; ECharts sets inline styles, hence style-src.
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data: blob:; object-src 'none'; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'self'"),
}


class BodyLimit:
    """Refuse request bodies above a size with 413 before they are parsed or spooled."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _too_large(self.limit, send)
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(self.limit, send)


class _TooLarge(Exception):
    pass


class ConcurrencyLimit:
    """At most `limit` requests inside the app at once; the rest wait here, asynchronously.

    A request holds its database session (and so a pooled connection) from its first
    dependency to its end, but needs a thread from the pool for each sync step in between.
    Without this gate, more requests than threads would each hold a connection while
    waiting for a thread, and the pool would run dry. With it, requests inside <= threads
    <= pool size, so a connection is always there. A request that waits longer than
    `queue_timeout` gets 503 with Retry-After instead of a timeout deep inside.
    """

    def __init__(self, app: Any, limit: int, queue_timeout: float):
        self.app, self.limit, self.queue_timeout = app, limit, queue_timeout
        self._gate: anyio.Semaphore | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith("/static"):
            return await self.app(scope, receive, send)
        if self._gate is None:
            self._gate = anyio.Semaphore(self.limit)
        with anyio.move_on_after(self.queue_timeout) as waited:
            await self._gate.acquire()
        if waited.cancelled_caught:
            return await _busy(send)
        try:
            await self.app(scope, receive, send)
        finally:
            self._gate.release()


async def _busy(send: Any) -> None:
    body = "服务器繁忙，请稍后重试".encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(limit: int, send: Any) -> None:
    body = f"上传内容过大：单次提交不能超过 {limit // (1024 * 1024)} MB".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Sync endpoints run in anyio's thread pool: as many threads as the pool has connections.
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.config.threads
    yield


def create_app(*, engine: Engine | None = None, config: WebConfig | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    config = config or config_from_env()
    if engine is None:
        from dangjian.db import get_engine

        engine = get_engine(pool_at_least=config.threads)
    app = FastAPI(title="dangjian 社区党建", version="1", openapi_url="/api/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=_lifespan,
                  description="社区党建工作流与考核引擎的 JSON API。用 `Authorization: Bearer <令牌>` 调用；"
                              "令牌在网页“我的账号”中创建，或用 `dangjian users token`。")
    app.state.engine = engine
    app.state.config = config
    app.state.clock = clock or now_utc
    app.state.signer = Signer(config.secret_key, config.session_hours * 3600)
    app.state.flash_signer = BlobSigner(config.secret_key, "flash")
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    filters.install(templates.env)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def session_cookie(request: Request, call_next: Any) -> Response:
        started = perf_counter()
        now = app.state.clock().timestamp()
        sess = app.state.signer.load(request.cookies.get(COOKIE), now=now)
        fresh = sess is None
        request.state.sess = sess or new_session(now)
        request.state.new_cookie = fresh
        response: Response = await call_next(request)
        if getattr(request.state, "new_cookie", False) and not request.url.path.startswith(("/static", "/api")):
            _set_session_cookie(app, response, request.state.sess)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
            # Until the response starts; streamed files (exports, evidence) continue after it.
            response.headers["Server-Timing"] = f"app;dur={(perf_counter() - started) * 1000:.1f}"
        return response

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"error": "未登录或令牌无效", "details": []}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return login_redirect(request)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"error": exc.message, "details": exc.details, "field": exc.field},
                                status_code=exc.status)
        return error_page(request, exc, getattr(request.state, "principal", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [f"{'.'.join(str(x) for x in e.get('loc', ()))}：{e.get('msg')}" for e in exc.errors()]
        if request.url.path.startswith("/api"):
            return JSONResponse({"error": "请求参数有误", "details": details}, status_code=422)
        return error_page(request, DomainError("请求参数有误", details=details))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette answers this outside our middleware, hence the headers here.
        error_id, _where = log_unexpected(exc, f"web {request.method} {request.url.path}")
        log.error("内部错误 %s：%s %s", error_id, request.method, request.url.path, exc_info=exc)
        message = f"服务器内部错误（编号 {error_id}）：操作未完成，请稍后重试；向管理员报告时请附上此编号"
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
        if request.url.path.startswith("/api"):
            return JSONResponse({"error": message, "details": [], "error_id": error_id}, status_code=500,
                                headers=headers)
        error = DomainError(message)
        error.status = 500
        try:
            response: Response = error_page(request, error)
        except Exception:  # noqa: BLE001  (the page itself failed: plain text still tells the user)
            response = PlainTextResponse(message, status_code=500)
        response.headers.update(headers)
        return response

    from dangjian.web.routes import admin, api, auth, leader, review, secretary

    for module in (auth, secretary, review, leader, admin):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(api.router, prefix="/api")
    app.add_middleware(BodyLimit, limit=config.max_request_bytes)
    app.add_middleware(ConcurrencyLimit, limit=config.threads, queue_timeout=config.queue_timeout)
    return app


def _set_session_cookie(app: FastAPI, response: Response, sess: Any) -> None:
    cfg = app.state.config
    response.set_cookie(COOKIE, app.state.signer.dump(sess), httponly=True, samesite="lax",
                        secure=cfg.secure_cookies, path="/",
                        max_age=cfg.session_hours * 3600 if sess.user_id is not None else None)
