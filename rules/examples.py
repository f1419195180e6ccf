"""Run the examples stored beside the rules (`examples:`), as `dangjian rules test` does.

An example is one subject on its own: vetoes, overrides and designations apply (so
`total`, `grade`, `designations` and `veto` are checked after them); quotas need a cohort
and do not apply."""
from __future__ import annotations

from dataclasses import dataclass

from dangjian.errors import ValidationFailed
from rules.loader import LoadedRuleSet
from rules.metrics import ManualEntry
from rules.numbers import dec, fmt
from rules.outcomes.engine import Subject, UnitOutcome, apply_outcomes
from rules.schema import Example
from rules.scorer import UnitScore, score_unit


@dataclass(frozen=True)
class ExampleResult:
    name: str
    passed: bool
    message: str          # Chinese: expected vs actual


def example_inputs(loaded: LoadedRuleSet, example: Example) -> tuple[dict[str, float], dict[str, list[int]]]:
    """Flat metrics and evidence of an example, `based_on` chains applied."""
    by_name = {e.name: e for e in loaded.rule_set.examples}
    chain = [example]
    while chain[-1].based_on is not None:
        chain.append(by_name[chain[-1].based_on])     # the loader proved it names an earlier one
    metrics: dict[str, float] = {}
    evidence: dict[str, list[int]] = {}
    for step in reversed(chain):
        for key, value in step.metrics.items():
            if isinstance(value, dict):
                metrics.update({f"{key}.{sub}": v for sub, v in value.items()})
            else:
                metrics[key] = value
        evidence.update(step.evidence)
    return metrics, evidence


def example_manual(loaded: LoadedRuleSet, example: Example) -> dict[str, ManualEntry]:
    """Reviewers' entries of an example (`manual: {item: {points, by}}`), `based_on` applied."""
    by_name = {e.name: e for e in loaded.rule_set.examples}
    chain = [example]
    while chain[-1].based_on is not None:
        chain.append(by_name[chain[-1].based_on])
    entries: dict[str, ManualEntry] = {}
    for step in reversed(chain):
        for code, entry in step.manual.items():
            entries[code] = ManualEntry(points=entry.points, entered_by=entry.by, note=entry.note)
    return entries


def run_example(loaded: LoadedRuleSet, example: Example) -> ExampleResult:
    metrics, evidence = example_inputs(loaded, example)
    try:
        score = score_unit(loaded, example.unit, metrics, evidence, manual=example_manual(loaded, example))
        (outcome,) = apply_outcomes(loaded, [score], [Subject(example.unit, None, None, metrics)], quotas=False)
    except ValidationFailed as exc:
        return ExampleResult(example.name, False, f"评分出错：{exc.message}")
    wrong = _differences(loaded, example, score, outcome) + _outcome_differences(loaded, example, outcome)
    if wrong:
        return ExampleResult(example.name, False, "不符：" + "；".join(wrong))
    titles = _titles(loaded, outcome.designations)
    return ExampleResult(example.name, True, f"通过：总分{fmt(outcome.total)}分，{outcome.grade}"
                                             + (f"，{titles}" if outcome.designations else ""))


def _titles(loaded: LoadedRuleSet, codes: list[str]) -> str:
    names = {d.code: d.name for d in loaded.rule_set.designations}
    return "、".join(f"“{names.get(c, c)}”" for c in codes) or "无"


def _outcome_differences(loaded: LoadedRuleSet, example: Example, outcome: UnitOutcome) -> list[str]:
    expect = example.expect
    wrong: list[str] = []
    if expect.veto is not None and sorted(expect.veto) != sorted(outcome.vetoes):
        fired = "、".join(outcome.vetoes) or "无"
        wrong.append(f"否决项/直接定级 期望{'、'.join(expect.veto) or '无'}，实际{fired}")
    if expect.designations is not None and sorted(expect.designations) != sorted(outcome.designations):
        why = "；".join(line.reason for line in outcome.lines if line.item_code.startswith("designation:"))
        wrong.append(f"称号 期望{_titles(loaded, list(expect.designations))}，"
                     f"实际{_titles(loaded, outcome.designations)}" + (f"：{why}" if why else ""))
    return wrong


def _differences(loaded: LoadedRuleSet, example: Example, score: UnitScore, outcome: UnitOutcome) -> list[str]:
    expect = example.expect
    wrong: list[str] = []
    if expect.total is not None and dec(expect.total) != dec(outcome.total):
        wrong.append(f"总分 期望{fmt(expect.total)}分，实际{fmt(outcome.total)}分")
    if expect.grade is not None and expect.grade != outcome.grade:
        names = {v.code: v.name for v in loaded.rule_set.vetoes}
        why = "、".join(names[c] for c in outcome.vetoes if c in names)
        wrong.append(f"等级 期望“{expect.grade}”，实际“{outcome.grade}”" + (f"（{why}）" if why else ""))
    lines = {line.item_code: line for line in score.lines}
    for code, points in expect.items.items():
        line = lines[code]
        if dec(points) != dec(line.points):
            wrong.append(f"{line.item_name}（{code}）期望{fmt(points)}分，实际{fmt(line.points)}分：{line.reason}")
    return wrong


def run_examples(loaded: LoadedRuleSet) -> list[ExampleResult]:
    return [run_example(loaded, example) for example in loaded.rule_set.examples]
