"""A deterministic year of secretaries reporting, through the same service users call.

Fixed seed and a simulated clock (each report is made at 20:00 Beijing time on its
report day), so every run prints the same scorecard. Profiles: most branches report
on time; one urban branch is weak; one town branch falls silent after May; one
meeting without quorum is rejected and held again.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from dangjian.clock import SHANGHAI
from dangjian.domain.completion import AttendanceEntry
from dangjian.errors import ValidationFailed
from dangjian.services.closing import Report, close_tasks
from models import Member, MemberStatus, Presence, Task, Unit, UnitKind

SEED = 2026
SILENT_AFTER = date(2026, 5, 31)
ABSENCE_REASONS = ("外出务工", "住院治疗", "照顾家人", "出差", "身体不适")
TOPICS = {
    "party_congress": "学习贯彻党的路线方针政策，讨论社区重要事项",
    "monthly_member_meeting": "学习文件精神，讨论小区建设有关事宜",
    "committee_meeting": "研究本月支部工作安排",
    "group_meeting": "党小组学习交流",
    "party_lecture": "书记讲党课：践行全心全意为人民服务的宗旨",
    "theme_party_day": "主题党日：“六个一”党群连心志愿服务",
    "organization_life_meeting": "组织生活会：查摆问题、开展批评和自我批评",
    "member_appraisal": "民主评议党员：个人自评、党员互评、民主测评",
}


@dataclass
class Profile:
    on_time: float
    late: float           # the rest is missed
    silent_after: date | None = None


@dataclass
class SimulationStats:
    events: int = 0
    tasks_closed: int = 0
    rejected: list[str] = field(default_factory=list)
    skipped: int = 0


def _at(day: date) -> datetime:
    return datetime.combine(day, time(20, 0), tzinfo=SHANGHAI)


def _profiles(branches: list[Unit]) -> dict[str, Profile]:
    profiles = {b.id: Profile(on_time=0.88, late=0.07) for b in branches}
    urban = [b for b in branches if b.area == "urban"]
    town = [b for b in branches if b.area == "town"]
    if urban:
        profiles[urban[-1].id] = Profile(on_time=0.55, late=0.20)
    if town:
        profiles[town[-1].id] = Profile(on_time=0.85, late=0.05, silent_after=SILENT_AFTER)
    return profiles


def _events(tasks: list[Task]) -> list[list[Task]]:
    """Group a branch's tasks into events: the quarter's last monthly meeting is also the
    quarterly 党员大会; the quarter's middle 主题党日 is also its 党课."""
    by_key = {(t.duty_code, t.subject_id, t.period_start): t for t in tasks}
    partner_of: dict[int, Task] = {}
    for t in tasks:
        if t.duty_code == "party_congress":
            key = ("monthly_member_meeting", t.subject_id, t.period_end.replace(day=1))
        elif t.duty_code == "party_lecture":
            key = ("theme_party_day", t.subject_id, t.period_start.replace(month=t.period_start.month + 1))
        else:
            continue
        if key in by_key:
            partner_of[t.id or 0] = by_key[key]
    absorbed = {p.id for p in partner_of.values()}
    return [[t] + ([partner_of[t.id or 0]] if t.id in partner_of else [])
            for t in tasks if t.id not in absorbed]


