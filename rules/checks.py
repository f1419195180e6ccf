"""Checks across the file that pydantic cannot see: duplicate codes, references to
undefined duties, metrics, items and examples, formulas (each error at its character),
grade bands that overlap or leave gaps (over the totals the rules can produce, the total
formula included where its range is computable), and what member rule sets may read.

They run on the plain data even when pydantic found errors elsewhere, so one load
reports every problem at once."""
from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from rules import bands as band_rules
from rules.duties import Duty
from rules.formula import FormulaError, compile_expression
from rules.issues import RuleIssue
from rules.methods import Item
from rules.methods.common import METRIC_REF_PATTERN
from rules.metrics import ATTENDANCE_METRICS, DUTY_METRICS, MetricDecl, formula_names, name_problem
from rules.schema import RuleSet
from rules.scoring import Band
from rules.yamltree import Path, get, locate

_BAND = TypeAdapter(Band)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def walk_sections(sections: Any, path: Path) -> Iterator[tuple[Path, dict[str, Any], bool]]:
    """(path, mapping, is_item) for every section and item of the raw tree, in file order."""
    for i, section in enumerate(_list(sections)):
        if not isinstance(section, dict):
            continue
        here = (*path, i)
        yield here, section, False
        for j, item in enumerate(_list(section.get("items"))):
            if isinstance(item, dict):
                yield (*here, "items", j), item, True
        yield from walk_sections(section.get("sections"), (*here, "sections"))


class _Report:
    def __init__(self, tree: Any, file: str, text: str = ""):
        self.tree, self.file, self.text = tree, file, text
        self.issues: list[RuleIssue] = []

    def at(self, path: Path, message: str, *, at_key: bool = False) -> None:
        line, col = locate(self.tree, path, at_key=at_key)
        self.issues.append(RuleIssue(self.file, line, col, message))

    def formula_error(self, path: Path, error: FormulaError) -> None:
        """A formula error at the character it names, inside the scalar at `path`."""
        line, col = locate(self.tree, path)
        value = get(self.tree, path)
        if isinstance(value, str) and self.text:
            line, col = scalar_position(self.text, line, col, value, error.column)
        self.issues.append(RuleIssue(self.file, line, col, error.message))

    def unique(self, entries: list[tuple[Path, Any]], what: str) -> set[str]:
        """Report repeated values; return the distinct ones."""
        first: dict[str, int] = {}
        for path, value in entries:
            if not isinstance(value, str):
                continue
            if value in first:
                self.at(path, f"重复的{what} {value}（第{first[value]}行已定义）")
            else:
                first[value] = locate(self.tree, path)[0]
        return set(first)


def scalar_position(text: str, line: int, col: int, value: str, column: int) -> tuple[int, int]:
    """1-based (line, col) in the file of character `column` of a scalar whose value starts
    at (line, col): steps over an opening quote, a block indicator (| >) and the line
    breaks and indentation YAML folds away; falls back to the scalar's start."""
    lines = text.splitlines(keepends=True)
    if not 1 <= line <= len(lines):
        return line, col
    offset = sum(len(x) for x in lines[: line - 1]) + col - 1
    j = offset
    if j < len(text) and text[j] in "|>":
        newline = text.find("\n", j)
        if newline < 0:
            return line, col
        j = newline + 1
    elif j < len(text) and text[j] in "'\"" and not value.startswith(text[j]):
        j += 1
    i = 0
    while i < column and j < len(text):
        if text[j] == value[i]:
            i += 1
            j += 1
        elif text[j] in " \t\r\n":
            j += 1
        elif value[i] in " \n":
            i += 1
        else:
            return line, col
    while j < len(text) and text[j] in " \t\r\n" and (i >= len(value) or text[j] != value[i]):
        j += 1
    before = text[:j]
    return before.count("\n") + 1, j - (before.rfind("\n") + 1) + 1


def check(doc: Any, tree: Any, file: str, model: RuleSet | None, text: str = "") -> list[RuleIssue]:
    report = _Report(tree, file, text)
    doc = _dict(doc)
    item_codes = _codes_and_references(report, doc)
    names = _declared_metrics(report, doc)
    _item_metrics(report, doc, names)
    total = _total_formula(report, doc, names)
    _item_problems(report, doc, model)
    if model is not None and total is not None:
        _negated_penalties(report, model, total)
    band_names = _grades(report, _list(_dict(doc.get("scoring")).get("grades")), model, total)
    _examples(report, _list(doc.get("examples")), item_codes, band_names, _manual_items(doc))
    return report.issues


