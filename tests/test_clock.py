"""The suite runs on one fixed clock, and nothing in the code reads the wall clock behind it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from dangjian import clock
from tests.conftest import SUITE_NOW

ROOT = Path(__file__).resolve().parents[1]
# Calls that read the wall clock. time.monotonic/perf_counter measure durations, not dates.
WALL_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|datetime\.today|time\.time|"
                        r"pendulum\.now|pendulum\.today|pendulum\.yesterday|pendulum\.tomorrow)\s*\(")
SCANNED = ("dangjian", "flows", "models", "rules", "deployments", "tests", "bench", "scripts")
ALLOWED = {Path("dangjian/clock.py")}


def test_no_code_reads_the_wall_clock_except_the_clock_module() -> None:
    offenders = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel in ALLOWED or rel == Path("tests/test_clock.py"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if WALL_CLOCK.search(line.split("#", 1)[0]):
                    offenders.append(f"{rel}:{number}: {line.strip()}")
    assert not offenders, "read 'now' from dangjian.clock instead:\n" + "\n".join(offenders)


def test_the_suite_runs_at_its_fixed_instant() -> None:
    assert clock.now_utc() == clock.parse_instant(SUITE_NOW)
    assert clock.today().isoformat() == SUITE_NOW[:10]


def test_reading_the_system_clock_while_a_fixed_one_is_in_force_fails() -> None:
    assert os.environ[clock.FORBID_ENV] == "1"
    with pytest.raises(clock.RealClockRead), clock.use_clock(clock.SystemClock()):
        clock.now_utc()


def test_a_subprocess_inherits_the_fixed_instant() -> None:
    out = subprocess.run([sys.executable, "-c", "from dangjian.clock import now_utc; print(now_utc().isoformat())"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    assert clock.parse_instant(out) == clock.parse_instant(SUITE_NOW)


def test_fixed_clock_advances_only_when_told() -> None:
    fixed = clock.FixedClock(clock.parse_instant("2028-02-29T23:30:00+08:00"))
    with clock.use_clock(fixed):
        assert clock.today().isoformat() == "2028-02-29"
        fixed.advance(timedelta(hours=1))
        assert clock.today().isoformat() == "2028-03-01"
    assert clock.now_utc() == clock.parse_instant(SUITE_NOW)


def test_a_naive_fixed_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="zone"):
        clock.parse_instant("2026-12-04T12:00:00")
