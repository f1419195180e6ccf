"""The formula language (rules.formula): exact Decimal arithmetic over named metrics,
comparisons, conditionals and listed functions; everything else refused at its character
with a Chinese message; and `method: formula` items built on it."""
from __future__ import annotations

from decimal import Decimal

import pytest

from rules.formula import FormulaError, FormulaEvalError, compile_condition, compile_expression
from rules.metrics import InvalidMetrics
from tests.rules.test_methods_texts import at, issues_of, line, rules, score

NAMES = {"基础项": "section:basic", "basic": "section:basic", "减分项": "section:minus", "评议项": "section:review",
         "平均年龄": "avg_age", "avg_age": "avg_age", "party_congress__missed": "party_congress.missed",
         "党员大会_未完成": "party_congress.missed"}
D = Decimal


def value(text: str, **values: float) -> Decimal | bool:
    expression = compile_expression(text, names=NAMES, where="测试")
    keyed = {NAMES[k]: D(str(v)) for k, v in values.items()}
    return expression.evaluate(keyed)


def refused(text: str, names: dict[str, str] = NAMES) -> tuple[int, str]:
    with pytest.raises(FormulaError) as caught:
        compile_expression(text, names=names, where="测试")
    return caught.value.column, caught.value.message


def test_weighted_total_is_exact_decimal_arithmetic() -> None:
    assert value("(基础项 - 减分项) * 0.7 + 评议项 * 0.3", 基础项=92, 减分项=3, 评议项=80) == D("86.3")
    assert value("0.1 + 0.2") == D("0.3")
    assert value("basic * 0.7", basic=89.9) == D("62.93")


def test_functions_comparisons_and_conditionals() -> None:
    assert value("10 - max(0, 平均年龄 - 45) * 0.5", 平均年龄=48) == D("8.5")
    assert value("min(1, 2, 3) + abs(-2) + clamp(15, 0, 10) + ceil(1.2) + floor(1.8)") == 16
    assert value("round(2.345, 2)") == D("2.35") and value("round(2.5)") == 3          # half up, 四舍五入
    assert value("5 if 党员大会_未完成 == 0 else 0", 党员大会_未完成=1) == 0
    assert value("if_(60 <= 评议项 < 90, 1, 2)", 评议项=75) == 1
    assert value("not (基础项 > 60) or 评议项 >= 90", 基础项=70, 评议项=95) is True


def test_names_are_resolved_to_canonical_keys_once() -> None:
    expression = compile_expression("党员大会_未完成 + party_congress__missed + 平均年龄", names=NAMES, where="x")
    assert expression.names == ("party_congress.missed", "avg_age")
    assert expression.kind == "number"
    many = [expression.evaluate({"party_congress.missed": D(n), "avg_age": D(40)}) for n in range(3)]
    assert many == [40, 42, 44]


def test_a_condition_must_be_a_comparison_and_yields_a_bool() -> None:
    condition = compile_condition("党员大会_未完成 >= 1 and 基础项 < 60", names=NAMES, where="否决项")
    assert condition.evaluate({"party_congress.missed": D(2), "section:basic": D(50)}) is True
    column, message = refused_condition("基础项 * 2")
    assert (column, message) == (0, "这里应是条件（比较，如 x >= 60），结果不能是数值")


def refused_condition(text: str) -> tuple[int, str]:
    with pytest.raises(FormulaError) as caught:
        compile_condition(text, names=NAMES, where="x")
    return caught.value.column, caught.value.message


@pytest.mark.parametrize(("text", "column", "message"), [
    ("基础项 ** 2", 4, "不支持乘方“**”（需要平方请写 x * x）"),
    ("基础项.real", 3, "公式中不能用“.”取属性；职责指标请写成“职责代码__桶”或“职责名称_桶名”，如 party_congress__missed 或 党员大会_未完成"),
    ("party_congress.missed + 1", 14, "公式中不能用“.”取属性；请写成 party_congress__missed"),
    ("基础项[0]", 3, "公式中不能用方括号“[ ]”（不支持下标和列表）"),
    ("lambda x: x", 8, "公式中不能有“:”"),
    ("'基础项'", 0, "公式中不能有文本（引号）"),
    ("sum(x for x in 基础项)", 0, "sum 是未知的函数（可用的函数：min、max、abs、round、ceil、floor、clamp、if_）"),
    ("基础项 × 0.7", 4, "用了全角字符“×”，请改为半角“*”"),
    ("（基础项 + 1）", 0, "用了全角字符“（”，请改为半角“(”"),
    ("基础项，1", 3, "用了全角字符“，”，请改为半角“,”"),
    ("基础项 = 1", 4, "公式中不能赋值；比较相等请写“==”"),
    ("(基础项 + 1", 0, "公式语法错误：括号没有闭合，缺少右括号“)”"),
    ("基础项 +", 4, "公式语法错误：公式不完整（末尾缺少运算数或右括号）"),
    ("2基础项", 1, "公式语法错误：数字后不能紧跟名称，乘法请写“*”，如 2 * x"),
    ("基础项 // 2", 4, "不支持整除“//”（请用 floor(a / b)）"),
    ("基础项 % 2", 4, "不支持取余“%”（百分数请写小数，如 30% 写 0.3）"),
    ("基础项 if 基础项 else 0", 7, "if 后面应是条件（比较），如 x >= 60"),
    ("(基础项 > 1) + 1", 1, "“+”的两边应是数值；条件不能直接参与计算，请写成 (1 if 条件 else 0)"),
    ("max(基础项)", 0, "函数 max 的参数个数不对（1个），用法：max(a, b, …) 取最大值"),
    ("round(基础项, 1.5)", 11, "round 的第二个参数应是0到6的整数（保留的小数位数）"),
    ("基础项(1)", 0, "基础项 是指标，不是函数（可用的函数：min、max、abs、round、ceil、floor、clamp、if_）"),
    ("True", 0, "公式中不能用 True（条件请写比较，如 x > 0）"),
])
def test_refused_constructs_point_at_their_character(text: str, column: int, message: str) -> None:
    assert refused(text) == (column, message)


