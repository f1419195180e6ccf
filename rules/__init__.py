"""Rule sets: the YAML format (schema), its loader with file:line:column errors, the
scoring methods and the pure scorer. Shipped rule sets live in rules/sets/.

    rules.loader.load_rule_set_file(path) -> LoadedRuleSet   (raises RuleSetError)
    rules.scorer.score_unit(loaded, unit_id, metrics, evidence, manual=...) -> UnitScore
    rules.formula.compile_expression(text, names=..., where=...) / compile_condition(...)
    rules.scorer.grade_for(loaded, total) / rank_competition(values)
    rules.outcomes.apply_outcomes(loaded, scores, subjects) -> list[UnitOutcome]
        (vetoes, designations, quotas and ranks after the individual scores)
    rules.examples.run_examples(loaded) -> list[ExampleResult]

Files are bounded while read (rules/limits.py, rules/README.md): size, depth, nodes,
aliases, finite numbers.

Pure: no database, no Prefect. Imports `models` for types only.
"""
from pathlib import Path

SETS_DIR = Path(__file__).parent / "sets"