def _codes_and_references(report: _Report, doc: dict[str, Any]) -> set[str]:
    duties = _list(doc.get("duties"))
    duty_codes = report.unique(
        [(("duties", i, "code"), _dict(d).get("code")) for i, d in enumerate(duties)], "职责代码")
    nodes = list(walk_sections(_dict(doc.get("scoring")).get("sections"), ("scoring", "sections")))
    report.unique([((*p, "code"), n.get("code")) for p, n, _ in nodes], "节或条目代码")
    known = "、".join(sorted(duty_codes)) or "（无）"
    for path, node, is_item in nodes:
        if not is_item:
            continue
        # methods name duties by `duty` or `duties`, also inside nested clauses (checks: [...])
        for ref, value in _keyed(node, path, ("duty", "duties")):
            if isinstance(value, str) and value not in duty_codes:
                report.at(ref, f"条目引用了未定义的职责 {value}（已定义的职责：{known}）")
    return {str(n.get("code")) for _, n, is_item in nodes if is_item}


class _Names:
    """What the file declares that items and formulas may read (from the plain data)."""

    def __init__(self, doc: dict[str, Any]):
        scoring = _dict(doc.get("scoring"))
        self.member = _dict(scoring.get("subject")).get("kind") == "member"
        self.duties: dict[str, Any] = {}
        self.member_duties: set[str] = set()
        for raw in _list(doc.get("duties")):
            duty = _dict(raw)
            code = duty.get("code")
            if isinstance(code, str):
                name = duty.get("name")
                self.duties[code] = SimpleNamespace(code=code, name=name if isinstance(name, str) else code)
                if _dict(duty.get("applies_to")).get("subject") == "member":
                    self.member_duties.add(code)
        self.declared: dict[str, Any] = {}
        for raw in _list(doc.get("metrics")):
            metric = _dict(raw)
            code, name = metric.get("code"), metric.get("name")
            if isinstance(code, str) and code not in self.declared:
                if not isinstance(name, str) or name_problem(name) is not None:
                    name = code
                self.declared[code] = SimpleNamespace(
                    code=code, name=name if isinstance(name, str) else code,
                    per=metric.get("per", "unit"))
        self.formula = formula_names(self.duties, list(self.declared.values()), member=self.member)
        self.keys = set(self.formula.values())
        self.top_sections = [_dict(x) for x in _list(scoring.get("sections")) if isinstance(x, dict)]

    def describe(self) -> str:
        declared = "、".join(f"{c}（{m.name}）" for c, m in self.declared.items()) or "无"
        duties = "、".join(self.duties) or "无"
        text = f"声明的指标：{declared}；职责指标写作 职责代码.{'|'.join(DUTY_METRICS)}（职责：{duties}）"
        if self.member:
            text += f"；参会指标 attendance.{'|'.join(ATTENDANCE_METRICS)}"
        return text

    def problem(self, ref: str) -> str | None:
        """Why an item may not read this metric (as the item names it), or None."""
        key = self.formula.get(ref, ref)
        if key not in self.keys:
            head, _, bucket = key.partition(".")
            if bucket and head in self.duties:
                return f"职责 {head} 没有指标 {bucket}（可用：{'、'.join(DUTY_METRICS)}）"
            if head == "attendance" and not self.member:
                return f"参会指标 {key} 只能用于按党员计分的规则集（scoring.subject: {{kind: member}}）"
            if bucket and head not in self.duties and head != "attendance":
                return f"未定义的职责 {head}（{self.describe()}）"
            return f"未定义的指标 {key}（{self.describe()}）"
        return self.subject_problem(key)

    def subject_problem(self, key: str) -> str | None:
        decl = self.declared.get(key)
        if decl is not None:
            if self.member and decl.per != "member":
                return (f"指标 {key} 按单位统计（per: unit），本规则集按党员计分（scoring.subject: {{kind: member}}），"
                        "只能读 per: member 的指标")
            if not self.member and decl.per == "member":
                return f"指标 {key} 按党员统计（per: member），本规则集按单位计分，不能读它"
            return None
        head = key.partition(".")[0]
        if self.member and head in self.duties and head not in self.member_duties:
            return (f"职责 {head} 由组织承担，按党员计分的规则集只能读党员职责"
                    "（applies_to: {subject: member}）的指标")
        return None


