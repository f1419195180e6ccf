"""Full-width punctuation typed by a Chinese IME where YAML expects ASCII syntax.

Checks the raw text line by line, outside comments, quotes and block scalars, so
Chinese prose in names and descriptions may use "：" and "，" freely.
"""
from __future__ import annotations

import re
import unicodedata

from rules.issues import RuleIssue

_KEY = r"[0-9A-Za-z_.\-\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF3F]+"
_COLON_KEY = re.compile(rf"(?:^\s*(?:-\s+)?|[{{,]\s*)({_KEY})\s*：")
_ASCII_KEY = re.compile(rf"(?:^\s*(?:-\s+)?|[{{,]\s*)({_KEY})\s*:(?:\s|$)")
_NUMBER = re.compile(r"[0-9０-９][0-9０-９.．]*")
_BLOCK_START = re.compile(r":\s*[|>][-+0-9]*\s*$")
_BRACKETS = {"｛": "{", "｝": "}", "［": "[", "］": "]"}


def _code_part(line: str) -> str:
    """The line with comments cut and quoted text blanked (same length up to the cut)."""
    out: list[str] = []
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            out.append(" ")
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"" and (i == 0 or line[i - 1] in " \t:{[,-"):
            quote = ch
            out.append(" ")
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        else:
            out.append(ch)
    return "".join(out)


def _half(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _in_flow(code: str, m: re.Match[str]) -> bool:
    """A key found after "{" or "," counts only inside a flow mapping, not in prose."""
    return m.group(0).lstrip()[:1] not in "{," or "{" in code[: m.start() + 1]


def check(text: str, file: str) -> list[RuleIssue]:
    issues: list[RuleIssue] = []
    block_indent: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        code = _code_part(line)
        if _BLOCK_START.search(code):
            block_indent = indent

        def add(index: int, message: str, _n: int = number) -> None:
            issues.append(RuleIssue(file, _n, index + 1, message))

        stripped = line.lstrip(" ")
        if stripped.startswith("\u3000"):
            add(indent, "行首有全角空格“　”，缩进请用半角空格")
        if re.match(r"^\s*－\s", code):
            add(code.index("－"), "列表标记用了全角“－”，请改为半角“- ”")
        for m in _COLON_KEY.finditer(code):
            if _in_flow(code, m):
                add(m.end() - 1, f"键 {m.group(1)} 后用了全角冒号“：”，请改为半角冒号加空格“: ”")
        for m in _ASCII_KEY.finditer(code):
            if _in_flow(code, m) and _half(m.group(1)) != m.group(1):
                add(m.start(1), f"键 {m.group(1)} 含全角字符，请改为半角 {_half(m.group(1))}")
        flow = min((code.find(c) for c in "{[" if c in code), default=-1)
        if flow >= 0:
            for i, ch in enumerate(code[flow:], start=flow):
                if ch == "，":
                    add(i, "流式写法 {…} 或 […] 中用了全角逗号“，”，请改为半角逗号“,”")
        for i, ch in enumerate(code):
            if ch in _BRACKETS:
                add(i, f"用了全角括号“{ch}”，请改为半角“{_BRACKETS[ch]}”")
        for m in _NUMBER.finditer(code):
            token = m.group(0)
            if _half(token) == token:
                continue
            before = code[: m.start()].rstrip()
            after = code[m.end():].lstrip()
            dash = before.endswith("-") and (len(before) == 1 or before[-2] in " \t")
            if (not before or dash or before[-1] in ":：{[,，") and (not after or after[0] in ",，}]｝］"):
                add(m.start(), f"数字 {token} 用了全角字符，请改为半角 {_half(token)}")
    return issues
