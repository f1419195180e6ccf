"""The roster file formats: Chinese column names and labels, cell parsing, 身份证号.

One place for what a 组织 file and a 党员 file look like, shared by the import
service and by the demo generator (scripts/make_demo_roster.py), so both always
agree on headers and labels.

Files come as CSV (UTF-8, with or without BOM, or GBK; the header row says which kind it
is) or as .xlsx workbooks with sheets named 组织机构 and 党员名册.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dangjian.errors import DomainError
from dangjian.services.text_files import check_input_file, read_csv_rows
from models import Area, Gender, MemberCategory, MemberStatus, UnitKind

UNIT_SHEET = "组织机构"
MEMBER_SHEET = "党员名册"

# Column order is the order the demo files and templates are written in.
UNIT_COLUMNS = ["组织编码", "组织名称", "组织类型", "上级编码", "城乡", "设支委会", "排序"]
UNIT_REQUIRED = ["组织编码", "组织名称", "组织类型", "上级编码"]
MEMBER_COLUMNS = [
    "党员编号", "姓名", "性别", "出生日期", "身份证号", "所在支部", "党小组",
    "人员类别", "党员状态", "入党日期", "转正日期",
]
MEMBER_REQUIRED = ["党员编号", "姓名", "性别", "出生日期", "身份证号", "所在支部", "人员类别", "党员状态"]

UNIT_KINDS = {"区县": UnitKind.district, "街道": UnitKind.street, "社区": UnitKind.community,
              "党支部": UnitKind.branch, "党小组": UnitKind.group}
AREAS = {"城区": Area.urban, "建制镇": Area.town}
YES_NO = {"是": True, "否": False}
GENDERS = {"男": Gender.male, "女": Gender.female}
CATEGORIES = {
    "在职": MemberCategory.in_service, "离退休": MemberCategory.retired,
    "下岗失业": MemberCategory.laid_off, "流动": MemberCategory.floating,
    "个体私营": MemberCategory.self_employed, "居民": MemberCategory.resident,
    "学生": MemberCategory.student, "农民": MemberCategory.farmer,
}
# Spellings people actually type; accepted quietly, never listed in messages.
CATEGORY_ALIASES = {"下岗/失业": MemberCategory.laid_off, "下岗": MemberCategory.laid_off,
                    "失业": MemberCategory.laid_off, "退休": MemberCategory.retired,
                    "离休": MemberCategory.retired}
STATUSES = {"正式党员": MemberStatus.full, "预备党员": MemberStatus.probationary,
            "发展对象": MemberStatus.candidate, "入党积极分子": MemberStatus.activist}


def label_of(mapping: dict[str, Any], value: Any) -> str:
    """The Chinese label for an enum value (or bool), for writing files and messages."""
    for label, v in mapping.items():
        if v == value:
            return label
    raise KeyError(value)


class CellError(ValueError):
    """A cell that cannot be read; the message is shown to the user as is."""


# ---------------------------------------------------------------- cells

def cell_text(value: Any) -> str:
    """A cell as trimmed text; integral numbers lose their '.0' (Excel codes typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_choice(value: Any, choices: dict[str, Any], aliases: dict[str, Any] | None = None) -> Any:
    text = cell_text(value)
    if text in choices:
        return choices[text]
    if aliases and text in aliases:
        return aliases[text]
    raise CellError(f"“{text}”不是可选值，可选：{'、'.join(choices)}")


_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?: 0?0:00(?::00)?)?$")


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    m = _DATE.match(text)
    if not m:
        raise CellError(f"日期格式应为 YYYY-MM-DD，实际为“{text}”")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise CellError(f"“{text}”不是有效日期") from None


def parse_int(value: Any) -> int:
    text = cell_text(value)
    try:
        return int(text)
    except ValueError:
        raise CellError(f"应为整数，实际为“{text}”") from None


# ---------------------------------------------------------------- 身份证号 (GB 11643-1999)

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
NUMBER_HINT = "身份证号被存成了数字，请把该列设为文本后重新导出"


