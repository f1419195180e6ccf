"""Before a command touches the database: is DANGJIAN_DATABASE_URL usable and initialised?

Checked up front so that a command run before `dangjian init` (or in the wrong directory)
says so in one line instead of creating an empty dangjian.db and failing deep inside, and
so that an unreachable database is reported before any Prefect work starts.

Exit codes: 2 for a URL that cannot be right (garbage, an unsupported kind of database);
3 for a database that is not there (server not reachable, database or directory missing,
schema not created yet).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from dangjian.errors import DomainError, NotFound, ValidationFailed

# Commands that never open DANGJIAN_DATABASE_URL (the demo makes its own), and those that
# create the schema there (they need a usable URL, not an initialised database).
WITHOUT_DATABASE = {("demo",), ("rules", "check"), ("rules", "test"), ("develop", "steps"),
                    ("serve",)}   # serve checks its deployment file first, then calls check_initialised
CREATING = {("init",), ("db", "upgrade")}
SUPPORTED = ("sqlite", "postgresql")


class DatabaseUnreachable(NotFound):
    """The database server cannot be reached now (it may come back; `serve` waits for it)."""


HINT = "请先运行 dangjian init（或用 DANGJIAN_DATABASE_URL 指向已初始化的数据库）"


def masked(url: str) -> str:
    """The URL as shown to users: any password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url if "@" not in url else "***@" + url.rsplit("@", 1)[1]


def guard(command: Any, path: tuple[str, ...] = ()) -> None:
    """Make every command that needs the database check it first, after its arguments parsed
    (so usage errors and --help come before it)."""
    for name, sub in getattr(command, "commands", {}).items():
        guard(sub, (*path, name))
    callback = getattr(command, "callback", None)
    if getattr(command, "commands", None) is not None or callback is None or path in WITHOUT_DATABASE \
            or getattr(callback, "_checks_database", False):
        return

    creating = path in CREATING

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        from dangjian.settings import get_settings

        url = get_settings().database_url
        if creating:
            check_url(url)
        else:
            check_initialised(url)
        return callback(*args, **kwargs)

    checked._checks_database = True  # type: ignore[attr-defined]
    command.callback = checked


def check_url(url: str) -> None:
    """The URL names a kind of database we support, and a SQLite file's directory exists."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValidationFailed(
            f"DANGJIAN_DATABASE_URL 无法识别：{masked(url)}；应写成 sqlite:///路径/dangjian.db 或 "
            "postgresql://用户:密码@主机:端口/库名", field="DANGJIAN_DATABASE_URL") from None
    if parsed.get_backend_name() not in SUPPORTED:
        raise ValidationFailed(
            f"不支持的数据库类型 {parsed.get_backend_name()}（DANGJIAN_DATABASE_URL={masked(url)}）："
            "只支持 SQLite 和 PostgreSQL", field="DANGJIAN_DATABASE_URL")
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.parent.is_dir():
        raise NotFound(f"数据库文件所在的目录不存在：{sqlite_file.parent}（DANGJIAN_DATABASE_URL={masked(url)}）",
                       field="DANGJIAN_DATABASE_URL")


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def check_initialised(url: str) -> None:
    """Refuse, without creating anything, a database that `dangjian init` has not set up."""
    check_url(url)
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.is_file():
        raise NotFound(f"数据库尚未初始化：{masked(url)}（文件 {sqlite_file.resolve()} 不存在），{HINT}",
                       field="DANGJIAN_DATABASE_URL")
    from dangjian.db import get_engine
    from dangjian.schema import current_revision

    try:
        revision = current_revision(get_engine())
    except Exception as error:
        known = translate_database_error(error)
        if known is None:
            raise
        raise known from None
    if revision is None:
        raise NotFound(f"数据库尚未初始化：{masked(url)}，{HINT}", field="DANGJIAN_DATABASE_URL")


def translate_database_error(error: BaseException) -> DomainError | None:
    """A Chinese DomainError for a database that cannot be used; None for anything else."""
    from sqlalchemy import exc

    from dangjian.settings import get_settings

    try:
        url = get_settings().database_url
    except Exception:  # noqa: BLE001  (broken settings are not a database problem)
        return None
    if isinstance(error, (exc.ArgumentError, exc.NoSuchModuleError)):
        try:
            check_url(url)
        except DomainError as known:
            return known
        return ValidationFailed(f"DANGJIAN_DATABASE_URL 无法使用：{masked(url)}", field="DANGJIAN_DATABASE_URL")
    if isinstance(error, exc.DatabaseError) and "file is not a database" in str(error):
        return NotFound(f"DANGJIAN_DATABASE_URL 指向的文件不是数据库：{masked(url)}", field="DANGJIAN_DATABASE_URL")
    if not isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.ProgrammingError)):
        return None
    reason = str(getattr(error, "orig", None) or error).strip()
    lowered = reason.lower()
    if "no such table" in lowered or ("does not exist" in lowered and "relation" in lowered):
        return NotFound(f"数据库结构不完整：{masked(url)}，请运行 dangjian init（或 dangjian db upgrade）",
                        field="DANGJIAN_DATABASE_URL")
    if isinstance(error, exc.ProgrammingError):
        return None
    try:
        check_url(url)
    except DomainError as known:
        return known
    if "database" in lowered and "does not exist" in lowered:
        why = "数据库不存在"
    elif "connection refused" in lowered:
        why = "连接被拒绝（该主机端口上没有运行数据库服务）"
    elif "password authentication failed" in lowered or "authentication" in lowered:
        why = "用户名或密码不对"
    elif "timeout" in lowered or "timed out" in lowered:
        why = "连接超时"
    elif "could not translate host name" in lowered or "name or service not known" in lowered:
        why = "主机名无法解析"
    elif "unable to open database file" in lowered:
        why = "无法打开数据库文件"
    elif "database is locked" in lowered:
        why = "数据库被其他进程锁定，请稍后重试"
    elif any(w in lowered for w in ("could not connect", "connection", "network", "no route to host")):
        why = "无法连接数据库服务器"
    else:       # not a reason we know: our own bug, for the boundary to log with an id
        return None
    return DatabaseUnreachable(f"无法使用数据库 {masked(url)}：{why}", field="DANGJIAN_DATABASE_URL")
