"""发展党员: one person's process as milestones with minimum and maximum intervals. Pure code.

The process is data: rules/data/development_process.yaml (five stages, twenty-five steps,
each step's prerequisites, time rules, requirements and source clause), validated here
with pydantic and reported at file:line:column like a rule set.

Date arithmetic (calendar-aware, dateutil.relativedelta), the policy for 29 February:
- "N years / N months after" a date is the same day of the month N years / months later;
  when that month has no such day, it is the last day of that month. One year after
  2024-02-29 is 2025-02-28; one month after 2024-01-31 is 2024-02-29.
- A deadline is computed from its anchor in one step (`add(anchor, *durations)` sums the
  durations first): 2024-02-29 + 1 year 6 months is 2025-08-29, not 2025-08-28.
- Bounds are inclusive ("以上" and "以内" include the number itself): a 发展对象 may be
  recorded on the very day one year after 确定入党积极分子; a talk one month to the day
  after the application is on time.

A milestone is checked against the case's other milestones (`check_milestone`): order
and minimum intervals refuse it (Severity.refuse), a maximum interval only flags it
(Severity.late), a special extension with its reason is a note (Severity.note). Every
problem names the rule's text, its source clause and the earliest or latest allowed date.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dangjian.errors import ValidationFailed
from models.org import Gender, MemberStatus
from rules import SETS_DIR
from rules.errmap import pydantic_issues
from rules.issues import RuleIssue, RuleSetError
from rules.yamltree import locate, parse, plain

PROCESS_FILE = SETS_DIR.parent / "data" / "development_process.yaml"   # rules/data/
PROBATION_END = "probation_end"          # the virtual anchor: the day probation ends
STATUS_ORDER = (MemberStatus.activist, MemberStatus.candidate, MemberStatus.probationary,
                MemberStatus.full)


# ---------------------------------------------------------------- durations and dates

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duration(_Strict):
    """A calendar duration: {years: 1}, {months: 3}, {days: 3}, or a combination."""

    years: int = 0
    months: int = 0
    days: int = 0

    @property
    def delta(self) -> relativedelta:
        return relativedelta(years=self.years, months=self.months, days=self.days)

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def label(self) -> str:
        parts = [f"{abs(v)}{unit}" for v, unit in ((self.years, "年"), (self.months, "个月"),
                                                    (self.days, "天")) if v]
        text = "".join(parts) or "0天"
        return ("前" + text) if min(self.years, self.months, self.days) < 0 else text


def add(day: date, *durations: Duration) -> date:
    """`day` plus the durations, summed first and applied once (see the module docstring):
    years and months move to the same day of the month, or to the month's last day when
    that day does not exist (29 February + 1 year → 28 February); days are added after."""
    total = relativedelta()
    for d in durations:
        total += d.delta
    return day + total


def months(n: int) -> Duration:
    return Duration(months=n)


# ---------------------------------------------------------------- the process file schema

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, Field(min_length=1, max_length=400)]


class ProcessInfo(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    name: Text
    source: Text
    date_policy: Text


class Stage(_Strict):
    number: int = Field(ge=1)
    name: Text


class Probation(_Strict):
    start: Code
    length: Duration
    text: Text
    source: Text
    extension_step: Code


class TimeRule(_Strict):
    anchor: Code
    min_after: Duration | None = None
    max_after: Duration | None = None
    special_max_after: Duration | None = None
    text: Text
    source: Text

    @model_validator(mode="after")
    def _bounds(self) -> TimeRule:
        if self.min_after is None and self.max_after is None:
            raise ValueError("时间规则至少要有 min_after 或 max_after")
        if self.special_max_after is not None and self.max_after is None:
            raise ValueError("写了 special_max_after 就必须写 max_after")
        return self


class Repeat(_Strict):
    every: Duration | None = None
    until: Code | None = None
    text: Text
    source: Text


class Schedule(_Strict):
    anchor: Code
    start: Duration | None = None
    due: Duration
    text: Text


class MinAge(_Strict):
    kind: Literal["min_age"]
    years: int = Field(ge=1)
    text: Text
    source: Text


class Training(_Strict):
    kind: Literal["training"]
    min_days: float | None = Field(default=None, gt=0)
    min_hours: float | None = Field(default=None, gt=0)
    text: Text
    source: Text

    @model_validator(mode="after")
    def _one(self) -> Training:
        if self.min_days is None and self.min_hours is None:
            raise ValueError("培训要求至少要有 min_days 或 min_hours")
        return self


class Persons(_Strict):
    kind: Literal["persons"]
    min: int = Field(ge=0)
    max: int = Field(ge=1)
    what: Text
    text: Text
    source: Text


class Vote(_Strict):
    kind: Literal["vote"]
    text: Text
    source: Text


class NotLeaving(_Strict):
    kind: Literal["not_leaving_within"]
    within: Duration
    text: Text
    source: Text


class Extension(_Strict):
    kind: Literal["extension"]
    min: Duration
    max: Duration
    times: int = Field(ge=1)
    text: Text
    source: Text


Requirement = Annotated[MinAge | Training | Persons | Vote | NotLeaving | Extension,
                        Field(discriminator="kind")]


class Step(_Strict):
    number: int | None = Field(default=None, ge=1)
    code: Code
    name: Text
    stage: int = Field(ge=1)
    role: Text
    after: list[Code] | None = None
    rules: list[TimeRule] = Field(default_factory=list)
    requires: list[Requirement] = Field(default_factory=list)
    repeat: Repeat | None = None
    schedule: Schedule | None = None
    sets_status: MemberStatus | None = None
    closes_case: bool = False
    optional: bool = False
    only_before: list[Code] = Field(default_factory=list)
    source: Text | None = None

    @property
    def label(self) -> str:
        return f"第{self.number}步“{self.name}”" if self.number else f"“{self.name}”"

    @property
    def duty_code(self) -> str:
        return f"dev:{self.code}"

    def requirement(self, kind: str) -> Any:
        return next((r for r in self.requires if r.kind == kind), None)


class ProcessFile(_Strict):
    process: ProcessInfo
    stages: list[Stage] = Field(min_length=1)
    probation: Probation
    steps: list[Step] = Field(min_length=1)


@dataclass(frozen=True, eq=False)
class Process:
    """The validated process with each step's resolved prerequisites."""

    spec: ProcessFile
    file_name: str
    prereqs: Mapping[str, tuple[str, ...]]

    @property
    def steps(self) -> list[Step]:
        return self.spec.steps

    @property
    def probation(self) -> Probation:
        return self.spec.probation

    def step(self, code: str) -> Step:
        for s in self.spec.steps:
            if s.code == code:
                return s
        raise ValidationFailed(f"未知的发展党员步骤：{code}", field="step")

    def stage_name(self, number: int) -> str:
        return next((s.name for s in self.spec.stages if s.number == number), str(number))

    def find(self, text: str) -> Step:
        """A step by code (candidate), number (7, 第7步) or unique Chinese name (确定发展对象)."""
        raw = text.strip()
        match = re.fullmatch(r"(?:第)?(\d{1,2})(?:步)?", raw)
        found: list[Step]
        if match:
            found = [s for s in self.steps if s.number == int(match.group(1))]
        else:
            found = [s for s in self.steps if raw in (s.code, s.name)]
            if not found and len(raw) >= 2:
                found = [s for s in self.steps if raw in s.name]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            options = "、".join(f"{s.number or s.code}（{s.name}，{self.stage_name(s.stage)}）" for s in found)
            raise ValidationFailed(f"步骤“{text}”有多个，请用编号或代码指明：{options}", field="step")
        raise ValidationFailed(
            f"未知的发展党员步骤“{text}”：请写步骤编号 1–25、代码或名称（dangjian develop steps 列出全部步骤）",
            field="step")

    def anchor_label(self, anchor: str) -> str:
        if anchor == PROBATION_END:
            return "预备期满之日"
        return self.step(anchor).name


