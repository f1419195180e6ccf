"""The CLI's one error boundary: whatever goes wrong, the user reads one short Chinese message
and the process exits with the documented code (README, "出错时命令以非零状态退出").

0 ok · 1 unexpected internal error (message + error id; traceback appended to the error log)
· 2 invalid input and usage errors · 3 not found (also a missing input file, a database that
cannot be reached or is not initialised) · 4 forbidden · 5 conflict · 6 integrity · 7 partially
done · 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import re
import sys
from typing import Any, NoReturn

from typer import rich_utils
from typer._click import exceptions as click_errors
from typer.exceptions import Abort

from dangjian.error_log import describe_unexpected, log_unexpected
from dangjian.errors import DomainError

EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130

# A token such as -5, -0.5, -.5 or -1e3: a value, never one of our options (none is a digit).
NEGATIVE_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _accept_negative_numbers() -> None:
    """Let the parser take `-5` as a value where no option of that name exists (none is a
    digit), so `manual set 2026 X item -5` works and later options still parse."""
    from typer._click import parser

    cls = parser._OptionParser
    if getattr(cls._process_opts, "_dangjian", False):
        return
    original = cls._process_opts

    def process_opts(self: Any, arg: str, state: Any) -> None:
        if NEGATIVE_NUMBER.fullmatch(arg) and arg not in self._short_opt and arg not in self._long_opt:
            state.largs.append(arg)
            return
        original(self, arg, state)

    process_opts._dangjian = True  # type: ignore[attr-defined]
    cls._process_opts = process_opts  # type: ignore[method-assign]


def _print(text: str) -> None:
    from dangjian.cli.app import err

    err.print(text, highlight=False, markup=False)


def _usage_error(error: click_errors.ClickException) -> None:
    """Typer's own rendering (usage line, hint, panel), with the message in Chinese."""
    from dangjian.cli import zh

    if not isinstance(error, click_errors.NoArgsIsHelpError):
        chinese = zh.translate(error.format_message())
        error.format_message = lambda: chinese  # type: ignore[method-assign]
    rich_utils.rich_format_error(error)


def run(command: Any, argv: list[str]) -> NoReturn:
    """Run the command line `argv` and exit with the scheme above. Never shows a traceback."""
    from dangjian.cli import zh
    from dangjian.cli.database_check import guard, translate_database_error

    zh.install()
    _accept_negative_numbers()
    guard(command)
    try:
        code = command.main(args=argv, prog_name="dangjian", standalone_mode=False)
    except DomainError as error:
        _print(f"错误：{error}")
        sys.exit(error.exit_code)
    except Abort:
        _print("已中断")
        sys.exit(EXIT_INTERRUPTED)
    except click_errors.ClickException as error:
        _usage_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        _print("已中断")
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001  (the boundary: anything else is our bug, not the user's)
        known = translate_database_error(error)
        if known is not None:
            _print(f"错误：{known}")
            sys.exit(known.exit_code)
        error_id, where = log_unexpected(error, 'dangjian ' + ' '.join(argv))
        _print(describe_unexpected(error, error_id, where))
        sys.exit(EXIT_INTERNAL)
    if code == EXIT_INTERRUPTED:    # typer turns Ctrl-C inside a command into Exit(130)
        _print("已中断")
    sys.exit(code if isinstance(code, int) else 0)
