"""`dangjian targets …`: 党建目标责任制 — set, split, letters, sign, report, show, feed.

Translates arguments and prints results; every rule lives in dangjian.services.targets.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from dangjian.cli.app import out, require_files, targets_app
from dangjian.clock import today
from dangjian.db import session_scope
from dangjian.domain.dates import parse_as_of, parse_shanghai_date
from dangjian.errors import ValidationFailed
from dangjian.reports.wrapping import Table

By = Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")]
Cycle = Annotated[str, typer.Argument(help="考核周期编码")]
Code = Annotated[str, typer.Argument(help="目标编码，如 develop")]


def _date(text: str | None, field: str) -> date:
    return parse_shanghai_date(text, field) if text else today()


def _n(value: float) -> str:
    return f"{value:g}"


def _amount(value: float, measure: str) -> str:
    return f"{value:g}{'' if measure == '%' else ' '}{measure}"


def parse_share(text: str):  # type: ignore[no-untyped-def]
    """'C1=6:张东:社区党委书记' (职务 optional; full-width ＝ and ： accepted)."""
    from dangjian.services.targets import Share

    raw = text.replace("＝", "=").replace("：", ":").strip()
    unit, sep, rest = raw.partition("=")
    parts = rest.split(":", 2)
    if not sep or not unit.strip() or len(parts) < 2:
        raise ValidationFailed(f"--to：无法识别“{text}”，请写成 单位编码=分解数:负责人[:职务]，如 C1=6:张东:社区党委书记",
                               field="to")
    try:
        amount = float(parts[0])
    except ValueError:
        raise ValidationFailed(f"--to：“{text}”中的分解数“{parts[0]}”不是数字", field="to") from None
    return Share(unit.strip(), amount, parts[1].strip(), parts[2].strip() if len(parts) > 2 else None)


def read_share_csv(path: Path):  # type: ignore[no-untyped-def]
    """CSV with header 单位编码,分解数,负责人[,职务] (UTF-8 or GBK)."""
    from dangjian.services.targets import Share
    from dangjian.services.text_files import read_csv_dicts

    rows = read_csv_dicts(path)
    shares, problems = [], []
    for n, row in enumerate(rows, start=2):
        try:
            unit, amount, person = row["单位编码"], row["分解数"], row["负责人"]
        except KeyError as missing:
            raise ValidationFailed(f"{path.name} 缺少列 {missing}（需要：单位编码,分解数,负责人[,职务]）") from None
        try:
            shares.append(Share((unit or "").strip(), float(amount), (person or "").strip(),
                                (row.get("职务") or "").strip() or None))
        except (TypeError, ValueError):
            problems.append(f"{path.name} 第{n}行 分解数：“{amount}”不是数字")
    if problems:
        raise ValidationFailed("目标未分解：", details=problems)
    return shares


@targets_app.command("set")
def set_cmd(cycle: Cycle, code: Code,
            name: Annotated[str, typer.Option("--name", help="目标名称，如 发展党员")],
            total: Annotated[float, typer.Option("--total", help="全区（根组织）目标数")],
            measure: Annotated[str, typer.Option("--unit", help="计量单位：人、个、%")] = "人",
            metric: Annotated[str | None, typer.Option("--metric", help="进度写入的考核指标（编码或中文名）")] = None,
            kind: Annotated[str, typer.Option("--kind", help="count（数量，下级之和不超过上级）或 share（比例，0–100）")] = "count",
            note: Annotated[str | None, typer.Option("--note", help="说明")] = None,
            by: By = "区委组织部") -> None:
    """设定（或修改）周期的一项目标。"""
    from dangjian.services.targets import TargetSpec, set_targets

    with session_scope() as session:
        (row,) = set_targets(session=session, cycle_code=cycle, actor=by,
                             targets=[TargetSpec(code, name, total, measure, kind, metric, note)])
        line = f"已设定目标 {row.code}：{row.name} {_amount(row.total, row.measure)}"
        if row.metric:
            line += f"（进度写入指标 {row.metric}）"
    out.print(line, highlight=False)


@targets_app.command("split")
def split_cmd(cycle: Cycle, code: Code,
              from_unit: Annotated[str, typer.Option("--from", help="分解目标的单位（持有该目标）")],
              to: Annotated[list[str] | None, typer.Option(
                  "--to", help="下级=分解数:负责人[:职务]，可重复，如 --to C1=6:张东:社区党委书记")] = None,
              file: Annotated[Path | None, typer.Option("--file", help="CSV：单位编码,分解数,负责人[,职务]")] = None,
              by: By = "区委组织部") -> None:
    """把目标分解到直接下级；下级合计不得超过本单位的目标数，任何一项有错则整体不写入。"""
    from dangjian.services.targets import split_target

    shares = [parse_share(t) for t in to or []]
    if file is not None:
        shares += read_share_csv(file)
    if not shares:
        raise ValidationFailed("请用 --to 或 --file 指定下级单位和分解数", field="to")
    with session_scope() as session:
        rows = split_target(session=session, cycle_code=cycle, target_code=code, from_unit=from_unit,
                            shares=shares, actor=by)
        listed = "、".join(f"{r.unit_id} {_n(r.amount)}（{r.responsible_name}）" for r in rows)
    out.print(f"已分解 {len(rows)} 个单位：{listed}", highlight=False)


@targets_app.command("letters")
def letters_cmd(cycle: Cycle,
                due: Annotated[str, typer.Option("--due", help="签订截止日期 YYYY-MM-DD")],
                on: Annotated[str | None, typer.Option("--on", help="下达日期，默认今天")] = None,
                by: By = "区委组织部") -> None:
    """为每个分到目标的单位下达目标责任书（生成签订任务）；已下达的不重复。"""
    from dangjian.services.targets import issue_letters

    with session_scope() as session:
        report = issue_letters(session=session, cycle_code=cycle, due_on=_date(due, "due"), actor=by,
                               issued_on=_date(on, "on") if on else None)
    out.print(f"已下达目标责任书 {len(report.created)} 份（签订截止 {due}）；此前已下达 {report.already} 份",
              highlight=False)


@targets_app.command("sign")
def sign_cmd(cycle: Cycle, unit: Annotated[str, typer.Argument(help="签订单位编码")],
             on: Annotated[str | None, typer.Option("--on", help="签订日期，默认今天")] = None,
             by: Annotated[str, typer.Option("--by", help="签订人（主要负责人）")] = "",
             evidence: Annotated[Path | None, typer.Option("--evidence", help="责任书扫描件")] = None,
             note: Annotated[str | None, typer.Option("--note", help="说明")] = None) -> None:
    """登记单位签订目标责任书，办结其签订任务。"""
    from dangjian.services.targets import sign_letter

    require_files(evidence, "佐证材料文件")
    with session_scope() as session:
        row = sign_letter(session=session, cycle_code=cycle, unit_id=unit, signed_on=_date(on, "on"),
                          signed_by=by, evidence=evidence, note=note)
    extra = f"，扫描件 {row.evidence_name}" if row.evidence_name else ""
    out.print(f"已登记：{unit} 目标责任书 {row.signed_on} 由 {row.signed_by} 签订{extra}", highlight=False)


@targets_app.command("report")
def report_cmd(cycle: Cycle, code: Code, unit: Annotated[str, typer.Argument(help="单位编码")],
               value: Annotated[float, typer.Argument(help="累计完成数（比例目标填当前百分比）")],
               on: Annotated[str | None, typer.Option("--on", help="报送日期，默认今天")] = None,
               by: Annotated[str, typer.Option("--by", help="报送人")] = "",
               note: Annotated[str | None, typer.Option("--note", help="说明；完成数减少时须填写原因")] = None) -> None:
    """报送目标进度（只增不改：更正即再报一次，减少须说明原因）。"""
    from dangjian.services.targets import report_progress

    with session_scope() as session:
        row = report_progress(session=session, cycle_code=cycle, target_code=code, unit_id=unit, value=value,
                              reported_on=_date(on, "on"), reported_by=by, note=note)
    out.print(f"已报送：{unit} {code} 截至 {row.reported_on} 完成 {_n(row.value)}", highlight=False)


def _progress(row) -> str:  # type: ignore[no-untyped-def]
    if row.on_track is None:
        return "未报"
    if row.on_track:
        return "正常"
    return f"滞后（应完成 {_n(row.expected)}）" if row.expected is not None else "未达标"


@targets_app.command("show")
def show_cmd(cycle: Cycle, unit: Annotated[str | None, typer.Option("--unit", help="只看该单位及其下级")] = None,
             as_of: Annotated[str | None, typer.Option("--as-of", help="按此日期判断进度，默认今天")] = None) -> None:
    """目标分解与完成情况：目标、分解数、已完成、完成率、进度、负责人、责任书。"""
    from dangjian.services.targets import progress_view

    with session_scope() as session:
        rows = progress_view(session=session, cycle_code=cycle, unit_id=unit,
                             as_of=parse_as_of(as_of, today()) if as_of else None)
    if not rows:
        out.print(f"考核周期 {cycle} 尚未设定目标")
        return
    table = Table("目标", "单位", "分解数", "已完成", "完成率", "进度", "负责人", "责任书")
    for r in rows:
        measure = r.measure
        done = "—" if r.reported is None else (
            f"{_n(r.reported)}{'%' if measure == '%' else ''}{'（下级合计）' if r.rolled_up else ''}")
        rate = "—" if r.rate is None else f"{r.rate * 100:.0f}%"
        person = "" if r.responsible is None else (f"{r.responsible}（{r.post}）" if r.post else r.responsible)
        table.add_row(r.target_name, "  " * r.depth + f"{r.unit_name}（{r.unit_id}）", _amount(r.amount, measure),
                      done, rate, _progress(r), person, r.letter)
    out.print(table)


@targets_app.command("feed")
def feed_cmd(cycle: Cycle, by: By = "区委组织部") -> None:
    """把各单位最近一次报送的进度写入目标对应的考核指标（按规则集的取值范围校验）。"""
    from dangjian.services.targets import feed_metrics

    with session_scope() as session:
        report = feed_metrics(session=session, cycle_code=cycle, actor=by)
    out.print(f"已写入考核指标 {len(report.written)} 个", highlight=False)
    for unit, metric, value in report.written:
        out.print(f"  {unit} {metric} = {_n(value)}", highlight=False)
    if report.unreported:
        out.print("未报进度（未写入）：" + "、".join(f"{u}（{t}）" for t, u in report.unreported), highlight=False)
    if report.not_scored:
        out.print("以下单位不是本周期规则集的考核对象，未写入指标：" + "、".join(report.not_scored),
                  highlight=False)
