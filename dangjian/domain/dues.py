"""党费: what a member owes each month, and how a payment settles months. Pure code.

The rates are data: rules/data/dues_2008.yaml (one versioned table per standard, with
its source). Amounts are Decimal 元, rounded once per month as the table says (the
2008 table: half up to the 分). The whole base takes its tier's rate (no marginal
brackets): 5000.00 in service → 1% → 50.00; 5000.01 → 1.5% → 75.00.

Months are `Month` values ("2026-07"); a month is owed from the month the member's
branch meeting admitted them (预备党员从支部大会通过之日起交纳) by the income record in
force then (工资调整从新工资的当月起), less approved exemptions.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dangjian.errors import ValidationFailed
from models.member_duties import ExemptionKind, IncomeKind, PaymentMode
from models.org import MemberCategory, MemberStatus
from rules import SETS_DIR

TABLES_FILE = SETS_DIR.parent / "data" / "dues_2008.yaml"   # rules/data/, beside rules/sets/
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# ---------------------------------------------------------------- months

@dataclass(frozen=True, order=True, slots=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 2999:
            raise ValueError(f"无效的月份：{self.year}-{self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def from_index(cls, index: int) -> Month:
        return cls(index // 12, index % 12 + 1)

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.plus(1).first_day - timedelta(days=1)

    @property
    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def quarter(self) -> tuple[Month, Month, Month]:
        first = Month(self.year, (self.month - 1) // 3 * 3 + 1)
        return first, first.plus(1), first.plus(2)

    def plus(self, months: int) -> Month:
        return Month.from_index(self.index + months)

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def __str__(self) -> str:
        return self.iso


_MONTH = re.compile(r"^\s*(\d{4})\s*(?:-|/|年)\s*(\d{1,2})\s*月?\s*$")


def parse_month(text: str, field: str = "month") -> Month:
    """'2026-07', '2026-7', '2026/7' or '2026年7月'."""
    match = _MONTH.match(text)
    if match:
        try:
            return Month(int(match.group(1)), int(match.group(2)))
        except ValueError:
            pass
    raise ValidationFailed(f"{field}：无法识别的月份“{text}”，请写成 YYYY-MM，如 2026-07", field=field)


def month_range(first: Month, last: Month) -> list[Month]:
    return [Month.from_index(i) for i in range(first.index, last.index + 1)]


def parse_months(text: str, field: str = "months") -> list[Month]:
    """'2026-01..2026-03' (inclusive), '2026-01,2026-03', or one month; in the order given."""
    months: list[Month] = []
    for part in (p for p in re.split(r"[,，、]", text) if p.strip()):
        if ".." in part:
            low, _, high = part.partition("..")
            first, last = parse_month(low, field), parse_month(high, field)
            if last < first:
                raise ValidationFailed(f"{field}：月份区间“{part.strip()}”的结束月早于开始月", field=field)
            months += month_range(first, last)
        else:
            months.append(parse_month(part, field))
    if not months:
        raise ValidationFailed(f"{field}：请指定月份，如 2026-01..2026-03", field=field)
    return months


def join_months(months: Sequence[Month]) -> str:
    """'2026年1月至2026年3月' for consecutive months, else '2026年1月、2026年3月'."""
    if not months:
        return ""
    ordered = sorted(months)
    if len(ordered) > 1 and ordered[-1] - ordered[0] == len(ordered) - 1:
        return f"{ordered[0].label}至{ordered[-1].label}"
    return "、".join(m.label for m in ordered)


# ---------------------------------------------------------------- money

def yuan(amount: Decimal | None) -> str:
    return "—" if amount is None else f"{amount:.2f}元"


def parse_amount(text: str | Decimal | int, field: str) -> Decimal:
    """An amount in 元 with at most two decimals (精确到分)."""
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip().removesuffix("元"))
    except InvalidOperation:
        raise ValidationFailed(f"{field}：“{text}”不是金额，请写成 48.00 这样的元数", field=field) from None
    if not value.is_finite():
        raise ValidationFailed(f"{field}：“{text}”不是金额", field=field)
    if value != value.quantize(CENT):
        raise ValidationFailed(f"{field}：金额 {text} 须精确到分（最多两位小数）", field=field)
    return value.quantize(CENT)


# ---------------------------------------------------------------- the table (data)

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    up_to: Decimal | None = None      # inclusive upper bound of the base; None = no bound
    rate: Decimal = Field(ge=0, le=1)


class Schedule(_Strict):
    name: str
    basis: str
    tiers: list[Tier] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending_and_open_ended(self) -> Schedule:
        bounds = [t.up_to for t in self.tiers]
        if bounds[-1] is not None or any(b is None for b in bounds[:-1]):
            raise ValueError(f"{self.name}：只有最后一档不写 up_to")
        inner = [b for b in bounds if b is not None]
        if inner != sorted(set(inner)):
            raise ValueError(f"{self.name}：各档 up_to 须递增")
        return self

    def tier_for(self, base: Decimal) -> tuple[Tier, str]:
        low: Decimal | None = None
        for tier in self.tiers:
            if tier.up_to is None or base <= tier.up_to:
                if tier.up_to is None:
                    band = f"{low:g}元以上" if low is not None else "不分档"
                elif low is None:
                    band = f"{tier.up_to:g}元以下（含）"
                else:
                    band = f"{low:g}元以上至{tier.up_to:g}元（含）"
                return tier, band
            low = tier.up_to
        raise AssertionError("the last tier is open-ended")


class FixedRange(_Strict):
    name: str
    basis: str
    min: Decimal = Field(ge=0)
    max: Decimal = Field(ge=0)


class Minimum(_Strict):
    name: str
    basis: str
    amount: Decimal = Field(ge=0)
    categories: list[MemberCategory]


class PaymentRules(_Strict):
    advance_back_months: int = Field(ge=0, le=24)
    advance_back_rule: str
    consent_rule: str
    central_threshold: Decimal = Field(gt=0)
    central_rule: str


class Rounding(_Strict):
    quantum: Decimal = Field(gt=0)
    mode: Literal["half_up", "half_even", "down"]

    def apply(self, value: Decimal) -> Decimal:
        mode = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}[self.mode]
        return value.quantize(self.quantum, rounding=mode).quantize(CENT)


class DuesTable(_Strict):
    version: str
    effective_from: str
    source: str
    rounding: Rounding
    schedules: dict[Literal["salary", "business", "pension"], Schedule]
    fixed: FixedRange
    minimum: Minimum
    payments: PaymentRules

    @field_validator("effective_from")
    @classmethod
    def _month(cls, value: str) -> str:
        return parse_month(value, "effective_from").iso

    @property
    def starts(self) -> Month:
        return parse_month(self.effective_from)


class DuesTables(_Strict):
    tables: list[DuesTable] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_order(self) -> DuesTables:
        starts = [t.starts for t in self.tables]
        if starts != sorted(set(starts)):
            raise ValueError("tables 须按 effective_from 递增排列，且不重复")
        return self

    def for_month(self, month: Month) -> DuesTable:
        found = [t for t in self.tables if t.starts <= month]
        if not found:
            raise ValidationFailed(
                f"{month.label} 早于最早的党费标准（{self.tables[0].effective_from} 起），无法计算", field="month")
        return found[-1]

    @property
    def latest(self) -> DuesTable:
        return self.tables[-1]


def load_tables(path: Path | str = TABLES_FILE) -> DuesTables:
    from ruamel.yaml import YAML

    raw = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    try:
        return DuesTables.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ValidationFailed(f"党费标准文件 {path} 有误：", details=lines) from None


@lru_cache(maxsize=4)
def default_tables() -> DuesTables:
    return load_tables(TABLES_FILE)


# ---------------------------------------------------------------- one month's amount

KIND_LABEL = {IncomeKind.salary: "在职", IncomeKind.business: "个体经营",
              IncomeKind.pension: "离退休", IncomeKind.fixed: "定额"}


@dataclass(frozen=True)
class DuesAmount:
    amount: Decimal
    explanation: str


def monthly_dues(kind: IncomeKind, base: Decimal, table: DuesTable) -> DuesAmount:
    """The month's dues on a base: in service 4800 → 48.00; retired 5200 → 52.00; fixed 0.50 → 0.50."""
    if kind == IncomeKind.fixed:
        return DuesAmount(base.quantize(CENT), f"{table.fixed.name} {yuan(base)}/月")
    schedule = table.schedules[kind.value]  # type: ignore[index]
    tier, band = schedule.tier_for(base)
    amount = table.rounding.apply(base * tier.rate)
    percent = f"{(tier.rate * 100).normalize():f}%"
    return DuesAmount(amount, f"{schedule.name} 月基数 {yuan(base)}，{band}按 {percent} 计 {yuan(amount)}")