def test_unknown_names_list_the_known_ones_and_suggest_the_closest() -> None:
    column, message = refused("评议项 * 0.3 + 基础分")
    assert column == 12
    assert message.startswith("未知的名称 基础分（是不是要写 基础项？可用的名称：")
    assert "平均年龄" in message and "party_congress__missed" in message


def test_length_is_capped_at_500_characters() -> None:
    assert refused("1 + " * 125 + "1") == (500, "公式太长：501个字符，最多500个")


def test_division_by_zero_is_a_clear_error_at_evaluation() -> None:
    expression = compile_expression("基础项 / 减分项", names=NAMES, where="总分公式")
    with pytest.raises(FormulaEvalError) as caught:
        expression.evaluate({"section:basic": D(80), "section:minus": D(0)})
    assert caught.value.message == "总分公式除数为0：80 / 0"


def test_the_range_of_a_formula_is_exact_when_each_name_appears_once() -> None:
    expression = compile_expression("(基础项 + 减分项) * 0.7 + 评议项 * 0.3", names=NAMES, where="x")
    bounds = {"section:basic": (D(0), D(70)), "section:minus": (D(-10), D(0)), "section:review": (D(0), D(30))}
    assert expression.range(bounds) == (D("-7.0"), D("58.0"))
    assert compile_expression("基础项 - 基础项", names=NAMES, where="x").range(bounds) is None
    assert compile_expression("基础项 + 评议项", names=NAMES, where="x").range(
        {"section:basic": (D(0), None), "section:review": (D(0), D(30))}) == (D(0), None)


AGE = """\
  - {code: avg_age, name: 班子平均年龄, unit: 岁, min: 18, max: 100}
"""


def test_a_formula_item_states_the_formula_with_the_numbers_substituted() -> None:
    text = rules('        - {code: age, name: 班子年龄结构, max: 10, method: formula, expr: "10 - max(0, 班子平均年龄 - 45) * 0.5"}\n',
                 metrics=AGE)
    result = line(score(text, {"avg_age": 48.0}), "age")
    assert (result.points, result.reason) == (
        8.5, "按公式 10 - max(0, 班子平均年龄 - 45) * 0.5 计算：10 - max(0, 48 - 45) * 0.5 = 8.5；得8.5分（满分10分）")
    assert line(score(text, {"avg_age": 70.0}), "age").points == 0          # clamped at floor 0
    assert "低于最低分按0分计" in line(score(text, {"avg_age": 70.0}), "age").reason


def test_a_formula_item_is_rounded_and_clamped_to_its_max() -> None:
    text = rules('        - {code: hours, name: 学时, max: 4, method: formula, expr: "班子平均年龄 / 3", digits: 1}\n',
                 metrics=AGE)
    assert line(score(text, {"avg_age": 20.0}), "hours").points == 4
    assert "超过满分按4分计" in line(score(text, {"avg_age": 20.0}), "hours").reason
    lower = rules('        - {code: hours, name: 学时, max: 10, method: formula, expr: "班子平均年龄 / 3", digits: 1}\n',
                  metrics=AGE)
    assert "= 6.666666666666666666666666667，保留1位小数为6.7" in line(score(lower, {"avg_age": 20.0}), "hours").reason


def test_a_formula_item_dividing_by_zero_names_the_unit() -> None:
    text = rules('        - {code: x, name: 比, max: 4, method: formula, expr: "4 / (班子平均年龄 - 45)"}\n', metrics=AGE)
    with pytest.raises(InvalidMetrics) as caught:
        score(text, {"avg_age": 45.0}, unit="branch-5")
    assert caught.value.message == "单位 branch-5 的评分条目 x：条目 x 的公式除数为0：4 / (45 - 45)"


def test_formula_errors_in_a_rule_file_point_at_the_file_line_and_character() -> None:
    text = rules("""\
        - {code: a, name: 甲, max: 4, method: formula, expr: "班子平均年龄 ** 2"}
        - {code: b, name: 乙, max: 4, method: formula, expr: 班子平均年龄 × 2}
        - code: c
          name: 丙
          max: 4
          method: formula
          expr: 班子平均年龄 + 平均年纪
""", metrics=AGE)
    power, wide, unknown = issues_of(text)
    assert power == f"{at(text, '**')}: 不支持乘方“**”（需要平方请写 x * x）"
    assert wide == f"{at(text, '×')}: 用了全角字符“×”，请改为半角“*”"
    assert unknown.startswith(f"{at(text, '平均年纪')}: 未知的名称 平均年纪（是不是要写 班子平均年龄？"
                              "可用的名称：avg_age、班子平均年龄、party_congress__excused、")
    assert "党员大会_未完成" in unknown
