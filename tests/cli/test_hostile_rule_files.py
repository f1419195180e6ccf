"""`rules check`, `rules test` and `cycle create` on hostile rule files: exit 2 with a
Chinese file:line message, never a traceback; a failing rule example exits 2 as well."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.test_hostile_files import billion_laughs
from tests.support.cli import RULES, run

HOSTILE = {
    "bomb.yaml": (billion_laughs(), "bomb.yaml:6:8: 内容超过 100000 个节点上限"),
    "deep.yaml": ("x: " + "[" * 100_000 + "]" * 100_000 + "\n", "deep.yaml:1:54: 嵌套超过 50 层上限"),
    "inf.yaml": (RULES.read_text(encoding="utf-8").replace("deduct: {missed: 5, late: 2}",
                                                          "deduct: {missed: 1e309, late: 2}", 1),
                 "inf.yaml:146:28: missed：数值 1e309 不是有限的数字"),
}


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    for name, (text, _) in HOSTILE.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "huge.yaml").write_bytes(b"# " + b"x" * (10 * 1024 * 1024))
    return tmp_path


def test_rules_check_refuses_each_hostile_file_with_its_line_and_exits_2(hostile: Path) -> None:
    names = [*HOSTILE, "huge.yaml"]
    result = run("rules", "check", *names, cwd=hostile)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    for _, expected in HOSTILE.values():
        assert expected in result.stderr
    assert "huge.yaml:1:1: 规则文件超过 1 MB 上限（实际 10.0 MB）" in result.stderr


@pytest.mark.parametrize("command", [("rules", "test"), ("cycle", "create", "2026", "--name", "x", "--root",
                                                         "620621", "--start", "2026-01-01", "--end", "2026-12-31",
                                                         "--rules")])
def test_a_rule_file_with_1e309_is_refused_before_testing_or_binding_a_cycle(hostile: Path,
                                                                               command: tuple[str, ...]) -> None:
    if command[0] == "cycle":
        assert run("init", cwd=hostile).returncode == 0
    result = run(*command, "inf.yaml", cwd=hostile)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "不是有限的数字" in result.stdout + result.stderr


def test_rules_test_exits_2_when_an_example_fails(tmp_path: Path) -> None:
    text = RULES.read_text(encoding="utf-8")
    assert "      total: 88.5\n" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("      total: 88.5\n", "      total: 89\n"), encoding="utf-8")
    assert run("rules", "check", str(broken), cwd=tmp_path).returncode == 0
    result = run("rules", "test", str(broken), cwd=tmp_path)
    assert result.returncode == 2
    assert "失败" in result.stdout and "期望89分，实际88.5分" in result.stdout
