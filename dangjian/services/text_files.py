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


def read_csv_rows(path: Path, field: str = "file") -> list[list[str]]:
    return list(csv.reader(io.StringIO(read_text_file(path, field), newline="")))


def read_csv_dicts(path: Path, field: str = "file") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_text_file(path, field), newline="")))