def load_process(path: str | Path = PROCESS_FILE) -> Process:
    """Read and check a process file; every problem at once as file:line:column issues."""
    fs_path = Path(path)
    shown = str(path)
    try:
        text = fs_path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValidationFailed(f"找不到发展党员流程文件 {path}", field="process") from None
    except UnicodeDecodeError:
        raise RuleSetError([RuleIssue(shown, 1, 1, "文件不是 UTF-8 编码，请另存为 UTF-8")]) from None
    tree, issues = parse(text, shown)
    if tree is None:
        raise RuleSetError(issues or [RuleIssue(shown, 1, 1, "文件为空：应有 process、stages、probation、steps")])
    spec: ProcessFile | None = None
    try:
        spec = ProcessFile.model_validate(plain(tree))
    except ValidationError as exc:
        issues += pydantic_issues(exc, tree, shown, ProcessFile)
    prereqs: dict[str, tuple[str, ...]] = {}
    if spec is not None:
        prereqs, more = _check(spec, tree, shown)
        issues += more
    if issues or spec is None:
        raise RuleSetError(issues)
    return Process(spec, fs_path.name, prereqs)


@lru_cache(maxsize=1)
def default_process() -> Process:
    return load_process(PROCESS_FILE)


def _check(spec: ProcessFile, tree: Any, file: str) -> tuple[dict[str, tuple[str, ...]], list[RuleIssue]]:
    """What pydantic cannot see: references between steps, numbering, anchors reachable."""
    issues: list[RuleIssue] = []

    def issue(path: tuple[Any, ...], message: str, at_key: bool = False) -> None:
        line, col = locate(tree, path, at_key=at_key)
        issues.append(RuleIssue(file, line, col, message))

    stages = [s.number for s in spec.stages]
    if stages != list(range(1, len(stages) + 1)):
        issue(("stages",), f"阶段编号应为 1 至 {len(stages)} 依次排列，实际为 {stages}")
    index: dict[str, int] = {}
    prereqs: dict[str, tuple[str, ...]] = {}
    expected_number = 1
    previous_numbered: str | None = None
    for i, step in enumerate(spec.steps):
        here = ("steps", i)
        if step.code in index:
            issue((*here, "code"), f"步骤代码 {step.code} 重复（第{index[step.code] + 1}个步骤已用）")
        if step.code == PROBATION_END:
            issue((*here, "code"), f"{PROBATION_END} 是保留字（预备期满之日），不能作步骤代码")
        if step.number is not None:
            if step.number != expected_number:
                issue((*here, "number"), f"步骤编号应为 {expected_number}（编号步骤须从 1 起依次排列）")
            expected_number = step.number + 1
        if step.stage not in stages:
            issue((*here, "stage"), f"阶段 {step.stage} 不存在（可用：{'、'.join(map(str, stages))}）")
        after = step.after if step.after is not None else ([previous_numbered] if previous_numbered else [])
        for j, ref in enumerate(after):
            if ref not in index:
                where = (*here, "after", j) if step.after is not None else (*here, "code")
                known = "后面的步骤" if any(s.code == ref for s in spec.steps) else "未知的步骤"
                issue(where, f"after 引用了{known} {ref}：只能引用排在本步骤前面的步骤")
        prereqs[step.code] = tuple(r for r in after if r in index)
        index[step.code] = i
        if step.number is not None:
            previous_numbered = step.code

    def ancestors(code: str) -> set[str]:
        seen: set[str] = set()
        todo = list(prereqs.get(code, ()))
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(prereqs.get(c, ()))
        return seen

    start_ok = spec.probation.start in index
    if not start_ok:
        issue(("probation", "start"), f"预备期起算步骤 {spec.probation.start} 不存在")
    ext = spec.probation.extension_step
    if ext not in index:
        issue(("probation", "extension_step"), f"延长预备期步骤 {ext} 不存在")
    elif not any(r.kind == "extension" for r in spec.steps[index[ext]].requires):
        issue(("probation", "extension_step"), f"步骤 {ext} 须有 kind: extension 的要求（延长的月数）")

    def check_anchor(path: tuple[Any, ...], code: str, anchor: str) -> None:
        if anchor == PROBATION_END:
            if start_ok and spec.probation.start not in ancestors(code) | {code}:
                issue(path, f"锚点 {PROBATION_END} 要求本步骤排在 {spec.probation.start} 之后（after 链中）")
        elif anchor not in index:
            issue(path, f"锚点 {anchor} 不是已定义的步骤")
        elif anchor not in ancestors(code):
            issue(path, f"锚点 {anchor} 必须是本步骤的前置步骤（after 链中），否则登记时可能还没有它的日期")

    for i, step in enumerate(spec.steps):
        here = ("steps", i)
        for j, rule in enumerate(step.rules):
            check_anchor((*here, "rules", j, "anchor"), step.code, rule.anchor)
        if step.schedule is not None:
            check_anchor((*here, "schedule", "anchor"), step.code, step.schedule.anchor)
        if step.repeat is not None and step.repeat.until is not None and step.repeat.until not in index:
            issue((*here, "repeat", "until"), f"until 引用了未知的步骤 {step.repeat.until}")
        for j, ref in enumerate(step.only_before):
            if ref not in index:
                issue((*here, "only_before", j), f"only_before 引用了未知的步骤 {ref}")
        for j, req in enumerate(step.requires):
            if isinstance(req, Persons) and req.min > req.max:
                issue((*here, "requires", j, "min"), f"min {req.min} 大于 max {req.max}")
            if isinstance(req, Extension) and req.min.total_months > req.max.total_months:
                issue((*here, "requires", j, "min"), "延长预备期的 min 大于 max")
    return prereqs, issues


