"""The formula language of rule files: safe arithmetic over named metrics, exact in Decimal.

Used by `method: formula` items, `scoring.total.formula`, bonus conditions (`when:`) and,
through `compile_condition`, by the outcome rules (vetoes, designations).

What a formula may contain (anything else is refused at load time, at its character):

    numbers         3   0.7   1e3              exact decimals (0.7*x + 0.3*y has no float error)
    names           入党积极分子比例   activist_ratio   基础项   党员大会_未完成
    arithmetic      +  -  *  /   unary -         (no ** powers, no // or %)
    comparisons     <  <=  >  >=  ==  !=        chains allowed: 60 <= x < 90
    logic           and  or  not
    conditional     x if 条件 else y
    functions       min(a, b, …)  max(a, b, …)  abs(x)  round(x)  round(x, n)  (half up, 四舍五入)
                    ceil(x)  floor(x)  clamp(x, lo, hi)  if_(条件, a, b)

Not allowed: attribute access (a.b), subscripts (a[0]), `**`, lambdas, comprehensions,
strings, assignments, any name or function not listed, more than 500 characters.
Nothing in the language can loop, so every evaluation ends.

Names. The caller passes `names`: every spelling usable in the expression (an ASCII code
or a Chinese display name) mapped to a canonical key; values are looked up by that key.
The rule-file loader builds it so that:

    declared metrics       by code or by Chinese name: activist_ratio, 入党积极分子比例
    duty metrics           <duty code>__<bucket> or <duty name>_<桶名>, because "." would be
                           attribute access:  party_congress__missed  /  党员大会_未完成
                           buckets: owed 应完成, on_time 按期完成, late 逾期完成,
                           missed 未完成, pending 未到期, excused 免除
    attendance (党员)      attendance__present / 参会_实到 (expected 应到, present 实到,
                           leave 请假, absent 缺席)
    sections (total only)  by code or by name: basic / 基础项

Errors are `FormulaError(message, column)`: a Chinese message and the 0-based character
column in the text (the loader turns it into file:line:column). Evaluation errors
(division by zero) are `FormulaEvalError`; the scorer adds the unit to the message.

How it runs: the whitelisted tree is rewritten so names read `_v[key]` and numbers are
Decimal constants, wrapped as `lambda _v: …`, compiled once with Python's compile() and
bound with no builtins. Only nodes this module rebuilt reach compile(), so nothing outside
the whitelist can run. Measured (bench/README.md, 2 cores, Python 3.11): an evaluation
costs what the same expression hand-written in Python over Decimals costs (0.1-0.2 µs for
"(基础项 + 减分项) * 0.7 + 评议项 * 0.3"); simpleeval on the same pre-parsed tree took
3-4 µs (20-25× slower, it re-walks the tree on each call) and 12-14 µs from text, so it
is not used.
"""
from __future__ import annotations

import ast
import difflib
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    DecimalException,
    InvalidOperation,
)
from functools import cached_property
from typing import Any, Literal

__all__ = [
    "FUNCTIONS", "MAX_LENGTH", "Expression", "FormulaError", "FormulaEvalError",
    "compile_condition", "compile_expression",
]

MAX_LENGTH = 500
Kind = Literal["number", "bool"]


class FormulaError(ValueError):
    """A formula that cannot be accepted: Chinese message, 0-based column into the text."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return f"第{self.column + 1}个字符：{self.message}"


class FormulaEvalError(ArithmeticError):
    """A formula that failed on one unit's values (e.g. division by zero)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---- functions -----------------------------------------------------------------------------

_ONE = Decimal(1)


def _f_round(x: Decimal, n: Decimal = Decimal(0)) -> Decimal:
    return x.quantize(_ONE.scaleb(-int(n)), rounding=ROUND_HALF_UP)


def _f_ceil(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=ROUND_CEILING)


def _f_floor(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=ROUND_FLOOR)


def _f_clamp(x: Decimal, lo: Decimal, hi: Decimal) -> Decimal:
    if lo > hi:
        raise FormulaEvalError(f"clamp 的下限 {lo} 大于上限 {hi}")
    return lo if x < lo else min(x, hi)


