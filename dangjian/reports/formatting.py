"""Shared formatting for scorecard reports: rounding, display width, cell text.

Rounding is half-up on the decimal value the float prints as (2.675 -> 2.68), the
same way Excel shows a number, so the terminal table, the JSON and the workbook
never disagree by one in the last digit.
"""
from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

DASH = "—"


def round_half_up(value: float, places: int) -> float:
    """`value` rounded half-up to `places` decimals; -0.0 comes back as 0.0."""
    if not math.isfinite(value):
        raise ValueError(f"评分数值必须是有限数 (score values must be finite): {value!r}")
    step = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP)) + 0.0


def fmt_points(value: float | None) -> str:
    """One decimal ("96.5", "13.0"); a dash when there is no value (e.g. no maximum)."""
    if value is None:
        return DASH
    return f"{round_half_up(float(value), 1):.1f}"


def fmt_task_ids(task_ids: Iterable[int] | None) -> str:
    return " ".join(f"#{t}" for t in task_ids or ())


def fmt_designations(designations: Iterable[str] | None) -> str:
    return "、".join(designations or ())


def display_width(text: str) -> int:
    """Columns `text` takes on screen: East Asian wide/fullwidth characters count 2,
    combining marks 0, everything else 1. For multi-line text, the widest line."""
    return max((_line_width(line) for line in text.split("\n")), default=0)


def _line_width(line: str) -> int:
    width = 0
    for ch in line:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width
