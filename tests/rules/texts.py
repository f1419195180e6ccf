"""Small rule-set texts for tests. BASE's line numbers are written at the right, so a
test that edits one line can name the exact file:line:column it expects."""
from __future__ import annotations

from rules.loader import LoadedRuleSet, load_rule_set_text

BASE = """\
rule_set:                                   # 1
  code: test-set                            # 2
  version: "1"                              # 3
  name: 测试规则                            # 4
duties:                                     # 5
  - code: party_congress                    # 6
    name: 党员大会                          # 7
    applies_to: {kind: branch}              # 8
    frequency: quarterly                    # 9
scoring:                                    # 10
  subject: {kind: branch}                   # 11
  max_total: 100                            # 12
  rounding: {digits: 1}                     # 13
  sections:                                 # 14
    - code: meetings                        # 15
      name: 组织生活                        # 16
      max: 100                              # 17
      items:                                # 18
        - code: congress                    # 19
          name: 党员大会按期召开            # 20
          max: 100                          # 21
          method: duty_deduction            # 22
          duty: party_congress              # 23
          deduct: {missed: 5, late: 2}      # 24
  grades:                                   # 25
    - {name: 优秀, min: 90, max: 100, max_inclusive: true}   # 26
    - {name: 不合格, max: 90}                               # 27
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    """BASE with one exact fragment replaced (fails loudly if the fragment is absent)."""
    assert old in text, old
    return text.replace(old, new, 1)


def duty_metrics(code: str, *, owed: float, on_time: float = 0, late: float = 0, missed: float = 0,
                 pending: float = 0, excused: float = 0) -> dict[str, float]:
    values = {"owed": owed, "on_time": on_time, "late": late, "missed": missed,
              "pending": pending, "excused": excused}
    return {f"{code}.{k}": float(v) for k, v in values.items()}


def load(text: str, name: str = "t.yaml") -> LoadedRuleSet:
    return load_rule_set_text(text, name)


FOUR_GRADES = """\
    - {name: 优秀, min: 90, max: 100, min_inclusive: true, max_inclusive: true}
    - {name: 良好, min: 80, max: 90, min_inclusive: true, max_inclusive: false}
    - {name: 合格, min: 60, max: 80, min_inclusive: true, max_inclusive: false}
    - {name: 不合格, max: 60, max_inclusive: false}
"""

OPEN_GRADES = """\
    - {name: 高, min: 50}
    - {name: 低, max: 50}
"""


def rule_text(sections: str, *, max_total: float = 100, allow_over_max: bool = False,
              digits: int = 1, grades: str = OPEN_GRADES) -> str:
    """A rule set with duties party_congress and committee_meeting around the given
    `sections:` entries (YAML indented by 4)."""
    return (
        "rule_set: {code: t, version: '1', name: 测试}\n"
        "duties:\n"
        "  - {code: party_congress, name: 党员大会, applies_to: {kind: branch}, frequency: quarterly}\n"
        "  - {code: committee_meeting, name: 支委会, applies_to: {kind: branch, has_committee: true},"
        " frequency: monthly}\n"
        "scoring:\n"
        "  subject: {kind: branch}\n"
        f"  max_total: {max_total}\n"
        f"  allow_over_max: {'true' if allow_over_max else 'false'}\n"
        f"  rounding: {{digits: {digits}}}\n"
        "  sections:\n"
        f"{sections}"
        "  grades:\n"
        f"{grades}"
    )


def item(code: str, duty: str, *, max: float, missed: float, late: float, extra: str = "") -> str:
    """One duty_deduction item as a flow mapping line (indented for a section's items)."""
    more = f", {extra}" if extra else ""
    return (f"        - {{code: {code}, name: {code}条目, max: {max}, method: duty_deduction,"
            f" duty: {duty}, deduct: {{missed: {missed}, late: {late}}}{more}}}\n")


def section(code: str, max: float, *items: str) -> str:
    return f"    - code: {code}\n      name: {code}节\n      max: {max}\n      items:\n" + "".join(items)