def _f_if(c: bool, a: Any, b: Any) -> Any:
    return a if c else b


@dataclass(frozen=True)
class _Function:
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None
    usage: str


FUNCTIONS: dict[str, _Function] = {
    "min": _Function(min, 2, None, "min(a, b, …) 取最小值"),
    "max": _Function(max, 2, None, "max(a, b, …) 取最大值"),
    "abs": _Function(abs, 1, 1, "abs(x) 绝对值"),
    "round": _Function(_f_round, 1, 2, "round(x, n) 四舍五入保留n位小数"),
    "ceil": _Function(_f_ceil, 1, 1, "ceil(x) 向上取整"),
    "floor": _Function(_f_floor, 1, 1, "floor(x) 向下取整"),
    "clamp": _Function(_f_clamp, 3, 3, "clamp(x, 下限, 上限)"),
    "if_": _Function(_f_if, 3, 3, "if_(条件, 成立时的值, 不成立时的值)"),
}

# ---- source checks before parsing ----------------------------------------------------------

_SPECIAL_WIDE = {"×": "*", "÷": "/", "≥": ">=", "≤": "<=", "≠": "!=", "。": ".", "、": ",",
                 "“": '"', "”": '"', "‘": "'", "’": "'", "　": " ", "—": "-", "–": "-"}

_ALLOWED_TEXT = "只允许数字、名称、+ - * /、比较、and/or/not、“x if 条件 else y”和函数 " + "、".join(FUNCTIONS)


def _wide(ch: str) -> str | None:
    """The half-width spelling of a full-width character the IME typed, or None."""
    if ch in _SPECIAL_WIDE:
        return _SPECIAL_WIDE[ch]
    if "\uff01" <= ch <= "\uff5e":
        return unicodedata.normalize("NFKC", ch)
    return None


def _precheck(text: str) -> None:
    if not text.strip():
        raise FormulaError("公式为空", 0)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"公式太长：{len(text)}个字符，最多{MAX_LENGTH}个", MAX_LENGTH)
    for i, ch in enumerate(text):
        half = _wide(ch)
        if half is not None:
            raise FormulaError(f"用了全角字符“{ch}”，请改为半角“{half}”", i)
        if ch in "\t\r\n" or ch == " ":
            continue
        if not ch.isprintable():
            raise FormulaError(f"公式中有不可见的控制字符 U+{ord(ch):04X}", i)
    for i, ch in enumerate(text):
        if ch == "=" and (i == 0 or text[i - 1] not in "=<>!") and text[i + 1:i + 2] != "=":
            raise FormulaError("公式中不能赋值；比较相等请写“==”", i)
        if ch in "'\"":
            raise FormulaError("公式中不能有文本（引号）", i)
        if ch == "[":
            raise FormulaError("公式中不能用方括号“[ ]”（不支持下标和列表）", i)
        if ch == "{":
            raise FormulaError("公式中不能用花括号“{ }”", i)
        if ch in ";:@\\`$?":
            raise FormulaError(f"公式中不能有“{ch}”", i)


_SYNTAX_HINTS = [
    ("was never closed", "括号没有闭合，缺少右括号“)”"),
    ("unmatched ')'", "多了一个右括号“)”"),
    ("does not match opening parenthesis", "括号不配对"),
    ("unexpected EOF", "公式不完整（末尾缺少运算数）"),
    ("invalid decimal literal", "数字写法有误（数字后不能紧跟字母或汉字，乘法请写“*”）"),
    ("leading zeros", "数字不能以0开头（如 07），请去掉前导0"),
    ("expected 'else'", "条件式要写完整：x if 条件 else y"),
    ("invalid character", "公式中有不能识别的字符"),
    ("unterminated", "公式中有未闭合的引号"),
]


