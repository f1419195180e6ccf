"""Task commands for branch secretaries: list, close/submit, correct/resubmit, close-many, waive."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Annotated

import typer

from dangjian.cli.app import out, partial_exit_code, require_files, tasks_app
from dangjian.db import session_scope
from dangjian.domain.completion import AttendanceEntry
from dangjian.domain.dates import parse_shanghai_date
from dangjian.errors import ValidationFailed
from dangjian.labels import TASK_STATE, WAIVER_KIND
from dangjian.reports.wrapping import Table
from models import Presence

Branch = Annotated[str | None, typer.Option(
    "--branch", envvar="DANGJIAN_BRANCH",
    help="以哪个支部的身份办理（支部书记只能办理本支部任务）；与 --as-admin 二选一")]
AsAdmin = Annotated[bool, typer.Option(
    "--as-admin", help="区县管理员代支部报送（须用 --by 写明姓名；审计记为“管理员 姓名（代支部报送）”）")]


def _acting(branch: str | None, as_admin: bool, by: str | None) -> tuple[str | None, str, str]:
    """(acting branch, audit actor, reported by). Closing needs to know who acts: a branch
    secretary for their own branch, or an administrator on a branch's behalf, named."""
    if as_admin and branch:
        raise ValidationFailed("--branch 与 --as-admin 只能二选一：支部书记用 --branch 本支部编码，"
                               "管理员代报用 --as-admin --by 姓名", field="branch")
    if as_admin:
        if not (by or "").strip():
            raise ValidationFailed("管理员代支部报送须用 --by 写明管理员姓名", field="by")
        name = (by or "").strip()
        return None, f"管理员 {name}（代支部报送）", name
    if not branch:
        raise ValidationFailed("须用 --branch 写明以哪个支部的身份办理（支部书记只能办理本支部任务）；"
                               "区县管理员代支部报送请用 --as-admin --by 姓名", field="branch")
    who = (by or "").strip() or "支部书记"
    return branch, who, who