# ---------------------------------------------------------------- a case, as the checks see it

@dataclass(frozen=True)
class Record:
    """One effective milestone (the latest version of its chain)."""

    step: str
    on: date
    details: Mapping[str, Any] = field(default_factory=dict)
    ref: int | None = None           # the Milestone row id, when stored


@dataclass(frozen=True)
class CaseFacts:
    birth_date: date | None
    records: tuple[Record, ...] = ()

    def of(self, code: str) -> list[Record]:
        return sorted((r for r in self.records if r.step == code), key=lambda r: (r.on, r.ref or 0))

    def first(self, code: str) -> Record | None:
        found = self.of(code)
        return found[0] if found else None

    def last(self, code: str) -> Record | None:
        found = self.of(code)
        return found[-1] if found else None

    def has(self, code: str) -> bool:
        return any(r.step == code for r in self.records)

    def without(self, record: Record) -> CaseFacts:
        return CaseFacts(self.birth_date, tuple(r for r in self.records if r is not record))

    def plus(self, record: Record) -> CaseFacts:
        return CaseFacts(self.birth_date, (*self.records, record))


class Severity(StrEnum):
    refuse = "refuse"     # 不予登记
    late = "late"         # 可以登记，标注逾期
    note = "note"         # 可以登记，附说明（特殊情况）