def _syntax_error(text: str, exc: SyntaxError) -> FormulaError:
    problem = str(exc.msg)
    column = exc.offset - 1 if exc.offset and exc.offset > 0 else len(text.rstrip())
    column = max(0, min(column, max(len(text) - 1, 0)))
    for needle, chinese in _SYNTAX_HINTS:
        if needle in problem:
            return FormulaError(f"公式语法错误：{chinese}", column)
    if 0 < column < len(text) and text[column - 1].isdigit() and (text[column].isalpha() or text[column] == "_"):
        return FormulaError("公式语法错误：数字后不能紧跟名称，乘法请写“*”，如 2 * x", column)
    if exc.offset == 0 or column >= len(text.rstrip()):
        return FormulaError("公式语法错误：公式不完整（末尾缺少运算数或右括号）", column)
    return FormulaError("公式语法错误：此处缺少运算符或运算数（乘法请写“*”，如 2 * x）", column)


# ---- the whitelist walk --------------------------------------------------------------------

_BINOPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_REFUSED_BINOPS: dict[type[ast.operator], tuple[str, str]] = {
    ast.Pow: ("**", "不支持乘方“**”（需要平方请写 x * x）"),
    ast.FloorDiv: ("//", "不支持整除“//”（请用 floor(a / b)）"),
    ast.Mod: ("%", "不支持取余“%”（百分数请写小数，如 30% 写 0.3）"),
    ast.MatMult: ("@", "不支持“@”"),
    ast.BitAnd: ("&", "不支持“&”，“并且”请写 and"),
    ast.BitOr: ("|", "不支持“|”，“或者”请写 or"),
    ast.BitXor: ("^", "不支持“^”（也不支持乘方）"),
    ast.LShift: ("<<", "不支持“<<”"),
    ast.RShift: (">>", "不支持“>>”"),
}
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_NODE_WORDS: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda 函数", ast.ListComp: "列表推导", ast.SetComp: "集合推导",
    ast.DictComp: "字典推导", ast.GeneratorExp: "生成器表达式", ast.List: "列表", ast.Tuple: "元组",
    ast.Dict: "字典", ast.Set: "集合", ast.Subscript: "下标 [ ]", ast.Starred: "星号展开",
    ast.NamedExpr: "赋值“:=”", ast.JoinedStr: "文本", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Slice: "切片",
}


