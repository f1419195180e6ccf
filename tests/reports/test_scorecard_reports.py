"""Scorecard reports: stable JSON, xlsx workbook, terminal table."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from rich.cells import cell_len
from rich.console import Console

from dangjian.reports import SCHEMA_ID, render_table, to_json, write_xlsx
from dangjian.reports.formatting import display_width

LONG_REASON = ("应开4次：按期3次，逾期1次扣2分；第三季度党员大会于10月12日召开，"
               "超过期限7天，已按规则集第57行扣分。另查[2026]3号文件要求，会议记录需附签到表。")


def _line(code: str, name: str, points: float, max_points: float | None, reason: str,
          task_ids: list[int]) -> dict[str, Any]:
    return {"item_code": code, "item_name": name, "section_code": "meetings",
            "points": points, "max_points": max_points, "reason": reason,
            "clause": f"community_branch_basic.yaml:57 组织生活/{name}", "task_ids": task_ids}


def _unit(rank_street: int, rank: int, uid: str, name: str, street_id: str, street: str,
          total: float, grade: str, designations: list[str],
          lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rank_in_street": rank_street, "rank_overall": rank, "unit_id": uid,
            "unit_name": name, "street_id": street_id, "street_name": street, "total": total,
            "grade": grade, "designations": designations, "lines": lines}


def make_doc(*, explained: bool = True) -> dict[str, Any]:
    units = [
        _unit(1, 1, "SL01-B", "东关社区党支部", "SL", "三雷镇社区党总支", 96.5, "优秀", ["五好"],
              [_line("party_congress_on_time", "党员大会按期召开", 13.0, 15.0, LONG_REASON, [12, 40]),
               _line("party_lecture", "党课", 10.0, 10.0, "应讲4次，已讲4次", [13])]),
        _unit(1, 2, "XQ02-B", "西渠社区党支部", "XQ", "西渠镇社区党总支", 82.25, "良好", [],
              [_line("party_lecture", "党课", 6.0, 10.0, "应讲4次，已讲2次，缺2次各扣2分", [77, 78])]),
        _unit(2, 3, "SL02-B", "南街社区党支部", "SL", "三雷镇社区党总支", 61.0, "合格", [],
              [_line("bonus_innovation", "创新加分", 1.0, None, "获县级表彰", [])]),
        _unit(3, 4, "SL03-B", "北关社区党支部", "SL", "三雷镇社区党总支", 48.0, "不合格", [],
              [_line("party_lecture", "党课", 0.0, 10.0, "全年未讲党课", [90])]),
    ]
    if not explained:
        for unit in units:
            unit["lines"] = []
    return {
        "schema": SCHEMA_ID,
        "cycle": {"code": "2026", "name": "2026年度社区党建目标责任制考核",
                  "start_on": "2026-01-01", "end_on": "2026-12-31", "state": "open"},
        "run": {"version": 1, "as_of": "2026-12-31", "created_at": "2027-01-05T02:00:00+00:00",
                "published": False,
                "rule_set": {"code": "community-branch-basic", "version": "2026.1",
                             "name": "社区党支部基本考核", "sha256": "ab" * 32}},
        "scope": {"unit_id": "620621", "unit_name": "民勤县"},
        "units": units,
    }


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def _key_orders(value: Any, path: str = "") -> dict[str, list[str]]:
    """Key order of every object in `value`, by a path with list indexes dropped."""
    found: dict[str, list[str]] = {}
    if isinstance(value, dict):
        found[path] = list(value)
        for k, v in value.items():
            found.update(_key_orders(v, f"{path}.{k}"))
    elif isinstance(value, list) and value:
        found.update(_key_orders(value[0], path + "[]"))
    return found


# --- JSON -----------------------------------------------------------------------------

def test_json_round_trips_to_the_same_document() -> None:
    doc = make_doc()
    assert json.loads(to_json(doc)) == doc


def test_json_puts_keys_in_documented_order_whatever_order_they_came_in() -> None:
    doc = make_doc()
    text = to_json(_reversed_keys(doc))
    assert _key_orders(json.loads(text)) == _key_orders(doc)
    assert text == to_json(doc)


def test_json_is_readable_chinese_indented_and_ends_with_newline() -> None:
    text = to_json(make_doc())
    assert "东关社区党支部" in text and "\\u" not in text
    assert text.startswith('{\n  "schema": "dangjian.scorecard/1",\n')
    assert text.endswith("}\n") and not text.endswith("\n\n")


def test_json_rounds_floats_half_up_to_two_decimals_and_keeps_integers() -> None:
    doc = make_doc()
    doc["units"][0]["total"] = 2.675
    doc["units"][0]["lines"][0]["points"] = 13.333333
    doc["units"][1]["total"] = -0.001
    parsed = json.loads(to_json(doc))
    assert parsed["units"][0]["total"] == 2.68
    assert parsed["units"][0]["lines"][0]["points"] == 13.33
    assert '"total": 0.0' in to_json(doc)
    assert parsed["run"]["version"] == 1 and isinstance(parsed["run"]["version"], int)


def test_json_orders_units_by_overall_rank_then_unit_id() -> None:
    doc = make_doc()
    doc["units"].reverse()
    doc["units"][0]["rank_overall"] = 1          # 北关 ties with 东关 at rank 1
    ids = [u["unit_id"] for u in json.loads(to_json(doc))["units"]]
    assert ids == ["SL01-B", "SL03-B", "XQ02-B", "SL02-B"]


def test_json_keeps_fields_it_does_not_know_after_the_documented_ones() -> None:
    doc = make_doc()
    doc["units"][0] = {"extra_note": "新增字段", **doc["units"][0]}
    unit = json.loads(to_json(doc))["units"][0]
    assert list(unit)[-1] == "extra_note" and unit["extra_note"] == "新增字段"


def test_json_leaves_absent_lines_absent() -> None:
    doc = make_doc(explained=False)
    for unit in doc["units"]:
        del unit["lines"]
    assert json.loads(to_json(doc)) == doc


def test_every_renderer_refuses_a_document_of_another_schema(tmp_path: Path) -> None:
    doc = {**make_doc(), "schema": "dangjian.scorecard/2"}
    with pytest.raises(ValueError, match="scorecard/2"):
        to_json(doc)
    with pytest.raises(ValueError):
        write_xlsx(doc, tmp_path / "x.xlsx", explain=False)
    with pytest.raises(ValueError):
        render_table(doc, explain=False, console=Console(record=True, width=100))


# --- xlsx -----------------------------------------------------------------------------

def _header(ws: Any) -> dict[str, str]:
    """Header text -> column letter, from the row holding the autofilter."""
    row = int(ws.auto_filter.ref.split(":")[0][1:])
    return {c.value: c.column_letter for c in ws[row] if c.value}


def test_xlsx_has_rank_sheet_and_with_explain_a_lines_sheet(tmp_path: Path) -> None:
    assert load_workbook(write_xlsx(make_doc(), tmp_path / "a.xlsx", explain=False)).sheetnames \
        == ["评分排名"]
    assert load_workbook(write_xlsx(make_doc(), tmp_path / "b.xlsx", explain=True)).sheetnames \
        == ["评分排名", "评分明细"]


def test_xlsx_stores_scores_and_ranks_as_numbers_formatted_one_decimal(tmp_path: Path) -> None:
    wb = load_workbook(write_xlsx(make_doc(), tmp_path / "s.xlsx", explain=True))
    ranks, lines = wb["评分排名"], wb["评分明细"]
    col = _header(ranks)
    first = ranks.freeze_panes[1:]                # first data row = first unfrozen row
    total = ranks[f"{col['总分']}{first}"]
    assert total.value == 96.5 and total.data_type == "n" and total.number_format == "0.0"
    assert ranks[f"{col['总排名']}{first}"].value == 1
    lcol = _header(lines)
    points = lines[f"{lcol['得分']}{first}"]
    assert points.value == 13.0 and points.data_type == "n" and points.number_format == "0.0"
    assert lines[f"{lcol['任务']}{first}"].value == "#12 #40"
    bonus_max = [r for r in lines.iter_rows(min_row=int(first), values_only=True) if r[2] == "创新加分"]
    assert bonus_max[0][4] is None                # no maximum: an empty cell, not "—"


def test_xlsx_column_widths_count_chinese_characters_double(tmp_path: Path) -> None:
    wb = load_workbook(write_xlsx(make_doc(), tmp_path / "w.xlsx", explain=True))
    ranks, lines = wb["评分排名"], wb["评分明细"]
    col, lcol = _header(ranks), _header(lines)
    assert ranks.column_dimensions[col["街道"]].width >= 16          # 三雷镇社区党总支
    assert ranks.column_dimensions[col["总分"]].width < 12
    assert lines.column_dimensions[lcol["得分"]].width < 12
    reason = lines.column_dimensions[lcol["说明"]]
    assert reason.width == 60                                        # capped ...
    first = int(lines.freeze_panes[1:])
    assert lines[f"{lcol['说明']}{first}"].alignment.wrap_text         # ... and wrapped


def test_xlsx_header_is_bold_filled_frozen_and_filterable(tmp_path: Path) -> None:
    ws = load_workbook(write_xlsx(make_doc(), tmp_path / "h.xlsx", explain=False))["评分排名"]
    ref = ws.auto_filter.ref
    header_row = int(ref.split(":")[0][1:])
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ref == f"A{header_row}:H{header_row + 4}"
    cell = ws[f"A{header_row}"]
    assert cell.font.b and cell.fill.fill_type == "solid"
    assert [c.value for c in ws[header_row]][:2] == ["总排名", "街道"]
    assert ws["A1"].value == "2026年度社区党建目标责任制考核"


def test_xlsx_explain_without_lines_gives_a_lines_sheet_with_only_a_header(tmp_path: Path) -> None:
    doc = make_doc(explained=False)
    del doc["units"][0]["lines"]
    ws = load_workbook(write_xlsx(doc, tmp_path / "e.xlsx", explain=True))["评分明细"]
    header_row = int(ws.auto_filter.ref.split(":")[0][1:])
    assert ws.max_row == header_row


# --- terminal table -------------------------------------------------------------------

def _render(doc: dict[str, Any], *, explain: bool) -> Console:
    console = Console(record=True, width=100)
    render_table(doc, explain=explain, console=console)
    return console


def test_table_shows_title_units_totals_and_grades() -> None:
    text = _render(make_doc(explained=False), explain=False).export_text()
    for expected in ("2026年度社区党建目标责任制考核", "第1次评分", "2026-12-31",
                     "community-branch-basic", "东关社区党支部", "北关社区党支部",
                     "96.5", "82.3", "优秀", "良好", "合格", "不合格", "五好"):
        assert expected in text, expected


def test_table_without_explain_shows_no_reasons_even_when_lines_exist() -> None:
    text = _render(make_doc(), explain=False).export_text()
    assert "应讲4次" not in text and "条目" not in text


def test_table_with_explain_shows_each_units_reasons_clauses_and_tasks() -> None:
    text = _render(make_doc(), explain=True).export_text()
    for expected in ("条目", "依据", "党员大会按期召开", "全年未讲党课", "[2026]3号文件",
                     "#12 #40", "#77 #78", "15.0"):
        assert expected in text, expected


def test_table_fits_a_100_column_terminal() -> None:
    text = _render(make_doc(), explain=True).export_text()
    assert max(cell_len(line) for line in text.splitlines()) <= 100


def test_table_colours_grades() -> None:
    styled = _render(make_doc(), explain=False).export_text(styles=True)
    assert "\x1b[1;31m不合格" in styled and "\x1b[1;32m优秀" in styled
    assert "\x1b[36m良好" in styled and "\x1b[33m合格" in styled


def test_table_with_explain_handles_units_without_lines() -> None:
    doc = make_doc(explained=False)
    del doc["units"][1]["lines"]
    text = _render(doc, explain=True).export_text()
    assert "西渠社区党支部" in text and "无评分说明" in text


def test_table_does_not_change_the_document() -> None:
    doc = make_doc()
    before = copy.deepcopy(doc)
    _render(doc, explain=True)
    assert doc == before


# --- text width -----------------------------------------------------------------------

def test_display_width_counts_wide_characters_as_two() -> None:
    assert display_width("三雷镇社区党总支") == 16
    assert display_width("SL01-B") == 6
    assert display_width("ＡＢ1") == 5                 # fullwidth letters
    assert display_width("短\n较长的一行") == 10


# --- documentation --------------------------------------------------------------------

DOC_PAGE = Path(__file__).resolve().parents[2] / "docs" / "scorecard-json.md"


def test_documented_example_is_exactly_what_to_json_prints() -> None:
    page = DOC_PAGE.read_text(encoding="utf-8")
    example = page.split("```json\n", 1)[1].split("```", 1)[0]
    assert to_json(json.loads(example)) == example


def test_documentation_describes_every_field() -> None:
    from dangjian.reports import scorecard_doc as d

    page = DOC_PAGE.read_text(encoding="utf-8")
    for key in {*d.DOC_KEYS, *d.CYCLE_KEYS, *d.RUN_KEYS, *d.RULE_SET_KEYS, *d.SCOPE_KEYS,
                *d.UNIT_KEYS, *d.LINE_KEYS}:
        assert f"| `{key}` |" in page, key


def test_a_score_that_is_not_a_finite_number_is_refused() -> None:
    doc = make_doc()
    doc["units"][0]["total"] = float("nan")
    with pytest.raises(ValueError, match="有限数"):
        to_json(doc)
