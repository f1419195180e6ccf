"""Who owes a duty: units by kind and attributes, members by category and status.

Pure functions over plain facts; planning reads the facts (one query per table) and
asks these functions which subjects owe each duty, and from when.

- A unit duty (`applies_to: {kind: branch, has_committee: true, area: town}`) is owed by
  every unit of that kind whose attributes match; a party group's tasks are answered
  by its branch.
- A branch has a committee when 7 or more of its active members are 正式党员
  (支部工作条例: 正式党员7人以上应当设立党支部委员会) — decided from the roster at
  planning time when the unit says so (`attributes["has_committee_from"] == "roster"`,
  set by the roster import for a blank 设支委会 cell); otherwise the stored flag holds.
- A member duty (`applies_to: {subject: member, category: [...], status: [...]}`) is
  owed by every active member whose category and status are listed, from the period
  that contains their 入党日期 on; their branch answers for it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from models import MemberCategory, MemberStatus, SubjectKind, UnitKind
from rules.duties import Applicability, MemberApplicability

COMMITTEE_MIN_FULL = 7                   # 正式党员7人以上应当设立党支部委员会
COMMITTEE_FROM = "has_committee_from"    # Unit.attributes key: "roster" or "file"


@dataclass(frozen=True, slots=True)
class UnitFacts:
    id: str
    kind: UnitKind
    parent_id: str | None
    area: str | None
    has_committee: bool                  # as it stands now (see committee_now)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    id: str
    branch_id: str
    category: MemberCategory
    status: MemberStatus
    active: bool
    joined_on: date | None


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: str
    owner_unit_id: str                   # the branch that answers for the task
    owes_from: date | None = None        # periods ending before this day are not owed


def committee_now(stored: bool, attributes: Mapping[str, Any] | None, full_members: int) -> bool:
    """Whether a branch has a committee today: from the roster when its attributes say so."""
    if (attributes or {}).get(COMMITTEE_FROM) == "roster":
        return full_members >= COMMITTEE_MIN_FULL
    return stored


def unit_applies(rule: Applicability, unit: UnitFacts) -> bool:
    if unit.kind != rule.kind:
        return False
    if rule.has_committee is not None and unit.has_committee != rule.has_committee:
        return False
    return rule.area is None or unit.area == rule.area


def member_applies(rule: MemberApplicability, member: MemberFacts) -> bool:
    if not member.active or member.status not in rule.status:
        return False
    return rule.category is None or member.category in rule.category


def unit_subjects(rule: Applicability, units: Iterable[UnitFacts]) -> list[Subject]:
    """A party group's meetings are its branch's responsibility."""
    return [
        Subject(SubjectKind.unit, u.id,
                u.parent_id if u.kind == UnitKind.group and u.parent_id else u.id)
        for u in units if unit_applies(rule, u)
    ]


def member_subjects(rule: MemberApplicability, members: Iterable[MemberFacts]) -> list[Subject]:
    return [
        Subject(SubjectKind.member, m.id, m.branch_id, m.joined_on)
        for m in members if member_applies(rule, m)
    ]


def subjects(rule: Applicability | MemberApplicability, units: Iterable[UnitFacts],
             members: Iterable[MemberFacts]) -> list[Subject]:
    if isinstance(rule, MemberApplicability):
        return member_subjects(rule, members)
    return unit_subjects(rule, units)


def owes(subject: Subject, period_end: date) -> bool:
    """A member who joins on 2026-07-15 owes July (it ends after they joined) and later."""
    return subject.owes_from is None or period_end >= subject.owes_from