@dataclass
class _Walk:
    text: str
    names: Mapping[str, str]
    byte_to_char: list[int]
    used: dict[str, None] = field(default_factory=dict)          # canonical keys, in order
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, key) of names
    constants: list[Decimal] = field(default_factory=list)
    name_counts: dict[str, int] = field(default_factory=dict)
    node_values: dict[int, str | Decimal] = field(default_factory=dict)   # id(source node) → key/number
    negated: list[tuple[str, int]] = field(default_factory=list)   # names subtracted or negated: (key, column)

    def col(self, node: ast.AST) -> int:
        return self.byte_to_char[getattr(node, "col_offset", 0)]

    def end(self, node: ast.AST) -> int:
        return self.byte_to_char[getattr(node, "end_col_offset", 0) or 0]

    def op_col(self, left: ast.AST, right: ast.AST, token: str) -> int:
        start, stop = self.end(left), self.col(right)
        found = self.text.find(token, start, stop)
        return found if found >= 0 else start

    def known(self) -> str:
        """Usable names for a message: sections and declared metrics first, then duty metrics."""
        names = sorted(self.names, key=lambda n: ("." in self.names[n], not n.isascii(), n))
        shown = names[:60]
        more = f"…等共{len(names)}个" if len(names) > len(shown) else ""
        return "、".join(shown) + more if names else "（无）"

    def unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.names), n=1, cutoff=0.6)
        hint = f"是不是要写 {close[0]}？" if close else ""
        return f"未知的名称 {name}（{hint}可用的名称：{self.known()}）"

    # Each visit returns ("number" | "bool", rewritten node).
    def visit(self, node: ast.AST) -> tuple[Kind, ast.expr]:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BoolOp):
            kinds = [self.visit(v) for v in node.values]
            for value, (kind, _) in zip(node.values, kinds):
                self.need("bool", kind, value, "and/or 两边应是条件（比较），不是数值")
            return "bool", ast.BoolOp(op=node.op, values=[n for _, n in kinds])
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            test_kind, test = self.visit(node.test)
            self.need("bool", test_kind, node.test, "if 后面应是条件（比较），如 x >= 60")
            body_kind, body = self.visit(node.body)
            else_kind, orelse = self.visit(node.orelse)
            if body_kind != else_kind:
                raise FormulaError("条件式两个分支的类型不同：一个是数值，一个是条件", self.col(node.orelse))
            return body_kind, ast.IfExp(test=test, body=body, orelse=orelse)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        for node_type, word in _NODE_WORDS.items():
            if isinstance(node, node_type):
                raise FormulaError(f"公式中不能用{word}（{_ALLOWED_TEXT}）", self.col(node))
        raise FormulaError(f"公式中不能用 {type(node).__name__}（{_ALLOWED_TEXT}）", self.col(node))

    def need(self, want: Kind, got: Kind, node: ast.AST, message: str) -> None:
        if want != got:
            raise FormulaError(message, self.col(node))

    def constant(self, node: ast.Constant) -> tuple[Kind, ast.expr]:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise FormulaError(f"公式中不能用 {value!r}（条件请写比较，如 x > 0）", self.col(node))
        if isinstance(value, str | bytes):
            raise FormulaError("公式中不能有文本", self.col(node))
        if isinstance(value, complex):
            raise FormulaError("公式中不能有复数（数字后的 j）", self.col(node))
        source = self.text[self.col(node):self.end(node)]
        try:
            number = Decimal(source.replace("_", ""))
        except InvalidOperation:
            number = Decimal(repr(value))
        if not number.is_finite() or (number and abs(number.adjusted()) > 15):
            raise FormulaError(f"数字 {source} 太大或太小（最多15位）", self.col(node))
        self.constants.append(number)
        self.node_values[id(node)] = number
        return "number", ast.Name(id=f"_k{len(self.constants) - 1}", ctx=ast.Load())

    def name(self, node: ast.Name) -> tuple[Kind, ast.expr]:
        start, stop = self.col(node), self.end(node)
        spelled = self.text[start:stop]
        if spelled != node.id:
            raise FormulaError(f"名称 {spelled} 含有会被改写的字符（如全角字母），请改为 {node.id}", start)
        if node.id in FUNCTIONS:
            raise FormulaError(f"{node.id} 是函数，应写成 {FUNCTIONS[node.id].usage}", start)
        key = self.names.get(node.id)
        if key is None:
            raise FormulaError(self.unknown(node.id), start)
        self.used.setdefault(key, None)
        self.spans.append((start, stop, key))
        self.name_counts[key] = self.name_counts.get(key, 0) + 1
        self.node_values[id(node)] = key
        return "number", ast.Subscript(value=ast.Name(id="_v", ctx=ast.Load()),
                                       slice=ast.Constant(value=key), ctx=ast.Load())

    def binop(self, node: ast.BinOp) -> tuple[Kind, ast.expr]:
        refused = _REFUSED_BINOPS.get(type(node.op))
        if refused is not None:
            token, message = refused
            raise FormulaError(message, self.op_col(node.left, node.right, token))
        symbol = _BINOPS[type(node.op)]
        if isinstance(node.op, ast.Sub) and isinstance(node.right, ast.Name):
            self.negated.append((self.names.get(node.right.id, ""), self.col(node.right)))
        left_kind, left = self.visit(node.left)
        right_kind, right = self.visit(node.right)
        for side, kind in ((node.left, left_kind), (node.right, right_kind)):
            self.need("number", kind, side,
                      f"“{symbol}”的两边应是数值；条件不能直接参与计算，请写成 (1 if 条件 else 0)")
        return "number", ast.BinOp(left=left, op=node.op, right=right)

    def unary(self, node: ast.UnaryOp) -> tuple[Kind, ast.expr]:
        kind, operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            self.need("bool", kind, node.operand, "not 后面应是条件（比较），不是数值")
            return "bool", ast.UnaryOp(op=node.op, operand=operand)
        if isinstance(node.op, ast.Invert):
            raise FormulaError("不支持“~”", self.col(node))
        self.need("number", kind, node.operand, "负号后面应是数值，不是条件")
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Name):
            self.negated.append((self.names.get(node.operand.id, ""), self.col(node.operand)))
        return "number", ast.UnaryOp(op=node.op, operand=operand)

    def compare(self, node: ast.Compare) -> tuple[Kind, ast.expr]:
        parts = [node.left, *node.comparators]
        rewritten: list[ast.expr] = []
        for part in parts:
            kind, new = self.visit(part)
            self.need("number", kind, part, "比较的两边应是数值")
            rewritten.append(new)
        for op, right in zip(node.ops, node.comparators):
            if not isinstance(op, _CMPOPS):
                word = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}.get(type(op), "")
                raise FormulaError(f"不支持“{word}”比较，只能用 < <= > >= == !=", self.col(right))
        return "bool", ast.Compare(left=rewritten[0], ops=node.ops, comparators=rewritten[1:])

    def call(self, node: ast.Call) -> tuple[Kind, ast.expr]:
        func = node.func
        if not isinstance(func, ast.Name):
            raise FormulaError(f"只能调用这些函数：{'、'.join(FUNCTIONS)}", self.col(func))
        spec = FUNCTIONS.get(func.id)
        if spec is None:
            what = "是指标，不是函数" if func.id in self.names else "是未知的函数"
            raise FormulaError(f"{func.id} {what}（可用的函数：{'、'.join(FUNCTIONS)}）", self.col(func))
        if node.keywords:
            raise FormulaError(f"函数 {func.id} 不接受“名称=值”形式的参数", self.col(node.keywords[0].value) - 1)
        args = node.args
        n = len(args)
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            raise FormulaError(f"函数 {func.id} 的参数个数不对（{n}个），用法：{spec.usage}", self.col(func))
        visited = [self.visit(arg) for arg in args]
        if func.id == "if_":
            self.need("bool", visited[0][0], args[0], "if_ 的第一个参数应是条件（比较）")
            if visited[1][0] != visited[2][0]:
                raise FormulaError("if_ 的后两个参数类型不同：一个是数值，一个是条件", self.col(args[2]))
            kind: Kind = visited[1][0]
        else:
            for arg, (arg_kind, _) in zip(args, visited):
                self.need("number", arg_kind, arg, f"函数 {func.id} 的参数应是数值，不是条件")
            kind = "number"
        if func.id == "round" and n == 2:
            digits = args[1]
            if not (isinstance(digits, ast.Constant) and type(digits.value) is int and 0 <= digits.value <= 6):
                raise FormulaError("round 的第二个参数应是0到6的整数（保留的小数位数）", self.col(digits))
        return kind, ast.Call(func=ast.Name(id=f"_f_{func.id}", ctx=ast.Load()),
                              args=[new for _, new in visited], keywords=[])

    def attribute(self, node: ast.Attribute) -> tuple[Kind, ast.expr]:
        dot = self.text.find(".", self.end(node.value))
        column = dot if dot >= 0 else self.col(node)
        hint = "职责指标请写成“职责代码__桶”或“职责名称_桶名”，如 party_congress__missed 或 党员大会_未完成"
        if isinstance(node.value, ast.Name):
            for joined in (f"{node.value.id}__{node.attr}", f"{node.value.id}_{node.attr}"):
                if joined in self.names:
                    hint = f"请写成 {joined}"
                    break
        raise FormulaError(f"公式中不能用“.”取属性；{hint}", column)


