"""Pure checks on a reported event before it may close a task.

Each check returns Chinese messages naming the field at fault; the service raises
them together so the secretary sees every problem at once.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from models.completion import Presence


@dataclass(frozen=True)
class AttendanceEntry:
    member_id: str
    presence: Presence = Presence.present
    reason: str | None = None


@dataclass(frozen=True)
class RosterMember:
    member_id: str
    name: str
    has_vote: bool               # 正式党员; 预备党员 have no vote
    excused_from_quorum: bool    # approved exclusion from 应到会人数
    group_id: str | None = None  # the party group (党小组) the member belongs to


@dataclass(frozen=True)
class QuorumResult:
    expected: int    # 应到会有表决权的党员
    present: int     # 实到有表决权的党员
    required: int    # 至少须到会人数 (more than half)

    @property
    def met(self) -> bool:
        return self.present >= self.required


def voting_quorum(roster: Sequence[RosterMember], attendance: Sequence[AttendanceEntry]) -> QuorumResult:
    """支部工作条例第十一条: 半数以上有表决权的党员到会方可进行."""
    voters = {m.member_id for m in roster if m.has_vote and not m.excused_from_quorum}
    present = {a.member_id for a in attendance if a.presence == Presence.present} & voters
    expected = len(voters)
    return QuorumResult(expected=expected, present=len(present), required=expected // 2 + 1)


def check_held_on(held_on: date, period_start: date, period_end: date, period_label: str,
                  task_id: int, today: date) -> list[str]:
    problems = []
    if held_on > today:
        problems.append(f"召开日期 {held_on} 晚于今天（{today}，北京时间），不能报送未来的活动")
    if not period_start <= held_on <= period_end:
        problems.append(
            f"召开日期 {held_on} 不在任务 #{task_id} 的周期内"
            f"（{period_label}：{period_start} 至 {period_end}）"
        )
    return problems


def check_attendance(attendance: Sequence[AttendanceEntry], roster_ids: set[str]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for entry in attendance:
        if entry.member_id in seen:
            problems.append(f"参会人员 {entry.member_id} 重复填写")
        seen.add(entry.member_id)
        if entry.member_id not in roster_ids:
            problems.append(f"参会人员 {entry.member_id} 不是本支部党员")
        if entry.presence != Presence.present and not (entry.reason or "").strip():
            label = "请假" if entry.presence == Presence.leave else "缺席"
            problems.append(f"{entry.member_id} {label}须填写原因")
    return problems


def check_group_attendance(attendance: Sequence[AttendanceEntry], roster: Sequence[RosterMember],
                           group_names: dict[str, str]) -> list[str]:
    """A 党小组会 is attended by the members of that group (others may not be recorded)."""
    in_group = {m.member_id for m in roster if m.group_id in group_names}
    branch = {m.member_id for m in roster}
    names = "、".join(group_names.values())
    return [f"参会人员 {a.member_id} 不是{names}的成员" for a in attendance
            if a.member_id in branch and a.member_id not in in_group]
