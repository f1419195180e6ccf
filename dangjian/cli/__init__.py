"""The `dangjian` command: translates arguments and errors, nothing more."""
from __future__ import annotations

import sys

from dangjian.cli.app import app, err
from dangjian.errors import DomainError


def main() -> None:
    from dangjian.cli import commands  # noqa: F401  (registers every command on `app`)

    try:
        app(standalone_mode=True)
    except DomainError as error:
        err.print(f"[bold red]错误：[/bold red]{error}", highlight=False)
        sys.exit(error.exit_code)
