"""`dangjian audit`: verify the hash chain of the audit trail, and read it."""
from __future__ import annotations

from typing import Annotated

import typer

from dangjian.cli.app import app, err, out
from dangjian.clock import SHANGHAI
from dangjian.db import session_scope
from dangjian.errors import IntegrityBroken
from dangjian.reports.wrapping import Table

audit_app = typer.Typer(help="审计日志：核验哈希链、查看记录", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(by: Annotated[str, typer.Option("--by", help="核验人（记入锚点）")] = "区委组织部") -> None:
    """核验审计日志的哈希链：逐条重算哈希，并与链头、历次锚点（评分、核验）比对。通过时记下新锚点。"""
    from dangjian.services.audit import problems, verify

    with session_scope() as session:
        report = verify(session=session, actor=by)
        found = problems(report)
        anchor = report.last_anchor
        anchor_text = (f"最后锚点 #{anchor.id}：{anchor.reason}，"
                       f"{anchor.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}，第 {anchor.count} 条，"
                       f"哈希 {anchor.hash[:16]}…") if anchor else "尚无锚点"
    if found:
        for line in found:
            err.print(f"  - {line}", highlight=False, markup=False)
        raise IntegrityBroken(f"审计日志核验未通过：共 {report.events} 条，发现 {len(found)} 类问题（见上）；{anchor_text}")
    out.print(f"审计日志完整：共 {report.events} 条，链头哈希 {report.last_hash[:16]}…，"
              f"核对锚点 {report.anchors_checked} 个；{anchor_text}", highlight=False)


@audit_app.command("show")
def audit_show(
    limit: Annotated[int, typer.Option(help="显示最近多少条（最多 1000）")] = 20,
    entity: Annotated[str | None, typer.Option(help="对象类型，如 task、completion、score_run")] = None,
    entity_id: Annotated[str | None, typer.Option("--id", help="对象编号")] = None,
) -> None:
    """查看最近的审计记录（新的在前）。"""
    from dangjian.services.audit import recent_events

    with session_scope() as session:
        rows = recent_events(session, limit=limit, entity=entity, entity_id=entity_id)
    table = Table("序号", "时间（北京）", "操作人", "操作", "对象", "编号")
    for ev in rows:
        table.add_row(str(ev.seq), f"{ev.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}", ev.actor, ev.action,
                      ev.entity, ev.entity_id)
    out.print(table)
    out.print(f"共显示 {len(rows)} 条")
