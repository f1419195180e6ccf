"""xlsx downloads of what a page shows: the scorecard through dangjian.reports, the 基本情况
figures and the lists behind them with a small writer of their own."""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.responses import FileResponse
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from starlette.background import BackgroundTask

from dangjian.reports.formatting import display_width
from dangjian.reports.scorecard import write_xlsx
from dangjian.services.overview import AREA_LABEL, Overview

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="C00000")


def _response(path: Path, name: str) -> FileResponse:
    return FileResponse(path, media_type=XLSX, background=BackgroundTask(path.unlink, missing_ok=True),
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _temp() -> Path:
    fd, raw = tempfile.mkstemp(prefix="dj-export-", suffix=".xlsx")
    import os

    os.close(fd)
    return Path(raw)


def scorecard_xlsx(doc: dict[str, Any], name: str) -> FileResponse:
    path = _temp()
    write_xlsx(doc, path, explain=True)
    return _response(path, name)


def table_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], name: str) -> FileResponse:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    widths = [display_width(h) + 2 for h in header]
    for col, text in enumerate(header, start=1):
        cell = ws.cell(row=2, column=col, value=text)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for r, row in enumerate(rows, start=3):
        for col, value in enumerate(row, start=1):
            ws.cell(row=r, column=col, value=value)
            widths[col - 1] = max(widths[col - 1], display_width("" if value is None else str(value)))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=2, column=col).column_letter].width = min(width + 2, 60)
    ws.freeze_panes = "A3"
    path = _temp()
    wb.save(path)
    return _response(path, name)


def overview_xlsx(o: Overview, name: str) -> FileResponse:
    areas = [AREA_LABEL[a] for a in o.areas]
    header = ["项目", "合计", *areas]
    rows = [[f.label, f.total, *[f.by_area.get(a, 0) for a in o.areas]]
            for f in o.units + o.members + o.categories]
    return table_xlsx(f"{o.unit_name}基本情况（截至{o.as_of}）", header, rows, name)