@dataclass(frozen=True)
class Problem:
    severity: Severity
    step: str
    message: str                      # the whole sentence, Chinese, names rule and source
    rule: str = ""
    source: str = ""
    earliest: date | None = None
    latest: date | None = None

    def __str__(self) -> str:
        return self.message


def probation_start(process: Process, case: CaseFacts) -> date | None:
    first = case.first(process.probation.start)
    return first.on if first else None


def extension_months(process: Process, case: CaseFacts) -> int:
    return sum(_int(r.details.get("months")) or 0 for r in case.of(process.probation.extension_step))


def probation_end(process: Process, case: CaseFacts) -> date | None:
    """The day probation ends (预备期满之日): the 支部大会 date plus one year plus any
    extension, computed from the meeting date in one step."""
    start = probation_start(process, case)
    if start is None:
        return None
    return add(start, process.probation.length, months(extension_months(process, case)))


def anchor_date(process: Process, case: CaseFacts, anchor: str) -> date | None:
    if anchor == PROBATION_END:
        return probation_end(process, case)
    first = case.first(anchor)
    return first.on if first else None


@dataclass(frozen=True)
class MemberState:
    status: MemberStatus | None       # None: not yet an activist (no Member row needed)
    joined_on: date | None            # 入党日期: the 支部大会 that admitted them
    full_on: date | None              # 转正日期: the day probation ended


