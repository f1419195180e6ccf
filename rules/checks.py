"""Checks across the file that pydantic cannot see: duplicate codes, references to
undefined duties, items and examples, and grade bands that overlap or leave gaps.

They run on the plain data even when pydantic found errors elsewhere, so one load
reports every problem at once."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter, ValidationError

from rules import bands as band_rules
from rules.issues import RuleIssue
from rules.schema import RuleSet
from rules.scoring import Band
from rules.yamltree import Path, locate

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
    def __init__(self, tree: Any, file: str):
        self.tree, self.file = tree, file
        self.issues: list[RuleIssue] = []

    def at(self, path: Path, message: str, *, at_key: bool = False) -> None:
        line, col = locate(self.tree, path, at_key=at_key)
        self.issues.append(RuleIssue(self.file, line, col, message))

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


def check(doc: Any, tree: Any, file: str, model: RuleSet | None) -> list[RuleIssue]:
    report = _Report(tree, file)
    doc = _dict(doc)
    item_codes = _codes_and_references(report, doc)
    band_names = _grades(report, _list(_dict(doc.get("scoring")).get("grades")), model)
    _examples(report, _list(doc.get("examples")), item_codes, band_names)
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
        refs = [((*path, "duty"), node.get("duty"))]        # methods name duties by `duty` or `duties`
        refs += [((*path, "duties", k), v) for k, v in enumerate(_list(node.get("duties")))]
        for ref, value in refs:
            if isinstance(value, str) and value not in duty_codes:
                report.at(ref, f"条目引用了未定义的职责 {value}（已定义的职责：{known}）")
    return {str(n.get("code")) for _, n, is_item in nodes if is_item}


def _grades(report: _Report, grades: list[Any], model: RuleSet | None) -> set[str]:
    names = report.unique(
        [(("scoring", "grades", i, "name"), _dict(g).get("name")) for i, g in enumerate(grades)], "等级名称")
    valid: list[tuple[int, Band]] = []
    for i, raw in enumerate(grades):
        try:
            valid.append((i, _BAND.validate_python(raw)))
        except ValidationError:
            pass                                       # reported by the whole-file validation
    # The possible totals are known only when the whole file is valid; else skip the ends.
    low, high = model.scoring.bounds() if model is not None else (band_rules.INF, band_rules.INF)
    for i, key, message in band_rules.problems(valid, low, high):
        report.at(("scoring", "grades", i, key), message)
    return names


def _examples(report: _Report, examples: list[Any], item_codes: set[str], band_names: set[str]) -> None:
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
        expect = _dict(example.get("expect"))
        for code in _dict(expect.get("items")):
            if code not in item_codes:
                report.at(("examples", i, "expect", "items", code), at_key=True,
                          message=f"未定义的条目 {code}（条目有：{'、'.join(sorted(item_codes))}）")
        grade = expect.get("grade")
        if isinstance(grade, str) and band_names and grade not in band_names:
            report.at(("examples", i, "expect", "grade"),
                      f"未定义的等级 {grade}（等级有：{'、'.join(sorted(band_names))}）")
