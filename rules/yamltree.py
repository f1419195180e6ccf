"""YAML reading with positions: syntax errors and every duplicate key as issues, the
round-trip tree (for ruamel's `.lc` line/column info) and a plain copy for pydantic."""
from __future__ import annotations

from collections.abc import Container
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.issues import RuleIssue

Path = tuple[Any, ...]

# ruamel's English syntax messages, in Chinese, with the usual IME/indentation cause.
_SYNTAX = [
    ("mapping values are not allowed", "此处不能出现“键: 值”（常见原因：缩进不对，或值里含有“: ”需加引号）"),
    ("could not find expected ':'", "找不到应有的冒号“:”（常见原因：键后用了全角冒号“：”或少了冒号）"),
    ("cannot start any token", "出现了不能开始一个 YAML 记号的字符（常见原因：用 Tab 缩进，请改用空格）"),
    ("did not find expected key", "找不到应有的键（常见原因：缩进不一致，或列表项“- ”与键混排）"),
    ("did not find expected '-' indicator", "找不到应有的列表标记“- ”（常见原因：缩进不一致）"),
    ("expected ',' or '}'", "流式映射 {…} 中应为英文逗号“,”或“}”（常见原因：用了全角逗号“，”或冒号“：”）"),
    ("expected ',' or ']'", "流式列表 […] 中应为英文逗号“,”或“]”（常见原因：用了全角逗号“，”）"),
    ("expected <block end>", "缩进不一致：这一行的缩进与同级的键不同"),
    ("found undefined alias", "引用了未定义的锚点（*别名）"),
    ("found unexpected end of stream", "文件意外结束（常见原因：引号或括号没有闭合）"),
    ("while scanning a quoted scalar", "引号没有闭合"),
]


def syntax_message(problem: str) -> str:
    for needle, chinese in _SYNTAX:
        if needle in problem:
            return f"YAML 语法错误：{chinese}"
    return f"YAML 语法错误：{problem}"


def parse(text: str, file: str) -> tuple[Any, list[RuleIssue]]:
    """The round-trip tree (None on a syntax error) and the issues found while reading."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True     # duplicates are reported below, all of them
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [RuleIssue(file, line, col, syntax_message(str(exc.problem or exc.context)))]
    issues = _duplicate_keys(root, file, set()) if root is not None else []
    return yaml.load(text), issues


def _duplicate_keys(node: Node, file: str, seen_nodes: set[int]) -> list[RuleIssue]:
    if id(node) in seen_nodes:
        return []
    seen_nodes.add(id(node))
    issues: list[RuleIssue] = []
    if isinstance(node, MappingNode):
        first_line: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value != "<<":
                mark = key.start_mark
                if key.value in first_line:
                    issues.append(RuleIssue(
                        file, mark.line + 1, mark.column + 1,
                        f"重复的键 {key.value}（第{first_line[key.value]}行已有同名的键）",
                    ))
                else:
                    first_line[key.value] = mark.line + 1
            issues += _duplicate_keys(value, file, seen_nodes)
    elif isinstance(node, SequenceNode):
        for value in node.value:
            issues += _duplicate_keys(value, file, seen_nodes)
    return issues


def plain(value: Any) -> Any:
    """Plain dict/list/str/int/float/bool copy of a round-trip tree, for pydantic."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def locate(tree: Any, path: Path, *, at_key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the value at `path` (or of its key), or of the deepest
    part of the path that exists."""
    line, col = 0, 0
    if isinstance(tree, (CommentedMap, CommentedSeq)):
        line, col = tree.lc.line, tree.lc.col
    node = tree
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, CommentedMap) and _has_key(node, part):
            line, col = node.lc.key(part) if (last and at_key) else node.lc.value(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break
    return line + 1, col + 1


def _has_key(node: Container[Any], key: Any) -> bool:
    try:
        return key in node
    except TypeError:
        return False


def get(tree: Any, path: Path) -> Any:
    """The value at `path`, or None when any part is missing."""
    node = tree
    for part in path:
        if (isinstance(node, dict) and _has_key(node, part)) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
        else:
            return None
    return node