# ---- compiled expressions ------------------------------------------------------------------

_GLOBALS_BASE: dict[str, Any] = {"__builtins__": {}}
_GLOBALS_BASE.update({f"_f_{name}": spec.impl for name, spec in FUNCTIONS.items()})


@dataclass(frozen=True, eq=False)
class Expression:
    """A compiled formula. `names`: the canonical keys it reads, in order of first use."""

    text: str
    where: str
    kind: Kind
    names: tuple[str, ...]
    tree: ast.expr = field(repr=False)                            # the checked source tree
    spans: tuple[tuple[int, int, str], ...] = field(repr=False)  # where each name is written
    counts: Mapping[str, int] = field(repr=False)
    node_values: Mapping[int, str | Decimal] = field(repr=False)
    negated: tuple[tuple[str, int], ...] = field(repr=False)      # (key, column) of names after "-"
    _run: Callable[[Mapping[str, Any]], Any] = field(repr=False)

    def evaluate(self, values: Mapping[str, Decimal]) -> Decimal | bool:
        """The value for one set of inputs (Decimals keyed by canonical key)."""
        try:
            return self._run(values)
        except (ZeroDivisionError, InvalidOperation) as exc:
            causes = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
            if isinstance(exc, ZeroDivisionError) or any("Division" in c.__name__ for c in causes):
                raise FormulaEvalError(f"{self.where}除数为0：{self.substitute(values)}") from None
            raise FormulaEvalError(f"{self.where}无法计算：{self.substitute(values)}") from None
        except DecimalException:
            raise FormulaEvalError(f"{self.where}数值超出范围，无法计算：{self.substitute(values)}") from None
        except KeyError as exc:
            raise FormulaEvalError(f"{self.where}缺少 {exc.args[0]} 的值") from None
        except TypeError:
            if all(type(values[k]) is Decimal for k in self.names if k in values):
                raise
            return self.evaluate({k: _to_decimal(values[k]) for k in self.names if k in values})

    def substitute(self, values: Mapping[str, Any], show: Callable[[Any], str] | None = None) -> str:
        """The text with each name replaced by its value: "(92 - 3) * 0.7 + 80 * 0.3"."""
        shown = show or _plain
        get = values.get
        pieces = self._pieces
        out = [pieces[0]]
        for key, piece in zip(self._span_keys, pieces[1:]):
            value = get(key)
            out.append("?" if value is None else shown(value))
            out.append(piece)
        return "".join(out)

    @cached_property
    def _span_keys(self) -> tuple[str, ...]:
        return tuple(key for _, _, key in self.spans)

    @cached_property
    def _pieces(self) -> tuple[str, ...]:
        """The text between names: len(spans) + 1 pieces."""
        found = []
        at = 0
        for start, stop, _ in self.spans:
            found.append(self.text[at:start])
            at = stop
        found.append(self.text[at:])
        return tuple(found)

    def range(self, bounds: Mapping[str, tuple[Decimal | None, Decimal | None]]) -> tuple[Decimal | None, Decimal | None] | None:
        """Exact lowest and highest value over the names' (low, high) ranges (None = unbounded),
        or None when not exactly computable (a name used twice, conditions, division through
        zero): interval arithmetic is exact only when each name occurs once."""
        if self.kind != "number" or any(n > 1 for n in self.counts.values()):
            return None
        try:
            low, high = _interval(self.tree, self, bounds)
        except _NoRange:
            return None
        return (None if low == -_INF else low), (None if high == _INF else high)


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(value)


