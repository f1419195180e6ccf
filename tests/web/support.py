"""Test data for the web app: the builders' county plus a second street, a rule set whose
党课 needs a photo and review by the street, a planned cycle, and one account per role."""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from dangjian.clock import SHANGHAI
from dangjian.services import users
from dangjian.services.cycles import create_cycle
from dangjian.services.planning import plan_cycle
from dangjian.services.rule_sets import register_rule_set
from models import Cycle, Task, Unit, UnitKind
from tests.support.builders import RULES, County, county, member, unit

PASSWORD = "正确的密码-2026"
# The web app's clock in tests: a Tuesday evening late in the 2026 cycle (services called
# directly in tests use the real clock, which only ever moves past this).
FROZEN = datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI)
TODAY = FROZEN.date()
LECTURE_LINE = "    requires: {minutes: true, attendance: true, evidence_files: 0}"


def review_rules_text() -> str:
    """The shipped rule set, with 党课 needing one evidence file and the street's review."""
    text = RULES.read_text(encoding="utf-8")
    start = text.index("  - code: party_lecture")
    end = text.index(LECTURE_LINE, start) + len(LECTURE_LINE)
    text = (text[:start] + text[start:end].replace(
        LECTURE_LINE, "    requires: {minutes: true, attendance: true, evidence_files: 1, review: true}")
        + text[end:])
    return text.replace('version: "2026.1"', 'version: "2026.1-web"', 1)


def write_review_rules(folder: Path) -> Path:
    path = folder / "community_branch_review.yaml"
    path.write_text(review_rules_text(), encoding="utf-8")
    return path


@dataclass
class World:
    c: County
    street2: Unit
    branch3: Unit
    cycle: Cycle
    rules_path: Path

    def task(self, session: Session, branch: Unit, duty: str, on: date) -> Task:
        return session.execute(select(Task).where(
            Task.cycle_id == self.cycle.id, Task.owner_unit_id == branch.id, Task.duty_code == duty,
            Task.period_start <= on, Task.period_end >= on)).scalars().first()  # type: ignore[return-value]


ACCOUNTS = {
    # username: (role, unit attribute on World, display name)
    "admin": ("admin", "district", "区委组织部张"),
    "reviewer": ("reviewer", "street", "街道审核员李"),
    "reviewer2": ("reviewer", "street2", "第二街道审核员"),
    "sec1": ("secretary", "big", "东关支部书记王"),
    "sec2": ("secretary", "small", "西湖支部书记赵"),
    "sec3": ("secretary", "branch3", "北山支部书记"),
    "leader": ("leader", "district", "县委领导"),
    "leader2": ("leader", "street2", "第二街道领导"),
}


def build_world(session: Session, folder: Path) -> World:
    c = county(session)
    s2 = unit(session, "S2", "北山街道", UnitKind.street, c.district)
    c3 = unit(session, "C3", "北山社区", UnitKind.community, s2, area="urban")
    b3 = unit(session, "B3", "北山社区党支部", UnitKind.branch, c3, area="urban")
    for i in range(3):
        member(session, f"M3{i:02d}", b3)
    session.commit()
    rules_path = write_review_rules(folder)
    rules = register_rule_set(session=session, path=rules_path, actor="测试")
    cycle = create_cycle(session=session, code="2026", name="2026年度考核", root_unit_id=c.district.id,
                         rule_set_id=rules.id or 0, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                         actor="测试")
    plan_cycle(session=session, cycle_id=cycle.id or 0)
    world = World(c, s2, b3, cycle, rules_path)
    for username, (role, attr, display) in ACCOUNTS.items():
        target = getattr(world, attr, None) or getattr(c, attr)
        users.add_user(session=session, username=username, password=PASSWORD, role=role, unit_id=target.id,
                       display_name=display, actor="测试")
    return world


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny) PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xc0\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)
