"""The scorecard as an xlsx workbook: sheet 评分排名 and, with explain, 评分明细.

Each sheet: a title row and a facts row, then a clean data table (bold filled
header, frozen, autofiltered) whose numbers are real numbers. Column widths come
from the widest header or data cell counted in display columns (CJK = 2).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dangjian.reports.formatting import display_width, fmt_designations, fmt_points, fmt_task_ids
from dangjian.reports.scorecard_doc import canonical, headline

RANK_SHEET, LINES_SHEET = "评分排名", "评分明细"
HEADER_ROW = 3                      # rows 1-2: title and facts, outside the filter range
MAX_WIDTH, PADDING, FILTER_BUTTON = 60, 2, 2
POINTS_FORMAT, RANK_FORMAT = "0.0", "0"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="C00000")


class Column(NamedTuple):
    header: str
    get: Callable[[dict[str, Any]], Any]
    number_format: str | None = None


RANK_COLUMNS = (
    Column("总排名", lambda u: u.get("rank_overall"), RANK_FORMAT),
    Column("街道", lambda u: u.get("street_name")),
    Column("街道排名", lambda u: u.get("rank_in_street"), RANK_FORMAT),
    Column("单位", lambda u: u.get("unit_name")),
    Column("单位代码", lambda u: u.get("unit_id")),
    Column("总分", lambda u: u.get("total"), POINTS_FORMAT),
    Column("等级", lambda u: u.get("grade")),
    Column("称号", lambda u: fmt_designations(u.get("designations"))),
)
LINE_COLUMNS = (
    Column("街道", lambda r: r["unit"].get("street_name")),
    Column("单位", lambda r: r["unit"].get("unit_name")),
    Column("条目", lambda r: r["line"].get("item_name")),
    Column("得分", lambda r: r["line"].get("points"), POINTS_FORMAT),
    Column("满分", lambda r: r["line"].get("max_points"), POINTS_FORMAT),
    Column("说明", lambda r: r["line"].get("reason")),
    Column("依据", lambda r: r["line"].get("clause")),
    Column("任务", lambda r: fmt_task_ids(r["line"].get("task_ids"))),
)


def write_xlsx(doc: dict[str, Any], path: Path, *, explain: bool) -> Path:
    doc = canonical(doc)
    units = doc.get("units") or []
    title, fact_parts = headline(doc)
    wb = Workbook()
    facts = " · ".join(fact_parts)
    _fill_sheet(wb.active, RANK_SHEET, title, facts, RANK_COLUMNS, units)
    if explain:
        rows = [{"unit": unit, "line": line} for unit in units for line in unit.get("lines") or []]
        _fill_sheet(wb.create_sheet(), LINES_SHEET, title, facts, LINE_COLUMNS, rows)
    wb.properties.title = title
    path = Path(path)
    wb.save(path)
    return path


def _fill_sheet(ws: Worksheet, name: str, title: str, facts: str,
                columns: Sequence[Column], rows: list[dict[str, Any]]) -> None:
    ws.title = name
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value=facts).font = Font(color="666666")
    widths = []
    for col, column in enumerate(columns, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=column.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        widths.append(display_width(column.header) + FILTER_BUTTON)
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        for col, column in enumerate(columns, start=1):
            value = column.get(row)
            if value == "":
                value = None
            cell = ws.cell(row=r, column=col, value=value)
            shown = _shown(value, column.number_format)
            if column.number_format and value is not None:
                cell.number_format = column.number_format
            if display_width(shown) + PADDING > MAX_WIDTH or "\n" in shown:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.alignment = Alignment(vertical="top")
            widths[col - 1] = max(widths[col - 1], display_width(shown))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(width + PADDING, MAX_WIDTH)
    last = get_column_letter(len(columns))
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(rows), 1)}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    # Printed on A4 landscape, every column on one page width (pages run downward).
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _shown(value: Any, number_format: str | None) -> str:
    if value is None:
        return ""
    if number_format == POINTS_FORMAT:
        return fmt_points(value)
    return str(value)
