"""Commands that run the Prefect flows, and the scorecard reader."""
from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dangjian.cli.app import app, out, prepare_prefect, run_flow
from dangjian.clock import today
from dangjian.db import session_scope
from dangjian.domain.dates import parse_shanghai_date
from dangjian.errors import ValidationFailed

AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="截至日期 YYYY-MM-DD（北京时间），默认今天")]


def _as_of(text: str | None) -> str | None:
    """A past or present Shanghai date: a sweep or a score 'as of' the future would mark
    tasks missed that are not due yet."""
    if not text:
        return None
    day = parse_shanghai_date(text, "--as-of")
    if day > today():
        raise ValidationFailed(f"--as-of {day} 晚于今天（{today()}，北京时间）：不能按未来的日期督办或评分",
                               field="as-of")
    return day.isoformat()


@app.command()
def plan(cycle: Annotated[str | None, typer.Argument(help="考核周期编码；省略则重排所有进行中的周期")] = None,
         as_of: AsOf = None) -> None:
    """运行计划流程：为周期生成任务（幂等）；周期已开始时只影响 --as-of（默认今天）之后开始的周期。"""
    prepare_prefect()
    from flows.plan_cycle import plan_cycle

    result = run_flow(plan_cycle, cycle, _as_of(as_of))
    for code, report in ({cycle: result} if cycle else result).items():
        out.print(f"周期 {code}：新增任务 {report['added']} 条，共 {report['total']} 条；"
                  f"改为不适用 {report['not_applicable']} 条")


@app.command("close-cycle")
def close_cycle_cmd(cycle: Annotated[str, typer.Argument(help="考核周期编码")], as_of: AsOf = None) -> None:
    """结束考核周期：未完成任务记为未完成，关闭周期并生成最终评分（待发布）。"""
    prepare_prefect()
    from flows.close_cycle import close_cycle

    result = run_flow(close_cycle, cycle, _as_of(as_of))[cycle]
    if result.get("already_closed"):
        out.print(f"周期 {cycle} 此前已结束（未完成 {result['missed']} 条，最新评分为第 {result['score_version']} 版），"
                  "本次未作改动")
        return
    out.print(f"周期 {cycle} 已结束：记为未完成 {result['missed']} 条；最终评分为第 {result['score_version']} 版"
              f"（未发布，审阅后运行 dangjian publish {cycle} --version {result['score_version']}）")


@app.command()
def sweep(cycle: Annotated[str | None, typer.Argument(help="周期编码；省略则所有进行中的周期")] = None,
          as_of: AsOf = None) -> None:
    """运行督办流程：把已过截止日期仍未完成的任务标为逾期。"""
    prepare_prefect()
    from flows.sweep_overdue import sweep_overdue

    result = run_flow(sweep_overdue, cycle, _as_of(as_of))
    for code, marked in result.items():
        out.print(f"周期 {code}：新标记逾期 {marked} 条")


@app.command()
def score(cycle: Annotated[str, typer.Argument(help="考核周期编码")], as_of: AsOf = None,
          publish: Annotated[bool, typer.Option(help="发布本次评分结果")] = False,
          rules: Annotated[Path | None, typer.Option(help="改用另一份规则文件评分（先校验并登记）")] = None,
          what_if: Annotated[bool, typer.Option("--what-if", help="只比较，不写入：用 --rules 的草案重算并列出变化")] = False,
          by: Annotated[str, typer.Option("--by", help="操作人")] = "区委组织部") -> None:
    """运行评分流程：生成新一版评分表（旧版本保留）；--what-if 只比较草案规则的影响。"""
    day = _as_of(as_of)
    if what_if:
        if rules is None:
            raise typer.BadParameter("--what-if 需要同时给出 --rules 草案文件")
        _print_what_if(cycle, rules, day)
        return
    rule_set_id = None
    if rules is not None:
        from dangjian.services.rule_sets import register_rule_set

        with session_scope() as session:
            rule_set_id = register_rule_set(session=session, path=rules, actor=by).id
    prepare_prefect()
    from flows.score_cycle import score_cycle

    result = run_flow(score_cycle, cycle, day, publish, rule_set_id)
    state = "已发布" if publish else "未发布"
    out.print(f"评分完成：第 {result['version']} 版（{state}）。查看：dangjian scorecard {cycle} --explain")


