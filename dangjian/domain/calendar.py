"""The Chinese working-day calendar: weekends, public holidays and 调休 make-up workdays.

The years the installed `chinesecalendar` covers (2004–2026 in 1.11) come from it. Any
other year, and any correction to a covered year, comes from an override file
`<dir>/<year>.yaml` (format: rules/calendars/README.md). A year covered by neither raises
`CalendarGap` instead of guessing: a due date computed from a wrong calendar would be
silently wrong for every unit.

Every covered year is precomputed once at load into a small table, so `is_workday`,
`roll_forward` and `nth_workday_on_or_after` are O(1) per year crossed.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType

import chinese_calendar.constants
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

import rules.duties
from dangjian.errors import ValidationFailed

FORMAT_DOC = "rules/calendars/README.md"
BUILTIN_DIR = Path(rules.duties.__file__).resolve().parent / "calendars"

# The library's own range check: min..max year of its holiday table.
_LIBRARY_YEARS = range(
    min(chinese_calendar.constants.holidays).year, max(chinese_calendar.constants.holidays).year + 1
)
_LIBRARY_SOURCE = f"chinesecalendar {version('chinesecalendar')}（收录国务院办公厅历年节假日安排）"
_FILE_NAME = re.compile(r"^(\d{4})\.yaml$")
_MISNAMED = re.compile(r"^(\d{4})\.yml$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAY_NAMES = "一二三四五六日"


class CalendarGap(ValidationFailed):
    """A year the calendar does not know: add its override file, never guess."""


@dataclass(frozen=True, slots=True)
class _Year:
    first: int                 # ordinal of 1 January
    flags: bytes               # flags[i] == 1 when day first+i is a working day
    workdays: tuple[int, ...]  # ordinals of the year's working days, ascending
    before: tuple[int, ...]    # before[i] = working days in the year strictly before day first+i
    source: str


def _build_year(year: int, is_workday: Iterable[bool], source: str) -> _Year:
    first = date(year, 1, 1).toordinal()
    flags = bytes(1 if w else 0 for w in is_workday)
    workdays: list[int] = []
    before: list[int] = []
    for i, flag in enumerate(flags):
        before.append(len(workdays))
        if flag:
            workdays.append(first + i)
    return _Year(first, flags, tuple(workdays), tuple(before), source)


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1).toordinal()
    return [date.fromordinal(o) for o in range(first, date(year + 1, 1, 1).toordinal())]


@cache
def _library_year(year: int) -> _Year:
    """chinesecalendar's own rule (`is_workday`), read straight from its tables: calling
    `is_workday` per day rescans the whole table for its year range on every call."""
    rest, work = chinese_calendar.constants.holidays, chinese_calendar.constants.workdays
    flags = (d in work or (d.weekday() < 5 and d not in rest) for d in _days_of(year))
    return _build_year(year, flags, _LIBRARY_SOURCE)


@dataclass(frozen=True, slots=True)
class _Override:
    path: Path
    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]

    def table(self) -> _Year:
        days = _days_of(self.year)
        flags = ((d.weekday() < 5 and d not in self.holidays) or d in self.workdays for d in days)
        return _build_year(self.year, flags, f"{self.source}（{self.path}）")


@dataclass(frozen=True, slots=True, eq=False)
class WorkCalendar:
    """Which days are working days. Immutable; build it with `WorkCalendar.load`."""

    _years: Mapping[int, _Year]
    _gap_dir: Path  # where a missing year's file should go (the last directory searched)

    @classmethod
    def load(cls, override_dirs: Sequence[Path] = ()) -> WorkCalendar:
        """The library's years, then rules/calendars/*.yaml, then each override dir in order.

        Later directories win; a file for year Y replaces everything known about Y.
        Every `NNNN.yaml` file found is validated, even one a later directory overrides.
        """
        years: dict[int, _Year] = {y: _library_year(y) for y in _LIBRARY_YEARS}
        dirs = [BUILTIN_DIR, *(Path(d) for d in override_dirs)]
        for index, directory in enumerate(dirs):
            if not directory.is_dir():
                if index == 0:
                    continue  # an installation without shipped files
                raise ValidationFailed(f"节假日日历目录不存在：{directory}", field="calendar_dirs")
            for path in sorted(directory.iterdir()):
                if _MISNAMED.match(path.name):
                    raise ValidationFailed(
                        f"{path}：节假日文件的扩展名必须是 .yaml，请改名为 {path.stem}.yaml",
                        field="calendar_dirs",
                    )
                if _FILE_NAME.match(path.name) and path.is_file():
                    override = _read_override(path)
                    years[override.year] = override.table()
        return cls(MappingProxyType(years), dirs[-1])

    def __repr__(self) -> str:
        years = sorted(self._years)
        return f"WorkCalendar({years[0]}–{years[-1]}, {len(years)} years)" if years else "WorkCalendar()"

    def covers(self, year: int) -> bool:
        return year in self._years

    def require_years(self, years: Iterable[int]) -> None:
        """Raise one CalendarGap naming every missing year and the file to add for each."""
        missing = sorted({y for y in years if y not in self._years})
        if missing:
            raise self._gap(missing)

    def source_of(self, year: int) -> str:
        """Where the year's holidays come from (library or override file with its notice)."""
        return self._table(year).source

    def is_workday(self, d: date) -> bool:
        t = self._table(d.year)
        return t.flags[d.toordinal() - t.first] == 1

    def roll_forward(self, d: date) -> date:
        """`d` itself when it is a working day, otherwise the next working day."""
        return self.nth_workday_on_or_after(d, 1)

    def nth_workday_on_or_after(self, d: date, n: int) -> date:
        """The nth working day counting from `d` (n=1 is `d` itself when `d` is a working day).

        Crossing into a year the calendar does not cover raises CalendarGap.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        year = d.year
        t = self._table(year)
        k = t.before[d.toordinal() - t.first] + n - 1
        while k >= len(t.workdays):
            k -= len(t.workdays)
            year += 1
            t = self._table(year)
        return date.fromordinal(t.workdays[k])

    def _table(self, year: int) -> _Year:
        try:
            return self._years[year]
        except KeyError:
            raise self._gap([year]) from None

    def _gap(self, years: list[int]) -> CalendarGap:
        names = "、".join(f"{y}年" for y in years)
        how = (
            "写明放假日期和调休上班日期"
            f"（依据国务院办公厅当年的节假日安排通知，格式见 {FORMAT_DOC}）"
        )
        if len(years) == 1:
            return CalendarGap(
                f"{names}的节假日安排尚未收录：请在 {self._gap_dir / f'{years[0]}.yaml'} 中{how}",
                field="calendar",
            )
        return CalendarGap(
            f"{names}的节假日安排尚未收录：请在 {self._gap_dir} 中逐年添加下列文件，{how}",
            field="calendar",
            details=[f"{y}年 → {self._gap_dir / f'{y}.yaml'}" for y in years],
        )


# --- override files -------------------------------------------------------------------

_FIELDS = ("year", "source", "holidays", "workdays")


def _read_override(path: Path) -> _Override:
    """Parse and check one `<year>.yaml` file; every error names the file, line and field."""
    name = _FILE_NAME.match(path.name)
    if name is None:
        raise ValidationFailed(
            f"{path}：文件名必须是四位年份加 .yaml，例如 2027.yaml", field="calendar"
        )
    try:
        root = YAML(typ="safe", pure=True).compose(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise _error(path, line, None, f"YAML 语法错误：{exc.problem or exc.context}") from None
    except (YAMLError, UnicodeDecodeError) as exc:
        raise _error(path, 1, None, f"无法读取：{exc}") from None
    if not isinstance(root, MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise _error(path, line, None, "文件内容必须是键值对：year、source、holidays、workdays")

    fields: dict[str, tuple[Node, Node]] = {}
    for key, value in root.value:
        k = key.value if isinstance(key, ScalarNode) else None
        if k is None or k not in _FIELDS:
            raise _error(path, _line(key), str(k), f"未知字段 {k}，只允许 {'、'.join(_FIELDS)}")
        if k in fields:
            raise _error(path, _line(key), k, f"字段 {k} 重复出现")
        fields[k] = (key, value)
    for k in _FIELDS:
        if k not in fields:
            hint = "（没有调休上班日时写 workdays: []）" if k == "workdays" else ""
            raise _error(path, _line(root), k, f"缺少字段 {k}{hint}")

    year_node = fields["year"][1]
    expected = int(name.group(1))
    if not (isinstance(year_node, ScalarNode) and year_node.value.strip() == str(expected)):
        shown = year_node.value if isinstance(year_node, ScalarNode) else "（非数字）"
        message = f"year 是 {shown}，与文件名 {path.name} 不一致"
        raise _error(path, _line(year_node), "year", message)

    source_node = fields["source"][1]
    if not (isinstance(source_node, ScalarNode) and source_node.value.strip()):
        message = "source 必须写明依据，例如《国务院办公厅关于2027年部分节假日安排的通知》"
        raise _error(path, _line(source_node), "source", message)

    holidays = _dates(path, fields["holidays"][1], "holidays", expected, {})
    if not holidays:
        raise _error(path, _line(fields["holidays"][1]), "holidays", "holidays 不能为空")
    workdays = _dates(path, fields["workdays"][1], "workdays", expected, holidays)
    for d, line in workdays.items():
        if d.weekday() < 5:
            raise _error(
                path, line, "workdays",
                f"{d.isoformat()} 是星期{_WEEKDAY_NAMES[d.weekday()]}，本来就是工作日；"
                "workdays 只写调休上班的星期六、星期日",
            )
    source = source_node.value.strip()
    return _Override(path, expected, source, frozenset(holidays), frozenset(workdays))


def _dates(
    path: Path, node: Node, field: str, year: int, other: dict[date, int]
) -> dict[date, int]:
    """The list's dates mapped to their line numbers; `other` is the list already read."""
    if not isinstance(node, SequenceNode):
        message = f"{field} 必须是日期列表，例如 [{year}-01-01, {year}-01-02]"
        raise _error(path, _line(node), field, message)
    seen: dict[date, int] = {}
    for position, item in enumerate(node.value, start=1):
        line = _line(item)
        text = item.value.strip() if isinstance(item, ScalarNode) else ""
        where = f"{field} 第{position}项"
        try:
            if not _ISO_DATE.match(text):
                raise ValueError
            d = date.fromisoformat(text)
        except ValueError:
            message = f"{where}“{text}”不是有效日期，应写成 {year}-10-01 的形式"
            raise _error(path, line, field, message) from None
        if d.year != year:
            raise _error(path, line, field, f"{where} {text} 不在 {year} 年内")
        if d in seen:
            raise _error(path, line, field, f"{where} {text} 重复（第{seen[d]}行已有）")
        if d in other:
            message = f"{where} {text} 同时出现在 holidays（第{other[d]}行）和 workdays 中"
            raise _error(path, line, field, message)
        seen[d] = line
    return seen


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _error(path: Path, line: int, field: str | None, message: str) -> ValidationFailed:
    return ValidationFailed(f"{path} 第{line}行：{message}", field=field)
