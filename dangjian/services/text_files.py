"""Reading the text files users hand us (CSV, minutes): one place for the encoding rule.

Excel in China saves "CSV" as GBK unless told otherwise, so UTF-8 (with or without BOM) is
tried first and GB18030 (a superset of GBK) second; anything else is refused by name.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from dangjian.errors import NotFound, ValidationFailed


def check_input_file(path: Path, field: str = "file") -> Path:
    """`path` is an existing regular file, or a Chinese error naming it (missing: exit 3)."""
    if path.is_dir():
        raise ValidationFailed(f"{path} 是文件夹，不是文件：请给出文件路径", field=field)
    if not path.is_file():
        raise NotFound(f"文件不存在：{path}", field=field)
    return path


def read_text_file(path: Path, field: str = "file") -> str:
    raw = check_input_file(path, field).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(f"{path}：无法识别的文件编码（既不是 UTF-8 也不是 GBK/GB18030），"
                           "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”", field=field)


def _csv_problem(path: Path, line: int, error: csv.Error, field: str) -> ValidationFailed:
    """csv's English complaint (a cell over its size limit, a stray quote) in Chinese, by line."""
    text = str(error)
    why = (f"单元格超过 {csv.field_size_limit()} 个字符" if "field larger than field limit" in text
           else "引号不成对或换行位置不对" if "quot" in text or "new-line" in text or "newline" in text
           else "不是有效的 CSV 格式")
    return ValidationFailed(f"{path.name} 第{line}行：{why}", field=field)


def read_csv_rows(path: Path, field: str = "file") -> list[list[str]]:
    reader = csv.reader(io.StringIO(read_text_file(path, field), newline=""))
    try:
        return list(reader)
    except csv.Error as error:
        raise _csv_problem(path, reader.line_num + 1, error, field) from None


def read_csv_records(path: Path, field: str = "file") -> tuple[list[str], list[tuple[int, dict[str | None, object]]]]:
    """The header and each row as (line number, {column: cell}); extra cells sit under None."""
    reader = csv.DictReader(io.StringIO(read_text_file(path, field), newline=""))
    try:
        rows: list[tuple[int, dict[str | None, object]]] = [(reader.line_num, dict(row)) for row in reader]
        return list(reader.fieldnames or []), rows
    except csv.Error as error:
        raise _csv_problem(path, reader.line_num + 1, error, field) from None


def read_csv_dicts(path: Path, field: str = "file") -> list[dict[str, str]]:
    return [row for _line, row in read_csv_records(path, field)[1]]  # type: ignore[misc]
