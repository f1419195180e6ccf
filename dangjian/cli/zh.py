"""Typer's own words in Chinese: usage errors, help boilerplate, panel titles.

Typer (0.29) carries its own copy of click with English messages written into f-strings, so
they are translated where they are shown: `translate()` rewrites a usage error's message by
pattern, and `install()` sets typer's help constants, the usage prefix and the --help text.
A message no pattern knows stays as it is (still with a Chinese frame around it).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

KINDS = {"argument": "参数", "option": "选项", "parameter": "参数"}
TYPES = {"number": "数值", "float": "数值", "int": "整数", "integer": "整数", "bool": "是/否", "boolean": "是/否",
         "str": "文本", "Path": "路径", "date": "日期", "datetime": "日期时间"}


def _kind(match: re.Match[str]) -> str:
    return KINDS.get(match.group(1), match.group(1))


def _type(name: str) -> str:
    return TYPES.get(name, name)


_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Missing (argument|option|parameter) (.+?)\.(?: (.*))?", re.DOTALL),
     lambda m: f"缺少{_kind(m)} {m.group(2)}。" + (translate(m.group(3)) if m.group(3) else "")),
    (re.compile(r"Missing parameter: (.*)"), lambda m: f"缺少参数：{m.group(1)}"),
    (re.compile(r"No such option: (\S+)(?: \(Possible options: (.*)\))?"),
     lambda m: f"没有选项 {m.group(1)}" + (f"（可用的选项：{m.group(2)}）" if m.group(2) else "")),
    (re.compile(r"No such command (.+?)\.?"), lambda m: f"没有命令 {m.group(1)}"),
    (re.compile(r"(.*?)[。.]? ?\. Did you mean (.+)\?", re.DOTALL),
     lambda m: f"{translate(m.group(1))}；是否想用 {m.group(2)}？"),
    (re.compile(r"Missing command\.?"), lambda m: "缺少子命令"),
    (re.compile(r"Got unexpected extra arguments?(?:\(s\))? \((.*)\)", re.DOTALL), lambda m: f"多余的参数：{m.group(1)}"),
    (re.compile(r"Invalid value for (.+?): (.*)", re.DOTALL), lambda m: f"{m.group(1)} 的值无效：{translate(m.group(2))}"),
    (re.compile(r"Invalid value: (.*)", re.DOTALL), lambda m: f"值无效：{translate(m.group(1))}"),
    (re.compile(r"Option (.+?) requires an argument\.?"), lambda m: f"选项 {m.group(1)} 需要一个值"),
    (re.compile(r"Option (.+?) requires (\d+) arguments\.?"), lambda m: f"选项 {m.group(1)} 需要 {m.group(2)} 个值"),
    (re.compile(r"Option (.+?) does not take a value\.?"), lambda m: f"选项 {m.group(1)} 不接受取值"),
    (re.compile(r"Argument (.+?) takes (\d+) values\.?"), lambda m: f"参数 {m.group(1)} 需要 {m.group(2)} 个值"),
    (re.compile(r"(?:Value )?(.+?) is not a valid (\w+)\.?"), lambda m: f"{m.group(1)} 不是有效的{_type(m.group(2))}"),
    (re.compile(r"(.+?) is not one of (.+?)\.?", re.DOTALL), lambda m: f"{m.group(1)} 不在可选值 {m.group(2)} 之中"),
    (re.compile(r"(.+?) is not in the range (.+?)\.?"), lambda m: f"{m.group(1)} 不在范围 {m.group(2)} 之内"),
    (re.compile(r"(File|Directory|Path) (.+?) does not exist\.?"), lambda m: f"文件不存在：{m.group(2)}"),
    (re.compile(r"Value must be an iterable\.?"), lambda m: "值必须是列表"),
    (re.compile(r"Value error, (.*)", re.DOTALL), lambda m: translate(m.group(1))),
    # Typer converts with pydantic: its messages for the types our commands use.
    (re.compile(r"Input should be a valid (\w+)(?:,.*)?", re.DOTALL), lambda m: f"应为{_type(m.group(1))}"),
    (re.compile(r"Input should be (.+?)\.?", re.DOTALL), lambda m: f"应为 {m.group(1).replace(' or ', ' 或 ')}"),
]


def translate(message: str) -> str:
    """A typer/click usage message in Chinese (unchanged when no pattern knows it)."""
    for pattern, render in _PATTERNS:
        match = pattern.fullmatch(message.strip())
        if match:
            return render(match)
    return message


HELP_TEXT = {"Show this message and exit.": "显示本帮助并退出。"}
RICH_CONSTANTS = {
    "ARGUMENTS_PANEL_TITLE": "参数", "OPTIONS_PANEL_TITLE": "选项", "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误", "ABORTED_TEXT": "已中断", "DEPRECATED_STRING": "（已弃用）",
    "DEFAULT_STRING": "[默认：{}]", "ENVVAR_STRING": "[环境变量：{}]", "REQUIRED_LONG_STRING": "[必填]",
    "RICH_HELP": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
}
# Typer's own gettext strings (typer/core.py marks these with `_`).
TYPER_GETTEXT = {"Missing command.": "缺少子命令。", "No such command {name!r}.": "没有命令 {name!r}。",
                 "Aborted!": "已中断", "default: {default}": "默认：{default}", "required": "必填",
                 "env var: {var}": "环境变量：{var}", "(dynamic)": "（动态）"}
USAGE_PREFIX = "用法："
USAGE_WORDS = {"[OPTIONS]": "[选项]", "COMMAND [ARGS]...": "命令 [参数]..."}


def install() -> None:
    """Chinese from now on, in this process (idempotent)."""
    import typer.core
    import typer.rich_utils
    from typer._click import core as click_core
    from typer._click import formatting

    for name, text in RICH_CONSTANTS.items():
        if hasattr(typer.rich_utils, name):
            setattr(typer.rich_utils, name, text)
    typer.core._ = lambda message: TYPER_GETTEXT.get(message, message)
    if getattr(formatting.HelpFormatter.write_usage, "_zh", False):
        return
    write_usage = formatting.HelpFormatter.write_usage

    def usage_in_chinese(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, chinese in USAGE_WORDS.items():
            args = args.replace(english, chinese)
        write_usage(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    usage_in_chinese._zh = True  # type: ignore[attr-defined]
    formatting.HelpFormatter.write_usage = usage_in_chinese  # type: ignore[method-assign]
    get_help_option = click_core.Command.get_help_option

    def help_option_in_chinese(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None and option.help in HELP_TEXT:
            option.help = HELP_TEXT[option.help]
        return option

    click_core.Command.get_help_option = help_option_in_chinese  # type: ignore[method-assign]