def business_base(monthly_net: Sequence[Decimal], table: DuesTable) -> Decimal:
    """个体经营: the previous quarter's average monthly net income (three months), rounded as the table says."""
    if len(monthly_net) != 3:
        raise ValidationFailed(f"上季度月纯收入须为3个月，收到 {len(monthly_net)} 个", field="base")
    return table.rounding.apply(sum(monthly_net, Decimal(0)) / 3)


def check_income(kind: IncomeKind, base: Decimal, category: MemberCategory, table: DuesTable,
                 *, who: str) -> list[str]:
    """Problems with a base record for a member of `category` (empty = fine)."""
    problems: list[str] = []
    if base < 0:
        problems.append(f"{who} 的计算基数 {yuan(base)} 不能为负数")
    if kind == IncomeKind.fixed:
        low, high = table.fixed.min, table.fixed.max
        if category in table.minimum.categories and base != table.minimum.amount:
            problems.append(f"{who} 属于{table.minimum.name}人员，每月交纳 {yuan(table.minimum.amount)}，"
                            f"不能定为 {yuan(base)}（{table.minimum.basis}）")
        elif not low <= base <= high:
            problems.append(f"{who} 的定额 {yuan(base)} 超出 {yuan(low)} 至 {yuan(high)} 的范围（{table.fixed.basis}）")
    elif category in table.minimum.categories:
        problems.append(f"{who} 属于{table.minimum.name}人员（{table.minimum.basis}），请登记为定额 fixed")
    return problems


