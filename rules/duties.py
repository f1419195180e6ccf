"""Duty definitions of a rule set: who owes what, how often, by when, and what makes it count.

Plain pydantic data; the loader (rules.loader) maps validation errors back to file:line:column.

How often (`frequency`), in YAML:
    frequency: monthly | quarterly | half_yearly | yearly        每月/每季度/每半年/每年
    frequency: {every: month}                                  同 monthly（every: quarter、half_year、year 同理）
    frequency: {every: month, interval: 2}                     每2个月（周期从周期开始年份的1月起排）
    frequency: {every: month, day: 15}                         每月15日（大于当月天数取月末）
    frequency: {every: month, week: 1, weekday: 5}             每月第一个星期五（week: -1 最后一个）
    frequency: {every: year, window: {from_month: 10, to_month: 12, name: 第四季度}}
                                                               每年1次，一般安排在第四季度
    frequency: {rrule: "FREQ=WEEKLY;BYDAY=MO"}                 其他规律（RFC 5545 RRULE；每次出现开始一期）
By when (`due`): period_end | days_after_start | working_days_after_start | nth_weekday |
day_of_month. A fixed day in `frequency` (day, week/weekday) is the due date itself: the
duty then takes no `due`. Due dates on rest days roll forward to the next working day.
Who (`applies_to`): `{kind: branch, has_committee: true, area: town}` for units, or
`{subject: member, category: [...], status: [...]}` for members.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from models.org import MemberCategory, MemberStatus, UnitKind

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]


class Strict(BaseModel):
    # allow_inf_nan: a quoted "inf" or "nan" would otherwise pass as a number (rules.limits)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Frequency(StrEnum):
    monthly = "monthly"          # 每月
    quarterly = "quarterly"      # 每季度
    half_yearly = "half_yearly"  # 每半年
    yearly = "yearly"            # 每年


class Every(StrEnum):
    month = "month"              # 月
    quarter = "quarter"          # 季度
    half_year = "half_year"      # 半年
    year = "year"                # 年


MONTHS_OF: dict[str, int] = {
    Frequency.monthly: 1, Frequency.quarterly: 3, Frequency.half_yearly: 6, Frequency.yearly: 12,
    Every.month: 1, Every.quarter: 3, Every.half_year: 6, Every.year: 12,
}
WEEKDAY_NAMES = "一二三四五六日"
_WEEKDAYS = {**{f"周{c}": i for i, c in enumerate(WEEKDAY_NAMES, 1)},
             **{f"星期{c}": i for i, c in enumerate(WEEKDAY_NAMES, 1)},
             "周天": 7, "星期天": 7}


def _weekday(value: Any) -> Any:
    if isinstance(value, str) and not value.strip().isdigit():
        if value.strip() not in _WEEKDAYS:
            raise ValueError(f"星期应写 1–7（1 为星期一）或 周一…周日，实际为 {value!r}")
        return _WEEKDAYS[value.strip()]
    return value


def _week(value: int) -> int:
    if value == 0:
        raise ValueError("应取 1–4（第几个），或 -1（最后一个）")
    return value


# 1 = 星期一 … 7 = 星期日; "周五" and "星期五" are accepted too.
Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=1, le=7)]
# 第几个: 1–4, or -1 for the last one in the period.
WeekOfPeriod = Annotated[int, Field(ge=-1, le=4), AfterValidator(_week)]


class Window(Strict):
    """一般安排在…: the preferred calendar months of a yearly duty, shown to users.

    `outside` says what a completion held outside the window means: `counts` (still
    counts, the default: 第十七条 says 一般安排在第四季度, not 必须), `late` (counts as
    late), `refused` (cannot close the task).
    """

    from_month: int = Field(ge=1, le=12)
    to_month: int = Field(ge=1, le=12)
    name: str | None = Field(default=None, min_length=1, max_length=20)   # 如 第四季度
    outside: Literal["counts", "late", "refused"] = "counts"

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.from_month > self.to_month:
            raise ValueError(f"from_month（{self.from_month}月）不能晚于 to_month（{self.to_month}月）")
        return self

    @property
    def text(self) -> str:
        """"第四季度" or "10月至12月"."""
        if self.name:
            return self.name
        if self.to_month - self.from_month == 2 and self.from_month % 3 == 1:
            return f"第{'一二三四'[self.from_month // 3]}季度"
        if self.from_month == self.to_month:
            return f"{self.from_month}月"
        return f"{self.from_month}月至{self.to_month}月"

    def contains(self, day: date) -> bool:
        return self.from_month <= day.month <= self.to_month


class Schedule(Strict):
    """The mapping form of `frequency`: a period of `interval` × `every`, optionally on a
    fixed day (day D of the period's first month, or its Nth weekday) or with a window."""

    every: Every
    interval: int = Field(default=1, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    week: WeekOfPeriod | None = None
    weekday: Weekday | None = None
    window: Window | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        if (self.week is None) != (self.weekday is None):
            raise ValueError("week 和 weekday 要一起写，例如每月第一个星期五：{week: 1, weekday: 5}")
        if self.day is not None and self.week is not None:
            raise ValueError("day（每月几日）和 week/weekday（第几个星期几）只能写一种")
        if self.months > 60:
            raise ValueError(f"周期最长5年，{self.interval} 个 {self.every.value} 共 {self.months} 个月")
        if self.window is not None and (self.every != Every.year or self.interval != 1):
            raise ValueError("window（一般安排在…）只能用于每年一次的职责：{every: year, window: …}")
        return self

    @property
    def months(self) -> int:
        return MONTHS_OF[self.every] * self.interval


_RRULE_REFUSED = ("DTSTART", "HOURLY", "MINUTELY", "SECONDLY", "BYHOUR", "BYMINUTE", "BYSECOND")


class Recurrence(Strict):
    """Anything else, as an RFC 5545 RRULE: each occurrence starts a period that runs to
    the day before the next one. Occurrences are counted from `start` (default 1 January
    of the cycle's first year)."""

    rrule: str = Field(min_length=1, max_length=300)
    start: date | None = None

    @model_validator(mode="after")
    def _parses(self) -> Recurrence:
        from dateutil.rrule import rrulestr

        text = self.body
        refused = [word for word in _RRULE_REFUSED if word in text.upper()]
        if refused:
            raise ValueError(f"rrule 不能含 {refused[0]}：只按日期排期；起始日写在 start 中")
        try:
            rrulestr(text, dtstart=datetime(2000, 1, 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"rrule 无法解析（{exc}），写法如 FREQ=MONTHLY;BYDAY=1FR，见 RFC 5545") from None
        return self

    @property
    def body(self) -> str:
        text = self.rrule.strip()
        return text[6:] if text.upper().startswith("RRULE:") else text


def _frequency_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict):
        return "rrule" if "rrule" in value else "every"
    if isinstance(value, Schedule):
        return "every"
    if isinstance(value, Recurrence):
        return "rrule"
    return None


FrequencyForm = Annotated[
    Annotated[Frequency, Tag("name")]
    | Annotated[Schedule, Tag("every")]
    | Annotated[Recurrence, Tag("rrule")],
    Discriminator(
        _frequency_form, custom_error_type="frequency_form",
        custom_error_message="应为 monthly、quarterly、half_yearly、yearly，或映射"
                             "（如 {every: month, day: 15}、{rrule: \"FREQ=WEEKLY;BYDAY=MO\"}）",
    ),
]


class DueAtPeriodEnd(Strict):
    rule: Literal["period_end"] = "period_end"


class DueDaysAfterStart(Strict):
    """Due N calendar days after the period starts (day 1 of the period + N)."""

    rule: Literal["days_after_start"]
    days: int = Field(ge=0, le=366)


class DueWorkingDaysAfterStart(Strict):
    """Due on the Nth working day of the period (Chinese calendar, 调休 included)."""

    rule: Literal["working_days_after_start"]
    days: int = Field(ge=1, le=250)


class DueNthWeekday(Strict):
    """Due on the period's Nth given weekday (week -1: the last), e.g. 每月第一周的周五 is
    {rule: nth_weekday, week: 1, weekday: 5}; rolled forward when it is a rest day."""

    rule: Literal["nth_weekday"]
    week: WeekOfPeriod
    weekday: Weekday


class DueDayOfMonth(Strict):
    """Due on day D of the period's first month (the month's last day when it is shorter),
    rolled forward when it is a rest day."""

    rule: Literal["day_of_month"]
    day: int = Field(ge=1, le=31)


DueRule = Annotated[
    DueAtPeriodEnd | DueDaysAfterStart | DueWorkingDaysAfterStart | DueNthWeekday | DueDayOfMonth,
    Field(discriminator="rule"),
]


class Applicability(Strict):
    """Which units owe the duty: a unit kind plus attribute tests (all must hold).

    has_committee is read at planning time; for a branch whose roster decides it
    (Unit.attributes["has_committee_from"] == "roster") it is 7 or more active 正式党员.
    """

    subject: Literal["unit"] = "unit"
    kind: UnitKind
    has_committee: bool | None = None
    area: Literal["urban", "town"] | None = None


# 党员 in the narrow sense: 预备党员 and 正式党员 (积极分子 and 发展对象 are not yet members).
PARTY_MEMBERS = (MemberStatus.probationary, MemberStatus.full)


class MemberApplicability(Strict):
    """Which members owe the duty, one task each; the member's branch answers for it.

    A member owes the periods that end on or after their 入党日期 (joined in July: from July).
    Only active members qualify.
    """

    subject: Literal["member"]
    category: tuple[MemberCategory, ...] | None = Field(default=None, min_length=1)  # None: all
    status: tuple[MemberStatus, ...] = Field(default=PARTY_MEMBERS, min_length=1)


def _subject_of(value: Any) -> str | None:
    if isinstance(value, dict):
        subject = value.get("subject", "unit")
        return subject if subject in ("unit", "member") else None
    if isinstance(value, (Applicability, MemberApplicability)):
        return value.subject
    return None


DutyApplicability = Annotated[
    Annotated[Applicability, Tag("unit")] | Annotated[MemberApplicability, Tag("member")],
    Discriminator(
        _subject_of, custom_error_type="applies_to_form",
        custom_error_message="应为映射，subject 只能是 unit（组织，可省略）或 member（党员），"
                             "如 {kind: branch} 或 {subject: member, status: [full]}",
    ),
]


class Quorum(StrEnum):
    none = "none"
    # 第十一条: 半数以上有表决权的党员到会 (预备党员 have no vote; approved exclusions leave 应到).
    voting_majority = "voting_majority"


class Requirements(Strict):
    minutes: bool = True
    attendance: bool = True
    evidence_files: int = Field(default=0, ge=0, le=20)
    # 台账须及时录入: a record reported more than this many days after the due date counts as
    # late even when the meeting itself was held in time.
    report_within_days: int = Field(default=10, ge=0, le=366)
    # 须经上级审核: a report stays 待审核 (submitted) until a unit above the branch accepts it.
    review: bool = False


class Duty(Strict):
    code: Code
    name: str = Field(min_length=1, max_length=60)
    basis: str | None = None                   # 依据: the clause of the source document
    applies_to: DutyApplicability
    frequency: FrequencyForm
    due: DueRule = Field(default_factory=DueAtPeriodEnd)
    quorum: Quorum = Quorum.none
    requires: Requirements = Field(default_factory=Requirements)

    @model_validator(mode="before")
    @classmethod
    def _fixed_day_is_the_due_date(cls, data: Any) -> Any:
        """`{every: month, day: 15}` is due on the 15th: `due` is filled in from it."""
        if not isinstance(data, dict) or not isinstance(data.get("frequency"), dict):
            return data
        frequency = data["frequency"]
        if "rrule" in frequency or not {"day", "week", "weekday"} & frequency.keys():
            return data
        if "due" in data:
            raise ValueError("frequency 中的固定日期（day 或 week/weekday）就是到期日，不能再写 due；"
                             "要另定期限，请去掉 frequency 中的固定日期")
        try:
            schedule = Schedule.model_validate(frequency)
        except ValidationError:
            return data                        # reported at frequency
        if schedule.day is not None:
            due: dict[str, Any] = {"rule": "day_of_month", "day": schedule.day}
        else:
            due = {"rule": "nth_weekday", "week": schedule.week, "weekday": schedule.weekday}
        return {**data, "due": due}

    @model_validator(mode="after")
    def _group_duties_have_no_committee_test(self) -> Duty:
        rule = self.applies_to
        if isinstance(rule, Applicability) and rule.kind == UnitKind.group and rule.has_committee is not None:
            raise ValueError("党小组没有支委会，applies_to.has_committee 只能用于党支部")
        return self

    @property
    def for_members(self) -> bool:
        return isinstance(self.applies_to, MemberApplicability)
