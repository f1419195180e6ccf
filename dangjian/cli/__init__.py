"""The `dangjian` command: translates arguments and errors, nothing more."""
from __future__ import annotations

import sys


def main() -> None:
    import typer

    from dangjian.cli import boundary, commands  # noqa: F401  (commands registers every command on `app`)
    from dangjian.cli.app import app

    boundary.run(typer.main.get_command(app), sys.argv[1:])