def _keyed(node: Any, path: Path, keys: tuple[str, ...]) -> Iterator[tuple[Path, Any]]:
    """(path, value) of every `keys` entry inside an item, lists entry by entry."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if key in keys:
                if isinstance(value, list):
                    yield from (((*here, k), v) for k, v in enumerate(value))
                else:
                    yield here, value
            elif isinstance(value, dict | list):
                yield from _keyed(value, here, keys)
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _keyed(value, (*path, k), keys)


_FORMULA_KEYS = {"expr": "number", "when": "bool"}
_METRIC_REF = re.compile(METRIC_REF_PATTERN)


def _declared_metrics(report: _Report, doc: dict[str, Any]) -> _Names:
    metrics = _list(doc.get("metrics"))
    report.unique([(("metrics", i, "code"), _dict(m).get("code")) for i, m in enumerate(metrics)], "指标代码")
    report.unique([(("metrics", i, "name"), _dict(m).get("name")) for i, m in enumerate(metrics)], "指标名称")
    names = _Names(doc)
    codes = {c: i for i, c in enumerate(_dict(m).get("code") for m in metrics) if isinstance(c, str)}
    sections: dict[str, Path] = {}
    for path, node, is_item in walk_sections(_dict(doc.get("scoring")).get("sections"), ("scoring", "sections")):
        if not is_item:
            for key in ("code", "name"):
                if isinstance(node.get(key), str):
                    sections.setdefault(node[key], path)
    for i, raw in enumerate(metrics):
        metric = _dict(raw)
        name = metric.get("name")
        if isinstance(name, str) and name in codes and codes[name] != i:
            report.at(("metrics", i, "name"), f"指标名称 {name} 与另一个指标的代码相同，公式中无法区分")
        for key in ("code", "name"):
            value = metric.get(key)
            if isinstance(value, str) and value in sections:
                report.at(("metrics", i, key), f"指标{'代码' if key == 'code' else '名称'} {value} 与节重名，总分公式中无法区分")
    return names


def _item_metrics(report: _Report, doc: dict[str, Any], names: _Names) -> None:
    for path, node, is_item in walk_sections(_dict(doc.get("scoring")).get("sections"), ("scoring", "sections")):
        if not is_item:
            continue
        for ref, value in _keyed(node, path, ("metric", "denominator")):
            if isinstance(value, str) and _METRIC_REF.match(value):      # else pydantic explains it
                problem = names.problem(value)
                if problem:
                    report.at(ref, problem)
        if names.member:
            for ref, value in _keyed(node, path, ("duty",)):
                if isinstance(value, str) and value in names.duties:
                    problem = names.subject_problem(f"{value}.owed")
                    if problem:
                        report.at(ref, problem)
        for ref, value in _keyed(node, path, tuple(_FORMULA_KEYS)):
            if not isinstance(value, str):
                continue
            try:
                expression = compile_expression(value, names=names.formula, where="", expect=_FORMULA_KEYS[ref[-1]])  # type: ignore[arg-type]
            except FormulaError as error:
                report.formula_error(ref, error)
                continue
            for key in expression.names:
                problem = names.subject_problem(key)
                if problem:
                    report.at(ref, problem)


def _total_names(names: _Names) -> dict[str, str]:
    found = dict(names.formula)
    for section in names.top_sections:
        code = section.get("code")
        if isinstance(code, str):
            found[code] = f"section:{code}"
            if isinstance(section.get("name"), str):
                found[section["name"]] = f"section:{code}"
    return found


def _total_formula(report: _Report, doc: dict[str, Any], names: _Names) -> Any:
    """The compiled total formula, or None (absent or reported)."""
    path = ("scoring", "total", "formula")
    text = get(doc, path)
    if not isinstance(text, str):
        return None
    try:
        expression = compile_expression(text, names=_total_names(names), where="总分公式", expect="number")
    except FormulaError as error:
        report.formula_error(path, error)
        return None
    used = set(expression.names)
    for section in names.top_sections:
        code = section.get("code")
        if isinstance(code, str) and f"section:{code}" not in used:
            report.at(path, f"节 {code}（{section.get('name', code)}）没有出现在总分公式中："
                            "每个一级节都要写进公式（不计入总分的节请删除）")
    for key in expression.names:
        if not key.startswith("section:"):
            problem = names.subject_problem(key)
            if problem:
                report.at(path, problem)
    return expression


_DUTY = TypeAdapter(Duty)
_METRIC = TypeAdapter(MetricDecl)
_ITEM = TypeAdapter(Item)


def _valid(adapter: TypeAdapter[Any], raw: Any) -> Any:
    try:
        return adapter.validate_python(raw)
    except ValidationError:
        return None                                    # reported by the whole-file validation


def _item_problems(report: _Report, doc: dict[str, Any], model: RuleSet | None) -> None:
    """Problems of items that need the declarations (Item.problems), item by item, so that
    they are reported even when other parts of the file are invalid."""
    from rules.methods.base import Env

    if model is not None:
        duties, metrics, member = model.duties, model.metrics, model.scoring.per_member
    else:
        duties = [d for d in (_valid(_DUTY, raw) for raw in _list(doc.get("duties"))) if d is not None]
        metrics = [m for m in (_valid(_METRIC, raw) for raw in _list(doc.get("metrics"))) if m is not None]
        member = _dict(_dict(doc.get("scoring")).get("subject")).get("kind") == "member"
    env = Env.build({d.code: d for d in duties}, metrics, member=member)
    for path, node, is_item in walk_sections(_dict(doc.get("scoring")).get("sections"), ("scoring", "sections")):
        item = _valid(_ITEM, node) if is_item else None
        if item is not None:
            for sub, message in item.problems(env):
                report.at((*path, *sub), message)


def _manual_items(doc: dict[str, Any]) -> set[str]:
    return {str(n.get("code")) for _, n, is_item in
            walk_sections(_dict(doc.get("scoring")).get("sections"), ("scoring", "sections"))
            if is_item and n.get("method") == "manual"}


def _total_range(model: RuleSet, expression: Any) -> tuple[Any, Any]:
    """(low, high) of the total, or (INF, INF) when the formula's range is not computable."""
    scoring = model.scoring
    if expression is None:
        return scoring.bounds()
    bounds: dict[str, tuple[Any, Any]] = {f"section:{s.code}": s.bounds() for s in scoring.sections}
    for metric in model.metrics:
        bounds[metric.code] = (None if metric.min is None else _dec(metric.min),
                               None if metric.max is None else _dec(metric.max))
    for key in expression.names:
        if "." in key:                                   # duty and attendance counts: 0 and up
            bounds.setdefault(key, (_dec(0), None))
    span = expression.range(bounds)
    if span is None:
        return band_rules.INF, band_rules.INF
    return scoring.limit_total(*span)


