"""pydantic validation errors → Chinese RuleIssues at the exact key or value.

The error's `loc` is walked along the schema types (to step over discriminated-union
tags and union member names) and along ruamel's round-trip tree (for `.lc` positions).
"""
from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from rules.issues import RuleIssue
from rules.yamltree import Path, locate

_UNION_MEMBER = re.compile(r"^(float|int|str|bool|none|list\[.*\]|dict\[.*\]|function-.*|.*\[.*\])$")


def _unwrap(tp: Any, disc: str | None) -> tuple[Any, str | None]:
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        for meta in args[1:]:
            if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                disc = meta.discriminator
    return tp, disc


def _members(tp: Any) -> list[Any]:
    if get_origin(tp) in (Union, types.UnionType):
        return [a for a in get_args(tp) if a is not type(None)]
    return []


def _tag_of(member: Any) -> str | None:
    """The `Tag` of a member of a union discriminated by a function (rules.duties)."""
    if get_origin(member) is Annotated:
        return next((m.tag for m in get_args(member)[1:] if isinstance(m, Tag)), None)
    return None


def _tag(member: Any, disc: str) -> str | None:
    if isinstance(member, type) and issubclass(member, BaseModel) and disc in member.model_fields:
        args = get_args(member.model_fields[disc].annotation)
        return str(args[0]) if args else None
    return None


def resolve(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Path, type[BaseModel] | None, Any]:
    """Data path of an error's loc, the model that holds its last key, and the type there."""
    tp: Any = root
    disc: str | None = None
    path: list[Any] = []
    holder: type[BaseModel] | None = None
    for part in loc:
        tp, disc = _unwrap(tp, disc)
        members = _members(tp)
        if disc and not members and _tag(tp, disc) == part:
            disc = None                          # a one-method union: pydantic still adds the tag
            continue
        if members and disc:
            chosen = [m for m in members if _tag(m, disc) == part]
            if chosen:
                tp, disc = chosen[0], None
                continue
        tagged = [m for m in members if _tag_of(m) == part]
        if tagged:
            tp, disc = _unwrap(tagged[0], None)
            continue
        if members:
            if len(members) > 1 and isinstance(part, str) and _UNION_MEMBER.match(part):
                continue
            tp, disc = _unwrap(members[0], disc)
        if part == "[key]":
            continue
        path.append(part)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            holder = tp
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            tp = field.annotation if field else Any
            disc = field.discriminator if field and isinstance(field.discriminator, str) else None
        elif get_origin(tp) is list:
            tp, disc = get_args(tp)[0], None
        elif get_origin(tp) is dict:
            tp, disc = get_args(tp)[1], None
        else:
            tp, disc = Any, None
    return tuple(path), holder, tp


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _choices(expected: str) -> str:
    found = re.findall(r"'([^']*)'", expected)
    return "、".join(found) if found else expected


def message(err: ErrorDetails, key: Any, holder: type[BaseModel] | None) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return f"缺少必填项 {key}"
    if kind == "extra_forbidden":
        allowed = "、".join(holder.model_fields) if holder else ""
        return f"未知的键 {key}（可用的键：{allowed}）"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        disc = str(ctx.get("discriminator", "")).strip("'")
        known = _choices(str(ctx.get("expected_tags", "")))
        if disc == "method":
            from rules.methods import method_names
            known = "、".join(method_names())
            what = "计分方法"
        else:
            what = f"{disc} 取值"
        if kind == "union_tag_not_found":
            return f"缺少必填项 {disc}（可用的{what}：{known}）"
        return f"未知的{what} {_show(ctx.get('tag'))}（可用的{what}：{known}）"
    prefix = f"{key}：" if isinstance(key, str) else ""
    text = _value_message(kind, ctx, value, err.get("msg", ""))
    return prefix + text


def _value_message(kind: str, ctx: dict[str, Any], value: Any, msg: str) -> str:
    shown = _show(value)
    if kind in ("literal_error", "enum"):
        return f"取值 {shown} 无效，可选：{_choices(str(ctx.get('expected', '')))}"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "decimal_parsing"):
        return f"应为数字，实际为 {shown}"
    if kind == "int_from_float":
        return f"应为整数，实际为 {shown}"
    if kind in ("bool_parsing", "bool_type"):
        return f"应为 true 或 false，实际为 {shown}"
    if kind == "string_type":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"应为文本，实际为数字 {shown}（数字样的文本请加引号，如 \"2026.1\"）"
        return f"应为文本，实际为 {shown}"
    if kind == "list_type":
        return f"应为列表（每项以“- ”开头），实际为 {shown}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"应为映射（键: 值），实际为 {shown}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern == r"^[a-z][a-z0-9_]*$":
            return f"代码 {shown} 只能用小写英文字母、数字和下划线“_”，并以字母开头"
        if pattern == r"^[^\W\d]\w*(\.[^\W\d]\w*)?$":
            return (f"指标 {shown} 应写成声明的指标代码或名称（如 activist_ratio、入党积极分子比例），"
                    "或“职责代码.桶”（如 party_congress.missed），不能有空格和标点")
        if pattern == r"^[a-z0-9]+(-[a-z0-9]+)*$":
            return f"代码 {shown} 只能用小写英文字母、数字和连字符“-”（如 community-branch-basic）"
        return f"格式不符：{shown} 应匹配 {pattern}"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字，实际为 {len(str(value))} 个"
    if kind == "too_short":
        return f"至少要有 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    bounds = {"greater_than_equal": ("ge", "不小于"), "greater_than": ("gt", "大于"),
              "less_than_equal": ("le", "不大于"), "less_than": ("lt", "小于")}
    if kind in bounds:
        name, word = bounds[kind]
        return f"应{word} {ctx.get(name)}，实际为 {shown}"
    if kind == "invalid_key":
        return "键应为文本（不能用列表或映射作键）"
    if kind == "finite_number":
        return "应为有限的数字"
    if kind == "value_error":
        return re.sub(r"^Value error, ", "", msg)
    if re.search(r"[\u4e00-\u9fff]", msg):
        return msg                       # a custom error written in Chinese (rules.duties)
    return f"{msg}（{kind}）"


def pydantic_issues(exc: ValidationError, tree: Any, file: str, root: type[BaseModel]) -> list[RuleIssue]:
    found: list[tuple[Path, str, RuleIssue]] = []
    for err in exc.errors(include_url=False):
        path, holder, _ = resolve(root, tuple(err["loc"]))
        kind = err["type"]
        key = path[-1] if path else None
        if kind == "missing":
            line, col = locate(tree, path[:-1])
        elif kind == "union_tag_invalid":
            disc = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
            line, col = locate(tree, (*path, disc))
        elif kind == "extra_forbidden":
            line, col = locate(tree, path, at_key=True)
        else:
            line, col = locate(tree, path)
        found.append((path, kind, RuleIssue(file, line, col, message(err, key, holder))))
    return [issue for path, kind, issue in found if not _union_echo(path, kind, found)]


def _union_echo(path: Path, kind: str, found: list[tuple[Path, str, RuleIssue]]) -> bool:
    """A union's other members fail too: drop a type mismatch reported at the same value
    as an earlier error, or at a value that has a deeper error inside it."""
    if not kind.endswith("_type") and kind not in ("float_parsing", "int_parsing"):
        return False
    same = [k for p, k, _ in found if p == path]
    deeper = any(len(p) > len(path) and p[: len(path)] == path for p, _, _ in found)
    return deeper or (len(same) > 1 and same.index(kind) > 0)
