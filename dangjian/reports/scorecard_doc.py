"""The scorecard document (schema "dangjian.scorecard/1"): canonical order and JSON.

The document is a plain dict built by the scoring service; docs/scorecard-json.md
documents every field. Documented keys come first in documented order; keys this
module does not know (additive changes within /1) follow in their given order.
"""
from __future__ import annotations

import json
from typing import Any

from dangjian.reports.formatting import DASH, round_half_up

SCHEMA_ID = "dangjian.scorecard/1"

DOC_KEYS = ("schema", "cycle", "run", "scope", "units")
CYCLE_KEYS = ("code", "name", "start_on", "end_on", "state")
RUN_KEYS = ("version", "as_of", "created_at", "published", "rule_set")
RULE_SET_KEYS = ("code", "version", "name", "sha256")
SCOPE_KEYS = ("unit_id", "unit_name")
UNIT_KEYS = (
    "rank_in_street", "rank_overall", "unit_id", "unit_name", "street_id", "street_name",
    "total", "grade", "designations", "lines",
)
LINE_KEYS = (
    "item_code", "item_name", "section_code", "points", "max_points", "reason", "clause",
    "task_ids",
)

JSON_DECIMALS = 2


def check_schema(doc: dict[str, Any]) -> None:
    schema = doc.get("schema")
    if schema != SCHEMA_ID:
        raise ValueError(f"不支持的评分文档格式 (unsupported scorecard schema): {schema!r}, "
                         f"expected {SCHEMA_ID!r}")


def canonical(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of `doc` with keys in documented order, units ordered by rank_overall
    then unit_id (unranked units last), lines in their given order, and floats
    rounded half-up to 2 decimals. Every renderer starts from this, so the table,
    the JSON and the workbook show the same numbers."""
    check_schema(doc)
    out = _ordered(doc, DOC_KEYS)
    if isinstance(out.get("cycle"), dict):
        out["cycle"] = _ordered(out["cycle"], CYCLE_KEYS)
    if isinstance(out.get("run"), dict):
        run = out["run"] = _ordered(out["run"], RUN_KEYS)
        if isinstance(run.get("rule_set"), dict):
            run["rule_set"] = _ordered(run["rule_set"], RULE_SET_KEYS)
    if isinstance(out.get("scope"), dict):
        out["scope"] = _ordered(out["scope"], SCOPE_KEYS)
    if "units" in out:
        out["units"] = [_unit(u) for u in sorted(out["units"] or [], key=_unit_order)]
    result: dict[str, Any] = _round_floats(out)
    return result


def headline(doc: dict[str, Any]) -> tuple[str, list[str]]:
    """(title, fact lines) for report headers: the cycle name; then the run
    (version, as-of date, scope, publication state) and the rule set."""
    cycle, run = doc.get("cycle") or {}, doc.get("run") or {}
    rule_set, scope = run.get("rule_set") or {}, doc.get("scope") or {}
    title = str(cycle.get("name") or cycle.get("code") or "评分结果")
    facts = [f"第{run.get('version', DASH)}次评分", f"截至 {run.get('as_of', DASH)}"]
    if scope.get("unit_name"):
        facts.append(f"范围 {scope['unit_name']}")
    facts.append("已发布" if run.get("published") else "未发布")
    lines = [" · ".join(facts)]
    if rule_set:
        name = rule_set.get("name") or rule_set.get("code", "")
        lines.append(f"规则集 {name}（{rule_set.get('code', '')} {rule_set.get('version', '')}）")
    return title, lines


def to_json(doc: dict[str, Any]) -> str:
    """Stable JSON text: documented key order, UTF-8 characters as they are,
    2-space indent, floats rounded half-up to at most 2 decimals, trailing newline."""
    return json.dumps(canonical(doc), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _unit(unit: dict[str, Any]) -> dict[str, Any]:
    out = _ordered(unit, UNIT_KEYS)
    if out.get("lines"):
        out["lines"] = [_ordered(line, LINE_KEYS) for line in out["lines"]]
    return out


def _unit_order(unit: dict[str, Any]) -> tuple[bool, int, str]:
    rank = unit.get("rank_overall")
    return (rank is None, rank or 0, str(unit.get("unit_id", "")))


def _ordered(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {k: d[k] for k in keys if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def _round_floats(value: Any) -> Any:
    if isinstance(value, float):
        return round_half_up(value, JSON_DECIMALS)
    if isinstance(value, dict):
        return {k: _round_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round_floats(v) for v in value]
    return value
