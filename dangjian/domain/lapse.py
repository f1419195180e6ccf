"""自行脱党: six months in a row, without good reason, of no dues or no organisation life. Pure code.

党章: "党员如果没有正当理由，连续六个月不参加党的组织生活，或不交纳党费，或不做党所
分配的工作，就被认为是自行脱党。" The two reasons are counted separately; each month is
marked for each reason as

- missing   the member did not pay / did not take part, and nothing excuses it;
- done      paid something for the month / attended (present or on leave) a meeting;
- excused   a good reason: dues exempted; approved leave from organisation life; the
            branch held no meeting that month (the member had nothing to attend);
- not_member  before the branch meeting admitted them.

Only `missing` months count, and only in an unbroken row: an excused month ends a run
(a month with a good reason is not a month "without good reason"). The flag is raised
for the branch to act on; expelling is the branch meeting's decision, not ours.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from dangjian.domain.dues import DueState, Month, MonthBalance, join_months, yuan

RUN_LENGTH = 6   # 连续六个月


class Mark(StrEnum):
    missing = "missing"
    done = "done"
    excused = "excused"
    not_member = "not_member"


class Reason(StrEnum):
    dues = "dues"
    life = "life"


REASON_LABEL = {Reason.dues: "不交纳党费", Reason.life: "不参加党的组织生活"}
MARK_LABEL = {Mark.missing: "无正当理由缺", Mark.done: "正常", Mark.excused: "有正当理由",
              Mark.not_member: "未入党"}


@dataclass(frozen=True)
class MonthFacts:
    month: Month
    dues: Mark
    dues_note: str
    life: Mark
    life_note: str

    def mark(self, reason: Reason) -> Mark:
        return self.dues if reason == Reason.dues else self.life

    def note(self, reason: Reason) -> str:
        return self.dues_note if reason == Reason.dues else self.life_note


def dues_mark(balance: MonthBalance) -> tuple[Mark, str]:
    """Paying anything for the month counts as paying; a full exemption excuses the month."""
    due = balance.due
    if due.state == DueState.not_member:
        return Mark.not_member, due.note
    if balance.paid > 0:
        return Mark.done, f"已交 {yuan(balance.paid)}"
    if not balance.unpaid:          # exempt, or reduced to nothing
        return Mark.excused, due.note
    if due.amount is None:
        return Mark.missing, "未交（未登记计算基数，应交金额不明）"
    return Mark.missing, f"应交 {yuan(due.amount)}，未交"


def life_mark(*, member: bool, attended: int, meetings_held: int, leave_reason: str | None) -> tuple[Mark, str]:
    """`attended`: meetings the member attended as present or on leave that month;
    `meetings_held`: meetings the member's branch or group held that month."""
    if not member:
        return Mark.not_member, "未入党"
    if attended:
        return Mark.done, f"参加组织生活 {attended} 次"
    if leave_reason is not None:
        return Mark.excused, f"经批准请假：{leave_reason}"
    if meetings_held == 0:
        return Mark.excused, "支部（党小组）当月未开展组织生活"
    return Mark.missing, f"支部当月开展组织生活 {meetings_held} 次，均未参加"


@dataclass(frozen=True)
class Run:
    reason: Reason
    months: tuple[Month, ...]
    ongoing: bool          # the run reaches the last month looked at

    @property
    def length(self) -> int:
        return len(self.months)

    def describe(self) -> str:
        tail = "，至今未改正" if self.ongoing else ""
        return f"{join_months(self.months)}连续{self.length}个月{REASON_LABEL[self.reason]}{tail}"


def runs(facts: Sequence[MonthFacts], reason: Reason, *, length: int = RUN_LENGTH) -> list[Run]:
    """Unbroken runs of `missing` months of at least `length`; facts must be consecutive months."""
    ordered = sorted(facts, key=lambda f: f.month)
    for before, after in itertools.pairwise(ordered):
        if after.month - before.month != 1:
            raise ValueError(f"月份不连续：{before.month} 之后是 {after.month}")
    found: list[Run] = []
    current: list[Month] = []
    last = ordered[-1].month if ordered else None
    for f in [*ordered, None]:
        if f is not None and f.mark(reason) == Mark.missing:
            current.append(f.month)
            continue
        if len(current) >= length:
            found.append(Run(reason, tuple(current), current[-1] == last))
        current = []
    return found


@dataclass(frozen=True)
class LapseFlag:
    member_id: str
    member_name: str
    branch_id: str
    branch_name: str
    runs: tuple[Run, ...]
    months: tuple[MonthFacts, ...]    # the months looked at, with both reasons' marks

    @property
    def reasons(self) -> list[Reason]:
        return sorted({r.reason for r in self.runs}, key=list(Reason).index)

    def describe(self) -> str:
        """'党员 张三（M1）：2026年1月至2026年6月连续6个月不交纳党费；…'"""
        return f"党员 {self.member_name}（{self.member_id}）：" + "；".join(r.describe() for r in self.runs)

    def month_line(self, month: Month) -> str:
        f = next(x for x in self.months if x.month == month)
        return f"{month.label}：党费 {f.dues_note}；组织生活 {f.life_note}"


def assess(*, member_id: str, member_name: str, branch_id: str, branch_name: str,
           facts: Sequence[MonthFacts], length: int = RUN_LENGTH) -> LapseFlag | None:
    """A flag when either reason has a run of `length` months, else None."""
    found = [r for reason in Reason for r in runs(facts, reason, length=length)]
    if not found:
        return None
    return LapseFlag(member_id, member_name, branch_id, branch_name, tuple(found),
                     tuple(sorted(facts, key=lambda f: f.month)))