def _to_decimal(value: Any) -> Decimal:
    if type(value) is Decimal:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise FormulaEvalError(f"值不是数字：{value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormulaEvalError(f"值不是有限的数字：{value}")
        return Decimal(repr(value))
    return Decimal(value)


def _byte_columns(text: str) -> list[int]:
    """byte offset (as in ast col_offset, UTF-8) → character column."""
    table: list[int] = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8")))
    table.append(len(text))
    return table


def compile_expression(text: str, *, names: Mapping[str, str], where: str,
                       expect: Kind | None = None) -> Expression:
    """Parse, check and compile once; evaluate many times. `expect` ("number" or "bool")
    refuses the other kind of result. Raises FormulaError(message, column)."""
    if not isinstance(text, str):
        raise FormulaError(f"公式应为文本，实际为 {text!r}", 0)
    _precheck(text)
    source = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    try:
        tree = ast.parse(source.strip(" "), mode="eval")
    except SyntaxError as exc:
        if exc.offset:
            exc.offset += len(source) - len(source.lstrip(" "))
        raise _syntax_error(text, exc) from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("公式无法解析", 0) from None
    body = tree.body
    lead = len(source) - len(source.lstrip(" "))
    walk = _Walk(text=source, names=names, byte_to_char=[c + lead for c in _byte_columns(source.strip(" "))])
    try:
        kind, rewritten = walk.visit(body)
    except RecursionError:
        raise FormulaError("公式嵌套太深", 0) from None
    if expect is not None and kind != expect:
        if expect == "bool":
            raise FormulaError("这里应是条件（比较，如 x >= 60），结果不能是数值", 0)
        raise FormulaError("这里应是数值，结果不能是条件（比较）；需要时写成 (1 if 条件 else 0)", 0)
    # `lambda _v: <checked tree>`, compiled once: calling it costs what the same expression
    # written by hand in Python over Decimals costs.
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg="_v")], kwonlyargs=[], kw_defaults=[],
                              defaults=[])
    module = ast.Expression(body=ast.Lambda(args=arguments, body=rewritten))
    ast.fix_missing_locations(module)
    scope = dict(_GLOBALS_BASE)
    scope.update({f"_k{i}": value for i, value in enumerate(walk.constants)})
    run = eval(compile(module, f"<公式 {where}>", "eval"), scope)
    return Expression(
        text=text, where=where, kind=kind, names=tuple(walk.used), tree=body,
        spans=tuple(walk.spans), counts=dict(walk.name_counts),
        node_values=dict(walk.node_values), negated=tuple(walk.negated), _run=run,
    )


