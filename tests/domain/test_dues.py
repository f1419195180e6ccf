"""党费 amounts and payment rules, pure: every amount below can be checked by hand."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from dangjian.domain.dues import (
    TABLES_FILE,
    DueState,
    ExemptionRecord,
    IncomeRecord,
    MemberFacts,
    Month,
    balances,
    business_base,
    check_income,
    default_tables,
    load_tables,
    monthly_dues,
    owed_months,
    parse_amount,
    parse_months,
    plan_payment,
)
from dangjian.errors import ValidationFailed
from models import ExemptionKind, IncomeKind, MemberCategory, MemberStatus, PaymentMode

TABLE = default_tables().latest
TABLES = default_tables()


def dues(kind: IncomeKind, base: str) -> D:
    return monthly_dues(kind, D(base), TABLE).amount


# ---------------------------------------------------------------- tiers

def test_in_service_base_4800_pays_one_percent_48_yuan() -> None:
    assert dues(IncomeKind.salary, "4800") == D("48.00")


def test_in_service_base_5000_is_still_in_the_one_percent_tier_50_yuan() -> None:
    assert dues(IncomeKind.salary, "5000") == D("50.00")


def test_one_fen_above_5000_takes_one_and_a_half_percent_of_the_whole_base_75_yuan() -> None:
    assert dues(IncomeKind.salary, "5000.01") == D("75.00")


@pytest.mark.parametrize(("base", "expected"), [
    ("2000", "10.00"),      # 0.5%
    ("3000", "15.00"),      # 3000 is the top of the 0.5% tier
    ("3000.01", "30.00"),   # 1%
    ("10000", "150.00"),    # 1.5%
    ("10000.01", "200.00"),  # 2%
    ("0", "0.00"),
])
def test_in_service_tier_edges_are_inclusive_at_the_top(base: str, expected: str) -> None:
    assert dues(IncomeKind.salary, base) == D(expected)


def test_retired_pension_5200_pays_one_percent_52_yuan() -> None:
    assert dues(IncomeKind.pension, "5200") == D("52.00")


def test_retired_pension_5000_pays_half_a_percent_25_yuan() -> None:
    assert dues(IncomeKind.pension, "5000") == D("25.00")


def test_amounts_round_half_up_to_the_fen() -> None:
    assert dues(IncomeKind.salary, "1235") == D("6.18")      # 6.175 → 6.18
    assert dues(IncomeKind.salary, "1234.56") == D("6.17")   # 6.1728 → 6.17
    assert dues(IncomeKind.salary, "2999.99") == D("15.00")  # 14.99995 → 15.00


def test_business_owner_pays_in_service_rates_on_last_quarters_average() -> None:
    base = business_base([D(4000), D(5000), D(6000)], TABLE)
    assert base == D("5000.00")
    assert dues(IncomeKind.business, str(base)) == D("50.00")


def test_explanation_names_the_tier_and_rate() -> None:
    text = monthly_dues(IncomeKind.salary, D(4800), TABLE).explanation
    assert "3000元以上至5000元（含）" in text and "1%" in text and "48.00元" in text


def test_the_tiers_come_from_the_data_file_with_their_source() -> None:
    assert TABLES_FILE.name == "dues_2008.yaml"
    assert TABLE.version == "2008"
    assert "关于中国共产党党费收缴、使用和管理的规定" in TABLE.source
    assert [str(t.rate) for t in TABLE.schedules["salary"].tiers] == ["0.005", "0.01", "0.015", "0.02"]


def test_a_later_table_version_applies_from_its_month(tmp_path: Path) -> None:
    text = TABLES_FILE.read_text(encoding="utf-8")
    later = text.split("tables:\n", 1)[1].replace('version: "2008"', 'version: "2030"').replace(
        'effective_from: "2008-04"', 'effective_from: "2030-01"').replace('{rate: "0.02"}', '{rate: "0.03"}')
    path = tmp_path / "dues.yaml"
    path.write_text(text + later, encoding="utf-8")
    tables = load_tables(path)
    assert monthly_dues(IncomeKind.salary, D(20000), tables.for_month(Month(2029, 12))).amount == D("400.00")
    assert monthly_dues(IncomeKind.salary, D(20000), tables.for_month(Month(2030, 1))).amount == D("600.00")


def test_a_tier_table_out_of_order_is_refused(tmp_path: Path) -> None:
    text = TABLES_FILE.read_text(encoding="utf-8").replace('{up_to: "5000", rate: "0.01"}',
                                                           '{up_to: "2000", rate: "0.01"}', 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed, match="递增"):
        load_tables(path)


# ---------------------------------------------------------------- fixed amounts

def test_farmer_fixed_amount_lies_between_20_fen_and_1_yuan() -> None:
    assert check_income(IncomeKind.fixed, D("0.50"), MemberCategory.farmer, TABLE, who="党员甲") == []
    assert check_income(IncomeKind.fixed, D("1.00"), MemberCategory.farmer, TABLE, who="党员甲") == []
    problems = check_income(IncomeKind.fixed, D("1.50"), MemberCategory.farmer, TABLE, who="党员甲")
    assert problems and "党员甲" in problems[0] and "0.20元 至 1.00元" in problems[0]


def test_student_pays_20_fen_and_no_other_fixed_amount() -> None:
    assert check_income(IncomeKind.fixed, D("0.20"), MemberCategory.student, TABLE, who="党员乙") == []
    problems = check_income(IncomeKind.fixed, D("0.50"), MemberCategory.student, TABLE, who="党员乙")
    assert problems and "0.20元" in problems[0]


def test_laid_off_member_cannot_be_registered_on_a_salary() -> None:
    problems = check_income(IncomeKind.salary, D(3000), MemberCategory.laid_off, TABLE, who="党员丙")
    assert problems and "fixed" in problems[0]


# ---------------------------------------------------------------- months owed

def facts(**kw: object) -> MemberFacts:
    base: dict[str, object] = {"member_id": "M1", "name": "张三", "category": MemberCategory.in_service,
                               "status": MemberStatus.full, "joined_on": date(2010, 7, 1)}
    base.update(kw)
    return MemberFacts(**base)  # type: ignore[arg-type]


def year(y: int = 2026) -> list[Month]:
    return [Month(y, m) for m in range(1, 13)]


def test_salary_change_applies_from_the_first_month_of_the_new_pay() -> None:
    f = facts(incomes=(IncomeRecord(Month(2026, 7), IncomeKind.salary, D(5200)),
                       IncomeRecord(Month(2025, 1), IncomeKind.salary, D(4800))))
    owed = {d.month: d.amount for d in owed_months(f, year(), TABLES)}
    assert owed[Month(2026, 6)] == D("48.00")
    assert owed[Month(2026, 7)] == D("78.00")     # 5200 × 1.5%
    assert owed[Month(2026, 12)] == D("78.00")


def test_probationary_member_pays_from_the_month_the_branch_meeting_admitted_them() -> None:
    f = facts(status=MemberStatus.probationary, joined_on=date(2026, 3, 15),
              incomes=(IncomeRecord(Month(2026, 1), IncomeKind.salary, D(4800)),))
    months = {d.month: d for d in owed_months(f, year(), TABLES)}
    assert months[Month(2026, 2)].state == DueState.not_member and months[Month(2026, 2)].amount == 0
    assert months[Month(2026, 3)].amount == D("48.00")


def test_activists_and_development_targets_owe_nothing() -> None:
    for status in (MemberStatus.activist, MemberStatus.candidate):
        months = owed_months(facts(status=status), year(), TABLES)
        assert {d.state for d in months} == {DueState.not_member}


def test_student_without_a_record_owes_20_fen_a_month() -> None:
    months = owed_months(facts(category=MemberCategory.student), year(), TABLES)
    assert {d.amount for d in months} == {D("0.20")}


def test_without_a_base_the_amount_is_unknown_not_zero() -> None:
    months = owed_months(facts(), [Month(2026, 1)], TABLES)
    assert months[0].state == DueState.unknown and months[0].amount is None


def test_exemption_and_reduction_apply_only_inside_their_months() -> None:
    f = facts(incomes=(IncomeRecord(Month(2026, 1), IncomeKind.salary, D(4800)),),
              exemptions=(ExemptionRecord(Month(2026, 3), Month(2026, 4), ExemptionKind.exempt, None, "大病"),
                          ExemptionRecord(Month(2026, 5), Month(2026, 5), ExemptionKind.reduce, D("10.00"), "困难")))
    months = {d.month: d for d in owed_months(f, year(), TABLES)}
    assert months[Month(2026, 2)].amount == D("48.00")
    assert months[Month(2026, 3)].state == DueState.exempt and months[Month(2026, 3)].amount == 0
    assert months[Month(2026, 4)].amount == 0
    assert months[Month(2026, 5)].state == DueState.reduced and months[Month(2026, 5)].amount == D("10.00")
    assert months[Month(2026, 6)].amount == D("48.00")


def test_an_exemption_holds_even_before_a_base_is_registered() -> None:
    f = facts(exemptions=(ExemptionRecord(Month(2026, 3), Month(2026, 3), ExemptionKind.exempt, None, "大病"),))
    months = {d.month: d for d in owed_months(f, year(), TABLES)}
    assert months[Month(2026, 2)].state == DueState.unknown
    assert months[Month(2026, 3)].state == DueState.exempt and months[Month(2026, 3)].amount == 0


# ---------------------------------------------------------------- payments

def owing(*months: Month, amount: str = "48.00", paid: dict[Month, str] | None = None):  # type: ignore[no-untyped-def]
    f = facts(incomes=(IncomeRecord(Month(2020, 1), IncomeKind.salary, D(4800)),))
    dues_ = owed_months(f, list(months), TABLES)
    return {b.month: b for b in balances(dues_, {m: D(v) for m, v in (paid or {}).items()})}


def plan(paid_on: date, months: list[Month], amount: str, consent: bool = False, **kw):  # type: ignore[no-untyped-def]
    return plan_payment(who="党员 张三（M1）", paid_on=paid_on, months=months, amount=D(amount),
                        balances_by_month=owing(*months, **kw), branch_consent=consent, table=TABLE)


def test_paying_the_current_month_needs_no_consent() -> None:
    p = plan(date(2026, 3, 10), [Month(2026, 3)], "48.00")
    assert p.mode == PaymentMode.monthly and p.allocations == {Month(2026, 3): D("48.00")} and p.extra == 0


def test_paying_a_quarter_needs_the_branchs_consent() -> None:
    q = parse_months("2026-01..2026-03")
    with pytest.raises(ValidationFailed) as err:
        plan(date(2026, 2, 10), q, "144.00")
    assert "按季交纳" in str(err.value) and "经党支部同意" in str(err.value) and "张三" in str(err.value)
    assert plan(date(2026, 2, 10), q, "144.00", consent=True).mode == PaymentMode.quarterly


def test_back_payment_of_six_months_is_allowed_and_seven_refused_naming_the_rule() -> None:
    p = plan(date(2026, 7, 10), [Month(2026, 1)], "48.00", consent=True)
    assert p.mode == PaymentMode.back
    with pytest.raises(ValidationFailed) as err:
        plan(date(2026, 7, 10), [Month(2025, 12), Month(2026, 1)], "96.00", consent=True)
    text = str(err.value)
    assert "2025年12月" in text and "超过6个月" in text and "预交或补交党费一般不超过6个月" in text
    assert "2026年1月 距" not in text


def test_advance_payment_up_to_six_months_ahead() -> None:
    assert plan(date(2026, 1, 10), parse_months("2026-01..2026-07"), "336.00", consent=True).mode == PaymentMode.advance
    with pytest.raises(ValidationFailed, match="2026年8月"):
        plan(date(2026, 1, 10), parse_months("2026-01..2026-08"), "384.00", consent=True)


def test_over_payment_is_a_voluntary_extra() -> None:
    p = plan(date(2026, 3, 10), [Month(2026, 3)], "100.00")
    assert p.allocations == {Month(2026, 3): D("48.00")} and p.extra == D("52.00") and not p.to_central


def test_an_extra_of_1000_yuan_or_more_is_passed_up_in_full_to_the_centre() -> None:
    assert plan(date(2026, 3, 10), [Month(2026, 3)], "1048.00").to_central
    assert not plan(date(2026, 3, 10), [Month(2026, 3)], "1047.99").to_central
    assert "全额上缴中央" in " ".join(plan(date(2026, 3, 10), [Month(2026, 3)], "1048.00").notes)


def test_paying_less_than_owed_is_refused_with_what_each_month_owes() -> None:
    with pytest.raises(ValidationFailed) as err:
        plan(date(2026, 3, 10), parse_months("2026-01..2026-03"), "100.00", consent=True)
    assert "100.00元 不足" in str(err.value) and "144.00元" in str(err.value) and "2026年1月 48.00元" in str(err.value)


def test_a_month_already_paid_up_is_refused_but_a_difference_can_be_paid() -> None:
    with pytest.raises(ValidationFailed, match="2026年3月 的党费已交清"):
        plan(date(2026, 3, 10), [Month(2026, 3)], "48.00", paid={Month(2026, 3): "48.00"})
    p = plan(date(2026, 3, 10), [Month(2026, 3)], "8.00", paid={Month(2026, 3): "40.00"})
    assert p.allocations == {Month(2026, 3): D("8.00")}


def test_amounts_are_to_the_fen() -> None:
    assert parse_amount("48", "amount") == D("48.00")
    with pytest.raises(ValidationFailed, match="精确到分"):
        parse_amount("48.005", "amount")
    with pytest.raises(ValidationFailed, match="amount"):
        parse_amount("四十八", "amount")


def test_month_lists_and_ranges() -> None:
    assert parse_months("2026-01..2026-03") == [Month(2026, 1), Month(2026, 2), Month(2026, 3)]
    assert parse_months("2026-01,2026年3月") == [Month(2026, 1), Month(2026, 3)]
    with pytest.raises(ValidationFailed, match="结束月早于开始月"):
        parse_months("2026-03..2026-01")
    with pytest.raises(ValidationFailed, match="2026-13"):
        parse_months("2026-13")
