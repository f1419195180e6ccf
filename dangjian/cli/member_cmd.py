"""`dangjian members …`: dues, exemptions, leave, "六个一" pledges, 自行脱党 candidates.

Translates arguments and prints results; every rule lives in the services.
"""
from __future__ import annotations

from typing import Annotated

import typer

from dangjian.cli.app import members_app, out
from dangjian.clock import today
from dangjian.db import session_scope
from dangjian.domain.dates import parse_as_of, parse_shanghai_date
from dangjian.domain.dues import (
    DUE_STATE_LABEL,
    MODE_LABEL,
    join_months,
    month_range,
    parse_amount,
    parse_month,
    parse_months,
    yuan,
)
from dangjian.domain.lapse import REASON_LABEL
from dangjian.reports.wrapping import Table

Member = Annotated[str, typer.Argument(help="党员编号")]
By = Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")]


def _date(text: str | None, field: str):  # type: ignore[no-untyped-def]
    return parse_shanghai_date(text, field) if text else today()


def _signed(value) -> str:  # type: ignore[no-untyped-def]
    if value is None:
        return "—"
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}"


def _statement_total(st) -> str:  # type: ignore[no-untyped-def]
    """The year's totals; months without a registered base owe an unknown amount, so the
    line never claims 欠交 0.00 while such a month is unpaid (`members lapsed` counts it)."""
    if not st.unknown:
        return f"合计：应交 {yuan(st.owed)}，已交 {yuan(st.paid)}，欠交 {yuan(st.outstanding)}"
    known = len(st.unknown) < len(st.months)
    line = "合计：" + (f"已登记基数的月份应交 {yuan(st.owed)}，" if known else "") + f"已交 {yuan(st.paid)}"
    if st.outstanding > 0:
        line += f"，欠交 {yuan(st.outstanding)}"
    line += f"；{join_months(st.unknown)} 未登记计算基数，应交金额不明"
    if st.unpaid_unknown:
        line += f"，其中 {join_months(st.unpaid_unknown)} 未交（计为欠交，金额待登记基数后确定）"
    return line


@members_app.command("dues")
def dues(member: Member,
         year: Annotated[int | None, typer.Option("--year", help="年度，默认今年")] = None) -> None:
    """查看党员一年的党费：每月应交、已交、差额（负数为欠交），以及交纳记录。"""
    from dangjian.services.dues import member_dues, payment_months

    year = year or today().year
    with session_scope() as session:
        st = member_dues(session=session, member_id=member, year=year)
        months_of = payment_months(session, [p.id or 0 for p in st.payments])
    out.print(f"{st.member.name}（{st.member.id}）{year}年党费", highlight=False)
    table = Table("月份", "应交", "已交", "差额", "说明")
    for b in st.months:
        state = DUE_STATE_LABEL[b.due.state]
        owed = yuan(b.due.amount) if b.due.amount is not None else state
        gap = "未交（金额不明）" if b.unpaid and b.due.amount is None else _signed(b.balance)
        table.add_row(b.month.iso, owed, yuan(b.paid) if b.paid else "", gap, b.due.note)
    out.print(table)
    out.print(_statement_total(st), highlight=False)
    if st.payments:
        pay_table = Table("编号", "交纳日期", "金额", "所交月份", "方式", "自愿多交", "备注")
        for p in st.payments:
            notes = [x for x in (("全额上缴中央" if p.to_central else ""), (f"代交：{p.paid_by}" if p.paid_by else ""),
                                 p.note or "") if x]
            pay_table.add_row(str(p.id), str(p.paid_on), yuan(p.amount), join_months(months_of.get(p.id or 0, [])),
                              MODE_LABEL[p.mode], yuan(p.extra) if p.extra else "", "；".join(notes))
        out.print(pay_table)


@members_app.command("pay")
def pay(member: Member,
        months: Annotated[str, typer.Option("--months", help="所交月份：2026-01..2026-03，或 2026-01,2026-02")],
        amount: Annotated[str, typer.Option("--amount", help="金额（元，精确到分）")],
        paid_on: Annotated[str | None, typer.Option("--paid-on", help="交纳日期 YYYY-MM-DD，默认今天")] = None,
        consent: Annotated[bool, typer.Option("--consent", help="按季、预交或补交已经党支部同意")] = False,
        paid_by: Annotated[str | None, typer.Option("--paid-by", help="代交人")] = None,
        note: Annotated[str | None, typer.Option(help="备注")] = None,
        by: By = "支部组织委员") -> None:
    """登记交纳党费：按月；按季、预交、补交须经支部同意且不超过6个月；多交为自愿，1000元以上全额上缴中央。"""
    from dangjian.services.dues import record_payment

    with session_scope() as session:
        result = record_payment(session=session, member_id=member, months=parse_months(months),
                                amount=parse_amount(amount, "amount"), paid_on=_date(paid_on, "paid-on"),
                                branch_consent=consent, paid_by=paid_by, note=note, actor=by)
    plan = result.plan
    out.print(f"已登记党费 #{result.payment.id}：{yuan(result.payment.amount)}，"
              f"{join_months(list(plan.allocations))}（{'；'.join(plan.notes)}）", highlight=False)
    if result.tasks_closed:
        out.print(f"已办结党费任务 {'、'.join(f'#{t}' for t in result.tasks_closed)}", highlight=False)