def member_state(process: Process, case: CaseFacts) -> MemberState:
    """What the roster should say: the furthest status a recorded step sets; 入党日期 is the
    start of probation, 转正日期 its end (党龄从预备期满转为正式党员之日算起)."""
    reached = [s.sets_status for s in process.steps if s.sets_status is not None and case.has(s.code)]
    status = max(reached, key=STATUS_ORDER.index) if reached else None
    joined = probation_start(process, case) if status in (MemberStatus.probationary, MemberStatus.full) else None
    full = probation_end(process, case) if status == MemberStatus.full else None
    return MemberState(status, joined, full)


# ---------------------------------------------------------------- checking one milestone

def check_milestone(process: Process, case: CaseFacts, step_code: str, on: date,
                    details: Mapping[str, Any] | None = None, *, today: date | None = None) -> list[Problem]:
    """Problems with recording `step_code` on `on`, given the case's other milestones
    (the one being checked must not be among them). Empty: fine as it is."""
    step = process.step(step_code)
    details = details or {}
    out: list[Problem] = []

    def refuse(message: str, rule: str = "", source: str = "", earliest: date | None = None,
               latest: date | None = None) -> None:
        out.append(Problem(Severity.refuse, step.code, message, rule, source, earliest, latest))

    if today is not None and on > today:
        refuse(f"登记日期 {on} 晚于今天（{today}，北京时间），不能登记尚未发生的事项")
    _check_order(process, case, step, on, refuse)
    _check_times(process, case, step, on, details, out)
    for req in step.requires:
        _check_requirement(process, case, step, req, on, details, out)
    return out


def _check_order(process: Process, case: CaseFacts, step: Step, on: date, refuse: Any) -> None:
    order_rule = "发展党员须按程序逐步进行"
    source = process.spec.process.source
    missing = [process.step(c) for c in process.prereqs[step.code] if not case.has(c)]
    if missing:
        names = "、".join(s.label for s in missing)
        refuse(f"{step.label}须在 {names} 登记之后办理，目前尚未登记：{order_rule}（{source}）",
               order_rule, source)
    for code in process.prereqs[step.code]:
        first = case.first(code)
        if first is not None and first.on > on:
            refuse(f"{step.label}的日期 {on} 早于前一步骤 {process.step(code).label}的日期 {first.on}，"
                   f"最早可在 {first.on} 登记：{order_rule}（{source}）", order_rule, source, earliest=first.on)
    if step.repeat is None and step.requirement("extension") is None and case.has(step.code):
        done = case.first(step.code)
        assert done is not None
        refuse(f"{step.label}已于 {done.on} 登记，不能重复登记；日期或内容有误请更正原记录（develop correct）")
    if step.repeat is not None and step.repeat.until is not None:
        until = case.first(step.repeat.until)
        if until is not None and until.on <= on:
            refuse(f"已于 {until.on} 办理 {process.step(step.repeat.until).label}，此后不再登记{step.label}")
    for code in step.only_before:
        done = case.first(code)
        if done is not None and done.on <= on:
            refuse(f"{process.step(code).label}已于 {done.on} 登记，不能再登记{step.label}")


