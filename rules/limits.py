"""Bounds on a rule-set file, checked while it is read and before any other work, so a
hostile or broken file (an alias bomb, 100,000-deep nesting, a 10 MB paste, 1e309) is
refused at once with a Chinese message instead of costing memory, minutes or a traceback.

The shipped sets (rules/sets/) stay far inside them: about 16 KB, depth 10, 1,000 nodes,
no aliases, no number above 100. Documented in rules/README.md (输入上限).
"""
from __future__ import annotations

MAX_FILE_BYTES = 1024 * 1024       # 1 MB of UTF-8
MAX_DEPTH = 50                     # nested mappings/lists, aliases expanded
MAX_NODES = 100_000                # scalars, mappings and lists, aliases expanded
MAX_ALIASES = 100                  # *别名 uses (anchors are not needed by any shipped set)
MAX_NUMBER = 1_000_000_000         # |number| ≤ 10 亿: points, weights, thresholds, counts
MAX_NUMBER_CHARS = 40              # a number literal longer than this is refused unread

SIZE_TEXT = "1 MB"
NUMBER_TEXT = "10 亿"


def too_large(size: int) -> str | None:
    """The refusal for a file of `size` bytes, or None."""
    if size > MAX_FILE_BYTES:
        return f"规则文件超过 {SIZE_TEXT} 上限（实际 {size / 1024 / 1024:.1f} MB），请拆分或删去多余内容"
    return None