@members_app.command("income")
def income(member: Member,
           start: Annotated[str, typer.Option("--from", help="起始月份（新工资的当月）YYYY-MM")],
           base: Annotated[str, typer.Option("--base", help="月计算基数（元）；定额 fixed 时为每月金额")],
           kind: Annotated[str, typer.Option("--kind", help="salary 在职 | pension 离退休 | business 个体 | fixed 定额")],
           replace: Annotated[bool, typer.Option("--replace", help="更正同一月份已登记的基数")] = False,
           note: Annotated[str | None, typer.Option(help="备注")] = None,
           by: By = "支部组织委员") -> None:
    """登记党费计算基数（工资调整从新工资的当月起按新基数计算）。"""
    from dangjian.domain.dues import default_tables, monthly_dues
    from dangjian.services.dues import record_income

    month = parse_month(start, "from")
    value = parse_amount(base, "base")
    with session_scope() as session:
        row = record_income(session=session, member_id=member, effective_month=month, kind=kind, base=value,
                            actor=by, note=note, replace=replace)
    amount = monthly_dues(row.kind, value, default_tables().for_month(month))
    out.print(f"已登记：{member} 自 {month.label} 起 {amount.explanation}", highlight=False)


@members_app.command("exempt")
def exempt(member: Member,
           months: Annotated[str, typer.Option("--months", help="有效月份：2026-04..2026-09")],
           reason: Annotated[str, typer.Option("--reason", help="少交或免交的理由")],
           approver: Annotated[str, typer.Option("--approver", help="批准的上级党委（组织编码，须为所在支部的上级）")],
           approved_by: Annotated[str, typer.Option("--approved-by", help="批准人")],
           approved_on: Annotated[str | None, typer.Option("--approved-on", help="批准日期，默认今天")] = None,
           reduce_to: Annotated[str | None, typer.Option("--reduce-to", help="少交：每月交纳金额；不填为免交")] = None,
           by: By = "支部组织委员") -> None:
    """登记经上一级党委批准的少交或免交党费。"""
    from dangjian.services.dues import record_exemption

    span = parse_months(months)
    with session_scope() as session:
        row = record_exemption(session=session, member_id=member, first=min(span), last=max(span), reason=reason,
                               approver_unit_id=approver, approved_on=_date(approved_on, "approved-on"),
                               approved_by=approved_by, actor=by,
                               reduced_to=parse_amount(reduce_to, "reduce-to") if reduce_to else None)
    what = f"少交（每月 {yuan(row.reduced_to)}）" if row.reduced_to is not None else "免交"
    out.print(f"已登记 #{row.id}：{member} {join_months(month_range(min(span), max(span)))} {what}",
              highlight=False)


@members_app.command("leave")
def leave(member: Member,
          months: Annotated[str, typer.Option("--months", help="请假月份：2026-04..2026-06")],
          reason: Annotated[str, typer.Option("--reason", help="请假理由")],
          approved_by: Annotated[str, typer.Option("--approved-by", help="批准人")],
          by: By = "支部组织委员") -> None:
    """登记经批准的组织生活请假（整月），自行脱党核查时作为正当理由。"""
    from dangjian.services.dues import record_leave

    span = parse_months(months)
    with session_scope() as session:
        row = record_leave(session=session, member_id=member, first=min(span), last=max(span), reason=reason,
                           approved_by=approved_by, actor=by)
    out.print(f"已登记请假 #{row.id}：{member} {join_months(month_range(min(span), max(span)))}",
              highlight=False)


@members_app.command("unpaid")
def unpaid(unit: Annotated[str, typer.Argument(help="组织编码（含下级）")],
           start: Annotated[str, typer.Option("--from", help="起始月份 YYYY-MM")],
           end: Annotated[str | None, typer.Option("--to", help="结束月份，默认本月")] = None) -> None:
    """列出欠交党费的党员和月份（含未登记计算基数的）。"""
    from dangjian.domain.dues import Month
    from dangjian.services.dues import unpaid as unpaid_rows

    last = parse_month(end, "to") if end else Month.of(today())
    with session_scope() as session:
        rows = unpaid_rows(session=session, unit_id=unit, first=parse_month(start, "from"), last=last)
    table = Table("党员", "姓名", "月份", "应交", "已交", "欠交", "说明")
    for r in rows:
        table.add_row(r.member_id, r.member_name, r.month.iso, yuan(r.owed), yuan(r.paid),
                      yuan(r.outstanding) if r.outstanding is not None else "不明", r.note)
    out.print(table)
    out.print(f"共 {len(rows)} 条", highlight=False)


