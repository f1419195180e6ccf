"""Evidence files named by path (the CLI, close-many, a signed 目标责任书, and the web once it
has staged its uploads): every path is checked the way the web checks an upload, by size and
by content, before anything is stored. One limit for all: DANGJIAN_EVIDENCE_MAX_MB."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dangjian.domain.files import EVIDENCE_KINDS, HEAD_BYTES, Kind, file_problem
from dangjian.settings import get_settings

MB = 1024 * 1024


def max_evidence_bytes() -> int:
    return get_settings().evidence_max_mb * MB


def path_problems(paths: Sequence[Path | str], allowed: Sequence[Kind] = EVIDENCE_KINDS,
                  what: str = "佐证材料") -> list[str]:
    """Every problem of every path (missing, a folder, empty, too large, wrong kind)."""
    limit = max_evidence_bytes()
    problems = []
    for path in map(Path, paths):
        if path.is_dir():
            problems.append(f"{what}“{path}”是文件夹，不是文件")
            continue
        if not path.is_file():
            problems.append(f"{what}文件不存在：{path}")
            continue
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(HEAD_BYTES)
        except OSError as error:
            problems.append(f"{what}“{path}”无法读取：{error.strerror or error}")
            continue
        problem = file_problem(path.name, size, head, allowed, limit, what)
        if problem:
            problems.append(problem)
    return problems
