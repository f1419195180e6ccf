"""Grade bands as real intervals: overlap, gap and coverage over the possible totals."""
from __future__ import annotations

import itertools
from decimal import Decimal

from rules.numbers import fmt
from rules.scoring import Band

INF = Decimal("Infinity")
Edge = tuple[Decimal, bool]     # (value, inclusive)


def _low(b: Band) -> Edge:
    return (-INF, False) if b.min is None else (Decimal(repr(b.min)), b.min_inclusive)


def _high(b: Band) -> Edge:
    return (INF, False) if b.max is None else (Decimal(repr(b.max)), b.max_inclusive)


def _show(low: Edge, high: Edge) -> str:
    if low[0] == high[0]:
        return fmt(low[0])
    left = "(-∞" if low[0] == -INF else ("[" if low[1] else "(") + fmt(low[0])
    right = "+∞)" if high[0] == INF else fmt(high[0]) + ("]" if high[1] else ")")
    return f"{left}, {right}"


def _tighter(a: Edge, b: Edge, *, lower: bool) -> Edge:
    if a[0] != b[0]:
        return (max if lower else min)((a, b), key=lambda e: e[0])
    return (a[0], a[1] and b[1])


def problems(
    bands: list[tuple[int, Band]], low: Decimal | None, high: Decimal | None
) -> list[tuple[int, str, str]]:
    """(index of the band at fault, key to point at, Chinese message) for each problem.

    `low`/`high` are the lowest and highest possible totals (None = unbounded); when
    not known (the rest of the file has errors) pass `low=high=INF` to skip end checks."""
    found: list[tuple[int, str, str]] = []
    for n, (i, a) in enumerate(bands):
        for j, b in bands[n + 1:]:
            lo = _tighter(_low(a), _low(b), lower=True)
            hi = _tighter(_high(a), _high(b), lower=False)
            if lo[0] < hi[0] or (lo[0] == hi[0] and lo[1] and hi[1]):
                found.append((j, "name", (f"等级“{b.name}”{b.label()} 与“{a.name}”{a.label()} 重叠："
                                          f"{_show(lo, hi)} 同时属于两个等级")))
    if found or not bands:
        return found
    ordered = sorted(bands, key=lambda p: (_low(p[1])[0], not _low(p[1])[1]))
    for (_, a), (j, b) in itertools.pairwise(ordered):
        ah, bl = _high(a), _low(b)
        if ah[0] < bl[0] or (ah[0] == bl[0] and not ah[1] and not bl[1]):
            gap = _show((ah[0], not ah[1]), (bl[0], not bl[1]))
            found.append((j, "min", (f"等级“{a.name}”{a.label()} 与“{b.name}”{b.label()} 之间有空档："
                                     f"{gap} 不属于任何等级")))
    if low is not INF:
        i, first = ordered[0]
        fl = _low(first)
        if low is None and fl[0] != -INF:
            found.append((i, "min", f"有条目可倒扣（floor: null），总分可能低于任何下限；最低的等级“{first.name}”不应写 min"))
        elif low is not None and (fl[0] > low or (fl[0] == low and not fl[1])):
            found.append((i, "min", f"等级没有覆盖最低可能得分 {fmt(low)}：最低的等级“{first.name}”是 {first.label()}"))
    if high is not INF:
        i, last = ordered[-1]
        lh = _high(last)
        if high is None and lh[0] != INF:
            found.append((i, "max", f"总分上不封顶（allow_over_max 或无上限的条目），最高的等级“{last.name}”不应写 max"))
        elif high is not None and (lh[0] < high or (lh[0] == high and not lh[1])):
            found.append((i, "max", f"等级没有覆盖最高可能得分 {fmt(high)}：最高的等级“{last.name}”是 {last.label()}"))
    return found


def band_for(bands: list[Band], value: Decimal) -> Band | None:
    for band in bands:
        if band.contains(value):
            return band
    return None
