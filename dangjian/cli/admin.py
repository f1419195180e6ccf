"""Configuration commands: database, organisation, rule sets, cycles."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from dangjian.cli.app import app, cycle_app, err, org_app, out, require_files, rules_app
from dangjian.db import get_engine, session_scope
from dangjian.domain.dates import parse_shanghai_date
from dangjian.errors import ValidationFailed
from dangjian.labels import CYCLE_STATE
from dangjian.reports.wrapping import Table
from dangjian.schema import upgrade_to_head
from dangjian.settings import get_settings

Actor = Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")]


@app.command()
def init() -> None:
    """创建或升级数据库（默认 ./dangjian.db，DANGJIAN_DATABASE_URL 可指定其他库，含 PostgreSQL）。"""
    upgrade_to_head(get_engine())
    out.print(f"数据库已就绪：{get_settings().database_url}")


@org_app.command("import")
def org_import(
    paths: Annotated[list[Path], typer.Argument(help="组织/党员 CSV 文件，或含“组织机构”“党员名册”工作表的 xlsx")],
    by: Actor = "区委组织部",
) -> None:
    """导入组织机构与党员名册：全部校验通过才写入，任何一行有错则不导入。"""
    from dangjian.cli.progress import working
    from dangjian.services.org_import import import_org

    require_files(paths)
    with working(f"正在校验并导入 {len(paths)} 个文件…"), session_scope() as session:
        report = import_org(session=session, paths=paths, actor=by)
    out.print(
        f"导入完成：组织 新增 {report.units_added}、更新 {report.units_updated}；"
        f"党员 新增 {report.members_added}、更新 {report.members_updated}"
    )


@rules_app.command("check")
def rules_check(files: Annotated[list[Path], typer.Argument(help="规则集 YAML 文件")]) -> None:
    """校验规则文件，列出所有错误（文件:行:列）。有任何错误时退出码非零。"""
    from rules.loader import RuleSetError, load_rule_set_file

    failed = 0
    for path in files:
        try:
            loaded = load_rule_set_file(path)
        except RuleSetError as error:
            failed += 1
            for issue in error.issues:
                err.print(str(issue), highlight=False, markup=False)
            continue
        meta = loaded.rule_set.rule_set
        out.print(f"{path}：通过（{meta.name}，{meta.code} 版本 {meta.version}，sha256 {loaded.sha256[:12]}…）")
    if failed:
        raise typer.Exit(code=2)


@rules_app.command("test")
def rules_test(files: Annotated[list[Path], typer.Argument(help="规则集 YAML 文件")]) -> None:
    """运行规则文件中自带的样例（examples），核对得分、总分与等级。"""
    from rules.examples import run_examples
    from rules.loader import load_rule_set_file

    failures = 0
    for path in files:
        results = run_examples(load_rule_set_file(path))
        for result in results:
            mark = "[green]通过[/green]" if result.passed else "[red]失败[/red]"
            out.print(f"{path} · {result.name}：{mark}", highlight=False)
            if not result.passed:
                failures += 1
                out.print(f"    {result.message}", highlight=False, markup=False)
        if not results:
            out.print(f"{path}：没有样例")
    if failures:
        raise typer.Exit(code=2)          # a failing example is invalid input (README exit codes)


@rules_app.command("load")
def rules_load(file: Path, by: Actor = "区委组织部") -> None:
    """校验并登记规则集（同一内容重复登记不会新增版本）。"""
    from dangjian.services.rule_sets import register_rule_set

    with session_scope() as session:
        record = register_rule_set(session=session, path=file, actor=by)
    out.print(f"规则集已登记：#{record.id} {record.name}（{record.code} {record.version}）")


def _date(text: str, field: str) -> date:
    return parse_shanghai_date(text, field)


@cycle_app.command("create")
def cycle_create(
    code: Annotated[str, typer.Argument(help="周期编码，如 2026")],
    name: Annotated[str, typer.Option(help="周期名称")],
    rules: Annotated[Path, typer.Option(help="规则集文件（会先校验并登记）")],
    root: Annotated[str, typer.Option(help="考核范围的根组织编码")],
    start: Annotated[str, typer.Option(help="开始日期 YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="结束日期 YYYY-MM-DD")],
    by: Actor = "区委组织部",
) -> None:
    """创建考核周期，绑定规则集（按内容 sha256 冻结）。"""
    from dangjian.services.cycles import create_cycle
    from dangjian.services.rule_sets import register_rule_set

    with session_scope() as session:
        record = register_rule_set(session=session, path=rules, actor=by)
        cycle = create_cycle(session=session, code=code, name=name, root_unit_id=root,
                             rule_set_id=record.id or 0, start_on=_date(start, "start"),
                             end_on=_date(end, "end"), actor=by)
    out.print(f"考核周期已创建：{cycle.code} {cycle.name}（{cycle.start_on} 至 {cycle.end_on}）")


@cycle_app.command("list")
def cycle_list() -> None:
    """列出考核周期。"""
    from dangjian.services.cycles import list_cycles

    table = Table("编码", "名称", "开始", "结束", "状态")
    with session_scope() as session:
        for c in list_cycles(session):
            table.add_row(c.code, c.name, str(c.start_on), str(c.end_on), CYCLE_STATE[str(c.state)])
    out.print(table)


@cycle_app.command("reopen")
def cycle_reopen(
    code: Annotated[str, typer.Argument(help="周期编码")],
    reason: Annotated[str, typer.Option("--reason", help="重新打开的原因（记入审计日志）")],
    by: Annotated[str, typer.Option("--by", help="操作人（区委管理员）")],
) -> None:
    """重新打开已结束的周期（管理员操作，记入审计日志）：周期结束时记为未完成的任务恢复为逾期或待完成，
    可再报送、更正；之后须重新运行 close-cycle。"""
    from dangjian.services.cycle_state import reopen_cycle
    from dangjian.services.cycles import get_cycle

    with session_scope() as session:
        cycle = reopen_cycle(session=session, cycle_id=get_cycle(session, code).id or 0,
                             reason=reason, actor=by)
    out.print(f"周期 {cycle.code} 已重新打开（原因：{reason.strip()}）；改动完成后请再次运行 dangjian close-cycle {cycle.code}")


def require(value: str | None, field: str) -> str:
    if not value:
        raise ValidationFailed(f"缺少参数 {field}", field=field)
    return value