def _print_what_if(cycle: str, rules: Path, day: str | None) -> None:
    from datetime import date

    from rich.table import Table

    from dangjian.services.what_if import what_if

    as_of = date.fromisoformat(day) if day else today()
    with session_scope() as session:
        report = what_if(session=session, cycle_code=cycle, draft_path=rules, as_of=as_of)
    table = Table("单位", "现行总分", "草案总分", "变化", "等级", "排名", "称号",
                  title=f"规则草案影响（截至 {report.as_of}）：{report.current.rule_set.name} → {report.draft.rule_set.name}")
    for r in report.rows:
        grade = r.after_grade if r.before_grade == r.after_grade else f"{r.before_grade} → {r.after_grade}"
        rank = str(r.after_rank) if r.before_rank == r.after_rank else f"{r.before_rank} → {r.after_rank}"
        titles = "、".join(r.after_designations)
        if r.before_designations != r.after_designations:
            titles = f"{'、'.join(r.before_designations) or '无'} → {titles or '无'}"
        table.add_row(r.name, f"{r.before_total:.1f}", f"{r.after_total:.1f}", f"{r.delta:+.1f}",
                      grade, rank, titles, style=None if r.changed else "dim")
    out.print(table)
    moved = sum(1 for r in report.rows if r.changed)
    out.print(f"共 {len(report.rows)} 个单位，{moved} 个有变化。未写入任何评分结果。")


@app.command()
def publish(cycle: Annotated[str, typer.Argument(help="考核周期编码")],
            version: Annotated[int, typer.Option(help="要发布的评分版本")],
            by: Annotated[str, typer.Option("--by", help="操作人")] = "区委组织部") -> None:
    """发布某一版评分结果（之前发布的版本仍可查阅）。"""
    from dangjian.services.cycles import get_cycle
    from dangjian.services.scoring import publish_run

    with session_scope() as session:
        run = publish_run(session=session, cycle_id=get_cycle(session, cycle).id or 0,
                          version=version, actor=by)
    out.print(f"已发布：周期 {cycle} 第 {run.version} 版评分")


class Format(StrEnum):
    table = "table"
    json = "json"
    xlsx = "xlsx"


@app.command()
def scorecard(
    cycle: Annotated[str, typer.Argument(help="考核周期编码")],
    unit: Annotated[str | None, typer.Option(help="只看该组织及其下级")] = None,
    explain: Annotated[bool, typer.Option(help="逐项列出得分、扣分原因和相关任务")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table | json | xlsx")] = Format.table,
    output: Annotated[Path | None, typer.Option(help="输出文件（xlsx 默认 scorecard-周期.xlsx；json 默认输出到屏幕）")] = None,
    version: Annotated[int | None, typer.Option(help="评分版本，默认最新")] = None,
) -> None:
    """查看评分表：街道内排名、单位、总分、等级；--explain 列出每一分的来历。"""
    from dangjian.reports.scorecard import render_table, to_json, write_xlsx
    from dangjian.services.scorecards import scorecard_document

    with session_scope() as session:
        doc = scorecard_document(session=session, cycle_code=cycle, unit_id=unit,
                                 explain=explain or fmt == Format.xlsx, version=version)
    if fmt == Format.table:
        render_table(doc, explain=explain, console=out)
    elif fmt == Format.json:
        text = to_json(doc)
        if output:
            if not output.parent.is_dir():
                raise ValidationFailed(f"输出目录不存在：{output.parent}", field="output")
            output.write_text(text, encoding="utf-8")
            out.print(f"已写入 {output}")
        else:
            typer.echo(text, nl=False)
    else:
        target = output or Path(f"scorecard-{cycle}.xlsx")
        if not target.parent.is_dir():
            raise ValidationFailed(f"输出目录不存在：{target.parent}", field="output")
        path = write_xlsx(doc, target, explain=True)
        out.print(f"已写入 {path}")
