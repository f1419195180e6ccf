"""Progress for commands that take seconds (a Prefect flow, a big import): lines on stderr,
so stdout stays the result. A spinner only on a terminal: piped or logged, plain lines."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dangjian.cli.app import err


def note(text: str, prefix: str = "") -> None:
    """A line on stderr; on a terminal wrapped between words (see Paragraph), piped one line."""
    if err.is_terminal:
        from dangjian.reports.wrapping import Paragraph

        err.print(Paragraph(text, prefix), highlight=False)
    else:
        err.print(prefix + text, highlight=False, markup=False)


@contextmanager
def working(text: str) -> Iterator[None]:
    """`text` at once (e.g. "正在启动流程引擎…"), then a spinner until the block ends."""
    note(text)
    if err.is_terminal:
        with err.status("请稍候…", spinner="dots"):
            yield
    else:
        yield


def known_cycle(code: str | None) -> None:
    """An unknown cycle code is refused before Prefect starts (which takes 15 s or more)."""
    if code is None:
        return
    from dangjian.db import session_scope
    from dangjian.services.cycles import get_cycle

    with session_scope() as session:
        get_cycle(session, code)


def input_file(path: Path, field: str = "file") -> Path:
    from dangjian.services.text_files import check_input_file

    return check_input_file(path, field)
