"""Scorecard reports: one document (schema "dangjian.scorecard/1", see
docs/scorecard-json.md) rendered as a terminal table, stable JSON or an xlsx workbook.

    render_table(doc, explain=True, console=Console())
    text = to_json(doc)
    write_xlsx(doc, Path("评分.xlsx"), explain=True)
"""
from __future__ import annotations

from dangjian.reports.scorecard_doc import SCHEMA_ID, canonical, to_json
from dangjian.reports.scorecard_table import render_table
from dangjian.reports.scorecard_xlsx import write_xlsx

__all__ = ["SCHEMA_ID", "canonical", "render_table", "to_json", "write_xlsx"]