def _attendance(rng: random.Random, people: list[Member], share: float,
                quorum: bool = True) -> list[AttendanceEntry]:
    """`share` of the people attend; with `quorum`, always more than half of the voters."""
    voters = [m for m in people if m.status == MemberStatus.full]
    others = [m for m in people if m.status != MemberStatus.full]
    need = max(round(len(voters) * share), len(voters) // 2 + 1 if quorum else 0, 1)
    chosen = {m.id for m in rng.sample(voters, min(need, len(voters)))}
    chosen |= {m.id for m in others if rng.random() < share}
    out = []
    for m in people:
        if m.id in chosen:
            out.append(AttendanceEntry(m.id, Presence.present))
        else:
            presence = Presence.leave if rng.random() < 0.7 else Presence.absent
            out.append(AttendanceEntry(m.id, presence, rng.choice(ABSENCE_REASONS)))
    return out


def simulate_year(session: Session, cycle_id: int, evidence_dir: Path) -> SimulationStats:
    stats = SimulationStats()
    rng = random.Random(SEED)
    branches = list(session.execute(
        select(Unit).where(Unit.kind == UnitKind.branch).order_by(Unit.path)).scalars())
    profiles = _profiles(branches)
    roster: dict[str, list[Member]] = defaultdict(list)
    group_roster: dict[str, list[Member]] = defaultdict(list)
    for m in session.execute(select(Member).where(Member.active.is_(True)).order_by(Member.id)).scalars():
        if m.status in (MemberStatus.full, MemberStatus.probationary):
            roster[m.unit_id].append(m)
            if m.group_id:
                group_roster[m.group_id].append(m)
    tasks_by_branch: dict[str, list[Task]] = defaultdict(list)
    for t in session.execute(select(Task).where(Task.cycle_id == cycle_id)
                             .order_by(Task.due_on, Task.duty_code, Task.subject_id)).scalars():
        tasks_by_branch[t.owner_unit_id].append(t)
    evidence_dir.mkdir(parents=True, exist_ok=True)
    quorum_demo_done = False

    for branch in branches:
        profile = profiles[branch.id]
        for event in _events(tasks_by_branch[branch.id]):
            lead = event[0]
            roll = rng.random()
            if roll >= profile.on_time + profile.late:
                stats.skipped += 1
                continue
            start, end = max(t.period_start for t in event), min(t.period_end for t in event)
            held = start + timedelta(days=rng.randrange(0, max(1, (end - start).days - 2)))
            if profile.silent_after and held > profile.silent_after:
                stats.skipped += 1
                continue
            due = min(t.due_on for t in event)
            reported = held + timedelta(days=rng.randrange(0, 4))
            if roll >= profile.on_time:
                reported = due + timedelta(days=rng.randrange(15, 40))   # 台账补录
            people = group_roster[lead.subject_id] if lead.duty_code == "group_meeting" else []
            people = people or roster[branch.id]
            if lead.duty_code == "committee_meeting":
                people = [m for m in people if m.status == MemberStatus.full][:5]
            files: list[Path] = []
            if lead.duty_code == "organization_life_meeting":
                note = evidence_dir / f"{branch.id}-组织生活会记录.pdf"
                note.write_bytes(minutes_pdf(f"{branch.id} {held} organization life meeting (demo)"))
                files.append(note)
            # The first Q2 党员大会 of the first urban branch is called with too few members.
            if (not quorum_demo_done and lead.duty_code == "party_congress"
                    and lead.period_start.month == 4 and branch.area == "urban"):
                quorum_demo_done = True
                thin = _attendance(rng, people, 0.3, quorum=False)
                try:
                    close_tasks(session=session, task_ids=[t.id or 0 for t in event],
                                report=Report(held, TOPICS[lead.duty_code], "（会议记录略）", thin,
                                              files, f"{branch.name}书记"),
                                acting_branch=branch.id, now=_at(held))
                except ValidationFailed as error:
                    session.rollback()
                    stats.rejected.append(f"{branch.name} {held} {error.details[0] if error.details else error}")
                held = min(held + timedelta(days=7), end)
                reported = held
            report = Report(held_on=held, topic=TOPICS.get(lead.duty_code, "支部活动"),
                            minutes=f"{branch.name}{held}会议记录：议题、发言要点、决定事项。",
                            attendance=_attendance(rng, people, rng.uniform(0.62, 0.95)),
                            evidence=files, reported_by=f"{branch.name}书记")
            close_tasks(session=session, task_ids=[t.id or 0 for t in event], report=report,
                        acting_branch=branch.id, now=_at(max(reported, held)))
            stats.events += 1
            stats.tasks_closed += len(event)
    return stats


def minutes_pdf(line: str) -> bytes:
    """A one-page PDF holding one ASCII line: evidence must be a photo or a PDF by content."""
    stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>"),
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
