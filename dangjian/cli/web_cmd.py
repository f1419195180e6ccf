"""`dangjian web` (serve the web app) and `dangjian users …` (accounts and API tokens)."""
from __future__ import annotations

from getpass import getpass
from typing import Annotated

import typer

from dangjian.cli.app import app, out
from dangjian.db import session_scope

users_app = typer.Typer(help="网页账号：新建、列出、停用、API 令牌", no_args_is_help=True)
app.add_typer(users_app, name="users")
Actor = Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")]


@app.command()
def web(host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="端口")] = 8000,
        insecure_cookies: Annotated[bool, typer.Option(
            "--insecure-cookies", help="允许在 http（非 https）下登录；只用于本机试用")] = False,
        workers: Annotated[int, typer.Option(help="工作进程数")] = 1) -> None:
    """启动网页（支部书记、街道审核员、区县管理员、领导）和 /api 接口。"""
    import os

    import uvicorn

    if insecure_cookies:
        os.environ["DANGJIAN_WEB_SECURE_COOKIES"] = "false"
    from dangjian.web.config import WebSettings, load_secret

    load_secret(WebSettings())     # create the key file once, before several workers race for it
    out.print(f"网页：http://{host}:{port}/  （Ctrl+C 停止）", highlight=False)
    uvicorn.run("dangjian.web.asgi:app", host=host, port=port, workers=workers, proxy_headers=False,
                log_level="info")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[str, typer.Option(help="admin（区县管理员）| reviewer（街道审核员）| secretary（支部书记）| leader（领导）")],
    unit: Annotated[str, typer.Option(help="所属组织编码：管理员为区县，审核员为街道，书记为支部，领导为任一级")],
    name: Annotated[str | None, typer.Option(help="姓名（显示用）")] = None,
    password: Annotated[str | None, typer.Option(
        help="初始密码；省略则交互输入（或环境变量 DANGJIAN_NEW_PASSWORD）", envvar="DANGJIAN_NEW_PASSWORD")] = None,
    by: Actor = "区委组织部",
) -> None:
    """新建网页账号（密码以 scrypt 哈希保存）。"""
    from dangjian.services.users import ROLE_LABEL, add_user

    if password is None:
        password = getpass("初始密码：")
        if getpass("再次输入：") != password:
            raise typer.BadParameter("两次输入的密码不一致")
    with session_scope() as session:
        user = add_user(session=session, username=username, password=password, role=role, unit_id=unit,
                        display_name=name, actor=by)
        label = ROLE_LABEL[user.role]
    out.print(f"账号已创建：{username}（{label}，{unit}）")


@users_app.command("list")
def users_list() -> None:
    """列出网页账号。"""
    from dangjian.reports.wrapping import Table
    from dangjian.services.users import ROLE_LABEL, list_users

    table = Table("编号", "用户名", "姓名", "角色", "组织", "状态", "最近登录")
    with session_scope() as session:
        for user, unit in list_users(session=session):
            table.add_row(str(user.id), user.username, user.display_name, ROLE_LABEL[user.role], unit.name,
                          "在用" if user.active else "已停用",
                          user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "")
    out.print(table)


def _user_id(session, username: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from dangjian.errors import NotFound
    from models import User

    uid = session.execute(select(User.id).where(User.username == username)).scalar()
    if uid is None:
        raise NotFound(f"账号 {username} 不存在", field="username")
    return int(uid)


@users_app.command("deactivate")
def users_deactivate(username: str, by: Actor = "区委组织部") -> None:
    """停用账号（已登录的会话随即失效）。"""
    from dangjian.services.users import deactivate

    with session_scope() as session:
        deactivate(session=session, user_id=_user_id(session, username), actor=by)
    out.print(f"账号已停用：{username}")


@users_app.command("token")
def users_token(username: str, name: Annotated[str, typer.Option(help="令牌名称，如“月报脚本”")] = "脚本",
                by: Actor = "区委组织部") -> None:
    """为账号创建 API 令牌（只显示一次）。"""
    from dangjian.services.users import create_token

    with session_scope() as session:
        plain, record = create_token(session=session, user_id=_user_id(session, username), name=name, actor=by)
    out.print(f"令牌 #{record.id}（{record.name}）：", highlight=False)
    typer.echo(plain)
