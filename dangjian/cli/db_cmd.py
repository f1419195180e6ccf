"""`dangjian db`: the schema's version, upgrades and downgrades (Alembic migrations)."""
from __future__ import annotations

from typing import Annotated

import typer

from dangjian.cli.app import app, out
from dangjian.errors import NotFound, ValidationFailed

db_app = typer.Typer(help="数据库：查看版本、升级、回退（迁移）", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("status")
def db_status() -> None:
    """显示数据库当前的迁移版本和本程序携带的最新版本。"""
    from dangjian.db import get_engine
    from dangjian.schema import current_revision, head_revision
    from dangjian.settings import get_settings

    current, head = current_revision(get_engine()), head_revision()
    state = "已是最新" if current == head else ("尚未初始化，请运行 dangjian init" if current is None
                                                else "需要升级，请运行 dangjian db upgrade")
    out.print(f"数据库 {get_settings().database_url}：当前版本 {current or '无'}，最新版本 {head}（{state}）",
              highlight=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """升级到最新版本（与 dangjian init 相同；可重复运行，多个进程同时运行时依次执行）。"""
    from dangjian.db import get_engine
    from dangjian.schema import current_revision, upgrade_to_head

    before = current_revision(get_engine())
    upgrade_to_head(get_engine())
    out.print(f"数据库已升级：{before or '无'} → {current_revision(get_engine())}", highlight=False)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="回退到的版本，如 0008；base 表示清空全部表")],
    yes: Annotated[bool, typer.Option("--yes", help="确认回退（回退会删除新版本增加的表和列中的数据）")] = False,
) -> None:
    """回退迁移（先备份！见 docs/operations.md）。用于升级后需要退回旧版本程序的情况。"""
    from dangjian import migrations
    from dangjian.db import get_engine
    from dangjian.schema import current_revision, downgrade_to

    known = {s.revision for s in migrations.script_directory().walk_revisions()} | {"base"}
    if revision not in known:
        raise NotFound(f"没有迁移版本 {revision}；可用的版本：{'、'.join(sorted(known))}", field="revision")
    if not yes:
        raise ValidationFailed("回退会删除新版本增加的表和列及其中的数据；确认已备份后加 --yes 再运行", field="yes")
    before = current_revision(get_engine())
    downgrade_to(get_engine(), revision)
    out.print(f"数据库已回退：{before or '无'} → {current_revision(get_engine()) or '无'}", highlight=False)
