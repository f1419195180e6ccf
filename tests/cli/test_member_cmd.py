"""`members dues` and `members lapsed` as users read them: they agree on who did not pay."""
from __future__ import annotations

import pytest

from tests.support.cli import DEMO, run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("members_cli")
    assert run("init", cwd=d).returncode == 0
    imported = run("org", "import", str(DEMO / "units.csv"), str(DEMO / "members.csv"), cwd=d)
    assert imported.returncode == 0, imported.stderr
    return d


def test_dues_of_a_member_without_a_base_says_unpaid_not_zero_owed_as_lapsed_does(workdir):
    lapsed = run("members", "lapsed", "620621", "--as-of", "2026-11-24", cwd=workdir)
    assert lapsed.returncode == 0, lapsed.stderr
    assert "M0001" in lapsed.stdout and "不交纳党费" in lapsed.stdout
    dues = run("members", "dues", "M0001", "--year", "2026", cwd=workdir)
    assert dues.returncode == 0, dues.stderr
    total = dues.stdout.strip().splitlines()[-1]
    assert "欠交 0.00" not in total and "应交 0.00" not in total
    assert "2026年1月至2026年12月 未交（计为欠交，金额待登记基数后确定）" in total
    assert "未交（金额不明）" in dues.stdout


def test_a_member_with_a_base_and_nothing_paid_owes_the_amount(workdir):
    assert run("members", "income", "M0001", "--from", "2026-01", "--base", "4800", "--kind", "salary",
               cwd=workdir).returncode == 0
    dues = run("members", "dues", "M0001", "--year", "2026", cwd=workdir)
    total = dues.stdout.strip().splitlines()[-1]
    assert total.startswith("合计：应交 576.00元，已交 0.00元，欠交 576.00元"), total
