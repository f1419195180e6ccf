"""Who owes a duty: units by kind and attributes, members by category, status and 入党日期."""
from __future__ import annotations

from datetime import date

from dangjian.domain.applicability import (
    COMMITTEE_FROM,
    MemberFacts,
    UnitFacts,
    committee_now,
    owes,
    subjects,
)
from models import MemberCategory, MemberStatus, SubjectKind, UnitKind
from rules.duties import Applicability, MemberApplicability

UNITS = [
    UnitFacts("C1", UnitKind.community, "S", "urban", False),
    UnitFacts("B1", UnitKind.branch, "C1", "urban", True),
    UnitFacts("B2", UnitKind.branch, "C2", "town", False),
    UnitFacts("G1", UnitKind.group, "B1", "urban", False),
    UnitFacts("G2", UnitKind.group, "B1", "urban", False),
]


def member(mid: str, *, status: MemberStatus = MemberStatus.full, active: bool = True,
           category: MemberCategory = MemberCategory.resident, joined: date | None = None) -> MemberFacts:
    return MemberFacts(mid, "B1", category, status, active, joined)


def ids(rule: Applicability | MemberApplicability, members: tuple[MemberFacts, ...] = ()) -> list[str]:
    return [s.id for s in subjects(rule, UNITS, members)]


def test_a_branch_duty_applies_to_every_branch() -> None:
    assert ids(Applicability(kind=UnitKind.branch)) == ["B1", "B2"]


def test_committee_and_area_narrow_the_branches() -> None:
    assert ids(Applicability(kind=UnitKind.branch, has_committee=True)) == ["B1"]
    assert ids(Applicability(kind=UnitKind.branch, has_committee=False)) == ["B2"]
    assert ids(Applicability(kind=UnitKind.branch, area="town")) == ["B2"]


def test_each_party_group_owes_its_own_meetings_and_its_branch_answers() -> None:
    found = subjects(Applicability(kind=UnitKind.group), UNITS, [])
    assert [(s.kind, s.id, s.owner_unit_id) for s in found] == [
        (SubjectKind.unit, "G1", "B1"), (SubjectKind.unit, "G2", "B1"),
    ]


def test_seven_full_members_make_a_committee_when_the_roster_decides() -> None:
    roster = {COMMITTEE_FROM: "roster"}
    assert committee_now(False, roster, 7) is True
    assert committee_now(True, roster, 6) is False
    # A committee stated in the import file (or with no note at all) stands as stored.
    assert committee_now(True, {COMMITTEE_FROM: "file"}, 3) is True
    assert committee_now(False, {}, 12) is False


def test_member_duties_go_to_active_party_members_by_default() -> None:
    members = [member("M1"), member("M2", status=MemberStatus.probationary),
               member("M3", status=MemberStatus.activist), member("M4", active=False)]
    found = subjects(MemberApplicability(subject="member"), UNITS, members)
    assert [(s.kind, s.id, s.owner_unit_id) for s in found] == [
        (SubjectKind.member, "M1", "B1"), (SubjectKind.member, "M2", "B1"),
    ]


def test_member_duties_can_name_categories_and_statuses() -> None:
    members = [member("M1", category=MemberCategory.retired), member("M2"),
               member("M3", category=MemberCategory.floating, status=MemberStatus.probationary)]
    rule = MemberApplicability(subject="member", category=(MemberCategory.retired, MemberCategory.floating))
    assert ids(rule, members) == ["M1", "M3"]
    rule = MemberApplicability(subject="member", status=(MemberStatus.full,))
    assert ids(rule, members) == ["M1", "M2"]


def test_a_member_owes_periods_from_the_one_they_joined_in() -> None:
    (joined_in_july,) = subjects(MemberApplicability(subject="member"), UNITS,
                                 [member("M1", joined=date(2026, 7, 15))])
    assert not owes(joined_in_july, date(2026, 6, 30))
    assert owes(joined_in_july, date(2026, 7, 31))
    (unknown,) = subjects(MemberApplicability(subject="member"), UNITS, [member("M2")])
    assert owes(unknown, date(2026, 1, 31))
