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

from dangjian.domain.files import (  # noqa: F401  (routes use uploads.EVIDENCE_KINDS etc.)
    CSV,
    EVIDENCE_KINDS,
    HEAD_BYTES,
    JPEG,
    PDF,
    PNG,
    ROSTER_KINDS,
    WEBP,
    XLSX,
    YAML,
    Kind,
    file_problem,
    sniff,
)
from dangjian.errors import ValidationFailed

SERVED_TYPES = {k.suffix: k.mime for k in EVIDENCE_KINDS}


def clean_name(name: str | None, suffix: str, fallback: str = "文件") -> str:
    """A display name without directories or control characters, ending in `suffix`."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[<>:\"|?*]", "_", stem)[:80] or fallback
    return stem + suffix


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
        head = upload.file.read(HEAD_BYTES) if size else b""
        upload.file.seek(0)
        problem = file_problem(label, size, head, allowed, max_bytes, what)
        if problem:
            problems.append(problem)
            continue
        kind = sniff(head, allowed)
        assert kind is not None
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
