"""No command takes a 截至 date in the future (the suite's today is 2026-12-04): one check,
before any flow or database work."""
from __future__ import annotations

import pytest

from tests.support.cli import run


@pytest.mark.parametrize("command", [
    ("chase", "2026"), ("sweep", "2026"), ("score", "2026"), ("plan", "2026"), ("close-cycle", "2026"),
    ("members", "lapsed", "2026"), ("targets", "show", "2026"),
])
def test_every_command_refuses_a_future_as_of_in_chinese(command, tmp_path):
    assert run("init", cwd=tmp_path).returncode == 0
    result = run(*command, "--as-of", "2026-12-05", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--as-of 2026-12-05 晚于今天（2026-12-04，北京时间）" in result.stderr
