"""Commands that run the Prefect flows, and the scorecard reader."""
from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dangjian.cli.app import app, out, prepare_prefect
from dangjian.db import session_scope
from dangjian.domain.dates import parse_shanghai_date

AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="截至日期 YYYY-MM-DD（北京时间），默认今天")]


def _as_of(text: str | None) -> str | None:
    return parse_shanghai_date(text, "as-of").isoformat() if text else None


@app.command()
def plan(cycle: Annotated[str, typer.Argument(help="考核周期编码")]) -> None:
    """运行计划流程：为周期生成全部任务（幂等）。"""
    prepare_prefect()
    from flows.plan_cycle import plan_cycle

    result = plan_cycle(cycle)
    out.print(f"计划完成：新增任务 {result['added']} 条，共 {result['total']} 条")


@app.command()
def sweep(cycle: Annotated[str | None, typer.Argument(help="周期编码；省略则所有进行中的周期")] = None,
          as_of: AsOf = None) -> None:
    """运行督办流程：把已过截止日期仍未完成的任务标为逾期。"""
    prepare_prefect()
    from flows.sweep_overdue import sweep_overdue

    result = sweep_overdue(cycle, _as_of(as_of))
    for code, marked in result.items():
        out.print(f"周期 {code}：新标记逾期 {marked} 条")


@app.command()
def score(cycle: Annotated[str, typer.Argument(help="考核周期编码")], as_of: AsOf = None,
          publish: Annotated[bool, typer.Option(help="发布本次评分结果")] = False) -> None:
    """运行评分流程：生成新一版评分表（旧版本保留）。"""
    prepare_prefect()
    from flows.score_cycle import score_cycle

    result = score_cycle(cycle, _as_of(as_of), publish)
    out.print(f"评分完成：第 {result['version']} 版。查看：dangjian scorecard {cycle} --explain")


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
    output: Annotated[Path | None, typer.Option(help="输出文件（xlsx 必填，json 可选）")] = None,
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
            output.write_text(text, encoding="utf-8")
            out.print(f"已写入 {output}")
        else:
            typer.echo(text, nl=False)
    else:
        path = write_xlsx(doc, output or Path(f"scorecard-{cycle}.xlsx"), explain=True)
        out.print(f"已写入 {path}")
