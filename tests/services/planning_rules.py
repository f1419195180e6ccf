"""Rule files for the planning tests: the shipped rule set with extra duties added."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session

from dangjian.services.cycles import create_cycle
from dangjian.services.planning import PlanReport, plan_cycle
from dangjian.services.rule_sets import register_rule_set
from models import Cycle, RuleSetVersion
from tests.support.builders import RULES

# A monthly member duty. The dues amount and payments are the member-duties work; planning
# only owes one task per member and month, answered by the member's branch.
DUES = """\
  - code: dues
    name: 交纳党费
    basis: 《关于中国共产党党费收缴、使用和管理的规定》：党员按月交纳党费；预备党员自支部大会通过之日起交纳
    applies_to: {subject: member, status: [probationary, full]}
    frequency: monthly
    due: {rule: period_end}
    requires: {minutes: false, attendance: false}
"""


def rules_with(session: Session, tmp_path: Path, extra_duties: str,
               code: str = "planning-test") -> RuleSetVersion:
    """Register the shipped rule set under another code with `extra_duties` (YAML list items)."""
    text = RULES.read_text(encoding="utf-8")
    assert text.count("\nduties:\n") == 1
    text = text.replace("code: community-branch-basic", f"code: {code}", 1)
    text = text.replace("\nduties:\n", "\nduties:\n" + extra_duties, 1)
    path = tmp_path / f"{code}.yaml"
    path.write_text(text, encoding="utf-8")
    return register_rule_set(session=session, path=path, actor="测试")


def new_cycle(session: Session, root_id: str, rules: RuleSetVersion, code: str = "2026",
              start: date = date(2026, 1, 1), end: date = date(2026, 12, 31)) -> Cycle:
    return create_cycle(session=session, code=code, name=f"{code}年度考核", root_unit_id=root_id,
                        rule_set_id=rules.id or 0, start_on=start, end_on=end, actor="测试")


def plan(session: Session, cycle: Cycle, as_of: date | None = None) -> PlanReport:
    return plan_cycle(session=session, cycle_id=cycle.id or 0, as_of=as_of)