@members_app.command("pledge")
def pledge(member: Member,
           kind: Annotated[str, typer.Option("--kind", help="household 困难家庭 | hygiene 区域卫生 | order 区域治安 | "
                                                          "youth 失足青年 | prospect 发展对象 | resident_unit 辖区单位")],
           target: Annotated[str, typer.Option("--target", help="具体对象：户主、楼院巷道、单位名称等")],
           since: Annotated[str | None, typer.Option("--since", help="开始日期，默认今天")] = None,
           evidence: Annotated[str | None, typer.Option(help="佐证说明")] = None,
           by: By = "支部书记") -> None:
    """登记党员的“六个一”承诺。"""
    from dangjian.services.pledges import PLEDGE_LABEL, record_pledge

    with session_scope() as session:
        row = record_pledge(session=session, member_id=member, kind=kind, target=target,
                            started_on=_date(since, "since"), evidence=evidence, actor=by)
    out.print(f"已登记 #{row.id}：{member} {PLEDGE_LABEL[row.kind]}——{row.target}", highlight=False)


@members_app.command("pledge-close")
def pledge_close(pledge_id: Annotated[int, typer.Argument(help="“六个一”记录编号")],
                 status: Annotated[str, typer.Option("--status", help="completed 已完成 | ended 已终止")],
                 on: Annotated[str | None, typer.Option("--on", help="结束日期，默认今天")] = None,
                 evidence: Annotated[str | None, typer.Option(help="佐证说明")] = None,
                 by: By = "支部书记") -> None:
    """办结或终止一项“六个一”承诺。"""
    from dangjian.services.pledges import STATUS_LABEL, close_pledge

    with session_scope() as session:
        row = close_pledge(session=session, pledge_id=pledge_id, status=status, ended_on=_date(on, "on"),
                           evidence=evidence, actor=by)
    out.print(f"“六个一”记录 #{row.id} {STATUS_LABEL[row.status]}（{row.ended_on}）", highlight=False)


@members_app.command("pledges")
def pledges(branch: Annotated[str, typer.Argument(help="党支部（或上级组织）编码")],
            all_: Annotated[bool, typer.Option("--all", help="含已完成、已终止的")] = False) -> None:
    """“六个一”：列出承诺，以及每名党员尚缺的项目。"""
    from dangjian.services.pledges import PLEDGE_LABEL, STATUS_LABEL, list_pledges, missing_pledges

    with session_scope() as session:
        rows = list_pledges(session=session, unit_id=branch, include_closed=all_)
        missing = missing_pledges(session=session, unit_id=branch)
    table = Table("编号", "党员", "姓名", "项目", "对象", "开始", "状态")
    for r in rows:
        table.add_row(str(r.id), r.member_id, r.member_name, PLEDGE_LABEL[r.kind], r.target, str(r.started_on),
                      STATUS_LABEL[r.status] + (f"（{r.ended_on}）" if r.ended_on else ""))
    out.print(table)
    if missing:
        gaps = Table("党员", "姓名", "支部", "尚缺")
        for m in missing:
            gaps.add_row(m.member_id, m.member_name, m.branch_id, m.describe())
        out.print(gaps)
    out.print(f"承诺 {len(rows)} 项；{len(missing)} 名党员未做到“六个一”", highlight=False)


@members_app.command("lapsed")
def lapsed(scope: Annotated[str, typer.Argument(help="考核周期编码或组织编码（含下级）")],
           as_of: Annotated[str | None, typer.Option("--as-of", help="截至日期 YYYY-MM-DD，默认今天")] = None,
           months: Annotated[int, typer.Option("--months", help="回看的整月数")] = 12) -> None:
    """自行脱党预警：无正当理由连续6个月不交纳党费或不参加组织生活的党员，供支部处理。"""
    from dangjian.services.lapse import lapse_candidates

    with session_scope() as session:
        report = lapse_candidates(session=session, scope=scope, as_of=parse_as_of(as_of, today()) if as_of else today(),
                                   months=months)
    out.print(f"{report.unit_name}：核查 {report.members_checked} 名党员，{report.first.label}至{report.last.label}",
              highlight=False)
    if not report.flags:
        out.print("没有连续6个月无正当理由不交纳党费或不参加组织生活的党员。")
        return
    table = Table("党员", "姓名", "支部", "情形", "月份")
    for f in report.flags:
        for run in f.runs:
            table.add_row(f.member_id, f.member_name, f.branch_name, REASON_LABEL[run.reason],
                          join_months(run.months) + ("（至今）" if run.ongoing else ""))
    out.print(table)
    for f in report.flags:
        out.print(f.describe(), highlight=False)
        for m in sorted({m for run in f.runs for m in run.months}):
            out.print(f"    {f.month_line(m)}", highlight=False, markup=False)
    out.print(f"共 {len(report.flags)} 名。按党章，支部大会应当讨论决定是否除名，并报上级党组织批准。", highlight=False)
