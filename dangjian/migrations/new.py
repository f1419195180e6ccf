"""Autogenerate the next migration: `python -m dangjian.migrations.new "message"`.

Diffs SQLModel.metadata against a scratch SQLite database at the current head and
writes versions/NNNN_<slug>.py. Review the file before committing it.
"""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic import command

from dangjian.migrations import VERSIONS_DIR, alembic_config


def next_rev_id() -> str:
    numbers = [int(m.group(1)) for p in VERSIONS_DIR.glob("*.py")
               if (m := re.match(r"(\d{4})_", p.name))]
    return f"{max(numbers, default=0) + 1:04d}"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print('用法：python -m dangjian.migrations.new "迁移说明"', file=sys.stderr)
        return 2
    from dangjian.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            with engine.begin() as conn:
                cfg = alembic_config(conn)
                command.upgrade(cfg, "head")
                script = command.revision(
                    cfg, message=argv[0], autogenerate=True, rev_id=next_rev_id()
                )
        finally:
            engine.dispose()
    scripts = script if isinstance(script, list) else [script]
    for s in scripts:
        if s is not None:
            print(f"已生成迁移：{s.path}\n请审阅后再提交（重命名会被识别为删除+新增）。")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
