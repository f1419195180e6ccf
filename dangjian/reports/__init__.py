"""Reports: read-only renderings of documents the services build (no database access)."""
from __future__ import annotations

from dangjian.reports.scorecard import SCHEMA_ID, canonical, render_table, to_json, write_xlsx

__all__ = ["SCHEMA_ID", "canonical", "render_table", "to_json", "write_xlsx"]
