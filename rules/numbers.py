"""Decimal arithmetic for points: no 0.30000000000000004 in totals or reasons."""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)


def dec(value: float | Decimal) -> Decimal:
    """A number as the decimal its shortest repr spells (0.1 → Decimal('0.1'))."""
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"不是有限的数字：{value}")
        return Decimal(repr(value))
    if kind is int or kind is Decimal:
        return Decimal(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise TypeError(f"不是数字：{value!r}")
    return dec(float(value)) if isinstance(value, float) else Decimal(value)   # subclasses


def round_half_up(value: Decimal, digits: int) -> Decimal:
    """Round half up (四舍五入) to `digits` decimals: 89.95 → 90.0 at digits=1."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def fmt(value: Decimal | float) -> str:
    """Shortest plain spelling for reasons: 13, 2.5, -0.2 (never 13.0 or 1E+1)."""
    d = dec(value)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def fmt_fixed(value: Decimal, digits: int) -> str:
    """A rounded total with exactly `digits` decimals: 90.0."""
    return format(round_half_up(value, digits), "f")
