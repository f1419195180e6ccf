"""The CLI's one error boundary: whatever goes wrong, the user reads one short Chinese message
and the process exits with the documented code (README, "出错时命令以非零状态退出").

0 ok · 1 unexpected internal error (message + error id; traceback appended to the error log)
· 2 invalid input and usage errors · 3 not found (also a missing input file, a database that
cannot be reached or is not initialised) · 4 forbidden · 5 conflict · 6 integrity · 7 partially
done · 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import os
import re
import secrets
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from typer import rich_utils
from typer._click import exceptions as click_errors
from typer.exceptions import Abort

from dangjian.errors import DomainError

EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130

# A token such as -5, -0.5, -.5 or -1e3: a value, never one of our options (none is a digit).
NEGATIVE_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def error_log_path() -> Path:
    """DANGJIAN_LOG_DIR/errors.log, else .dangjian/logs/errors.log beside Prefect's default home."""
    return Path(os.environ.get("DANGJIAN_LOG_DIR") or Path(".dangjian") / "logs") / "errors.log"


def log_unexpected(error: BaseException, argv: list[str]) -> tuple[str, str]:
    """Append the traceback under a fresh error id; returns (id, where it was written or why not)."""
    from dangjian.clock import now_utc

    error_id = secrets.token_hex(4)
    path = error_log_path()
    text = "".join(traceback.format_exception(error))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"--- {error_id} {now_utc().isoformat()} dangjian {' '.join(argv)}\n{text}\n")
        return error_id, f"详情已记入 {path.resolve()}"
    except OSError as failed:
        return error_id, f"未能写入错误日志 {path}（{failed.strerror or failed}）"


def describe_unexpected(error: BaseException, error_id: str, where: str) -> str:
    kind = type(error).__name__
    return f"内部错误（编号 {error_id}，{kind}）：命令未完成。{where}；报告问题时请附上此编号。"


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
    cls._process_opts = process_opts


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
        error_id, where = log_unexpected(error, argv)
        _print(describe_unexpected(error, error_id, where))
        sys.exit(EXIT_INTERNAL)
    if code == EXIT_INTERRUPTED:    # typer turns Ctrl-C inside a command into Exit(130)
        _print("已中断")
    sys.exit(code if isinstance(code, int) else 0)