def _dec(value: float) -> Any:
    from rules.numbers import dec
    return dec(value)


def _negated_penalties(report: _Report, model: RuleSet, expression: Any) -> None:
    """`基础项 - 减分项` where 减分项 is never positive adds the deductions back."""
    sections = {f"section:{s.code}": s for s in model.scoring.sections}
    for key, column in expression.negated:
        section = sections.get(key)
        if section is None:
            continue
        low, high = section.bounds()
        if high is not None and high <= 0 and (low is None or low < 0):
            report.formula_error(("scoring", "total", "formula"), FormulaError(
                f"节“{section.name}”的得分只会是0或负数（扣分记为负分），减去它反而变成加分；"
                f"“扣除{section.name}”请写成“+ {section.name}”", column))


def _grades(report: _Report, grades: list[Any], model: RuleSet | None, expression: Any = None) -> set[str]:
    names = report.unique(
        [(("scoring", "grades", i, "name"), _dict(g).get("name")) for i, g in enumerate(grades)], "等级名称")
    valid: list[tuple[int, Band]] = []
    for i, raw in enumerate(grades):
        try:
            valid.append((i, _BAND.validate_python(raw)))
        except ValidationError:
            pass                                       # reported by the whole-file validation
    # The possible totals are known only when the whole file is valid (and the total formula's
    # range is computable); else skip the ends.
    low, high = _total_range(model, expression) if model is not None else (band_rules.INF, band_rules.INF)
    for i, key, message in band_rules.problems(valid, low, high):
        report.at(("scoring", "grades", i, key), message)
    return names


def _examples(report: _Report, examples: list[Any], item_codes: set[str], band_names: set[str],
              manual_items: set[str] | None = None) -> None:
    names: dict[str, int] = {}
    for i, raw in enumerate(examples):
        example = _dict(raw)
        name, based_on = example.get("name"), example.get("based_on")
        if isinstance(based_on, str) and based_on not in names:
            report.at(("examples", i, "based_on"), f"based_on 须指向前面已有的示例，没有名为“{based_on}”的示例")
        if isinstance(name, str):
            if name in names:
                report.at(("examples", i, "name"), f"重复的示例名称 {name}（第{names[name]}行已定义）")
            else:
                names[name] = locate(report.tree, ("examples", i, "name"))[0]
        for code in _dict(example.get("manual")):
            if manual_items is not None and code not in manual_items:
                known = "、".join(sorted(manual_items)) or "无"
                report.at(("examples", i, "manual", code), at_key=True,
                          message=f"{code} 不是人工评分条目（method: manual 的条目有：{known}）")
        expect = _dict(example.get("expect"))
        for code in _dict(expect.get("items")):
            if code not in item_codes:
                report.at(("examples", i, "expect", "items", code), at_key=True,
                          message=f"未定义的条目 {code}（条目有：{'、'.join(sorted(item_codes))}）")
        grade = expect.get("grade")
        if isinstance(grade, str) and band_names and grade not in band_names:
            report.at(("examples", i, "expect", "grade"),
                      f"未定义的等级 {grade}（等级有：{'、'.join(sorted(band_names))}）")