# ---------------------------------------------------------------- what each month owes

class DueState(StrEnum):
    owed = "owed"              # 应交（按标准）
    reduced = "reduced"        # 经批准少交
    exempt = "exempt"          # 经批准免交
    not_member = "not_member"  # 不需交纳：尚未入党
    unknown = "unknown"        # 未登记计算基数，应交金额不明


DUE_STATE_LABEL = {DueState.owed: "应交", DueState.reduced: "少交", DueState.exempt: "免交",
                   DueState.not_member: "不需交纳", DueState.unknown: "未登记基数"}


@dataclass(frozen=True)
class IncomeRecord:
    effective: Month
    kind: IncomeKind
    base: Decimal


@dataclass(frozen=True)
class ExemptionRecord:
    first: Month
    last: Month
    kind: ExemptionKind
    reduced_to: Decimal | None
    reason: str

    def covers(self, month: Month) -> bool:
        return self.first <= month <= self.last


@dataclass(frozen=True)
class MemberFacts:
    """Everything the amount of one member's month depends on."""

    member_id: str
    name: str
    category: MemberCategory
    status: MemberStatus
    joined_on: date | None
    incomes: tuple[IncomeRecord, ...] = ()       # any order
    exemptions: tuple[ExemptionRecord, ...] = ()

    @property
    def who(self) -> str:
        return f"党员 {self.name}（{self.member_id}）"


@dataclass(frozen=True)
class MonthDue:
    month: Month
    state: DueState
    amount: Decimal | None          # what the month owes; None when unknown
    standard: Decimal | None        # the amount before any reduction or exemption
    kind: IncomeKind | None
    base: Decimal | None
    note: str


PAYING = (MemberStatus.probationary, MemberStatus.full)


