"""Decimal arithmetic for points: no 0.30000000000000004 in totals or reasons."""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)


def dec(value: float | int | Decimal) -> Decimal:
    """A number as the decimal its shortest repr spells (0.1 → Decimal('0.1'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("布尔值不是数字")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"不是有限的数字：{value}")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(int(value))


def round_half_up(value: Decimal, digits: int) -> Decimal:
    """Round half up (四舍五入) to `digits` decimals: 89.95 → 90.0 at digits=1."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def fmt(value: Decimal | float | int) -> str:
    """Shortest plain spelling for reasons: 13, 2.5, -0.2 (never 13.0 or 1E+1)."""
    d = dec(value)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def fmt_fixed(value: Decimal, digits: int) -> str:
    """A rounded total with exactly `digits` decimals: 90.0."""
    return format(round_half_up(value, digits), "f")
