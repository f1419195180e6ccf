"""Rule texts for the scoring-method tests, and where a fragment sits in them (so an error
test can say "at the `**`" instead of counting columns by hand)."""
from __future__ import annotations

import pytest

from rules.loader import LoadedRuleSet, RuleSetError, load_rule_set_text
from rules.metrics import ManualEntry
from rules.scorer import UnitScore, score_unit

DUTIES = """\
duties:
  - {code: party_congress, name: 党员大会, applies_to: {kind: branch}, frequency: quarterly}
  - {code: party_lecture, name: 党课, applies_to: {kind: branch}, frequency: quarterly}
  - {code: theme_party_day, name: 主题党日, applies_to: {kind: branch}, frequency: monthly}
"""
OPEN_GRADES = "    - {name: 高, min: 50}\n    - {name: 低, max: 50}\n"


def rules(items: str, *, metrics: str = "", sections: str | None = None, subject: str = "{kind: branch}",
          max_total: float = 100, allow_over_max: bool = False, scoring_extra: str = "",
          grades: str = OPEN_GRADES, digits: int = 2, tail: str = "", duties: str = DUTIES) -> str:
    """A rule set around `items` (YAML lines indented by 8, in one section `main` of max
    1000), or around whole `sections` (indented by 4)."""
    body = sections if sections is not None else (
        "    - code: main\n      name: 主要\n      max: 1000\n      items:\n" + items)
    return (
        "rule_set: {code: t, version: '1', name: 测试}\n"
        + duties
        + (f"metrics:\n{metrics}" if metrics else "")
        + "scoring:\n"
        f"  subject: {subject}\n"
        f"  max_total: {max_total}\n"
        f"  allow_over_max: {'true' if allow_over_max else 'false'}\n"
        + scoring_extra
        + f"  rounding: {{digits: {digits}}}\n"
        "  sections:\n"
        + body
        + "  grades:\n" + grades
        + tail
    )


def load(text: str) -> LoadedRuleSet:
    return load_rule_set_text(text, "t.yaml")


def issues_of(text: str) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        load(text)
    return [str(issue) for issue in caught.value.issues]


def at(text: str, fragment: str, nth: int = 1) -> str:
    """"t.yaml:line:col" of the nth occurrence of `fragment` (1-based line and column)."""
    index = -1
    for _ in range(nth):
        index = text.index(fragment, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"t.yaml:{line}:{column}"


def duty(code: str, *, owed: float, on_time: float = 0, late: float = 0, missed: float = 0,
         pending: float = 0, excused: float = 0) -> dict[str, float]:
    values = {"owed": owed, "on_time": on_time, "late": late, "missed": missed, "pending": pending,
              "excused": excused}
    return {f"{code}.{k}": float(v) for k, v in values.items()}


def score(text: str | LoadedRuleSet, metrics: dict[str, float], *, unit: str = "b1",
          manual: dict[str, ManualEntry] | None = None, evidence: dict[str, list[int]] | None = None) -> UnitScore:
    loaded = load(text) if isinstance(text, str) else text
    return score_unit(loaded, unit, metrics, evidence or {}, manual=manual)


def line(result: UnitScore, code: str):  # type: ignore[no-untyped-def]
    (found,) = [x for x in result.lines if x.item_code == code]
    return found


def test_at_names_the_line_and_column_of_a_fragment() -> None:
    text = "a: 1\nbb: x ** 2\n"
    assert at(text, "**") == "t.yaml:2:7"
    assert at(text, "b", 2) == "t.yaml:2:2"