def owed_months(facts: MemberFacts, months: Sequence[Month], tables: DuesTables) -> list[MonthDue]:
    """What each of `months` owes (ascending or not; one pass over sorted incomes)."""
    incomes = sorted(facts.incomes, key=lambda r: r.effective)
    joined = Month.of(facts.joined_on) if facts.joined_on else None
    out: list[MonthDue] = []
    for month in months:
        if facts.status not in PAYING:
            out.append(MonthDue(month, DueState.not_member, ZERO, None, None, None,
                                "尚未入党（入党积极分子、发展对象不交纳党费）"))
            continue
        if joined is not None and month < joined:
            out.append(MonthDue(month, DueState.not_member, ZERO, None, None, None,
                                f"支部大会通过为预备党员（{facts.joined_on}）之前"))
            continue
        table = tables.for_month(month)
        record = next((r for r in reversed(incomes) if r.effective <= month), None)
        kind: IncomeKind | None = None
        base: Decimal | None = None
        amount: Decimal | None = None
        note = "未登记党费计算基数（请用 members income 登记）"
        if record is not None:
            standard = monthly_dues(record.kind, record.base, table)
            kind, base, amount, note = record.kind, record.base, standard.amount, standard.explanation
            if record.effective == month and record is not incomes[0]:
                note += f"（工资调整，{month.label}起按新基数）"
        elif facts.category in table.minimum.categories:
            kind, base, amount = IncomeKind.fixed, table.minimum.amount, table.minimum.amount
            note = f"{table.minimum.name} {yuan(amount)}/月（{table.minimum.basis}）"
        # An approved exemption or reduction holds whether or not a base is registered.
        exemption = next((e for e in facts.exemptions if e.covers(month)), None)
        if exemption is not None and exemption.kind == ExemptionKind.exempt:
            out.append(MonthDue(month, DueState.exempt, ZERO, amount, kind, base,
                                f"经批准免交：{exemption.reason}"))
        elif exemption is not None:
            reduced = exemption.reduced_to if exemption.reduced_to is not None else ZERO
            if amount is not None:
                reduced = min(reduced, amount)
            out.append(MonthDue(month, DueState.reduced, reduced, amount, kind, base,
                                f"经批准少交，每月 {yuan(reduced)}：{exemption.reason}"))
        elif amount is None:
            out.append(MonthDue(month, DueState.unknown, None, None, None, None, note))
        else:
            out.append(MonthDue(month, DueState.owed, amount, amount, kind, base, note))
    return out


@dataclass(frozen=True)
class MonthBalance:
    due: MonthDue
    paid: Decimal

    @property
    def month(self) -> Month:
        return self.due.month

    @property
    def outstanding(self) -> Decimal | None:
        """Still to pay (never negative); None when the amount owed is unknown."""
        if self.due.amount is None:
            return None
        return max(self.due.amount - self.paid, ZERO)

    @property
    def unpaid(self) -> bool:
        """Nothing paid for a month that owes something, known or not (a month whose base is
        not registered still owes). The one answer to "did the member pay for month M" that the
        statement, the arrears list and the 停止党籍 check share."""
        if self.due.state == DueState.not_member or self.paid > 0:
            return False
        return self.due.amount is None or self.due.amount > 0

    @property
    def balance(self) -> Decimal | None:
        """Paid minus owed: negative = 欠交, positive = 多交."""
        return None if self.due.amount is None else self.paid - self.due.amount


def balances(dues: Sequence[MonthDue], paid: Mapping[Month, Decimal]) -> list[MonthBalance]:
    return [MonthBalance(d, paid.get(d.month, ZERO)) for d in dues]


# ---------------------------------------------------------------- settling months with a payment

MODE_LABEL = {PaymentMode.monthly: "按月交纳", PaymentMode.quarterly: "按季交纳",
              PaymentMode.advance: "预交", PaymentMode.back: "补交", PaymentMode.back_advance: "补交并预交"}


@dataclass(frozen=True)
class PaymentPlan:
    mode: PaymentMode
    allocations: dict[Month, Decimal]   # month → amount settled
    extra: Decimal                      # 自愿多交
    to_central: bool                    # 一次多交1000元以上，全部上缴中央
    notes: tuple[str, ...]