def _check_times(process: Process, case: CaseFacts, step: Step, on: date, details: Mapping[str, Any],
                 out: list[Problem]) -> None:
    previous = [r for r in case.of(step.code) if r.on <= on]
    if step.repeat is not None and previous:
        every = step.repeat.every
        if every is not None:
            latest = add(previous[-1].on, every)
            if on > latest:
                out.append(Problem(
                    Severity.late, step.code,
                    f"{step.label}应在上次（{previous[-1].on}）后{every.label()}内、即 {latest} 前办理，"
                    f"实际 {on}，逾期 {(on - latest).days} 天：{step.repeat.text}（{step.repeat.source}）",
                    step.repeat.text, step.repeat.source, latest=latest))
        return
    for rule in step.rules:
        anchor = anchor_date(process, case, rule.anchor)
        if anchor is None:
            continue
        what = f"{process.anchor_label(rule.anchor)}（{anchor}）"
        if rule.min_after is not None:
            earliest = add(anchor, rule.min_after)
            if on < earliest:
                span = f"后满{rule.min_after.label()}" if rule.min_after.delta else "当日或之后"
                out.append(Problem(
                    Severity.refuse, step.code,
                    f"{step.label}不得早于 {earliest}（{what}{span}），登记日期 {on} 过早，"
                    f"最早可在 {earliest} 登记：{rule.text}（{rule.source}）",
                    rule.text, rule.source, earliest=earliest))
        if rule.max_after is not None:
            latest = add(anchor, rule.max_after)
            if on <= latest:
                continue
            special = add(anchor, rule.special_max_after) if rule.special_max_after else None
            reason = str(details.get("reason") or "").strip()
            late_by = (on - latest).days
            base = (f"{step.label}应在{what}后{rule.max_after.label()}内、即 {latest} 前办理，"
                    f"实际 {on}，逾期 {late_by} 天")
            if special is not None and on <= special and reason:
                out.append(Problem(
                    Severity.note, step.code,
                    f"{base}；特殊情况（{reason}）延长，未超过 {special}（{rule.special_max_after.label()}）："  # type: ignore[union-attr]
                    f"{rule.text}（{rule.source}）", rule.text, rule.source, latest=special))
                continue
            hint = ""
            if special is not None and on <= special:
                hint = f"；特殊情况可延长至 {special}，须写明理由（--reason）"
            elif special is not None:
                hint = f"；已超过特殊情况的最长期限 {special}"
            out.append(Problem(Severity.late, step.code, f"{base}{hint}：{rule.text}（{rule.source}）",
                               rule.text, rule.source, latest=latest))


def _check_requirement(process: Process, case: CaseFacts, step: Step, req: Any, on: date,
                       details: Mapping[str, Any], out: list[Problem]) -> None:
    def refuse(message: str, **dates: date | None) -> None:
        out.append(Problem(Severity.refuse, step.code, f"{message}：{req.text}（{req.source}）",
                           req.text, req.source, **dates))

    if isinstance(req, MinAge):
        if case.birth_date is not None:
            of_age = add(case.birth_date, Duration(years=req.years))
            if on < of_age:
                refuse(f"申请人 {case.birth_date} 出生，{of_age} 才年满{req.years}周岁，"
                       f"{on} 不能{step.name}", earliest=of_age)
    elif isinstance(req, Training):
        days, hours = _number(details.get("days")), _number(details.get("hours"))
        ok = (req.min_days is not None and days is not None and days >= req.min_days) or \
             (req.min_hours is not None and hours is not None and hours >= req.min_hours)
        if not ok:
            given = "、".join(x for x in (f"{_show(days)} 天" if days is not None else "",
                                           f"{_show(hours)} 个学时" if hours is not None else "") if x)
            need = (f"{_show(req.min_days)} 天（或 {_show(req.min_hours)} 个学时）"
                    if req.min_days and req.min_hours else
                    f"{_show(req.min_days)} 天" if req.min_days else f"{_show(req.min_hours)} 个学时")
            refuse(f"培训时间{'为 ' + given if given else '未填写（--days 或 --hours）'}，不足 {need}")
    elif isinstance(req, Persons):
        people = _persons(details.get("persons"))
        if not req.min <= len(people) <= req.max:
            want = f"{req.min} 名" if req.min == req.max else f"{req.min} 至 {req.max} 名"
            refuse(f"须指定{want}{req.what}（--person），实际 {len(people)} 名")
    elif isinstance(req, Vote):
        _check_vote(req, details, refuse)
    elif isinstance(req, NotLeaving):
        leaving = _date(details.get("leaving_on"))
        if leaving is not None:
            limit = add(on, req.within)
            if leaving < limit:
                reason = str(details.get("reason") or "").strip()
                message = (f"预计 {leaving} 离开工作、学习单位，在 {on} 后{req.within.label()}内"
                           f"（{limit} 之前）")
                if reason:
                    out.append(Problem(Severity.note, step.code,
                                       f"{message}；因特殊情况（{reason}）仍予办理：{req.text}（{req.source}）",
                                       req.text, req.source))
                else:
                    refuse(message + "，一般不予办理；确有特殊情况须写明理由（--reason）")
    elif isinstance(req, Extension):
        earlier = [r for r in case.of(step.code)]
        if len(earlier) >= req.times:
            listed = "、".join(f"{r.on} 延长 {_int(r.details.get('months'))} 个月" for r in earlier)
            refuse(f"预备期只能延长{_times(req.times)}，已有：{listed}")
        n = _int(details.get("months"))
        lo, hi = req.min.total_months, req.max.total_months
        if n is None:
            refuse(f"须写明延长的月数（--months，{lo}–{hi}）")
        elif not lo <= n <= hi:
            refuse(f"延长 {n} 个月不符合规定，应为 {lo} 至 {hi} 个月")


