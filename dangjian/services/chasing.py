"""Chasing: the daily digests, escalation to the unit above, and warnings.

What each unit is told is gathered with a handful of set-based queries per cycle (tasks
grouped by owner, duty, period and due date; last activity per unit; task states counted
per unit and period end; organisations without a branch), interpreted by the pure rules in
dangjian.domain.warnings, and handed to dangjian.services.notify, which alone sends.

Public functions:
- send_reminders: one digest per unit (due soon + overdue) to each of its channels, and
  one escalation per unit above listing its subordinates' tasks past the grace period.
- raise_warnings: raise, upgrade and resolve warnings (one transaction).
- send_warning_notices: tell the level above about new or upgraded warnings.
- list_warnings.
Sending commits once per message (claim, then outcome; see notify.py), so the two send_*
functions are not one transaction: that is what makes a re-run send nothing twice.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from dangjian.domain import warnings as rules_of
from dangjian.domain.calendar import WorkCalendar
from dangjian.errors import NotFound
from dangjian.services import audit
from dangjian.services.bulk import insert_ignoring_duplicates
from dangjian.services.notify import DeliveryReport, Message, channels_by_unit, deliver
from dangjian.services.planning import work_calendar
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.services.tasks import task_duty_names
from models import (
    Completion,
    Cycle,
    Member,
    MemberStatus,
    NotificationChannel,
    NotificationKind,
    Task,
    Unit,
    UnitKind,
    UnitWarning,
    WarningKind,
    WarningLevel,
    utcnow,
)
from rules.chasing import Chasing

NEEDS_ACTION = ("open", "overdue", "returned")       # the unit still has to act
UNFINISHED = ("open", "overdue", "returned", "missed")
MAX_LINES = 30                                       # per section of a message

WARNING_KIND = {"inactivity": "有组织无活动", "consecutive_red": "连续红色",
                "coverage_gap": "应建未建"}
WARNING_LEVEL = {"yellow": "黄色预警", "red": "红色预警"}


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _cycle(session: Session, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"考核周期 #{cycle_id} 不存在")
    return cycle


def chasing_rules(session: Session, cycle: Cycle) -> Chasing:
    """The cycle's rule set's `chasing:` block, or the documented defaults."""
    return load_stored(get_rule_set(session, cycle.rule_set_id)).rule_set.chasing or Chasing()


def _duty_names(session: Session, cycle: Cycle) -> dict[str, str]:
    return task_duty_names(session, cycle.rule_set_id)


# --- the tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    id: str
    name: str
    kind: str
    path: str

    @property
    def ancestors(self) -> list[str]:
        """Strict ancestors, nearest first."""
        return self.path.strip("/").split("/")[:-1][::-1]


class _Tree:
    """The cycle's subtree and the root's ancestors: names, kinds, who is above whom."""

    def __init__(self, session: Session, cycle: Cycle):
        root = session.get(Unit, cycle.root_unit_id)
        if root is None:
            raise NotFound(f"周期 {cycle.code} 的根组织 {cycle.root_unit_id} 不存在")
        above = root.path.strip("/").split("/")[:-1]
        rows = session.execute(
            select(Unit.id, Unit.name, Unit.kind, Unit.path)
            .where(or_(Unit.path.startswith(root.path), Unit.id.in_(above)))
        ).all()
        self.nodes = {r.id: _Node(r.id, r.name, str(r.kind), r.path) for r in rows}

    def name(self, uid: str) -> str:
        node = self.nodes.get(uid)
        return node.name if node else uid

    def reachable_above(self, uid: str, channels: dict[str, list[NotificationChannel]],
                        prefer: UnitKind | None = None) -> str | None:
        """The ancestor of kind `prefer` with a channel, else the nearest one with a channel."""
        node = self.nodes.get(uid)
        if node is None:
            return None
        ancestors = [a for a in node.ancestors if a in self.nodes]
        if prefer is not None:
            for a in ancestors:
                if self.nodes[a].kind == prefer and channels.get(a):
                    return a
        return next((a for a in ancestors if channels.get(a)), None)


# --- what is due ---------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """Tasks of one owner, duty, period and due date (members' tasks are counted together)."""

    owner_unit_id: str
    duty_code: str
    period_label: str
    due_on: date
    subject_kind: str
    subject_id: str        # the unit for unit tasks; '' for members' tasks
    count: int
    returned: int


def _lines(session: Session, cycle_id: int, upto: date) -> list[Line]:
    """Every task still needing action due on or before `upto`, grouped for the messages."""
    subject = case((Task.subject_kind == "unit", Task.subject_id), else_=literal(""))
    returned = func.sum(case((Task.state == "returned", 1), else_=0))
    rows = session.execute(
        select(Task.owner_unit_id, Task.duty_code, Task.period_label, Task.due_on,
               Task.subject_kind, subject, func.count(), returned)
        .where(Task.cycle_id == cycle_id, Task.state.in_(NEEDS_ACTION), Task.due_on <= upto)
        .group_by(Task.owner_unit_id, Task.duty_code, Task.period_label, Task.due_on,
                  Task.subject_kind, subject)
        .order_by(Task.owner_unit_id, Task.due_on, Task.duty_code, subject)
    ).all()
    return [Line(r[0], r[1], r[2], r[3], str(r[4]), r[5], int(r[6]), int(r[7] or 0)) for r in rows]


def due_lines(*, session: Session, cycle_id: int, as_of: date,
              rules: Chasing | None = None) -> dict[str, list[Line]]:
    """Per accountable unit: tasks due within `remind_days_before` days, and overdue ones."""
    rules = rules or chasing_rules(session, _cycle(session, cycle_id))
    per_owner: dict[str, list[Line]] = defaultdict(list)
    for line in _lines(session, cycle_id, as_of + timedelta(days=rules.remind_days_before)):
        per_owner[line.owner_unit_id].append(line)
    return dict(per_owner)


def escalated_lines(*, session: Session, cycle_id: int, as_of: date, calendar: WorkCalendar,
                    rules: Chasing | None = None) -> list[Line]:
    """Tasks still needing action more than `escalate_after_working_days` working days late."""
    rules = rules or chasing_rules(session, _cycle(session, cycle_id))
    due_dates = session.execute(
        select(Task.due_on).distinct()
        .where(Task.cycle_id == cycle_id, Task.state.in_(NEEDS_ACTION), Task.due_on < as_of)
    ).scalars().all()
    cutoff = rules_of.escalation_cutoff(calendar, due_dates, as_of, rules.escalate_after_working_days)
    return [] if cutoff is None else _lines(session, cycle_id, cutoff)


# --- message text --------------------------------------------------------------------


class _Text:
    def __init__(self, tree: _Tree, duties: dict[str, str], as_of: date, calendar: WorkCalendar):
        self.tree, self.duties, self.as_of, self.calendar = tree, duties, as_of, calendar
        self._working: dict[date, int] = {}

    def working_days_late(self, due: date) -> int:
        if due not in self._working:
            self._working[due] = rules_of.working_days_late(self.calendar, due, self.as_of)
        return self._working[due]

    def line(self, n: int, ln: Line, *, working: bool = False) -> str:
        what = ln.period_label
        if ln.subject_kind == "unit" and ln.subject_id and ln.subject_id != ln.owner_unit_id:
            what += f"，{self.tree.name(ln.subject_id)}"
        elif ln.subject_kind == "member":
            what += f"，{ln.count} 名党员"
        text = f"{n}. {self.duties.get(ln.duty_code, ln.duty_code)}（{what}）：截止 {cn_date(ln.due_on)}，"
        days = (ln.due_on - self.as_of).days
        if days > 0:
            text += f"还有 {days} 天"
        elif days == 0:
            text += "今天到期"
        else:
            text += f"已逾期 {-days} 天"
            if working:
                text += f"（{self.working_days_late(ln.due_on)} 个工作日）"
        if ln.returned:
            text += "；报送被退回，请修改后重新报送" if ln.returned == ln.count else f"；其中 {ln.returned} 项被退回"
        return text

    def section(self, heading: str, lines: Sequence[Line], *, working: bool = False,
                limit: int = MAX_LINES) -> list[str]:
        out = [f"{heading}（{len(lines)} 项）"]
        out += [self.line(i, ln, working=working) for i, ln in enumerate(lines[:limit], start=1)]
        if len(lines) > limit:
            out.append(f"……另有 {len(lines) - limit} 项，请登录系统查看")
        return out


def digest_text(text: _Text, cycle: Cycle, unit_id: str, lines: Sequence[Line],
                rules: Chasing) -> tuple[str, str]:
    soon = [ln for ln in lines if ln.due_on >= text.as_of]
    late = [ln for ln in lines if ln.due_on < text.as_of]
    name = text.tree.name(unit_id)
    parts = []
    if soon:
        parts.append(f"{len(soon)} 项即将到期")
    if late:
        parts.append(f"{len(late)} 项已逾期")
    title = f"【党建工作提醒】{name}：" + "，".join(parts)
    body = [f"{name}：", f"截至 {cn_date(text.as_of)}，{cycle.name}中本单位有以下工作需要办理。", ""]
    if soon:
        body += text.section("一、即将到期", soon) + [""]
    if late:
        body += text.section(f"{'二' if soon else '一'}、已逾期未完成", late) + [""]
    body.append("请按期组织开展，并及时在系统中报送。")
    if late:
        body.append(f"逾期超过 {rules.escalate_after_working_days} 个工作日仍未完成的，将报上级党组织督办。")
    return title, "\n".join(body)


def escalation_text(text: _Text, recipient: str, lines: Sequence[Line],
                    rules: Chasing) -> tuple[str, str]:
    by_owner: dict[str, list[Line]] = defaultdict(list)
    for ln in lines:
        by_owner[ln.owner_unit_id].append(ln)
    grace = rules.escalate_after_working_days
    title = (f"【党建督办】{len(by_owner)} 个下级党组织共 {len(lines)} 项任务"
             f"逾期超过 {grace} 个工作日")
    body = [f"{text.tree.name(recipient)}：",
            f"截至 {cn_date(text.as_of)}，下列党组织的任务逾期超过 {grace} 个工作日仍未完成，请督促办理。", ""]
    owners = sorted(by_owner, key=lambda u: text.tree.nodes[u].path if u in text.tree.nodes else u)
    budget = MAX_LINES * 2          # robots cut long messages: list the first units in full
    for shown, owner in enumerate(owners):
        if budget <= 0:
            rest = owners[shown:]
            body.append(f"……另有 {len(rest)} 个党组织共 {sum(len(by_owner[o]) for o in rest)} 项，请登录系统查看")
            break
        body += text.section(text.tree.name(owner), by_owner[owner], working=True,
                             limit=min(MAX_LINES, budget)) + [""]
        budget -= len(by_owner[owner])
    return title, "\n".join(body).rstrip()


# --- reminders and escalation ------------------------------------------------------------


@dataclass
class ReminderReport:
    cycle_code: str
    as_of: date
    working_day: bool
    skipped: bool = False          # a non-working day and the rules send on working days only
    digests: DeliveryReport = field(default_factory=DeliveryReport)
    escalations: DeliveryReport = field(default_factory=DeliveryReport)
    unreachable: list[str] = field(default_factory=list)   # units with work and no channel

    def counts(self) -> dict[str, int]:
        return {"skipped_non_working_day": int(self.skipped),
                "digests_sent": len(self.digests.sent), "digests_failed": len(self.digests.failed),
                "escalations_sent": len(self.escalations.sent),
                "escalations_failed": len(self.escalations.failed),
                "already_sent": len(self.digests.already) + len(self.escalations.already),
                "unreachable": len(self.unreachable)}


def _key(cycle: Cycle, as_of: date, kind: NotificationKind, unit_id: str, channel_id: int | None) -> str:
    return f"{cycle.id}:{as_of.isoformat()}:{kind.value}:{unit_id}:{channel_id}"


def _messages(cycle: Cycle, as_of: date, kind: NotificationKind, unit_id: str,
              channels: Iterable[NotificationChannel], title: str, body: str,
              details: dict[str, Any]) -> list[Message]:
    return [Message(key=_key(cycle, as_of, kind, unit_id, ch.id), channel=ch, recipient_unit_id=unit_id,
                    cycle_id=cycle.id, kind=kind, as_of=as_of, title=title, body=body, details=details)
            for ch in channels]


def send_reminders(*, session: Session, cycle_id: int, as_of: date,
                   calendar: WorkCalendar | None = None) -> ReminderReport:
    """Each accountable unit gets one digest per channel; each unit above, one escalation.

    On a non-working day (when the rules say so) nothing is sent. Sending the same day
    again sends nothing twice (notify.deliver).
    """
    cycle = _cycle(session, cycle_id)
    rules = chasing_rules(session, cycle)
    calendar = calendar or work_calendar()
    report = ReminderReport(cycle.code, as_of, working_day=calendar.is_workday(as_of))
    if rules.working_days_only and not report.working_day:
        report.skipped = True
        return report
    tree = _Tree(session, cycle)
    channels = channels_by_unit(session)
    text = _Text(tree, _duty_names(session, cycle), as_of, calendar)

    digests: list[Message] = []
    for owner, lines in due_lines(session=session, cycle_id=cycle_id, as_of=as_of, rules=rules).items():
        if not channels.get(owner):
            report.unreachable.append(owner)
            continue
        title, body = digest_text(text, cycle, owner, lines, rules)
        details = {"due_soon": sum(ln.count for ln in lines if ln.due_on >= as_of),
                   "overdue": sum(ln.count for ln in lines if ln.due_on < as_of)}
        digests += _messages(cycle, as_of, NotificationKind.digest, owner, channels[owner],
                             title, body, details)
    report.digests = deliver(session, digests)

    by_recipient: dict[str, list[Line]] = defaultdict(list)
    for ln in escalated_lines(session=session, cycle_id=cycle_id, as_of=as_of, calendar=calendar,
                              rules=rules):
        recipient = tree.reachable_above(ln.owner_unit_id, channels)
        if recipient is None:
            if ln.owner_unit_id not in report.unreachable:
                report.unreachable.append(ln.owner_unit_id)
            continue
        by_recipient[recipient].append(ln)
    escalations: list[Message] = []
    for recipient, lines in by_recipient.items():
        title, body = escalation_text(text, recipient, lines, rules)
        details = {"units": sorted({ln.owner_unit_id for ln in lines}),
                   "tasks": sum(ln.count for ln in lines)}
        escalations += _messages(cycle, as_of, NotificationKind.escalation, recipient,
                                 channels[recipient], title, body, details)
    report.escalations = deliver(session, escalations)
    return report


# --- warnings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    unit_id: str
    kind: WarningKind
    level: WarningLevel
    since: date
    details: dict[str, Any]


def _owners(session: Session, cycle: Cycle) -> list[str]:
    """Units the warnings watch: those owning a task of a duty the cycle's rule set declares
    (its organisational life). A 目标责任书 or a 发展党员 step alone does not make a street or
    community subject to 有组织无活动, since signing or a step is no meeting."""
    declared = [d.code for d in load_stored(get_rule_set(session, cycle.rule_set_id)).rule_set.duties]
    return list(session.execute(
        select(Task.owner_unit_id).distinct()
        .where(Task.cycle_id == cycle.id, Task.duty_code.in_(declared))
        .order_by(Task.owner_unit_id)).scalars())


def _current_completions() -> Any:
    """Completion rows that are the latest version of their chain."""
    newer = aliased(Completion)
    return ~exists(select(newer.id).where(newer.chain_id == Completion.chain_id,
                                          newer.version > Completion.version))


def inactivity_findings(session: Session, cycle: Cycle, as_of: date, rules: Chasing,
                        owners: Sequence[str]) -> list[Finding]:
    last = dict(session.execute(
        select(Completion.unit_id, func.max(Completion.held_on))
        .where(Completion.held_on <= as_of, _current_completions())
        .group_by(Completion.unit_id)).all())
    found = []
    for uid in owners:
        days = rules_of.days_without_activity(last.get(uid), cycle.start_on, as_of)
        level = rules_of.inactivity_level(days, rules)
        if level is None:
            continue
        seen = last.get(uid)
        text = (f"已连续 {days} 天没有活动记录（最近一次活动：{cn_date(seen)}）" if seen
                else f"自 {cn_date(cycle.start_on)} 起 {days} 天没有任何活动记录")
        found.append(Finding(uid, WarningKind.inactivity, level, seen or cycle.start_on,
                             {"days": days, "last_activity": seen.isoformat() if seen else None,
                              "text": text}))
    return found


def colour_history(session: Session, cycle: Cycle, as_of: date, rules: Chasing,
                   owners: Sequence[str]) -> tuple[list[rules_of.ColourPeriod], dict[str, list[rules_of.Colour]]]:
    """Every ended colour period of the cycle and each unit's colour in it, from the tasks
    of that period already due by `as_of` (set-based: counts per unit, period end, state)."""
    periods = rules_of.colour_periods(rules.colour_period, cycle.start_on,
                                      min(cycle.end_on, as_of - timedelta(days=1)))
    if not periods:
        return periods, {}
    first, last = periods[0].start, periods[-1].end
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # A task belongs to the colour period its own period ends in (a month's tasks to that
    # month even when the due date rolls past a weekend); tasks not yet due do not count.
    for owner, period_end, state, n in session.execute(
        select(Task.owner_unit_id, Task.period_end, Task.state, func.count())
        .where(Task.cycle_id == cycle.id, Task.period_end >= first, Task.period_end <= last,
               Task.due_on < as_of)
        .group_by(Task.owner_unit_id, Task.period_end, Task.state)
    ):
        index = rules_of.period_index(periods, period_end)
        if index is not None:
            counts[(owner, index)][str(state)] += int(n)
    activity: dict[tuple[str, int], int] = defaultdict(int)
    if rules.red.no_activity or rules.yellow.no_activity:
        for unit_id, held_on, n in session.execute(
            select(Completion.unit_id, Completion.held_on, func.count())
            .where(Completion.held_on >= first, Completion.held_on <= last, _current_completions())
            .group_by(Completion.unit_id, Completion.held_on)
        ):
            index = rules_of.period_index(periods, held_on)
            if index is not None:
                activity[(unit_id, index)] += int(n)
    history = {}
    for uid in owners:
        colours = []
        for i in range(len(periods)):
            c = counts.get((uid, i), {})
            outcome = rules_of.PeriodOutcome(
                on_time=c.get("done", 0), late=c.get("late", 0),
                unfinished=sum(c.get(s, 0) for s in UNFINISHED), activities=activity.get((uid, i), 0))
            colours.append(rules_of.colour_of(outcome, rules))
        history[uid] = colours
    return periods, history


def consecutive_red_findings(session: Session, cycle: Cycle, as_of: date, rules: Chasing,
                             owners: Sequence[str]) -> list[Finding]:
    periods, history = colour_history(session, cycle, as_of, rules, owners)
    unit_word = "个季度" if rules.colour_period == "quarterly" else "个月"
    found = []
    for uid, colours in history.items():
        run = rules_of.run_at_end(colours)
        level = rules_of.consecutive_red_level(run, rules)
        if level is None:
            continue
        span = periods[len(periods) - run:]
        action = ("按规定报县（区）委" if level == WarningLevel.red
                  else "按规定由街道（乡镇）党组织约谈支部书记")
        text = f"连续 {run} {unit_word}评为红色（{span[0].label}—{span[-1].label}），{action}"
        found.append(Finding(uid, WarningKind.consecutive_red, level, span[0].start,
                             {"run": run, "periods": [p.label for p in span], "text": text}))
    return found


def coverage_findings(session: Session, cycle: Cycle, as_of: date, rules: Chasing) -> list[Finding]:
    """Organisations (Unit.attributes.org_type) with enough full members and no branch child.

    The full-member count is `attributes.full_members` when given, else the active full
    members registered directly at the organisation in the roster.
    """
    root = session.get(Unit, cycle.root_unit_id)
    if root is None:
        return []
    child = aliased(Unit)
    org_type = Unit.attributes["org_type"].as_string()
    declared = Unit.attributes["full_members"].as_integer()
    has_branch = exists(select(child.id).where(child.parent_id == Unit.id, child.kind == UnitKind.branch))
    roster = (select(func.count()).select_from(Member)
              .where(Member.unit_id == Unit.id, Member.status == MemberStatus.full,
                     Member.active.is_(True)).scalar_subquery())
    rows = session.execute(
        select(Unit.id, org_type, declared, has_branch, roster)
        .where(Unit.path.startswith(root.path), org_type.in_(list(rules_of.ORG_TYPES)))
        .order_by(Unit.path)
    ).all()
    found = []
    for uid, kind, declared_n, branch, roster_n in rows:
        full = int(declared_n) if declared_n is not None else int(roster_n or 0)
        if not rules_of.is_coverage_gap(full, bool(branch), rules):
            continue
        text = (f"{rules_of.ORG_TYPES[kind]}有正式党员 {full} 名，尚未单独建立党支部（应建未建）")
        found.append(Finding(uid, WarningKind.coverage_gap, WarningLevel.yellow, as_of,
                             {"org_type": kind, "full_members": full,
                              "source": "attribute" if declared_n is not None else "roster",
                              "text": text}))
    return found


@dataclass
class WarningReport:
    cycle_code: str
    as_of: date
    raised: list[int] = field(default_factory=list)      # warning ids
    upgraded: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    open: int = 0

    def counts(self) -> dict[str, int]:
        return {"raised": len(self.raised), "upgraded": len(self.upgraded),
                "resolved": len(self.resolved), "open": self.open}


WARNING_COLUMNS = ("cycle_id", "unit_id", "kind", "level", "since", "details", "raised_on",
                   "raised_at")


def raise_warnings(*, session: Session, cycle_id: int, as_of: date,
                   actor: str = "system") -> WarningReport:
    """Raise what holds today, upgrade what got worse, resolve what no longer holds.

    Idempotent: the same day twice changes nothing. One transaction.
    """
    cycle = _cycle(session, cycle_id)
    rules = chasing_rules(session, cycle)
    owners = _owners(session, cycle)
    findings = (inactivity_findings(session, cycle, as_of, rules, owners)
                + consecutive_red_findings(session, cycle, as_of, rules, owners)
                + coverage_findings(session, cycle, as_of, rules))
    report = WarningReport(cycle.code, as_of)
    open_query = select(UnitWarning).where(UnitWarning.cycle_id == cycle_id,
                                           UnitWarning.resolved_at.is_(None))
    open_rows = {(w.unit_id, str(w.kind)): w for w in session.execute(open_query).scalars()}
    known = {w.id for w in open_rows.values()}
    now = utcnow()
    new = []
    for f in findings:
        w = open_rows.pop((f.unit_id, f.kind.value), None)
        if w is None:
            new.append((cycle_id, f.unit_id, f.kind.value, f.level.value, f.since, f.details, as_of, now))
            continue
        if w.level != f.level:
            if f.level == WarningLevel.red:
                report.upgraded.append(w.id or 0)
            elif w.notified_level is not None:
                w.notified_level = f.level      # a milder level needs no new notice
            w.level = f.level
        if w.details != f.details:
            w.details = f.details
        session.add(w)
    for w in open_rows.values():
        w.resolved_on, w.resolved_at = as_of, now
        session.add(w)
        report.resolved.append(w.id or 0)
    session.flush()
    insert_ignoring_duplicates(session, UnitWarning.__table__, WARNING_COLUMNS, new)
    open_now = session.execute(open_query.with_only_columns(UnitWarning.id)).scalars().all()
    report.raised = sorted(set(open_now) - known)
    report.open = len(open_now)
    if report.raised or report.upgraded or report.resolved:
        audit.record(session, actor=actor, action="warning.sweep", entity="cycle", entity_id=cycle_id,
                     after={"as_of": as_of, **report.counts()})
    session.commit()
    return report


def warning_notice_text(tree: _Tree, recipient: str, as_of: date,
                        warnings: Sequence[UnitWarning]) -> tuple[str, str]:
    reds = sum(1 for w in warnings if w.level == WarningLevel.red)
    title = f"【党建预警】{len(warnings)} 个预警" + (f"（其中红色 {reds} 个）" if reds else "")
    body = [f"{tree.name(recipient)}：", f"截至 {cn_date(as_of)}，下列党组织新发或升级预警，请及时督促整改。", ""]
    for i, w in enumerate(warnings, start=1):
        body.append(f"{i}. {tree.name(w.unit_id)}：{WARNING_LEVEL[str(w.level)]}·"
                    f"{WARNING_KIND[str(w.kind)]}。{w.details.get('text', '')}")
    return title, "\n".join(body)


def send_warning_notices(*, session: Session, cycle_id: int, as_of: date,
                         calendar: WorkCalendar | None = None) -> DeliveryReport:
    """Tell the level above (notify_yellow_to / notify_red_to) about new or upgraded warnings.

    A warning counts as notified once every channel of its recipient has it (sent, or in
    doubt after a crash); a failed channel leaves it due, for a retry or the next day.
    """
    cycle = _cycle(session, cycle_id)
    rules = chasing_rules(session, cycle)
    calendar = calendar or work_calendar()
    if rules.working_days_only and not calendar.is_workday(as_of):
        return DeliveryReport()
    due = list(session.execute(
        select(UnitWarning).where(
            UnitWarning.cycle_id == cycle_id, UnitWarning.resolved_at.is_(None),
            or_(UnitWarning.notified_level.is_(None), UnitWarning.notified_level != UnitWarning.level))
        .order_by(UnitWarning.level, UnitWarning.unit_id, UnitWarning.kind)   # red first
    ).scalars())
    if not due:
        return DeliveryReport()
    tree = _Tree(session, cycle)
    channels = channels_by_unit(session)
    by_recipient: dict[str, list[UnitWarning]] = defaultdict(list)
    for w in due:
        recipient = tree.reachable_above(w.unit_id, channels,
                                         prefer=rules.notify_kind(w.level == WarningLevel.red))
        if recipient is not None:
            by_recipient[recipient].append(w)
    report = DeliveryReport()
    for recipient, warnings in by_recipient.items():
        title, body = warning_notice_text(tree, recipient, as_of, warnings)
        details = {"warnings": [w.id for w in warnings]}
        levels = {w.id: w.level for w in warnings}
        delivered = deliver(session, _messages(cycle, as_of, NotificationKind.warning, recipient,
                                               channels[recipient], title, body, details))
        report = report.merge(delivered)
        if not delivered.failed:
            for wid, level in levels.items():
                session.execute(update(UnitWarning).where(UnitWarning.id == wid)
                                .values(notified_level=level))
            session.commit()
    return report


def list_warnings(*, session: Session, cycle_id: int | None = None, unit_id: str | None = None,
                  include_resolved: bool = False) -> list[UnitWarning]:
    query = select(UnitWarning).order_by(UnitWarning.resolved_at.is_not(None), UnitWarning.level,
                                         UnitWarning.unit_id, UnitWarning.kind, UnitWarning.id)
    if cycle_id is not None:
        query = query.where(UnitWarning.cycle_id == cycle_id)
    if unit_id:
        query = query.where(UnitWarning.unit_id == unit_id)
    if not include_resolved:
        query = query.where(UnitWarning.resolved_at.is_(None))
    return list(session.execute(query).scalars())


__all__ = [
    "Finding", "Line", "ReminderReport", "WarningReport", "chasing_rules", "colour_history",
    "due_lines", "escalated_lines", "list_warnings", "raise_warnings", "send_reminders",
    "send_warning_notices",
]
