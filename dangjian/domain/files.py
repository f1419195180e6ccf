"""What a file is, by its first bytes (never by its name), and whether it may be kept as
evidence. Pure: callers read the size and the head; the web's uploads and the CLI's
paths go through the same `file_problem`."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HEAD_BYTES = 64        # enough for every signature below


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


def kinds_text(allowed: Sequence[Kind]) -> str:
    return "、".join(k.label for k in allowed)


def file_problem(label: str, size: int, head: bytes, allowed: Sequence[Kind], max_bytes: int,
                 what: str = "佐证材料") -> str | None:
    """Why the file cannot be kept (Chinese, naming it), or None: empty, too large, or not
    one of the allowed kinds by content."""
    if size == 0:
        return f"{what}“{label}”是空文件"
    if size > max_bytes:
        return (f"{what}“{label}”大小 {size / 1024 / 1024:.1f} MB，超过上限 "
                f"{max_bytes // (1024 * 1024)} MB")
    if sniff(head, allowed) is None:
        return f"{what}“{label}”不是允许的文件类型（按文件内容识别，只接受 {kinds_text(allowed)}）"
    return None
