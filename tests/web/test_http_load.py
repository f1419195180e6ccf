"""Concurrent secretaries over HTTP on PostgreSQL: every report lands once, none fails, the
audit chain holds. A smaller run of bench/bench_http_close.py (which uses 200 clients)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.db import postgres_url
from tests.support.http_load import run_load

pytestmark = pytest.mark.skipif(not postgres_url(), reason="需要 DANGJIAN_TEST_DATABASE_URL（PostgreSQL）")


def test_sixty_secretaries_closing_at_once_over_http_all_land_exactly_once(tmp_path: Path) -> None:
    url = postgres_url()
    assert url
    result = run_load(url, clients=60, branches=15, workers=2, threads=8, logs=tmp_path)
    assert result.statuses == {201: 60}, (result.summary(), result.errors[:5])
    assert result.completions == 60 and result.links == 60 and result.distinct_tasks == 60
    assert result.chain_intact