def payment_mode(paid_in: Month, months: Sequence[Month]) -> PaymentMode:
    covered = sorted(set(months))
    if covered == [paid_in]:
        return PaymentMode.monthly
    if covered == list(paid_in.quarter):
        return PaymentMode.quarterly
    back = any(m < paid_in for m in covered)
    ahead = any(m > paid_in for m in covered)
    if back and ahead:
        return PaymentMode.back_advance
    return PaymentMode.back if back else PaymentMode.advance


def plan_payment(*, who: str, paid_on: date, months: Sequence[Month], amount: Decimal,
                 balances_by_month: Mapping[Month, MonthBalance], branch_consent: bool,
                 table: DuesTable) -> PaymentPlan:
    """Check a payment and say which months it settles; every problem at once, or a plan.

    - 按月交纳 (only the month of payment) needs nothing; 按季 (the calendar quarter of the
      payment month), 预交 and 补交 need the branch's consent;
    - no month more than `advance_back_months` (6) before or after the payment month;
    - every month must still owe something: not before admission, with a known base,
      not paid up or exempt;
    - the amount must cover what the months still owe; anything above is a voluntary
      extra (自愿多交), and an extra of 1000元 or more is passed up in full to the Centre.
    """
    rules = table.payments
    paid_in = Month.of(paid_on)
    problems: list[str] = []
    if not months:
        raise ValidationFailed(f"{who}：请指定所交月份", field="months")
    seen: set[Month] = set()
    for m in months:
        if m in seen:
            problems.append(f"{who}：月份 {m.label} 重复")
        seen.add(m)
    if amount <= 0:
        problems.append(f"{who}：交纳金额须大于0，收到 {yuan(amount)}")
    covered = sorted(seen)
    limit = rules.advance_back_months
    far = [m for m in covered if abs(m - paid_in) > limit]
    if far:
        problems.append(f"{who}：{join_months(far)} 距交纳月份 {paid_in.label} 超过{limit}个月，不予登记"
                        f"（{rules.advance_back_rule}）")
    mode = payment_mode(paid_in, covered)
    if mode != PaymentMode.monthly and not branch_consent:
        problems.append(f"{who}：{paid_on} 交纳 {join_months(covered)} 的党费属于{MODE_LABEL[mode]}，"
                        f"须经党支部同意（{rules.consent_rule}）；已经支部同意的，请注明支部同意（--consent）")
    outstanding: dict[Month, Decimal] = {}
    for m in covered:
        b = balances_by_month.get(m)
        if b is None:
            problems.append(f"{who}：{m.label} 的应交金额未计算")
            continue
        if b.due.state == DueState.not_member:
            problems.append(f"{who}：{m.label} 不需交纳党费（{b.due.note}）")
        elif b.due.state == DueState.unknown:
            problems.append(f"{who}：{m.label} 未登记党费计算基数，无法确定应交金额；"
                            "请先用 members income 登记收入")
        elif b.due.state == DueState.exempt:
            problems.append(f"{who}：{m.label} 已经批准免交党费（{b.due.note}）")
        elif (left := b.outstanding) is not None and left <= 0:
            problems.append(f"{who}：{m.label} 的党费已交清（应交 {yuan(b.due.amount)}，已交 {yuan(b.paid)}）")
        elif left is not None:
            outstanding[m] = left
    if problems:
        raise ValidationFailed(f"{who} 的党费未登记：", field="months", details=problems)
    owed = sum(outstanding.values(), ZERO)
    if amount < owed:
        each = "；".join(f"{m.label} {yuan(v)}" for m, v in outstanding.items())
        raise ValidationFailed(
            f"{who} 的党费未登记：所交 {yuan(amount)} 不足，{join_months(covered)} 尚欠 {yuan(owed)}（{each}）",
            field="amount")
    extra = amount - owed
    to_central = extra >= rules.central_threshold
    notes = [MODE_LABEL[mode]]
    if extra > 0:
        notes.append(f"自愿多交 {yuan(extra)}")
    if to_central:
        notes.append(f"全额上缴中央（{rules.central_rule}）")
    return PaymentPlan(mode, outstanding, extra, to_central, tuple(notes))