def _check_vote(req: Vote, details: Mapping[str, Any], refuse: Any) -> None:
    expected, present, in_favour = (_int(details.get(k)) for k in ("expected", "present", "in_favour"))
    if expected is None or present is None or in_favour is None:
        refuse("须填写应到会有表决权的正式党员人数（--expected）、实到人数（--present）和赞成人数（--for）")
        return
    if expected < 1 or present < 0 or in_favour < 0:
        refuse("人数不能为负，应到会人数至少 1 人")
        return
    if present > expected:
        refuse(f"实到 {present} 人多于应到会 {expected} 人，请核对（预备党员不计入）")
    if in_favour > expected:
        refuse(f"赞成 {in_favour} 人多于应到会有表决权的 {expected} 人，请核对")
    if present * 2 <= expected:
        refuse(f"有表决权的到会人数 {present} 人，未超过应到会 {expected} 人的半数（至少 {expected // 2 + 1} 人）")
    if in_favour * 2 <= expected:
        refuse(f"赞成 {in_favour} 人，未超过应到会有表决权的正式党员 {expected} 人的半数"
               f"（至少 {expected // 2 + 1} 人），决议未通过")


def check_timeline(process: Process, case: CaseFacts,
                   *, today: date | None = None) -> list[tuple[Record, list[Problem]]]:
    """Every milestone checked against all the others (after a correction, or to show
    each milestone's flags), in date order."""
    ordered = sorted(case.records, key=lambda r: (r.on, r.ref or 0))
    return [(r, check_milestone(process, case.without(r), r.step, r.on, r.details, today=today))
            for r in ordered]


# ---------------------------------------------------------------- what comes next

@dataclass(frozen=True)
class Window:
    """When a step may be recorded next. `earliest`/`latest` are the rules' bounds
    (latest None: no maximum); `opens`/`due` are the task's period (due None: the end of
    the cycle the task lands in)."""

    step: Step
    earliest: date
    latest: date | None
    special_latest: date | None
    opens: date
    due: date | None
    basis: tuple[str, ...]
    occurrence: int = 1                 # 2, 3, …: a repeating step's next record


def next_windows(process: Process, case: CaseFacts, *, include_optional: bool = False) -> list[Window]:
    """Every step that may be recorded next, with its window, earliest first."""
    found: list[Window] = []
    for step in process.steps:
        if step.optional and not include_optional:
            continue
        window = _window(process, case, step)
        if window is not None:
            found.append(window)
    order = {s.code: i for i, s in enumerate(process.steps)}
    return sorted(found, key=lambda w: (w.opens, order[w.step.code]))


