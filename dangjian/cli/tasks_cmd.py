"""Task commands for branch secretaries: list, close, correct."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dangjian.cli.app import out, tasks_app
from dangjian.db import session_scope
from dangjian.domain.completion import AttendanceEntry
from dangjian.domain.dates import parse_shanghai_date
from dangjian.errors import ValidationFailed
from dangjian.labels import TASK_STATE
from models import Presence

Branch = Annotated[str | None, typer.Option(
    "--branch", envvar="DANGJIAN_BRANCH",
    help="以哪个支部的身份办理（支部书记只能办理本支部任务）")]


@tasks_app.command("list")
def tasks_list(
    cycle: Annotated[str, typer.Argument(help="考核周期编码")],
    unit: Annotated[str | None, typer.Option(help="组织编码（含下级）")] = None,
    state: Annotated[str | None, typer.Option(help="状态：open/overdue/done/late/missed…")] = None,
    period: Annotated[str | None, typer.Option(help="包含该日期的周期，如 2026-03-15")] = None,
    duty: Annotated[str | None, typer.Option(help="职责编码")] = None,
    limit: Annotated[int, typer.Option(help="最多显示条数")] = 200,
) -> None:
    """列出任务（按截止日期）。"""
    from dangjian.services.tasks import list_tasks

    within = parse_shanghai_date(period, "period") if period else None
    with session_scope() as session:
        rows = list_tasks(session=session, cycle_code=cycle, unit_id=unit, state=state,
                          within=within, duty_code=duty, limit=limit)
    table = Table("编号", "职责", "对象", "责任支部", "周期", "截止", "状态", "完成日期")
    for r in rows:
        table.add_row(str(r.id), r.duty_name, r.subject_id, r.owner_name, r.period_label,
                      str(r.due_on), TASK_STATE.get(r.state, r.state), str(r.done_on or ""))
    out.print(table)
    out.print(f"共 {len(rows)} 条" + ("（已截断，可用 --limit 调整）" if len(rows) == limit else ""))


def _attendance(present: list[str], leave: list[str], absent: list[str]) -> list[AttendanceEntry]:
    entries = [AttendanceEntry(m.strip(), Presence.present)
               for item in present for m in item.split(",") if m.strip()]
    for presence, items in ((Presence.leave, leave), (Presence.absent, absent)):
        for item in items:
            member, _, reason = item.partition(":")
            entries.append(AttendanceEntry(member.strip(), presence, reason.strip() or None))
    return entries


def _report(held_on: str, topic: str, minutes: str | None, minutes_file: Path | None,
            attendee: list[str], leave: list[str], absent: list[str], evidence: list[Path], by: str):
    from dangjian.services.closing import Report

    if minutes_file is not None:
        if not minutes_file.is_file():
            raise ValidationFailed(f"会议记录文件不存在：{minutes_file}", field="minutes-file")
        minutes = minutes_file.read_text(encoding="utf-8")
    return Report(held_on=parse_shanghai_date(held_on, "held-on"), topic=topic, minutes=minutes or "",
                  attendance=_attendance(attendee, leave, absent), evidence=evidence, reported_by=by)


HeldOn = Annotated[str, typer.Option("--held-on", help="召开日期 YYYY-MM-DD（北京时间）")]
Topic = Annotated[str, typer.Option(help="会议主题")]
Minutes = Annotated[str | None, typer.Option(help="会议记录")]
MinutesFile = Annotated[Path | None, typer.Option("--minutes-file", help="会议记录文件（UTF-8）")]
Attendee = Annotated[list[str], typer.Option("--attendee", help="出席党员编号，可重复或用逗号分隔")]
Leave = Annotated[list[str], typer.Option("--leave", help="请假：编号:原因")]
Absent = Annotated[list[str], typer.Option("--absent", help="缺席：编号:原因")]
EvidenceOpt = Annotated[list[Path], typer.Option("--evidence", help="佐证材料文件，可重复")]
By = Annotated[str, typer.Option("--by", help="报送人")]


@tasks_app.command("close")
def tasks_close(
    task_ids: Annotated[list[int], typer.Argument(help="任务编号；一次活动可办结同一支部的多个任务")],
    held_on: HeldOn, topic: Topic, minutes: Minutes = None, minutes_file: MinutesFile = None,
    attendee: Attendee = [], leave: Leave = [], absent: Absent = [],  # noqa: B006
    evidence: EvidenceOpt = [], branch: Branch = None, by: By = "支部书记",  # noqa: B006
) -> None:
    """报送活动并办结任务：校验日期、参会人员、法定人数和佐证材料，全部通过才写入。"""
    from dangjian.services.closing import close_tasks

    report = _report(held_on, topic, minutes, minutes_file, attendee, leave, absent, evidence, by)
    with session_scope() as session:
        completion = close_tasks(session=session, task_ids=task_ids, report=report,
                                 acting_branch=branch, actor=by)
    ids = "、".join(f"#{t}" for t in task_ids)
    out.print(f"已办结任务 {ids}（报送记录 #{completion.id}，召开日期 {completion.held_on}）")


@tasks_app.command("correct")
def tasks_correct(
    completion_id: Annotated[int, typer.Argument(help="要更正的报送记录编号")],
    held_on: HeldOn, topic: Topic, minutes: Minutes = None, minutes_file: MinutesFile = None,
    attendee: Attendee = [], leave: Leave = [], absent: Absent = [],  # noqa: B006
    evidence: EvidenceOpt = [], branch: Branch = None, by: By = "支部书记",  # noqa: B006
) -> None:
    """更正已报送的活动：生成新版本，旧版本保留可查。"""
    from dangjian.services.closing import correct_completion

    report = _report(held_on, topic, minutes, minutes_file, attendee, leave, absent, evidence, by)
    with session_scope() as session:
        completion = correct_completion(session=session, completion_id=completion_id, report=report,
                                        acting_branch=branch, actor=by)
    out.print(f"已更正：报送记录 #{completion.id}（第 {completion.version} 版）")
