"""Chasing commands: notification channels, the daily chase, warnings."""
from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from dangjian.cli.app import app, channels_app, out, prepare_prefect, run_flow, warnings_app
from dangjian.cli.progress import known_cycle, note, working
from dangjian.clock import today
from dangjian.db import session_scope
from dangjian.domain.dates import parse_as_of, parse_shanghai_date
from dangjian.reports.wrapping import Table
from models import ChannelKind, NotificationStatus

Actor = Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")]


@channels_app.command("add")
def channels_add(
    unit: Annotated[str, typer.Argument(help="组织编码")],
    kind: Annotated[ChannelKind, typer.Option(help="email 邮件 | wecom 企业微信机器人 | "
                                                   "dingtalk 钉钉机器人 | webhook")],
    target: Annotated[str, typer.Option(help="邮箱地址、机器人 key/地址，或 apprise 地址")],
    label: Annotated[str, typer.Option(help="备注，如“东关社区书记”")] = "",
    by: Actor = "区委组织部",
) -> None:
    """为组织添加通知渠道（每日提醒、督办上报和预警都发到这里）。"""
    from dangjian.services.notify import CHANNEL_KIND, add_channel, masked

    with session_scope() as session:
        channel = add_channel(session=session, unit_id=unit, kind=kind, target=target, label=label, actor=by)
    out.print(f"已添加通知渠道 #{channel.id}：{unit} {CHANNEL_KIND[channel.kind]} {masked(channel)}",
              highlight=False)


@channels_app.command("list")
def channels_list(unit: Annotated[str | None, typer.Option(help="只看该组织")] = None) -> None:
    """列出通知渠道（密钥已隐去）。"""
    from dangjian.services.notify import CHANNEL_KIND, list_channels, masked

    table = Table("编号", "组织", "类型", "地址", "备注", "状态")
    with session_scope() as session:
        rows = list_channels(session=session, unit_id=unit)
        for ch in rows:
            table.add_row(str(ch.id), ch.unit_id, CHANNEL_KIND[ch.kind], masked(ch), ch.label,
                          "启用" if ch.active else "停用")
    out.print(table)
    out.print(f"共 {len(rows)} 个")


def _set_active(channel_id: int, active: bool, by: str) -> None:
    from dangjian.services.notify import set_channel_active

    with session_scope() as session:
        set_channel_active(session=session, channel_id=channel_id, active=active, actor=by)
    out.print(f"通知渠道 #{channel_id} 已{'启用' if active else '停用'}")


@channels_app.command("disable")
def channels_disable(channel_id: Annotated[int, typer.Argument(help="渠道编号")], by: Actor = "区委组织部") -> None:
    """停用通知渠道（保留记录）。"""
    _set_active(channel_id, False, by)


@channels_app.command("enable")
def channels_enable(channel_id: Annotated[int, typer.Argument(help="渠道编号")], by: Actor = "区委组织部") -> None:
    """重新启用通知渠道。"""
    _set_active(channel_id, True, by)


@channels_app.command("log")
def channels_log(
    day: Annotated[str | None, typer.Option("--day", help="日期 YYYY-MM-DD（北京时间）")] = None,
    unit: Annotated[str | None, typer.Option(help="接收单位")] = None,
    status: Annotated[NotificationStatus | None, typer.Option(help="sent | failed | sending（状态不明）")] = None,
    limit: Annotated[int, typer.Option(help="最多显示条数")] = 100,
) -> None:
    """查看发送记录；“状态不明”为发送中途中断的消息，不会自动重发，请人工核实。"""
    from dangjian.services.notify import NOTIFICATION_KIND, NOTIFICATION_STATUS, notification_log

    with session_scope() as session:
        rows = notification_log(session=session, as_of=parse_shanghai_date(day, "day") if day else None,
                                unit_id=unit, status=status, limit=limit)
    table = Table("编号", "日期", "类型", "接收单位", "渠道", "状态", "次数", "标题", "错误")
    for n in rows:
        table.add_row(str(n.id), str(n.as_of), NOTIFICATION_KIND[n.kind], n.recipient_unit_id, f"#{n.channel_id}",
                      NOTIFICATION_STATUS[n.status], str(n.attempts), n.title, (n.error or "")[:80])
    out.print(table)


@app.command()
def chase(
    cycle: Annotated[str | None, typer.Argument(help="周期编码；省略则所有进行中的周期")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="截至日期 YYYY-MM-DD（北京时间），默认今天")] = None,
) -> None:
    """运行每日督办流程：标记逾期、发送提醒与督办上报、登记并通知预警（重复运行不会重复发送）。"""
    day = parse_as_of(as_of, today()).isoformat() if as_of else None   # not a future day
    known_cycle(cycle)
    note(f"正在督办 {cycle} 周期…" if cycle else "正在督办所有进行中的周期…")
    with working("正在启动流程引擎…"):
        prepare_prefect()
        from flows.chase import chase as chase_flow

        results = run_flow(chase_flow, cycle, day)
    note(f"督办完成：{len(results)} 个周期，新标记逾期 {sum(r['marked_overdue'] for r in results.values())} 条，"
         f"提醒 {sum(r['digests_sent'] for r in results.values())} 条")
    for code, r in results.items():
        if r["skipped_non_working_day"]:
            out.print(f"周期 {code}：今天不是工作日，只标记逾期、登记预警，提醒和通知顺延到下一个工作日")
        out.print(
            f"周期 {code}：新标记逾期 {r['marked_overdue']} 条；提醒 发送 {r['digests_sent']}、失败 "
            f"{r['digests_failed']}；督办上报 发送 {r['escalations_sent']}、失败 {r['escalations_failed']}；"
            f"已发过未重发 {r['already_sent']}；无通知渠道的单位 {r['unreachable']} 个；预警 新增 {r['raised']}、"
            f"升级 {r['upgraded']}、解除 {r['resolved']}、现有 {r['open']}，预警通知 {r['notices_sent']} 条",
            highlight=False)


@warnings_app.command("list")
def warnings_list(
    cycle: Annotated[str | None, typer.Option(help="考核周期编码")] = None,
    unit: Annotated[str | None, typer.Option(help="组织编码")] = None,
    all_: Annotated[bool, typer.Option("--all", help="包括已解除的预警")] = False,
) -> None:
    """列出预警：有组织无活动、连续红色、应建未建。"""
    from dangjian.services.chasing import WARNING_KIND, WARNING_LEVEL, list_warnings
    from dangjian.services.cycles import get_cycle
    from models import Unit

    table = Table("编号", "单位", "预警", "级别", "起始", "登记", "说明", "解除")
    with session_scope() as session:
        cycle_id = get_cycle(session, cycle).id if cycle else None
        rows = list_warnings(session=session, cycle_id=cycle_id, unit_id=unit, include_resolved=all_)
        names = dict(session.execute(select(Unit.id, Unit.name)
                                     .where(Unit.id.in_({w.unit_id for w in rows}))).tuples().all())
        for w in rows:
            level = WARNING_LEVEL[w.level]
            table.add_row(str(w.id), f"{names.get(w.unit_id, w.unit_id)}（{w.unit_id}）", WARNING_KIND[w.kind],
                          f"[red]{level}[/red]" if w.level == "red" else f"[yellow]{level}[/yellow]",
                          str(w.since), str(w.raised_on), str(w.details.get("text", "")),
                          str(w.resolved_on or ""))
    out.print(table)
    out.print(f"共 {len(rows)} 个")
