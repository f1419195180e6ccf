"""Run the examples stored beside the rules (`examples:`), as `dangjian rules test` does."""
from __future__ import annotations

from dataclasses import dataclass

from dangjian.errors import ValidationFailed
from rules.loader import LoadedRuleSet
from rules.numbers import dec, fmt
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


def run_example(loaded: LoadedRuleSet, example: Example) -> ExampleResult:
    metrics, evidence = example_inputs(loaded, example)
    try:
        score = score_unit(loaded, example.unit, metrics, evidence)
    except ValidationFailed as exc:
        return ExampleResult(example.name, False, f"评分出错：{exc.message}")
    wrong = _differences(example, score)
    if wrong:
        return ExampleResult(example.name, False, "不符：" + "；".join(wrong))
    return ExampleResult(example.name, True, f"通过：总分{fmt(score.total)}分，{score.grade}")


def _differences(example: Example, score: UnitScore) -> list[str]:
    expect = example.expect
    wrong: list[str] = []
    if expect.total is not None and dec(expect.total) != dec(score.total):
        wrong.append(f"总分 期望{fmt(expect.total)}分，实际{fmt(score.total)}分")
    if expect.grade is not None and expect.grade != score.grade:
        wrong.append(f"等级 期望“{expect.grade}”，实际“{score.grade}”")
    lines = {line.item_code: line for line in score.lines}
    for code, points in expect.items.items():
        line = lines[code]
        if dec(points) != dec(line.points):
            wrong.append(f"{line.item_name}（{code}）期望{fmt(points)}分，实际{fmt(line.points)}分：{line.reason}")
    return wrong


def run_examples(loaded: LoadedRuleSet) -> list[ExampleResult]:
    return [run_example(loaded, example) for example in loaded.rule_set.examples]
