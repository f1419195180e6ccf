"""Uploaded files: checked by size and by their first bytes (never by the name or the
browser's claimed type), then staged in a private temporary directory under a cleaned
name whose suffix comes from the detected type. The services copy them into the
content-addressed store; nothing is ever served from a path a user chose."""
from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile

from dangjian.errors import ValidationFailed


@dataclass(frozen=True)
class Kind:
    suffix: str
    mime: str
    label: str


JPEG = Kind(".jpg", "image/jpeg", "JPG 照片")
PNG = Kind(".png", "image/png", "PNG 图片")
WEBP = Kind(".webp", "image/webp", "WebP 图片")
PDF = Kind(".pdf", "application/pdf", "PDF 文件")
XLSX = Kind(".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel（xlsx）")
CSV = Kind(".csv", "text/csv", "CSV 文本")
YAML = Kind(".yaml", "text/plain", "YAML 文本")
EVIDENCE_KINDS = (JPEG, PNG, WEBP, PDF)
ROSTER_KINDS = (XLSX, CSV)
SERVED_TYPES = {k.suffix: k.mime for k in EVIDENCE_KINDS}


def sniff(head: bytes, allowed: Sequence[Kind]) -> Kind | None:
    """The kind the first bytes show, if it is one of `allowed`."""
    found: Kind | None = None
    if head.startswith(b"\xff\xd8\xff"):
        found = JPEG
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        found = PNG
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        found = WEBP
    elif head.startswith(b"%PDF-"):
        found = PDF
    elif head.startswith(b"PK\x03\x04"):
        found = XLSX           # a zip container; openpyxl refuses anything that is not a workbook
    elif CSV in allowed or YAML in allowed:
        text_ok = b"\x00" not in head
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:      # a multi-byte character cut at the end is fine
            text_ok = text_ok and exc.start >= len(head) - 3
        if text_ok:
            found = CSV if CSV in allowed else YAML
    return found if found in allowed else None


def clean_name(name: str | None, suffix: str, fallback: str = "文件") -> str:
    """A display name without directories or control characters, ending in `suffix`."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[<>:\"|?*]", "_", stem)[:80] or fallback
    return stem + suffix


def _kinds_text(allowed: Sequence[Kind]) -> str:
    return "、".join(k.label for k in allowed)


@dataclass
class Staged:
    paths: list[Path]
    root: Path


@contextmanager
def staged(files: Sequence[UploadFile], allowed: Sequence[Kind], max_bytes: int,
           what: str = "佐证材料", extra: Sequence[tuple[Path, str]] = ()) -> Iterator[list[Path]]:
    """Check every file, then stage them; all problems are raised together before anything
    is kept. `extra`: already stored files to include again, as (path, display name)."""
    problems: list[str] = []
    checked: list[tuple[UploadFile, Kind]] = []
    for upload in files:
        if not upload.filename and not upload.size:
            continue                                   # an empty file input
        label = clean_name(upload.filename, "", fallback="未命名文件") + _dot(upload.filename)
        upload.file.seek(0, 2)
        size = upload.file.tell()
        upload.file.seek(0)
        if size == 0:
            problems.append(f"{what}“{label}”是空文件")
            continue
        if size > max_bytes:
            problems.append(f"{what}“{label}”大小 {size / 1024 / 1024:.1f} MB，超过上限 "
                            f"{max_bytes // (1024 * 1024)} MB")
            continue
        kind = sniff(upload.file.read(64), allowed)
        upload.file.seek(0)
        if kind is None:
            problems.append(f"{what}“{label}”不是允许的文件类型（按文件内容识别，只接受 {_kinds_text(allowed)}）")
            continue
        checked.append((upload, kind))
    if problems:
        raise ValidationFailed(f"{what}未通过检查，未保存任何内容：", details=problems, field="evidence")
    root = Path(tempfile.mkdtemp(prefix="dj-upload-"))
    try:
        paths: list[Path] = []
        for n, (upload, kind) in enumerate(checked):
            target = root / str(n) / clean_name(upload.filename, kind.suffix)
            target.parent.mkdir()
            with target.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            paths.append(target)
        for m, (source, name) in enumerate(extra):
            target = root / f"k{m}" / clean_name(name, Path(name).suffix.lower()[:10])
            target.parent.mkdir()
            shutil.copyfile(source, target)
            paths.append(target)
        yield paths
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _dot(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    return ("." + base.rsplit(".", 1)[1][:10]) if "." in base else ""


def uploads(form_values: Sequence[object]) -> list[UploadFile]:
    return [v for v in form_values if isinstance(v, UploadFile)]
