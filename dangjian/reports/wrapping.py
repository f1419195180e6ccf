"""Line breaking for Chinese terminal text.

Rich breaks lines only at spaces, so a Chinese sentence is one long "word" that a narrow
table column cuts with "…" or chops anywhere, even inside `community_branch_basic.yaml:141`
or "14 名". `Wrapped` text breaks where Chinese may break instead: between Chinese
characters and at spaces; never inside a run of Latin letters, digits and ASCII signs
(codes, ids, dates, file:line), not before closing punctuation (，。）…), not after
opening punctuation (（“), and not between a number and the character after it ("12次",
"14 名"). Only a run wider than the whole column is folded.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, chop_cells
from rich.containers import Lines
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, OverflowMethod

_WIDE = "\u2e80-\u303f\u3040-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_ATOM = re.compile(rf"\s+|[{_WIDE}]|[^\s{_WIDE}]+")
_CLOSING = set("，。、；：？！）》」』】〕〉”’…%％·,.;:?!)]}")
_OPENING = set("（《「『【〔〈“‘([{")
_NUMBER = re.compile(r"[+-]?\d[\d.,]*")


def _glued(before: str, gap: str, after: str) -> bool:
    """May the line not break between atom `before` and atom `after` (with `gap` between)?"""
    if after[0] == "/":     # 任务编号/task_id, but not a path after "："
        return not gap and len(before) == 1 and bool(re.match(f"[{_WIDE}]", before)) \
            and before not in _CLOSING
    if after[0] in _CLOSING or before[-1] in _OPENING:
        return not gap
    number_then_unit = _NUMBER.fullmatch(before) and len(after) == 1 and re.match(f"[{_WIDE}]", after)
    return bool(number_then_unit) and gap in ("", " ")


def groups(text: str) -> list[tuple[int, int]]:
    """(start, end) of each unbreakable piece of `text`; what lies between two is spaces."""
    pieces: list[tuple[int, int]] = []
    last = ""
    for match in _ATOM.finditer(text):
        atom = match.group()
        if atom.isspace():
            continue
        if pieces and _glued(last, text[pieces[-1][1]:match.start()], atom):
            pieces[-1] = (pieces[-1][0], match.end())
            if atom.startswith("/"):     # a name with its code, 任务编号/task_id: whole
                _take_name_before(text, pieces)
        else:   # the first piece keeps any indentation before it
            pieces.append((match.start() if pieces else 0, match.end()))
        last = atom
    return pieces


def _take_name_before(text: str, pieces: list[tuple[int, int]], longest: int = 6) -> None:
    """Join to the last piece the Chinese characters right before it (up to `longest`)."""
    start, end = pieces[-1]
    while (len(pieces) > 1 and pieces[-2][1] == start and pieces[-2][1] - pieces[-2][0] == 1
           and re.match(f"[{_WIDE}]", text[pieces[-2][0]]) and text[pieces[-2][0]] not in _CLOSING
           and text[pieces[-2][0]] not in _OPENING and longest > 0):
        pieces.pop()
        start = pieces[-1][0]
        pieces[-1] = (start, end)
        longest -= 1


def break_offsets(text: str, width: int) -> list[int]:
    """Where to break one line of `text` so that no line is wider than `width` cells."""
    offsets: list[int] = []
    used, previous_end = 0, 0
    for start, end in groups(text):
        piece = cell_len(text[start:end])
        need = piece + (cell_len(text[previous_end:start]) if used else 0)
        if used and used + need > width:
            offsets.append(start)
            used, need = 0, piece
        if need > width:        # wider than the column on its own: fold, the last resort
            position = start
            *full, last = chop_cells(text[start:end], max(width, 1))
            for chunk in full:
                position += len(chunk)
                offsets.append(position)
            used = cell_len(last)
        else:
            used += need
        previous_end = end
    return [o for o in offsets if 0 < o < len(text)]


@lru_cache(maxsize=4096)     # a table measures every cell three times; many cells repeat
def _extent(plain: str) -> tuple[int, int]:
    """(widest unbreakable piece, widest line) of `plain`, in cells."""
    lines = plain.splitlines() or [""]
    widest = max(cell_len(line) for line in lines)
    smallest = max((cell_len(line[start:end]) for line in lines for start, end in groups(line)),
                   default=widest)
    return min(smallest, widest), widest


class Wrapped(Text):
    """Text that breaks lines the way Chinese text may be broken (see the module doc)."""

    @classmethod
    def of(cls, value: Any) -> Any:
        """A table cell as `Wrapped`: strings are read as rich markup, like plain cells."""
        if isinstance(value, Wrapped) or not isinstance(value, str | Text):
            return value
        text = Text.from_markup(value) if isinstance(value, str) else value
        wrapped = cls(text.plain, style=text.style, justify=text.justify, overflow=text.overflow,
                      no_wrap=text.no_wrap, end=text.end)
        wrapped.spans = list(text.spans)
        return wrapped

    def wrap(self, console: Console, width: int, *, justify: JustifyMethod | None = None,
             overflow: OverflowMethod | None = None, tab_size: int = 8,
             no_wrap: bool | None = None) -> Lines:
        if no_wrap or self.no_wrap or overflow == "ignore":
            return super().wrap(console, width, justify=justify, overflow=overflow,
                                tab_size=tab_size, no_wrap=no_wrap)
        wrap_justify = justify or self.justify or "default"
        wrap_overflow = overflow or self.overflow or "fold"
        lines = Lines()
        for line in self.split(allow_blank=True):
            if "\t" in line:
                line.expand_tabs(tab_size)
            new_lines = line.divide(break_offsets(line.plain, width))
            for part in new_lines:
                part.rstrip()
            new_lines.justify(console, width, justify=wrap_justify, overflow=wrap_overflow)
            for part in new_lines:
                part.truncate(width, overflow=wrap_overflow)
            lines.extend(new_lines)
        return lines

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(*_extent(self.plain))


class Table(RichTable):
    """A rich table whose headers and string cells are `Wrapped`: at 80 columns a cell
    breaks between words, never inside a date, an id or "14 名"."""

    def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(Wrapped.of(header), *args, **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(Wrapped.of(r) for r in renderables), **kwargs)

    def _calculate_column_widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        """Rich narrows the widest columns first, even below their longest unbreakable
        piece (a date becomes "2026-02-…"). When every column's minimum fits, start from
        the minimums and give the spare cells one at a time to the column that would be
        the tallest, so no column is squeezed to a character per line.

        Overrides rich's private width calculation (rich 15); tests/cli/test_output_width.py
        fails if a rich release changes it."""
        widths = super()._calculate_column_widths(console, options)
        ranges = [self._measure_column(console, options, column) for column in self.columns]
        fitted = [r.minimum for r in ranges]
        spare = options.max_width - sum(fitted)
        if spare < 0 or all(w >= m for w, m in zip(widths, fitted, strict=True)):
            return widths
        padding = [self._get_padding_width(column._index) for column in self.columns]

        def height(i: int) -> int:
            return -(-(ranges[i].maximum - padding[i]) // max(fitted[i] - padding[i], 1))

        while spare > 0:
            growable = [i for i in range(len(fitted)) if fitted[i] < ranges[i].maximum]
            if not growable:
                break
            tallest = max(growable, key=lambda i: (height(i), -fitted[i]))
            fitted[tallest] += 1
            spare -= 1
        return fitted


class Paragraph:
    """`text` wrapped to the console's width with a hanging indent under `prefix` ("  - "),
    even on a console that leaves wrapping to the terminal (soft_wrap), which would cut
    it at the last column wherever that falls."""

    def __init__(self, text: str, prefix: str = "", style: str = ""):
        self.text, self.prefix, self.style = text, prefix, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Any:
        indent = cell_len(self.prefix)
        lines = Wrapped(self.text, style=self.style).wrap(
            console, max(options.max_width - indent, 1), overflow="fold", no_wrap=False)
        for number, line in enumerate(lines):
            yield Text(self.prefix if number == 0 else " " * indent) + line