def id_check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def make_id_number(region: str, birth: date, sequence: int) -> str:
    """An 18-digit number; `sequence` 0–999, odd for men and even for women."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + id_check_digit(body)


def parse_id_number(value: Any) -> str:
    """The normalised number (upper-case X), or CellError saying what is wrong."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise CellError(NUMBER_HINT)
    text = cell_text(value).replace(" ", "").upper()
    if re.fullmatch(r"\d+(\.\d+)?E\+?\d+", text) or re.fullmatch(r"\d+\.0+", text):
        raise CellError(NUMBER_HINT)
    if len(text) == 15 and text.isdigit():
        raise CellError("这是15位旧身份证号，请换成18位号码")
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise CellError(f"应为18位（最后一位可以是X），实际为“{text}”")
    if id_check_digit(text[:17]) != text[17]:
        if text.endswith("000"):  # Excel keeps 15 significant digits and zeroes the rest
            raise CellError(NUMBER_HINT)
        raise CellError(f"校验位不对（按前17位应为 {id_check_digit(text[:17])}），请核对号码")
    return text


def id_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_gender(number: str) -> Gender:
    return Gender.male if int(number[16]) % 2 else Gender.female


# ---------------------------------------------------------------- tables

@dataclass
class Table:
    """One sheet of one file: `label` names it in messages, rows keep their Excel row number."""

    label: str
    kind: str                       # "unit" | "member"
    header: list[str]
    header_row: int = 1
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # (row number, columns): non-empty cells under no header, which no column would read
    stray: list[tuple[int, list[int]]] = field(default_factory=list)


def read_tables(path: Path) -> tuple[list[Table], list[str]]:
    """Tables in a file and file-level problems (unreadable, unknown kind)."""
    suffix = path.suffix.lower()
    try:
        check_input_file(path)
    except DomainError as error:
        return [], [error.message]
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".xls":
        return [], [f"{path.name}：.xls 是旧版 Excel 格式，请另存为 .xlsx 或 CSV UTF-8"]
    return [], [f"{path.name}：不支持的文件类型，请用 .csv 或 .xlsx"]


def _kind_of(header: list[str]) -> str | None:
    if "党员编号" in header or "身份证号" in header:
        return "member"
    if "组织编码" in header:
        return "unit"
    return None


def _table(label: str, kind: str, header_row: int, header_cells: tuple[Any, ...],
           rows: Iterator[tuple[int, tuple[Any, ...]]]) -> Table:
    header = [cell_text(c) for c in header_cells]
    table = Table(label=label, kind=kind, header=header, header_row=header_row)
    for number, cells in rows:
        if all(cell_text(c) == "" for c in cells):
            continue
        record = {name: (cells[i] if i < len(cells) else None)
                  for i, name in enumerate(header) if name}
        stray = [i + 1 for i, c in enumerate(cells)
                 if cell_text(c) != "" and (i >= len(header) or not header[i])]
        if stray:
            table.stray.append((number, stray))
        table.rows.append((number, record))
    return table


def _read_csv(path: Path) -> tuple[list[Table], list[str]]:
    try:
        rows = read_csv_rows(path)
    except DomainError as error:
        return [], [error.message]
    numbered = [(i, tuple(r)) for i, r in enumerate(rows, start=1)]
    while numbered and all(c.strip() == "" for c in numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        return [], [f"{path.name}：文件是空的"]
    header_no, header = numbered[0]
    kind = _kind_of([cell_text(c) for c in header])
    if kind is None:
        return [], [f"{path.name} 第{header_no}行（表头）：认不出文件类型，组织文件应有“组织编码”列，党员文件应有“党员编号”列"]
    return [_table(path.name, kind, header_no, header, iter(numbered[1:]))], []


def _read_xlsx(path: Path) -> tuple[list[Table], list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is one user-facing problem
        return [], [f"{path.name}：无法打开这个 Excel 文件"]
    tables: list[Table] = []
    try:
        for sheet, kind in ((UNIT_SHEET, "unit"), (MEMBER_SHEET, "member")):
            if sheet not in wb.sheetnames:
                continue
            numbered = enumerate(wb[sheet].iter_rows(min_row=1, values_only=True), start=1)
            for number, header in numbered:  # the first non-empty row is the header
                if any(cell_text(c) for c in header):
                    tables.append(_table(f"{path.name}（{sheet}）", kind, number, header, numbered))
                    break
    finally:
        wb.close()
    if not tables:
        return [], [f"{path.name}：工作簿中没有名为“{UNIT_SHEET}”或“{MEMBER_SHEET}”的工作表（或表是空的）"]
    return tables, []
