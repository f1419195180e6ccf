"""The scorecard as rich tables: one rank table, then (with explain) one table of
score lines per unit. All document text goes in as `Text`, never as markup, so a
"[" in a reason or unit name prints as it is."""
from __future__ import annotations

from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from dangjian.reports.formatting import DASH, fmt_designations, fmt_points, fmt_task_ids
from dangjian.reports.scorecard_doc import canonical, headline
from dangjian.reports.wrapping import Table, Wrapped

ITEM_WIDTH, TASKS_WIDTH = 16, 9           # 8 Chinese characters; two 3-digit task ids
# Below this width the rule-file location goes under the reason instead of in a column of
# its own: "community_branch_basic.yaml:141" alone is 31 cells and must not be split.
CLAUSE_COLUMN_WIDTH = 120
GRADE_STYLES = {"优秀": "bold green", "良好": "cyan", "合格": "yellow", "不合格": "bold red"}


def render_table(doc: dict[str, Any], *, explain: bool, console: Console) -> None:
    doc = canonical(doc)
    units = doc.get("units") or []
    console.print(_rank_table(doc, units))
    if explain:
        widths = _line_widths(units)
        clause_column = console.width >= CLAUSE_COLUMN_WIDTH
        for unit in units:
            console.print()
            console.print(_lines_table(unit, widths, clause_column))


def _title(doc: dict[str, Any]) -> Text:
    title, facts = headline(doc)
    text = Text(title, style="bold")
    for line in facts:
        text.append("\n" + line, style="not bold dim")
    return text


def _rank_table(doc: dict[str, Any], units: list[dict[str, Any]]) -> Table:
    title = _title(doc)
    # At least as wide as the title's longest line, so the title does not wrap.
    width = max(cell_len(line) for line in title.plain.split("\n"))
    table = Table(title=title, box=box.ROUNDED, header_style="bold", min_width=width)
    table.add_column("街道排名", justify="right", no_wrap=True)
    table.add_column("总排名", justify="right", no_wrap=True)
    table.add_column("单位", min_width=12)
    table.add_column("总分", justify="right", no_wrap=True)
    table.add_column("等级", no_wrap=True)
    table.add_column("称号")
    for unit in units:
        table.add_row(
            _rank(unit.get("rank_in_street")),
            _rank(unit.get("rank_overall")),
            _unit_cell(unit),
            fmt_points(unit.get("total")),
            _grade(unit.get("grade")),
            Text(fmt_designations(unit.get("designations"))),
        )
    if not units:
        table.caption = "（无单位）"
    return table


def _line_widths(units: list[dict[str, Any]]) -> tuple[int, int]:
    """Widths of the 条目 and 任务 columns, shared by every unit's table so the
    tables line up: the widest cell, within bounds."""
    lines = [line for unit in units for line in unit.get("lines") or []]
    item = max((cell_len(_item(line)) for line in lines), default=0)
    tasks = max((cell_len(fmt_task_ids(line.get("task_ids"))) for line in lines), default=0)
    return min(max(item, 4), ITEM_WIDTH), min(max(tasks, 4), TASKS_WIDTH)


def _lines_table(unit: dict[str, Any], widths: tuple[int, int], clause_column: bool) -> Table:
    title = Text(f"{_rank(unit.get('rank_overall'))}. ", style="bold")
    title.append(str(unit.get("unit_name", "")), style="bold")
    if unit.get("street_name"):
        title.append(f"（{unit['street_name']}）")
    title.append(f"  总分 {fmt_points(unit.get('total'))}  ")
    title.append_text(_grade(unit.get("grade")))
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, expand=True,
                  header_style="bold")
    table.add_column("条目", width=widths[0])
    table.add_column("得分", justify="right", no_wrap=True)
    table.add_column("满分", justify="right", no_wrap=True)
    table.add_column("说明" if clause_column else "说明 · 依据", ratio=5)
    if clause_column:
        table.add_column("依据", ratio=3)
    table.add_column("任务", width=widths[1])
    lines = unit.get("lines") or []
    for line in lines:
        points, max_points = line.get("points"), line.get("max_points")
        lost = points is not None and max_points is not None and points < max_points
        # "file:line 条目路径": the location on a line of its own, the path after it.
        clause = Text(str(line.get("clause", "")).replace(" ", "\n", 1), style="dim")
        reason = Wrapped(str(line.get("reason", "")))
        if not clause_column:
            reason.append("\n")
            reason.append_text(clause)
        table.add_row(
            Text(_item(line)),
            Text(fmt_points(points), style="yellow" if lost else ""),
            fmt_points(max_points),
            reason,
            *([clause] if clause_column else []),
            Text(fmt_task_ids(line.get("task_ids"))),
        )
    if not lines:
        table.caption = "（无评分说明）"
    return table


def _item(line: dict[str, Any]) -> str:
    return str(line.get("item_name") or line.get("item_code", ""))


def _unit_cell(unit: dict[str, Any]) -> Text:
    cell = Text(str(unit.get("unit_name") or unit.get("unit_id", "")))
    if unit.get("street_name"):
        cell.append("\n" + str(unit["street_name"]), style="dim")
    return cell


def _grade(grade: str | None) -> Text:
    return Text(grade or DASH, style=GRADE_STYLES.get(grade or "", ""))


def _rank(rank: int | None) -> str:
    return DASH if rank is None else str(rank)
