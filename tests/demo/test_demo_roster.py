"""The demo county's roster (seed 002) imports cleanly and matches the report's figures."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from dangjian.demo import DATA_DIR, REFERENCE_DATE, ROSTER_FILES
from dangjian.services.org_import import import_org
from dangjian.services.roster_format import parse_id_number
from models import Area, Gender, Member, MemberCategory, MemberStatus, Unit, UnitKind

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_demo_roster.py"


def age(born: date) -> int:
    before_birthday = (REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day)
    return REFERENCE_DATE.year - born.year - before_birthday


@pytest.fixture
def county(session: Session) -> tuple[dict[str, Unit], list[Member]]:
    report = import_org(session=session, paths=list(ROSTER_FILES), actor="测试")
    assert (report.units_added, report.members_added) == (38, 281)
    units = {u.id: u for u in session.execute(select(Unit)).scalars()}
    return units, list(session.execute(select(Member).order_by(Member.id)).scalars())


def test_the_tree_is_one_county_one_general_branch_and_twelve_communities(
        county: tuple[dict[str, Unit], list[Member]]) -> None:
    units, _ = county
    by_kind = Counter(u.kind for u in units.values())
    assert by_kind[UnitKind.district] == 1 and by_kind[UnitKind.street] == 1
    assert units["620621"].name == "民勤县"
    assert units["620621-01"].name == "三雷镇社区党总支" and units["620621-01"].has_committee
    communities = [u for u in units.values() if u.kind == UnitKind.community]
    assert Counter(c.area for c in communities) == {Area.urban: 7, Area.town: 5}
    branches = [u for u in units.values() if u.kind == UnitKind.branch]
    assert all(b.name == units[b.parent_id or ""].name + "党支部" for b in branches)
    assert all(b.area == units[b.parent_id or ""].area for b in branches)
    assert all(u.path.startswith("/620621/620621-01/") for u in communities + branches)


def test_member_figures_match_the_seed_report(county: tuple[dict[str, Unit], list[Member]]) -> None:
    units, members = county
    urban = [m for m in members if units[m.unit_id].area == Area.urban]
    assert all(units[m.unit_id].parent_id in units and units[units[m.unit_id].parent_id or ""].kind
               == UnitKind.community for m in members)                 # 组织关系在社区
    assert len(members) == 281
    assert sum(m.gender == Gender.female for m in members) == 92
    assert len(urban) == 246
    assert Counter(m.category for m in urban) == {
        MemberCategory.in_service: 46, MemberCategory.retired: 61,
        MemberCategory.resident: 107, MemberCategory.laid_off: 32}
    assert sum(m.gender == Gender.female for m in urban) == 84
    # Nobody is exactly 35 or 60, and town members are 36–59: both readings of the report hold.
    for group in (members, urban):
        assert sum(age(m.birth_date) < 35 for m in group) == 68
        assert sum(age(m.birth_date) > 60 for m in group) == 125
    assert not any(age(m.birth_date) in (35, 60) for m in members)


def test_members_are_plausible(county: tuple[dict[str, Unit], list[Member]]) -> None:
    _units, members = county
    assert len({m.name for m in members}) == 281 and len({m.id_number for m in members}) == 281
    assert [m.id for m in members] == [f"M{i:04d}" for i in range(1, 282)]
    for m in members:
        assert parse_id_number(m.id_number) == m.id_number and m.id_number.startswith("620621")
        if m.category == MemberCategory.retired:
            assert age(m.birth_date) >= 55
        if m.status == MemberStatus.probationary:
            assert m.joined_on and m.joined_on.year in (2025, 2026) and m.full_on is None
        else:
            assert m.status == MemberStatus.full and m.full_on and m.full_on <= REFERENCE_DATE
    probationary = sum(m.status == MemberStatus.probationary for m in members)
    assert 3 <= probationary <= 10


def test_branch_sizes_groups_and_committees(county: tuple[dict[str, Unit], list[Member]]) -> None:
    units, members = county
    size = Counter(m.unit_id for m in members)
    full = Counter(m.unit_id for m in members if m.status == MemberStatus.full)
    groups = Counter(u.parent_id for u in units.values() if u.kind == UnitKind.group)
    for b in (u for u in units.values() if u.kind == UnitKind.branch):
        low, high = (24, 48) if b.area == Area.urban else (5, 9)
        assert low <= size[b.id] <= high
        assert b.has_committee == (full[b.id] >= 7)
        in_branch = [m for m in members if m.unit_id == b.id]
        if size[b.id] >= 30:
            assert 2 <= groups[b.id] <= 3 and all(m.group_id for m in in_branch)
        else:
            assert groups[b.id] == 0 and not any(m.group_id for m in in_branch)
    town = [b for b in units.values() if b.kind == UnitKind.branch and b.area == Area.town]
    assert sum(not b.has_committee for b in town) >= 2


def test_generator_is_deterministic(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in ("units.csv", "members.csv"):
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
