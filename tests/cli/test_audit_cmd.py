"""`dangjian audit verify` and `audit show` on the demo county, as an administrator runs them."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.cli import demo_county_with_cycle, run


def test_verify_passes_on_an_intact_trail_and_names_tampering_with_exit_6(tmp_path: Path) -> None:
    demo_county_with_cycle(tmp_path)
    good = run("audit", "verify", "--by", "审计员", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "审计日志完整" in good.stdout and "最后锚点" in good.stdout and "核验（审计员）" in good.stdout

    shown = run("audit", "show", "--limit", "3", cwd=tmp_path)
    assert shown.returncode == 0 and "cycle.plan" in shown.stdout and "共显示 3 条" in shown.stdout

    db = sqlite3.connect(tmp_path / "cli.db")
    try:
        db.execute("UPDATE audit_event SET actor = 'x' WHERE seq = 2")
        raise AssertionError("the trigger let an audit row be edited")
    except sqlite3.DatabaseError as refused:
        assert "审计记录只能追加" in str(refused)
    db.execute("DROP TRIGGER audit_event_no_update")
    db.execute("UPDATE audit_event SET actor = '某人' WHERE seq = 2")
    db.commit()
    db.close()
    bad = run("audit", "verify", cwd=tmp_path)
    assert bad.returncode == 6
    assert "核验未通过" in bad.stderr and "第 2 条" in bad.stderr
    assert "Traceback" not in bad.stderr
