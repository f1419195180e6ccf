"""Entering declared metric values and manual scores for a cycle."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dangjian.cli.app import app, out
from dangjian.db import session_scope

metrics_app = typer.Typer(help="考核指标值：录入规则集声明的指标（群众满意率、发展党员数等）", no_args_is_help=True)
manual_app = typer.Typer(help="人工评分：评议项、定性评分（在规则允许的分值范围内）", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")
app.add_typer(manual_app, name="manual")
By = Annotated[str, typer.Option("--by", help="录入人（记入审计日志和评分说明）")]


@metrics_app.command("set")
def metrics_set(cycle: str, subject: Annotated[str, typer.Argument(help="组织或党员编码")],
                metric: Annotated[str, typer.Argument(help="指标编码或中文名")], value: float,
                by: By = "区委组织部", note: Annotated[str | None, typer.Option(help="说明")] = None) -> None:
    """录入一个指标值。"""
    from dangjian.services.scoring_inputs import MetricEntry, set_metric_values

    with session_scope() as session:
        set_metric_values(session=session, cycle_code=cycle, entered_by=by,
                          entries=[MetricEntry(subject, metric, value, note)])
    out.print(f"已录入：{subject} {metric} = {value:g}")


@metrics_app.command("import")
def metrics_import(cycle: str, file: Annotated[Path, typer.Argument(help="CSV：对象编码,指标,值[,说明]")],
                   by: By = "区委组织部") -> None:
    """从 CSV 批量录入指标值；任何一行有错则整体不写入。"""
    from dangjian.services.scoring_inputs import import_metric_csv, parse_metric_csv

    parse_metric_csv(file)          # a missing or unreadable file is refused before the database opens
    with session_scope() as session:
        n = import_metric_csv(session=session, cycle_code=cycle, path=file, entered_by=by)
    out.print(f"已录入 {n} 个指标值")


@manual_app.command("set")
def manual_set(cycle: str, subject: Annotated[str, typer.Argument(help="组织或党员编码")],
               item: Annotated[str, typer.Argument(help="人工评分条目编码")], points: float,
               by: By = "考核组", note: Annotated[str | None, typer.Option(help="评分理由")] = None) -> None:
    """录入人工评分（超出规则范围会被拒绝）。"""
    from dangjian.services.scoring_inputs import set_manual_score

    with session_scope() as session:
        set_manual_score(session=session, cycle_code=cycle, subject_id=subject, item_code=item,
                         points=points, entered_by=by, note=note)
    out.print(f"已录入：{subject} {item} {points:g} 分（{by}）")


@manual_app.command("import")
def manual_import(cycle: str, file: Annotated[Path, typer.Argument(help="CSV：对象编码,条目,分数[,理由]")],
                  by: By = "考核组") -> None:
    """从 CSV 批量录入人工评分；任何一行有错则整体不写入，错误一次列出。"""
    from dangjian.services.scoring_inputs import import_manual_csv

    with session_scope() as session:
        n = import_manual_csv(session=session, cycle_code=cycle, path=file, entered_by=by)
    out.print(f"已录入 {n} 项人工评分（{by}）")
