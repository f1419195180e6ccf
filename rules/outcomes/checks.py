"""Load checks of `vetoes:`, `designations:` and `quotas:` that pydantic cannot see, each
at its file:line:column: names a condition reads, formula errors at their column, effect
and quota targets, tie-break keys, duplicate codes, and what examples expect of them.

Like rules.checks, they read the plain data, so one load reports every problem at once.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rules.checks import scalar_position
from rules.formula import FormulaError, compile_condition
from rules.issues import RuleIssue
from rules.metrics import DUTY_METRICS
from rules.outcomes.conditions import Name, aliases, attendance_names, duty_names
from rules.schema import RuleSet
from rules.yamltree import Path, locate


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sections(sections: Any) -> Iterator[dict[str, Any]]:
    for section in _list(sections):
        if isinstance(section, dict):
            yield section
            yield from _sections(section.get("sections"))


def _declared(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, name) of the declared metrics (`metrics:` as a list or a code → spec mapping)."""
    raw = doc.get("metrics")
    found: list[tuple[str, str]] = []
    if isinstance(raw, dict):
        for code, spec in raw.items():
            found.append((str(code), str(_dict(spec).get("name", code))))
    for entry in _list(raw):
        code = _dict(entry).get("code")
        if isinstance(code, str):
            found.append((code, str(_dict(entry).get("name", code))))
    return found


def raw_names(doc: dict[str, Any]) -> dict[str, Name]:
    """The names conditions may use, from the plain data (labels are not needed here)."""
    names: dict[str, Name] = {}
    for duty in _list(doc.get("duties")):
        code, title = _dict(duty).get("code"), _dict(duty).get("name")
        if isinstance(code, str):
            names.update(duty_names(code, str(title or code)))
    scoring = _dict(doc.get("scoring"))
    if _dict(scoring.get("subject")).get("kind") == "member":
        names.update(attendance_names())
    for code, label in _declared(doc):
        names[code] = Name(code, label)
    names["total"] = Name("total", "总分", source="total")
    for section in _sections(scoring.get("sections")):
        if isinstance(section.get("code"), str):
            key = f"section:{section['code']}"
            names[key] = Name(key, key, source="section", title=str(section.get("name") or ""))
    return names


def _known(names: dict[str, Name]) -> str:
    """A short list of the usable names for a message."""
    duties = sorted({k.split(".")[0] for k, n in names.items() if n.duty and not k.startswith("attendance.")})
    declared = sorted(k for k, n in names.items() if n.source == "metric" and not n.duty)
    sections = sorted(k for k, n in names.items() if n.source == "section")
    parts = [f"职责指标 <职责代码>.<{'|'.join(DUTY_METRICS)}>（职责：{'、'.join(duties) or '无'}）"]
    if "attendance.present" in names:
        parts.append("参会指标 attendance.<expected|present|leave|absent>")
    parts.append(f"声明的指标（metrics）：{'、'.join(declared) or '无'}")
    parts.append("total")
    if sections:
        parts.append("、".join(sections))
    return "；".join(parts)


class _Report:
    def __init__(self, tree: Any, file: str, text: str):
        self.tree, self.file, self.text = tree, file, text
        self.issues: list[RuleIssue] = []

    def at(self, path: Path, message: str, *, at_key: bool = False, shift: int = 0) -> None:
        line, col = locate(self.tree, path, at_key=at_key)
        self.issues.append(RuleIssue(self.file, line, col + shift, message))

    def unique(self, block: str, what: str, doc: dict[str, Any]) -> set[str]:
        first: dict[str, int] = {}
        for i, entry in enumerate(_list(doc.get(block))):
            code = _dict(entry).get("code")
            if not isinstance(code, str):
                continue
            path = (block, i, "code")
            if code in first:
                self.at(path, f"重复的{what}代码 {code}（第{first[code]}行已定义）")
            else:
                first[code] = locate(self.tree, path)[0]
        return set(first)


def check(doc: Any, tree: Any, file: str, model: RuleSet | None, text: str) -> list[RuleIssue]:
    del model                                  # everything here reads the plain data
    doc = _dict(doc)
    report = _Report(tree, file, text)
    names = raw_names(doc)
    grades = [g.get("name") for g in map(_dict, _list(_dict(doc.get("scoring")).get("grades")))]
    grade_names = [g for g in grades if isinstance(g, str)]    # file order, for messages
    lowest = _lowest_grade(_list(_dict(doc.get("scoring")).get("grades")))
    veto_codes = report.unique("vetoes", "否决项", doc)
    designation_codes = report.unique("designations", "称号", doc)
    report.unique("quotas", "名额", doc)

    for i, veto in enumerate(map(_dict, _list(doc.get("vetoes")))):
        _condition(report, veto.get("when"), ("vetoes", i, "when"), names)
        _effect(report, veto.get("effect"), ("vetoes", i, "effect"), designation_codes, grade_names)
    for i, designation in enumerate(map(_dict, _list(doc.get("designations")))):
        for j, criterion in enumerate(map(_dict, _list(designation.get("criteria")))):
            _condition(report, criterion.get("when"), ("designations", i, "criteria", j, "when"), names)
    for i, quota in enumerate(map(_dict, _list(doc.get("quotas")))):
        _quota(report, quota, ("quotas", i), names, designation_codes, grade_names, lowest)
    for i, example in enumerate(map(_dict, _list(doc.get("examples")))):
        expect = _dict(example.get("expect"))
        for key, known, what in (("designations", designation_codes, "称号"), ("veto", veto_codes, "否决项")):
            for j, code in enumerate(_list(expect.get(key))):
                if isinstance(code, str) and code not in known:
                    report.at(("examples", i, "expect", key, j),
                              f"未定义的{what} {code}（{what}有：{'、'.join(sorted(known)) or '无'}）")
    return report.issues