def _window(process: Process, case: CaseFacts, step: Step) -> Window | None:
    if any(not case.has(c) for c in process.prereqs[step.code]):
        return None
    if any(case.has(c) for c in step.only_before):
        return None
    if step.repeat is not None and step.repeat.until is not None and case.has(step.repeat.until):
        return None
    done = case.of(step.code)
    if done and step.requirement("extension") is not None:
        return None
    if done and step.repeat is None:
        return None
    basis: list[str] = []
    if done:
        assert step.repeat is not None
        if step.repeat.every is None:
            return None
        last = done[-1].on
        next_due = add(last, step.repeat.every)
        basis.append(f"上次 {last} 后{step.repeat.every.label()}内：{step.repeat.text}（{step.repeat.source}）")
        start = last + timedelta(days=1)
        return Window(step, start, next_due, None, start, next_due, tuple(basis), len(done) + 1)

    dates = [r.on for c in process.prereqs[step.code] if (r := case.first(c)) is not None]
    earliest = max(dates) if dates else date.min
    latest: date | None = None
    special: date | None = None
    for rule in step.rules:
        anchor = anchor_date(process, case, rule.anchor)
        if anchor is None:
            continue
        what = f"{process.anchor_label(rule.anchor)}（{anchor}）"
        if rule.min_after is not None:
            earliest = max(earliest, add(anchor, rule.min_after))
            basis.append(f"不早于 {add(anchor, rule.min_after)}（{what}"
                         f"{'后满' + rule.min_after.label() if rule.min_after.delta else '当日或之后'}）："
                         f"{rule.text}（{rule.source}）")
        if rule.max_after is not None:
            bound = add(anchor, rule.max_after)
            latest = bound if latest is None else min(latest, bound)
            basis.append(f"不晚于 {bound}（{what}后{rule.max_after.label()}内）：{rule.text}（{rule.source}）")
            if rule.special_max_after is not None:
                special = add(anchor, rule.special_max_after)
    opens, due = earliest, latest
    if step.schedule is not None:
        anchor = anchor_date(process, case, step.schedule.anchor)
        if anchor is not None:
            if step.schedule.start is not None:
                opens = max(opens, add(anchor, step.schedule.start))
            if due is None:
                due = max(opens, add(anchor, step.schedule.due))
                basis.append(f"工作安排：{due} 前办理（{step.schedule.text}）")
    if due is not None and due < opens:
        due = opens
    return Window(step, earliest, latest, special, opens, due, tuple(basis))


# ---------------------------------------------------------------- identity numbers and details

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def parse_id_number(text: str) -> tuple[str, date, Gender]:
    """A mainland 18-digit 居民身份证号码 (GB 11643): normalised text, birth date, gender.
    The 18th character is the ISO 7064 MOD 11-2 check (X for 10)."""
    raw = text.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", raw):
        raise ValidationFailed(f"id-number：身份证号码“{text}”应为 18 位（前 17 位数字，末位数字或 X）",
                               field="id_number")
    try:
        born = date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        raise ValidationFailed(f"id-number：身份证号码“{text}”中的出生日期 {raw[6:14]} 无效",
                               field="id_number") from None
    check = _ID_CHECK[sum(int(c) * w for c, w in zip(raw[:17], _ID_WEIGHTS)) % 11]
    if raw[17] != check:
        raise ValidationFailed(f"id-number：身份证号码“{text}”校验位不符（末位应为 {check}），请核对",
                               field="id_number")
    return raw, born, Gender.male if int(raw[16]) % 2 else Gender.female


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def _show(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else str(value)


def _times(n: int) -> str:
    return {1: "一次", 2: "两次"}.get(n, f"{n} 次")


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _persons(value: Any) -> list[str]:
    if value is None:
        return []
    items: Iterable[Any] = [value] if isinstance(value, str) else value
    seen: list[str] = []
    for item in items:
        for name in re.split(r"[,，、]", str(item)):
            name = name.strip()
            if name and name not in seen:
                seen.append(name)
    return seen


def clean_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as stored (JSON): dates as ISO text, persons as a list, empty values dropped."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        if key == "persons":
            value = _persons(value)
        out[key] = value
    return out


def describe_details(details: Mapping[str, Any]) -> str:
    """One Chinese line for a milestone's details."""
    parts = []
    if "days" in details:
        parts.append(f"培训 {_show(_number(details['days']))} 天")
    if "hours" in details:
        parts.append(f"{_show(_number(details['hours']))} 个学时")
    if details.get("persons"):
        parts.append("人员：" + "、".join(_persons(details["persons"])))
    if "expected" in details:
        parts.append(f"应到 {details.get('expected')}、实到 {details.get('present')}、赞成 {details.get('in_favour')}")
    if "months" in details:
        parts.append(f"延长 {details['months']} 个月")
    if details.get("leaving_on"):
        parts.append(f"预计 {details['leaving_on']} 离开")
    if details.get("reason"):
        parts.append(f"理由：{details['reason']}")
    return "；".join(parts)