def compile_condition(text: str, *, names: Mapping[str, str], where: str) -> Expression:
    """A formula that must yield true/false (vetoes, designations, bonus `when:`)."""
    return compile_expression(text, names=names, where=where, expect="bool")


# ---- interval arithmetic for bounds ---------------------------------------------------------

_INF = Decimal("Infinity")


class _NoRange(Exception):
    pass


def _mul(a: Decimal, b: Decimal) -> Decimal:
    if a == 0 or b == 0:
        return Decimal(0)
    return a * b


def _interval(node: ast.AST, expr: Expression, bounds: Mapping[str, tuple[Decimal | None, Decimal | None]]
              ) -> tuple[Decimal, Decimal]:
    if isinstance(node, ast.Constant):
        value = expr.node_values[id(node)]
        assert isinstance(value, Decimal)
        return value, value
    if isinstance(node, ast.Name):
        key = expr.node_values[id(node)]
        assert isinstance(key, str)
        low, high = bounds.get(key, (None, None))
        return (-_INF if low is None else low), (_INF if high is None else high)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        low, high = _interval(node.operand, expr, bounds)
        return (-high, -low) if isinstance(node.op, ast.USub) else (low, high)
    if isinstance(node, ast.BinOp):
        a, b = _interval(node.left, expr, bounds), _interval(node.right, expr, bounds)
        if isinstance(node.op, ast.Add):
            return a[0] + b[0], a[1] + b[1]
        if isinstance(node.op, ast.Sub):
            return a[0] - b[1], a[1] - b[0]
        if isinstance(node.op, ast.Mult):
            products = [_mul(x, y) for x in a for y in b]
            return min(products), max(products)
        if isinstance(node.op, ast.Div):
            if b[0] <= 0 <= b[1]:
                raise _NoRange
            quotients = [(_mul(x, 1 / y) if y.is_finite() else Decimal(0)) for x in a for y in b]
            return min(quotients), max(quotients)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_interval(arg, expr, bounds) for arg in node.args]
        name = node.func.id
        if name == "min":
            return min(x[0] for x in args), min(x[1] for x in args)
        if name == "max":
            return max(x[0] for x in args), max(x[1] for x in args)
        if name == "abs":
            low, high = args[0]
            if low >= 0:
                return low, high
            if high <= 0:
                return -high, -low
            return Decimal(0), max(-low, high)
        if name in ("round", "ceil", "floor"):
            low, high = args[0]
            digits = int(args[1][0]) if len(args) > 1 else 0
            wrap: Callable[[Decimal], Decimal] = (
                (lambda v: _f_round(v, Decimal(digits))) if name == "round"
                else _f_ceil if name == "ceil" else _f_floor
            )
            return (low if not low.is_finite() else wrap(low)), (high if not high.is_finite() else wrap(high))
        if name == "clamp":
            (x_lo, x_hi), (lo_lo, lo_hi), (hi_lo, hi_hi) = args
            if lo_lo != lo_hi or hi_lo != hi_hi:
                raise _NoRange
            return min(max(x_lo, lo_lo), hi_lo), min(max(x_hi, lo_lo), hi_lo)
    raise _NoRange