def _lowest_grade(grades: list[Any]) -> str | None:
    bounded: list[tuple[float, str]] = []
    for grade in map(_dict, grades):
        name, low = grade.get("name"), grade.get("min")
        if not isinstance(name, str):
            continue
        if low is None:
            return name
        if isinstance(low, (int, float)):
            bounded.append((float(low), name))
    return min(bounded)[1] if bounded else None


def _condition(report: _Report, raw: Any, path: Path, names: dict[str, Name]) -> None:
    if isinstance(raw, str):
        _formula(report, raw, path, names)
        return
    node = _dict(raw)
    metric = node.get("metric")
    if isinstance(metric, str) and metric not in aliases(names):
        report.at((*path, "metric"), f"条件引用了未知的指标 {metric}（可用：{_known(names)}）")
    if isinstance(node.get("expr"), str):
        _formula(report, node["expr"], (*path, "expr"), names)
    for key in ("all", "any"):
        for k, sub in enumerate(_list(node.get(key))):
            _condition(report, sub, (*path, key, k), names)


def _formula(report: _Report, text: str, path: Path, names: dict[str, Name]) -> None:
    try:
        compile_condition(text, names=aliases(names), where="条件")
    except FormulaError as exc:
        line, col = locate(report.tree, path)
        line, col = scalar_position(report.text, line, col, text, exc.column)
        report.issues.append(RuleIssue(report.file, line, col, exc.message))


def _effect(report: _Report, raw: Any, path: Path, designations: set[str], grades: list[str]) -> None:
    if not isinstance(raw, dict) or len(raw) != 1:
        return                                      # shape errors come from pydantic
    ((kind, target),) = raw.items()
    if not isinstance(target, str):
        return
    if kind == "block_designation" and target not in designations:
        report.at((*path, kind), f"block_designation 引用了未定义的称号 {target}"
                                 f"（称号有：{'、'.join(sorted(designations)) or '无'}）")
    if kind == "set_grade" and grades and target not in grades:
        report.at((*path, kind), f"set_grade 引用了未定义的等级 {target}（等级有：{'、'.join(grades)}）")


def _quota(report: _Report, quota: dict[str, Any], path: Path, names: dict[str, Name],
           designations: set[str], grades: list[str], lowest: str | None) -> None:
    designation = quota.get("designation")
    if isinstance(designation, str) and designation not in designations:
        report.at((*path, "designation"), f"名额引用了未定义的称号 {designation}"
                                          f"（称号有：{'、'.join(sorted(designations)) or '无'}）")
    targets = [((*path, "grade"), quota.get("grade"))]
    targets += [((*path, "shares", k, "grade"), _dict(s).get("grade")) for k, s in enumerate(_list(quota.get("shares")))]
    for where, grade in targets:
        if not isinstance(grade, str) or not grades:
            continue
        if grade not in grades:
            report.at(where, f"名额引用了未定义的等级 {grade}（等级有：{'、'.join(grades)}）")
        elif grade == lowest:
            report.at(where, f"“{grade}”是最低等级，超出名额的单位无处可降，不能为它设名额")
    for k, entry in enumerate(_list(quota.get("tie_break"))):
        parts = entry.split() if isinstance(entry, str) else []
        if len(parts) == 2 and parts[0] != "unit_id" and parts[0] not in aliases(names):
            report.at((*path, "tie_break", k), f"tie_break 引用了未知的键 {parts[0]}"
                                               f"（可用：unit_id；{_known(names)}）")


def clauses(model: RuleSet, tree: Any, file_name: str) -> dict[str, str]:
    """"file:line 否决项/名称" for `veto:<code>`, `designation:<code>` and `quota:<code>`."""
    found: dict[str, str] = {}
    for block, kind, title in (("vetoes", "veto", "否决项"), ("designations", "designation", "称号"),
                               ("quotas", "quota", "名额")):
        for i, clause in enumerate(getattr(model, block)):
            line = locate(tree, (block, i))[0]
            shown = "直接定级" if kind == "veto" and clause.effect.kind == "set_grade" else title
            found[f"{kind}:{clause.code}"] = f"{file_name}:{line} {shown}/{clause.name}"
    return found
