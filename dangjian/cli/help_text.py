"""Help screens at 80 columns: typer puts every help text in a table cell, and rich cuts a
Chinese sentence there with "…" because it breaks lines only at spaces. Typer builds all
of them in one (private) function; wrapping its result as `Wrapped` makes them break
between Chinese characters instead (dangjian/reports/wrapping.py). Guarded by
tests/cli/test_output_width.py."""
from __future__ import annotations

from typing import Any

from rich.text import Text
from typer import rich_utils

from dangjian.reports.wrapping import Wrapped

_make_rich_text = rich_utils._make_rich_text


def _wrapped_rich_text(*, text: str, style: str = "", markup_mode: Any) -> Any:
    made = _make_rich_text(text=text, style=style, markup_mode=markup_mode)
    return Wrapped.of(made) if isinstance(made, Text) else made


rich_utils._make_rich_text = _wrapped_rich_text