@tasks_app.command("list")
def tasks_list(
    cycle: Annotated[str, typer.Argument(help="考核周期编码")],
    unit: Annotated[str | None, typer.Option(help="组织编码（含下级）")] = None,
    state: Annotated[str | None, typer.Option(
        help="状态：open/overdue/submitted/returned/done/late/excused/not_applicable/missed")] = None,
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

    require_files([*([minutes_file] if minutes_file else []), *evidence])
    if minutes_file is not None:
        minutes = _read_text(minutes_file)
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
ByOpt = Annotated[str | None, typer.Option("--by", help="报送人（默认“支部书记”；--as-admin 时必填）")]


def _closed_message(session, completion, verb: str) -> str:
    from dangjian.services.closing import completion_tasks

    tasks = completion_tasks(session, completion.id or 0)
    ids = "、".join(f"#{t.id}" for t in tasks)
    if any(t.state == "submitted" for t in tasks):
        return (f"已{verb}任务 {ids}，待上级审核（报送记录 #{completion.id}，第 {completion.version} 版，"
                f"召开日期 {completion.held_on}）")
    done = "、".join(f"#{t.id} {TASK_STATE.get(t.state, t.state)}" for t in tasks)
    return f"已办结任务 {done}（报送记录 #{completion.id}，第 {completion.version} 版，召开日期 {completion.held_on}）"


@tasks_app.command("close")
def tasks_close(
    task_ids: Annotated[list[int], typer.Argument(help="任务编号；一次活动可办结同一支部不同职责的多个任务")],
    held_on: HeldOn, topic: Topic, minutes: Minutes = None, minutes_file: MinutesFile = None,
    attendee: Attendee = [], leave: Leave = [], absent: Absent = [],  # noqa: B006
    evidence: EvidenceOpt = [], branch: Branch = None, as_admin: AsAdmin = False,  # noqa: B006
    by: ByOpt = None,
) -> None:
    """报送活动并办结任务：校验日期、参会人员、法定人数和佐证材料，全部通过才写入。
    须经上级审核的职责报送后为“待审核”。"""
    from dangjian.services.closing import close_tasks

    acting, actor, reporter = _acting(branch, as_admin, by)
    report = _report(held_on, topic, minutes, minutes_file, attendee, leave, absent, evidence, reporter)
    with session_scope() as session:
        completion = close_tasks(session=session, task_ids=task_ids, report=report,
                                 acting_branch=acting, actor=actor)
        out.print(_closed_message(session, completion, "报送"))


tasks_app.command("submit", help="报送活动（同 tasks close）：须经上级审核的职责报送后为“待审核”，"
                  "其余职责直接办结。")(tasks_close)


@tasks_app.command("correct")
def tasks_correct(
    completion_id: Annotated[int, typer.Argument(help="要更正的报送记录编号（最新版本）")],
    held_on: HeldOn, topic: Topic, minutes: Minutes = None, minutes_file: MinutesFile = None,
    attendee: Attendee = [], leave: Leave = [], absent: Absent = [],  # noqa: B006
    evidence: EvidenceOpt = [], branch: Branch = None, as_admin: AsAdmin = False,  # noqa: B006
    by: ByOpt = None,
) -> None:
    """更正已报送的活动：生成新版本，旧版本保留可查；被退回的报送用它重新报送。"""
    from dangjian.services.closing import correct_completion

    acting, actor, reporter = _acting(branch, as_admin, by)
    report = _report(held_on, topic, minutes, minutes_file, attendee, leave, absent, evidence, reporter)
    with session_scope() as session:
        completion = correct_completion(session=session, completion_id=completion_id, report=report,
                                        acting_branch=acting, actor=actor)
        out.print(_closed_message(session, completion, "重新报送"))


tasks_app.command("resubmit", help="重新报送被退回的活动（同 tasks correct）：生成新版本，重新进入待审核。")(
    tasks_correct)


# --- close-many ---------------------------------------------------------------------------

CSV_COLUMNS = {
    "task_id": ("task_id", "任务编号"),
    "held_on": ("held_on", "召开日期"),
    "topic": ("topic", "会议主题"),
    "minutes": ("minutes", "会议记录"),
    "attendees": ("attendees", "出席党员"),
    "leave": ("leave", "请假"),
    "absent": ("absent", "缺席"),
    "evidence": ("evidence", "佐证材料"),
    "reported_by": ("reported_by", "报送人"),
}
CSV_REQUIRED = ("task_id", "held_on", "topic")
_IDS = re.compile(r"[;；、,，\s]+")
_LIST = re.compile(r"[;；\n]+")


def _read_text(path: Path) -> str:
    from dangjian.services.text_files import read_text_file

    return read_text_file(path)


def read_close_csv(path: Path, default_by: str):
    """One row per event: task id(s), held date, topic, minutes, attendee ids, evidence paths.

    Every row is parsed before anything is sent; errors name the row (line) and column.
    Returns the rows that parse and a failure per row that does not; a bad header, an empty
    file or an unreadable one is refused at once."""
    from dangjian.services.closing import BulkItem, ItemFailure, Report

    reader = csv.reader(_read_text(path).splitlines(keepends=True))
    header = next(reader, None)
    if not header:
        raise ValidationFailed(f"{path}：文件为空，第1行应为表头", field="file")
    index: dict[str, int] = {}
    unknown = []
    for i, name in enumerate(h.strip() for h in header):
        key = next((k for k, names in CSV_COLUMNS.items() if name in names), None)
        if key is None:
            if name:
                unknown.append(name)
        else:
            index[key] = i
    missing = [CSV_COLUMNS[k][1] + f"（{k}）" for k in CSV_REQUIRED if k not in index]
    if missing or unknown:
        problems = [f"缺少列：{'、'.join(missing)}"] if missing else []
        problems += [f"无法识别的列：{'、'.join(unknown)}"] if unknown else []
        allowed = "、".join(f"{names[1]}/{names[0]}" for names in CSV_COLUMNS.values())
        raise ValidationFailed(f"{path}：表头不正确（可用列：{allowed}）", field="file", details=problems)

    items = []
    failures = []
    line = reader.line_num
    for row in reader:
        ref = f"第{line + 1}行"
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            i = index.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        row_problems = []
        task_ids = []
        for text in (t for t in _IDS.split(cell("task_id")) if t):
            if text.lstrip("#").isdigit():
                task_ids.append(int(text.lstrip("#")))
            else:
                row_problems.append(f"任务编号（task_id）“{text}”不是数字")
        if not cell("task_id"):
            row_problems.append("任务编号（task_id）不能为空")
        held = None
        try:
            held = parse_shanghai_date(cell("held_on"), "召开日期（held_on）")
        except ValidationFailed as error:
            row_problems.append(error.message)
        if not cell("topic"):
            row_problems.append("会议主题（topic）不能为空")
        evidence = []
        for text in (e.strip() for e in _LIST.split(cell("evidence")) if e.strip()):
            p = Path(text)
            evidence.append(p if p.is_absolute() else path.parent / p)
        leave = [x.strip() for x in _LIST.split(cell("leave")) if x.strip()]
        absent = [x.strip() for x in _LIST.split(cell("absent")) if x.strip()]
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            row_problems.append(f"多出 {len(row) - len(header)} 个单元格（表头只有 {len(header)} 列）")
        if row_problems or held is None:
            failures.append(ItemFailure(ref, tuple(task_ids),
                                        ValidationFailed("格式有误", details=row_problems, field="file")))
            continue
        attendance = _attendance([m for m in _IDS.split(cell("attendees")) if m], leave, absent)
        report = Report(held_on=held, topic=cell("topic"), minutes=cell("minutes"), attendance=attendance,
                        evidence=evidence, reported_by=cell("reported_by") or default_by)
        items.append(BulkItem(task_ids, report, ref))
    if not items and not failures:
        raise ValidationFailed(f"{path}：没有数据行", field="file")
    return items, failures


@tasks_app.command("close-many")
def tasks_close_many(
    file: Annotated[Path, typer.Argument(help="CSV（UTF-8 或 GBK）：每行一次活动。列：任务编号/task_id、"
                                              "召开日期/held_on、会议主题/topic、会议记录/minutes、"
                                              "出席党员/attendees（编号用 ; 或 、 分隔）、请假/leave（编号:原因;…）、"
                                              "缺席/absent、佐证材料/evidence（路径用 ; 分隔，相对 CSV 所在目录）、"
                                              "报送人/reported_by")],
    branch: Branch = None, as_admin: AsAdmin = False, by: ByOpt = None,
    partial: Annotated[bool, typer.Option("--partial", help="只写入通过校验的行（默认任何一行有错则全部不写入）")] = False,
) -> None:
    """批量办结：每行按单个报送同样校验（佐证材料、法定人数等），默认全部通过才写入；
    格式错误和校验错误一次全部列出。"""
    from dangjian.cli.progress import note, working
    from dangjian.services.closing import close_many

    acting, actor, reporter = _acting(branch, as_admin, by)
    note(f"正在读取 {file}…")
    items, bad_rows = read_close_csv(file, reporter)
    with working(f"已读取 {len(items) + len(bad_rows)} 行，正在逐行校验并写入…"), session_scope() as session:
        result = close_many(session=session, items=items, acting_branch=acting, actor=actor,
                            all_or_nothing=not partial, earlier=bad_rows)
        written = [f"#{c.id}" for c in result.completions]
    out.print(f"批量办结完成：写入 {len(written)} 行（报送记录 {'、'.join(written)}）")
    if result.failures:
        note(f"未写入 {len(result.failures)} 行：")
        for failure in result.failures:
            note(failure.line(), prefix="  - ")
        raise typer.Exit(code=partial_exit_code(len(written), result.failures[0].error.exit_code))


# --- waive --------------------------------------------------------------------------------


@tasks_app.command("waive")
def tasks_waive(
    task_id: Annotated[int, typer.Argument(help="任务编号")],
    reason: Annotated[str, typer.Option(help="理由")],
    until: Annotated[str, typer.Option(help="有效期至 YYYY-MM-DD（含当日，北京时间）；到期仍未完成则恢复为待完成/已逾期")],
    unit: Annotated[str, typer.Option(help="批准单位编码（须为该支部的上级组织）")],
    by: Annotated[str, typer.Option("--by", help="批准人")],
    kind: Annotated[str, typer.Option(help="excused（豁免）或 not_applicable（不适用）")] = "excused",
) -> None:
    """豁免任务或标为不适用：由上级组织批准，写明理由和有效期。"""
    from dangjian.services.waivers import waive

    with session_scope() as session:
        waiver = waive(session=session, task_id=task_id, kind=kind, reason=reason,
                       until=parse_shanghai_date(until, "until"), approver=by, approving_unit=unit)
    done = "豁免" if kind == "excused" else f"标为{WAIVER_KIND.get(kind, kind)}"
    out.print(f"任务 #{task_id} 已{done}（批准：{unit} {by}，有效期至 {waiver.expires_on}，"
              f"豁免记录 #{waiver.id}）")
