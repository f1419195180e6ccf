"""YAML reading with positions: syntax errors and every duplicate key as issues, the
round-trip tree (for ruamel's `.lc` line/column info) and a plain copy for pydantic.

The file is parsed once, by a composer that enforces rules.limits as it goes (size before
parsing; depth, nodes and aliases with aliases expanded; every number finite and bounded),
so a hostile file is refused before anything is built from it."""
from __future__ import annotations

import math
import re
from collections.abc import Container
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules import limits
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
    ("failed to decode base64", "!!binary 的内容不是有效的 base64"),
    ("could not determine a constructor", "不支持的 !标签"),
]


def syntax_message(problem: str) -> str:
    for needle, chinese in _SYNTAX:
        if needle in problem:
            return f"YAML 语法错误：{chinese}"
    return f"YAML 语法错误：{problem}"


def parse(text: str, file: str) -> tuple[Any, list[RuleIssue]]:
    """The round-trip tree (None on a syntax error or a broken limit) and the issues found
    while reading."""
    problem = limits.too_large(len(text.encode("utf-8", "surrogatepass")))
    if problem:
        return None, [RuleIssue(file, 1, 1, problem)]
    deep = _flow_run(text)
    if deep:
        return None, [RuleIssue(file, *deep, f"嵌套超过 {limits.MAX_DEPTH} 层上限")]
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True     # duplicates are reported below, all of them
    yaml.Composer = BoundedComposer
    try:
        root = yaml.compose(text)
        issues = _numbers(yaml, file)
        if root is None:
            return None, issues
        issues += _duplicate_keys(root, file, set())
        return yaml.constructor.construct_document(root), issues      # no second parse
    except Refused as exc:
        return None, [RuleIssue(file, exc.line, exc.column, exc.message)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = syntax_message(str(exc.problem or exc.context))
        return None, [*_numbers(yaml, file), RuleIssue(file, line, col, message)]
    except (YAMLError, ValueError, TypeError, OverflowError):    # a value its !!tag cannot build
        message = "YAML 无法读取：有值与它的 !!标签不符（如 !!binary、!!timestamp）"
        return None, [*_numbers(yaml, file), RuleIssue(file, 1, 1, message)]


_FLOW_RUN = re.compile(r"(?:[\[{]\s*){" + str(limits.MAX_DEPTH + 1) + "}")


def _flow_run(text: str) -> tuple[int, int] | None:
    """(line, col) past MAX_DEPTH brackets opened in a row outside comments and quotes.
    ruamel's scanner looks up to 1024 characters ahead for a possible `[…]: value` key,
    quadratically: "[[[[…" costs about a second before the composer sees the depth."""
    for found in _FLOW_RUN.finditer(text):
        start = text.rfind("\n", 0, found.start()) + 1
        before = text[start:found.start()]
        if not any(c in before for c in "#'\""):
            end = found.start() + len(found.group(0).rstrip()) - 1      # the bracket one too deep
            return text.count("\n", 0, end) + 1, end - start + 1
    return None


def _numbers(yaml: YAML, file: str) -> list[RuleIssue]:
    return [RuleIssue(file, line, col, message) for line, col, message in yaml.composer.numbers]


class Refused(Exception):
    """A broken limit, at the node where it was found (1-based)."""

    def __init__(self, mark: Any, message: str):
        super().__init__(message)
        self.line: int = mark.line + 1 if mark else 1
        self.column: int = mark.column + 1 if mark else 1
        self.message = message


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class BoundedComposer(Composer):
    """ruamel's composer, counting as it composes: the node tree is never expanded, an
    alias adds the size and height its anchor had when it was composed."""

    def __init__(self, loader: Any = None):
        super().__init__(loader=loader)
        self.warn_double_anchors = False                # legal YAML (the later one wins); no English warning
        self.nodes = 0                                  # aliases expanded
        self.aliases = 0
        self.open: list[list[int]] = []                 # per open node: [nodes before it, deepest level in it]
        self.anchored: dict[str, tuple[int, int]] = {}  # anchor → (nodes, height)
        self.numbers: list[tuple[int, int, str]] = []   # (line, col, message) of bad numbers
        self._key: Any = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            self._alias(event)
            return super().compose_node(parent, index)
        level = len(self.open) + 1
        if level > limits.MAX_DEPTH:
            raise Refused(event.start_mark, f"嵌套超过 {limits.MAX_DEPTH} 层上限")
        self._count(1, event)
        if event.anchor is not None:          # a reused name: *name inside this node is itself
            self.anchored.pop(event.anchor, None)
        self.open.append([self.nodes - 1, level])
        self._key = index
        node = super().compose_node(parent, index)
        before, deepest = self.open.pop()
        if self.open:
            self.open[-1][1] = max(self.open[-1][1], deepest)
        if event.anchor is not None:
            self.anchored[event.anchor] = (self.nodes - before, deepest - level + 1)
        return node

    def _alias(self, event: Any) -> None:
        self.aliases += 1
        if self.aliases > limits.MAX_ALIASES:
            raise Refused(event.start_mark, f"别名（*引用）超过 {limits.MAX_ALIASES} 个上限")
        known = self.anchored.get(event.anchor)
        if known is None:
            if event.anchor in self.anchors:             # anchored but not finished: itself
                raise Refused(event.start_mark, f"别名 *{event.anchor} 引用了包含它自身的锚点（循环引用）")
            return                                       # undefined: ruamel reports it
        nodes, height = known
        level = len(self.open) + height
        if level > limits.MAX_DEPTH:
            raise Refused(event.start_mark, f"别名 *{event.anchor} 展开后嵌套超过 {limits.MAX_DEPTH} 层上限")
        self._count(nodes, event)
        if self.open:
            self.open[-1][1] = max(self.open[-1][1], level)

    def _count(self, nodes: int, event: Any) -> None:
        self.nodes += nodes
        if self.nodes > limits.MAX_NODES:
            raise Refused(event.start_mark, f"内容超过 {limits.MAX_NODES} 个节点上限（别名按展开计）")

    def compose_scalar_node(self, anchor: Any) -> Any:
        node = super().compose_scalar_node(anchor)
        tag = str(node.tag)
        if tag in (_INT, _FLOAT):
            problem = number_problem(node.value, tag == _INT)
            if problem:
                key = self._key.value if isinstance(self._key, ScalarNode) else None
                mark = node.start_mark
                self.numbers.append((mark.line + 1, mark.column + 1, f"{key}：{problem}" if key else problem))
                # built as text, so neither inf nor a 5,000-digit int ever becomes a number
                node.tag = self.resolver.resolve(ScalarNode, "text", (True, False))
        return node


_BOUND = f"规则文件中的数字须是有限值，绝对值不超过 {limits.NUMBER_TEXT}"


def is_number_issue(issue: RuleIssue) -> bool:
    """An issue of number_problem (pydantic's echo at the same value is redundant)."""
    return _BOUND in issue.message or "无法识别的数字" in issue.message


def number_problem(text: str, integer: bool) -> str | None:
    """Why a YAML int/float literal is not an acceptable rule-file number, or None."""
    shown = text if len(text) <= 20 else text[:20] + "…"
    digits = text.replace("_", "")
    if len(digits) > limits.MAX_NUMBER_CHARS:
        return f"数字 {shown} 位数过多（{_BOUND}）"
    try:
        if integer:
            try:
                value = float(int(digits, 0))
            except ValueError:
                value = float(int(digits, 10))          # YAML 1.2 allows leading zeros: 017
        else:
            lowered = digits.lower().lstrip("+-")
            value = math.inf if lowered in (".inf", ".nan") else float(digits)
    except ValueError:
        return f"无法识别的数字 {shown}"
    if not math.isfinite(value):
        return f"数值 {shown} 不是有限的数字（{_BOUND}）"
    if abs(value) > limits.MAX_NUMBER:
        return f"数值 {shown} 超出范围（{_BOUND}）"
    return None


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
