"""Duties each member carries: 党费 (base income, payments, exemptions), approved leave
from organisation life, and the "六个一" pledges.

Months are stored as the first day of the month (a `date`), like `Task.period_start`.
Amounts are 元 to the 分 (NUMERIC(12, 2)); arithmetic happens in Decimal in
dangjian.domain.dues.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow

MONEY = Numeric(12, 2)


class IncomeKind(StrEnum):
    salary = "salary"        # 在职：每月工资收入（税后）中相对固定的、经常性的部分
    pension = "pension"      # 离退休：离退休费或养老金总额
    business = "business"    # 个体经营等：上季度个人月平均纯收入
    fixed = "fixed"          # 定额：农民党员 0.2–1 元，学生、下岗失业、救济、低保 0.2 元


class DuesIncome(SQLModel, table=True):
    """A member's dues base from `effective_month` on, until the next record (调资从新工资的当月起)."""

    __tablename__ = "dues_income"
    __table_args__ = (
        UniqueConstraint("member_id", "effective_month", name="uq_dues_income_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(foreign_key="member.id", max_length=40)
    effective_month: date
    kind: IncomeKind = Field(max_length=20)
    # The monthly base in 元; for kind `fixed`, the fixed monthly amount itself.
    base: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    note: str | None = Field(default=None, max_length=300)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PaymentMode(StrEnum):
    monthly = "monthly"            # 按月交纳（当月）
    quarterly = "quarterly"        # 按季交纳（经党支部同意）
    advance = "advance"            # 预交（经党支部同意，一般不超过6个月）
    back = "back"                  # 补交（经党支部同意，一般不超过6个月）
    back_advance = "back_advance"  # 同时补交和预交


class DuesPayment(SQLModel, table=True):
    """One payment; `DuesPaymentMonth` says which months it settles and how much of each."""

    __tablename__ = "dues_payment"
    __table_args__ = (Index("ix_dues_payment_member", "member_id", "paid_on"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(foreign_key="member.id", max_length=40)
    paid_on: date
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    # 自愿多交: what the payment holds beyond the covered months' outstanding dues.
    extra: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    # 自愿一次多交纳1000元以上的党费，全部上缴中央.
    to_central: bool = False
    mode: PaymentMode = Field(max_length=20)
    branch_consent: bool = False
    paid_by: str | None = Field(default=None, max_length=60)   # 代交人
    note: str | None = Field(default=None, max_length=300)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class DuesPaymentMonth(SQLModel, table=True):
    __tablename__ = "dues_payment_month"
    __table_args__ = (Index("ix_dues_payment_month_member", "member_id", "month"),)

    payment_id: int = Field(foreign_key="dues_payment.id", primary_key=True)
    month: date = Field(primary_key=True)
    member_id: str = Field(foreign_key="member.id", max_length=40)
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))


class ExemptionKind(StrEnum):
    exempt = "exempt"    # 免交
    reduce = "reduce"    # 少交（按月定额）


class DuesExemption(SQLModel, table=True):
    """经党支部研究，报上一级党委批准：少交或免交党费 for the months first..last (inclusive)."""

    __tablename__ = "dues_exemption"
    __table_args__ = (Index("ix_dues_exemption_member", "member_id", "first_month"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(foreign_key="member.id", max_length=40)
    kind: ExemptionKind = Field(max_length=20)
    first_month: date
    last_month: date
    reduced_to: Decimal | None = Field(default=None, sa_column=Column(MONEY, nullable=True))
    reason: str = Field(max_length=500)
    approver_unit_id: str = Field(foreign_key="unit.id", max_length=40)
    approved_on: date
    approved_by: str = Field(max_length=60)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LifeLeave(SQLModel, table=True):
    """Approved leave from organisation life for whole months (长期病休、外出等，经党支部批准)."""

    __tablename__ = "life_leave"
    __table_args__ = (Index("ix_life_leave_member", "member_id", "first_month"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(foreign_key="member.id", max_length=40)
    first_month: date
    last_month: date
    reason: str = Field(max_length=500)
    approved_by: str = Field(max_length=60)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PledgeKind(StrEnum):
    household = "household"    # 帮扶一个困难家庭
    hygiene = "hygiene"        # 督查一块区域卫生
    order = "order"            # 维持一片区域治安
    youth = "youth"            # 帮教一个失足青年
    prospect = "prospect"      # 培养一个发展对象
    resident_unit = "resident_unit"  # 联系一个辖区单位


class PledgeStatus(StrEnum):
    active = "active"          # 进行中
    completed = "completed"    # 已完成
    ended = "ended"            # 已终止


class Pledge(SQLModel, table=True):
    """"六个一"党群连心服务: what a member has taken on, with its evidence."""

    __table_args__ = (Index("ix_pledge_member_kind", "member_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(foreign_key="member.id", max_length=40)
    kind: PledgeKind = Field(max_length=20)
    target: str = Field(max_length=300)
    started_on: date
    status: PledgeStatus = Field(default=PledgeStatus.active, max_length=20)
    ended_on: date | None = None
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
