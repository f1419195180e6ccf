"""`dangjian develop …`: 发展党员 cases, milestone by milestone.

Translates arguments and prints results; every rule lives in the process file
(rules/data/development_process.yaml) and dangjian.services.development.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from dangjian.cli.app import develop_app, out
from dangjian.clock import today
from dangjian.db import session_scope
from dangjian.domain.dates import parse_shanghai_date
from dangjian.reports.wrapping import Table

CaseId = Annotated[int, typer.Argument(help="发展党员档案编号（develop open 时给出）")]
By = Annotated[str, typer.Option("--by", help="登记人（记入审计日志）")]
On = Annotated[str | None, typer.Option("--on", help="办理日期 YYYY-MM-DD（北京时间），默认今天")]
Note = Annotated[str | None, typer.Option("--note", help="备注")]
Days = Annotated[float | None, typer.Option("--days", help="集中培训天数")]
Hours = Annotated[float | None, typer.Option("--hours", help="集中培训学时")]
Person = Annotated[list[str], typer.Option("--person", help="培养联系人或入党介绍人，可重复或用逗号分隔")]
Expected = Annotated[int | None, typer.Option("--expected", help="支部大会：应到会有表决权的正式党员人数")]
Present = Annotated[int | None, typer.Option("--present", help="支部大会：有表决权的实到人数")]
InFavour = Annotated[int | None, typer.Option("--for", help="支部大会：赞成人数（含书面意见）")]
Months = Annotated[int | None, typer.Option("--months", help="延长预备期的月数（6–12）")]
LeavingOn = Annotated[str | None, typer.Option("--leaving-on", help="预计离开工作、学习单位的日期")]
Reason = Annotated[str | None, typer.Option("--reason", help="特殊情况的理由（如审批延长）")]

SEVERITY_STYLE = {"late": "yellow", "note": "cyan", "refuse": "red"}


def _date(text: str | None, field: str) -> date:
    return parse_shanghai_date(text, field) if text else today()


def _details(days: float | None, hours: float | None, person: list[str], expected: int | None,
             present: int | None, in_favour: int | None, months: int | None, leaving_on: str | None,
             reason: str | None) -> dict[str, Any]:
    return {"days": days, "hours": hours, "persons": person or None, "expected": expected, "present": present,
            "in_favour": in_favour, "months": months,
            "leaving_on": parse_shanghai_date(leaving_on, "leaving-on") if leaving_on else None,
            "reason": reason}


def _window_row(w: Any) -> tuple[str, ...]:
    last = str(w.latest) if w.latest else "无期限"
    if w.special_latest:
        last += f"（特殊情况 {w.special_latest}）"
    label = w.step.label + (f"（第{w.occurrence}次）" if w.occurrence > 1 else "")
    optional = "（可选）" if w.step.optional else ""
    return (label + optional, str(w.earliest) if w.earliest != date.min else "—", last,
            str(w.due) if w.due else "周期末", "\n".join(w.basis))


def _print_outcome(result: Any) -> None:
    for problem in result.flags:
        style = SEVERITY_STYLE.get(problem.severity, "")
        tag = "逾期" if problem.severity == "late" else "说明"
        out.print(f"[{style}]{tag}：{problem.message}[/{style}]", highlight=False)
    if result.member_change:
        out.print(f"党员名册：{result.member_change}", highlight=False)
    if result.tasks_closed:
        out.print(f"已办结任务 {'、'.join(f'#{t}' for t in result.tasks_closed)}", highlight=False)
    for task in result.tasks_created:
        out.print(f"新任务 #{task.id}：{task.period_label}，{task.period_start} 至 {task.due_on}", highlight=False)
    if result.tasks_dropped:
        out.print(f"不再需要的任务（已标为不适用）：{'、'.join(f'#{t}' for t in result.tasks_dropped)}",
                  highlight=False)
    if result.case.closed_on:
        return
    if result.windows:
        table = Table("下一步", "最早", "最晚", "任务截止", "依据", title="下一步及时间窗口")
        for w in result.windows:
            table.add_row(*_window_row(w))
        out.print(table)


@develop_app.command("steps")
def steps() -> None:
    """列出发展党员的五个阶段、二十五个步骤及其时间规则和依据。"""
    from dangjian.domain.development import default_process

    process = default_process()
    table = Table("编号", "代码", "步骤", "阶段", "办理", "时间规则与要求")
    for s in process.steps:
        rules = [f"{'不早于' if r.min_after is not None else ''}"
                 f"{process.anchor_label(r.anchor)}"
                 + (f"后满{r.min_after.label()}" if r.min_after is not None and r.min_after.delta else "")
                 + (f"后{r.max_after.label()}内" if r.max_after is not None else "")
                 + (f"（特殊情况不超过{r.special_max_after.label()}）" if r.special_max_after else "")
                 + f"：{r.source}" for r in s.rules]
        rules += [f"{q.text}（{q.source}）" for q in s.requires]
        if s.repeat is not None and s.repeat.every is not None:
            rules.append(f"每{s.repeat.every.label()}一次：{s.repeat.source}")
        table.add_row(str(s.number or "—"), s.code, s.name + ("（可选）" if s.optional else ""),
                      process.stage_name(s.stage), s.role, "\n".join(rules))
    out.print(table)
    out.print(f"日期算法：{process.spec.process.date_policy}", highlight=False)


@develop_app.command("open")
def open_(branch: Annotated[str, typer.Option("--branch", help="接收申请的党支部编码")],
          applied_on: Annotated[str, typer.Option("--applied-on", help="递交入党申请书的日期 YYYY-MM-DD")],
          name: Annotated[str | None, typer.Option("--name", help="申请人姓名")] = None,
          id_number: Annotated[str | None, typer.Option("--id-number", help="居民身份证号码（18位）")] = None,
          member: Annotated[str | None, typer.Option(
              "--member", help="已在名册中的入党积极分子或发展对象的党员编号（代替 --name/--id-number）")] = None,
          category: Annotated[str, typer.Option("--category", help="人员类别：居民、在职、学生、离退休……")] = "居民",
          note: Note = None, by: By = "支部书记") -> None:
    """建立发展党员档案：登记第1步“递交入党申请书”，并生成“党组织派人谈话”任务（一个月内）。"""
    from dangjian.services.development import open_case

    with session_scope() as session:
        result = open_case(session=session, branch_id=branch, name=name, id_number=id_number, member_id=member,
                           applied_on=parse_shanghai_date(applied_on, "applied-on"), category=category,
                           note=note, actor=by)
    case = result.case
    out.print(f"已建立发展党员档案 #{case.id}：{case.name}（{case.branch_id}），{case.opened_on} 递交入党申请书；"
              f"名册编号 {case.member_id}", highlight=False)
    _print_outcome(result)


@develop_app.command("record")
def record(case: CaseId,
           step: Annotated[str, typer.Argument(help="步骤：编号 1–25、代码或名称（develop steps 列出全部）")],
           on: On = None, days: Days = None, hours: Hours = None, person: Person = [],  # noqa: B006
           expected: Expected = None, present: Present = None, in_favour: InFavour = None,
           months: Months = None, leaving_on: LeavingOn = None, reason: Reason = None,
           note: Note = None, by: By = "支部书记") -> None:
    """登记一个步骤：过早或顺序不对的不予登记（说明依据和最早日期）；超期的可以登记但标注逾期。"""
    from dangjian.services.development import record_milestone

    details = _details(days, hours, person, expected, present, in_favour, months, leaving_on, reason)
    with session_scope() as session:
        result = record_milestone(session=session, case_id=case, step=step, on=_date(on, "on"),
                                  details=details, note=note, actor=by)
    row = result.milestone
    from dangjian.domain.development import default_process

    label = default_process().step(row.step).label
    out.print(f"已登记 {label}（{row.recorded_on}），记录 #{row.id}" + ("，逾期" if row.late else ""),
              highlight=False)
    if result.case.closed_on:
        out.print(f"发展党员档案 #{result.case.id} 已完成（{result.case.closed_on}）", highlight=False)
    _print_outcome(result)


@develop_app.command("correct")
def correct(milestone: Annotated[int, typer.Argument(help="要更正的记录编号（develop show 中的“记录”）")],
            reason: Annotated[str, typer.Option("--why", help="更正理由")],
            on: Annotated[str | None, typer.Option("--on", help="更正后的日期")] = None,
            days: Days = None, hours: Hours = None, person: Person = [],  # noqa: B006
            expected: Expected = None, present: Present = None, in_favour: InFavour = None,
            months: Months = None, leaving_on: LeavingOn = None,
            special: Annotated[str | None, typer.Option("--reason", help="特殊情况的理由")] = None,
            note: Note = None, by: By = "支部书记") -> None:
    """更正一条记录（新增一个版本，原记录保留）；更正后其他步骤若不再符合规定则不予更正。"""
    from dangjian.services.development import correct_milestone

    details = _details(days, hours, person, expected, present, in_favour, months, leaving_on, special)
    with session_scope() as session:
        result = correct_milestone(session=session, milestone_id=milestone, reason=reason,
                                   on=parse_shanghai_date(on, "on") if on else None,
                                   details={k: v for k, v in details.items() if v is not None},
                                   note=note, actor=by)
    out.print(f"已更正记录 #{milestone}，新版本 #{result.milestone.id}（{result.milestone.recorded_on}）",
              highlight=False)
    _print_outcome(result)


@develop_app.command("show")
def show(case: CaseId) -> None:
    """查看一人的发展党员档案：每一步的日期和依据，以及下一步的时间窗口。"""
    from dangjian.domain.development import default_process, describe_details
    from dangjian.labels import TASK_STATE
    from dangjian.services.development import OUTCOME_LABEL, STATUS_LABEL, case_view

    process = default_process()
    with session_scope() as session:
        view = case_view(session=session, case_id=case)
    c = view.case
    status = STATUS_LABEL[view.member.status] if view.member else "入党申请人"
    if view.member is not None and not view.member.active:
        status += "（已移出名册）"
    out.print(f"发展党员档案 #{c.id}：{c.name}，{c.gender and ('男' if c.gender == 'male' else '女')}，"
              f"{c.birth_date} 出生；{view.branch.name}（{view.branch.id}）", highlight=False)
    line = f"身份：{status}；名册编号 {c.member_id}；当前：{process.stage_name(c.stage)} / {process.step(c.step).label}"
    if view.probation_end:
        line += f"；预备期满 {view.probation_end}"
    out.print(line, highlight=False)
    if c.closed_on:
        out.print(f"已于 {c.closed_on} 结束：{OUTCOME_LABEL.get(c.outcome, c.outcome)}"  # type: ignore[call-overload]
                  + (f"（{c.close_reason}）" if c.close_reason else ""), highlight=False)
    table = Table("记录", "日期", "步骤", "内容", "登记人", "说明", title="办理经过")
    for e in view.entries:
        notes = [p.message for p in e.problems]
        if e.versions:
            notes.append("更正：" + "；".join(f"#{v.id} 原为 {v.recorded_on}" for v in e.versions)
                         + (f"（{e.milestone.correction_reason}）" if e.milestone.correction_reason else ""))
        if e.milestone.note:
            notes.append(f"备注：{e.milestone.note}")
        table.add_row(str(e.milestone.id), str(e.milestone.recorded_on), e.step.label,
                      describe_details(e.milestone.details or {}), e.milestone.recorded_by, "\n".join(notes))
    out.print(table)
    if view.windows:
        nxt = Table("下一步", "最早", "最晚", "任务截止", "依据", title="下一步及时间窗口")
        for w in view.windows:
            nxt.add_row(*_window_row(w))
        out.print(nxt)
    if view.tasks:
        tasks = Table("任务", "步骤", "窗口", "截止", "状态", "完成日期", title="任务")
        for t in view.tasks:
            tasks.add_row(f"#{t.id}", t.period_label, f"{t.period_start} 至 {t.period_end}", str(t.due_on),
                          TASK_STATE.get(t.state, str(t.state)), str(t.done_on or ""))
        out.print(tasks)


@develop_app.command("list")
def list_(branch: Annotated[str, typer.Option("--branch", help="组织编码（含下级）")],
          due_before: Annotated[str | None, typer.Option(
              "--due-before", help="只列出有步骤在此日期前到期的档案")] = None,
          include_closed: Annotated[bool, typer.Option("--all", help="包括已结束的档案")] = False) -> None:
    """列出发展党员档案及各自的下一步。"""
    from dangjian.services.development import OUTCOME_LABEL, list_cases

    until = parse_shanghai_date(due_before, "due-before") if due_before else None
    with session_scope() as session:
        rows = list_cases(session=session, unit_id=branch, due_before=until, include_closed=include_closed)
    table = Table("档案", "姓名", "支部", "递交申请", "当前步骤", "下一步（最早 — 最晚/截止）")
    for r in rows:
        nxt = "\n".join(
            f"{w.step.label}：{w.earliest if w.earliest != date.min else '—'} — {w.latest or w.due or '周期末'}"
            for w in r.windows)
        if r.case.closed_on:
            nxt = f"已结束 {r.case.closed_on}（{OUTCOME_LABEL.get(r.case.outcome, '')}）"  # type: ignore[call-overload]
        table.add_row(f"#{r.case.id}", r.case.name, r.branch_name, str(r.case.opened_on), r.step.label, nxt)
    out.print(table)
    out.print(f"共 {len(rows)} 份", highlight=False)


@develop_app.command("close")
def close(case: CaseId,
          outcome: Annotated[str, typer.Option(
              "--outcome", help="withdrawn 本人撤回或停止培养 | cancelled 不予接收或取消预备党员资格 | transferred 转出")],
          reason: Annotated[str, typer.Option("--reason", help="理由")],
          on: On = None, by: By = "支部书记") -> None:
    """在材料归档之前结束档案（撤回、取消资格、转出）。"""
    from dangjian.services.development import OUTCOME_LABEL, close_case

    with session_scope() as session:
        result = close_case(session=session, case_id=case, outcome=outcome, on=_date(on, "on"),
                            reason=reason, actor=by)
    out.print(f"发展党员档案 #{result.case.id} 已结束：{OUTCOME_LABEL[result.case.outcome]}"  # type: ignore[index]
              f"（{result.case.closed_on}）", highlight=False)
    if result.member_change:
        out.print(f"党员名册：{result.member_change}", highlight=False)


@develop_app.command("sync")
def sync(cycle: Annotated[str, typer.Option("--cycle", help="考核周期编码（已开启）")], by: By = "system") -> None:
    """为新开启的考核周期补建发展党员任务（时间窗口落在该周期内的步骤）。"""
    from dangjian.services.cycles import get_cycle
    from dangjian.services.development import sync_tasks

    with session_scope() as session:
        added = sync_tasks(session=session, cycle_id=get_cycle(session, cycle).id or 0, actor=by)
    out.print(f"已补建发展党员任务 {added} 项", highlight=False)
