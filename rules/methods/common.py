"""Field types and wording shared by the scoring methods."""
from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field

from rules.metrics import InvalidMetrics, UnitContext
from rules.numbers import dec

_SHOWN: dict[Decimal, str] = {}


def fmt(value: Decimal | float) -> str:
    """rules.numbers.fmt (13, 2.5, -0.2; never 13.0 or 1E+1), faster: reasons format a few
    numbers per line, and the same small numbers recur, so spellings are cached by value."""
    d = value if type(value) is Decimal else dec(value)
    try:
        return _SHOWN[d]
    except KeyError:
        pass
    text = str(d)
    if "E" in text:
        text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    if len(_SHOWN) > 10000:
        _SHOWN.clear()
    _SHOWN[d] = text
    return text

# A metric: a declared metric's code or Chinese name (activist_ratio, 入党积极分子比例), an
# implicit one (party_congress.missed, attendance.absent), or any formula spelling of it
# (党员大会_未完成). Env.key() turns it into the metrics key.
METRIC_REF_PATTERN = r"^[^\W\d]\w*(\.[^\W\d]\w*)?$"
MetricRef = Annotated[str, Field(pattern=METRIC_REF_PATTERN, max_length=130)]

T = TypeVar("T")
HUNDRED = Decimal(100)
ONE = Decimal(1)


def _ratio(value: Any) -> Any:
    """"30%" → 0.3; 0.3 stays; a plain number above 1 is refused (30 means 30%?)."""
    if isinstance(value, bool):
        # ValueError, not TypeError: pydantic turns only ValueError into a validation issue.
        raise ValueError(f"应为比例（如 30% 或 0.3），实际为 {value!r}")  # noqa: TRY004
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("％"):
            raise ValueError(f"比例 {value} 用了全角百分号“％”，请改为半角“%”")
        if not text.endswith("%"):
            raise ValueError(f"比例应写成百分数（如 30%）或小数（如 0.3），实际为 {value!r}")
        try:
            number = Decimal(text[:-1].strip())
        except InvalidOperation:
            raise ValueError(f"比例 {value!r} 不是数字加百分号（如 30%）") from None
        if not number.is_finite():
            raise ValueError(f"比例 {value!r} 不是有限的数字")
        return float(number / HUNDRED)
    if isinstance(value, int | float) and value > 1:
        raise ValueError(f"比例 {value} 大于1：百分数请写成 {fmt(value)}%，小数请写成 {fmt(Decimal(repr(value)) / HUNDRED)}")
    return value


# A ratio: "30%" or 0.3 in the file, a fraction (0.3) in the model. Above 100% only as "120%".
Ratio = Annotated[float, BeforeValidator(_ratio), Field(ge=0, le=100)]


_PERCENT: dict[Decimal, str] = {}
_CENT = Decimal("0.01")


def pct(value: Decimal) -> str:
    """0.3 → "30%", 0.41666… → "41.67%" (two decimals, half up, for reasons only)."""
    try:
        return _PERCENT[value]
    except KeyError:
        pass
    text = f"{fmt((value * HUNDRED).quantize(_CENT, rounding=ROUND_HALF_UP))}%"
    if len(_PERCENT) > 10000:
        _PERCENT.clear()
    _PERCENT[value] = text
    return text


def memoized(compute: Callable[..., T], size: int = 1024) -> Callable[[tuple[Any, ...]], T]:
    """compute(*key), remembered: an item's points and reason depend only on its inputs, and
    the same inputs recur across units (all on time, 0 complaints …). Bounded; cleared when
    full."""
    cache: dict[tuple[Any, ...], T] = {}

    def get(key: tuple[Any, ...]) -> T:
        try:
            return cache[key]
        except KeyError:
            pass
        value = compute(*key)
        if len(cache) >= size:
            cache.clear()
        cache[key] = value
        return value
    return get


def out_of(top: Decimal) -> str:
    return f"（满分{fmt(top)}分）"


def integral_count(ctx: UnitContext, value: Decimal, label: str, item_code: str) -> int:
    """A count metric as an int; a fraction is refused (阶梯、名次 need whole numbers)."""
    if value != value.to_integral_value():
        raise InvalidMetrics(
            f"{ctx.subject} {ctx.unit_id} 的{label}为 {fmt(value)}，不是整数（评分条目 {item_code} 按次数计分）",
            field=item_code,
        )
    return int(value)


def round_points(value: Decimal, digits: int) -> Decimal:
    return value.quantize(ONE.scaleb(-digits), rounding=ROUND_HALF_UP)
