"""Load a rule-set file: every problem at once as file:line:column issues, or a
validated RuleSet with its source, sha256 and clause positions for explanations."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from dangjian.errors import NotFound
from rules import checks, ime, limits
from rules.duties import Duty
from rules.errmap import pydantic_issues
from rules.issues import RuleIssue, RuleSetError
from rules.outcomes import checks as outcome_checks
from rules.schema import RuleSet
from rules.scoring import Section
from rules.yamltree import is_number_issue, locate, parse, plain

__all__ = ["LoadedRuleSet", "RuleIssue", "RuleSetError", "load_rule_set_file", "load_rule_set_text"]


@dataclass(frozen=True, eq=False)     # hashable by identity, e.g. as a cache key
class LoadedRuleSet:
    rule_set: RuleSet
    source: str
    sha256: str
    file_name: str
    clauses: dict[str, str] = field(repr=False, default_factory=dict)

    def clause(self, item_code: str) -> str:
        """"file:line 节/条目名" of an item or section; also "scoring.max_total",
        "scoring.rounding" and "scoring.grades"."""
        try:
            return self.clauses[item_code]
        except KeyError:
            raise KeyError(f"规则集 {self.file_name} 中没有条目或节 {item_code}") from None

    @cached_property
    def duties(self) -> dict[str, Duty]:
        return {d.code: d for d in self.rule_set.duties}


def load_rule_set_file(path: str | FsPath) -> LoadedRuleSet:
    """Issues name the path as given (for editors); `file_name` is its base name."""
    fs_path = FsPath(path)
    try:
        with fs_path.open("rb") as stream:
            raw = stream.read(limits.MAX_FILE_BYTES + 1)     # never more than the limit into memory
            size = max(len(raw), os.fstat(stream.fileno()).st_size)
    except FileNotFoundError:
        raise NotFound(f"找不到规则文件 {path}") from None
    except IsADirectoryError:
        raise RuleSetError([RuleIssue(str(path), 1, 1, "这是一个目录，不是规则文件")]) from None
    except PermissionError:
        raise RuleSetError([RuleIssue(str(path), 1, 1, "没有读取这个文件的权限")]) from None
    too_large = limits.too_large(size)
    if too_large:
        raise RuleSetError([RuleIssue(str(path), 1, 1, too_large)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RuleSetError([RuleIssue(str(path), line, 1, "文件不是 UTF-8 编码，请另存为 UTF-8")]) from None
    return _load(text, file_name=fs_path.name, shown=str(path))


def load_rule_set_text(text: str, file_name: str) -> LoadedRuleSet:
    return _load(text, file_name=file_name, shown=file_name)


def _load(text: str, *, file_name: str, shown: str) -> LoadedRuleSet:
    too_large = limits.too_large(len(text.encode("utf-8", "surrogatepass")))
    if too_large:                                       # before even the IME scan
        raise RuleSetError([RuleIssue(shown, 1, 1, too_large)])
    ime_issues = ime.check(text, shown)
    tree, issues = parse(text, shown)
    model: RuleSet | None = None
    if tree is None and not issues:
        issues = [RuleIssue(shown, 1, 1, "文件为空：应有 rule_set、duties、scoring 三部分")]
    elif tree is not None:
        doc = plain(tree)
        try:
            model = RuleSet.model_validate(doc)
        except ValidationError as exc:
            numbers = {(i.line, i.column) for i in issues if is_number_issue(i)}
            issues += [i for i in pydantic_issues(exc, tree, shown, RuleSet) if (i.line, i.column) not in numbers]
        issues += checks.check(doc, tree, shown, model, text)
        issues += outcome_checks.check(doc, tree, shown, model, text)
    # A full-width character usually breaks its line (or, for YAML syntax, one of the
    # next lines) in later stages too; its hint explains the cause, so those are dropped.
    ime_lines = {i.line for i in ime_issues}
    issues = ime_issues + [i for i in issues if not _explained(i, ime_lines)]
    if issues or model is None:
        raise RuleSetError(issues)
    return LoadedRuleSet(
        rule_set=model,
        source=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        file_name=file_name,
        clauses=_clauses(model, tree, file_name),
    )


def _explained(issue: RuleIssue, ime_lines: set[int]) -> bool:
    if issue.message.startswith("YAML 语法错误"):
        return any(issue.line - 3 <= line <= issue.line for line in ime_lines)
    return issue.line in ime_lines


def _clauses(model: RuleSet, tree: Any, file_name: str) -> dict[str, str]:
    found: dict[str, str] = {}

    def visit(sections: list[Section], path: tuple[Any, ...], names: list[str]) -> None:
        for i, section in enumerate(sections):
            here = (*path, i)
            chain = [*names, section.name]
            found[section.code] = f"{file_name}:{locate(tree, here)[0]} {'/'.join(chain)}"
            for j, item in enumerate(section.items):
                line = locate(tree, (*here, "items", j))[0]
                found[item.code] = f"{file_name}:{line} {'/'.join([*chain, item.name])}"
            visit(section.sections, (*here, "sections"), chain)

    visit(model.scoring.sections, ("scoring", "sections"), [])
    for key, title in (("max_total", "总分上限"), ("rounding", "计分取舍"), ("grades", "等级")):
        found[f"scoring.{key}"] = f"{file_name}:{locate(tree, ('scoring', key), at_key=True)[0]} {title}"
    for key, title in (("total", "总分公式"), ("min_total", "总分下限")):
        if getattr(model.scoring, key) is not None:
            found[f"scoring.{key}"] = f"{file_name}:{locate(tree, ('scoring', key), at_key=True)[0]} {title}"
    found.update(outcome_checks.clauses(model, tree, file_name))
    return found
